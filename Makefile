# Two commands on a fresh machine: `make demo` (the offline demo) and `make test` (the tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo dev test test-mongodb lint schema bench chaos-big clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

demo: $(STAMP)  ## offline demo: embedded fleet, mixed batch over real HTTP, table of outcomes
	$(BIN)/agentfleet demo

dev: $(STAMP)  ## API + 4 worker loops on ./agentfleet.db, offline LLM and Reddit
	$(BIN)/agentfleet dev

test: $(STAMP)  ## the whole suite (real MongoDB tests skip without MONGODB_URL)
	$(BIN)/ruff check .
	$(BIN)/mypy api worker common agentfleet
	$(BIN)/python -m pytest -q -rs

test-mongodb: $(STAMP)  ## the store contract against a real server: MONGODB_URL=mongodb://…
	$(BIN)/python -m pytest -q -rs -m mongodb

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

schema: $(STAMP)  ## regenerate schema.graphql from the code
	$(BIN)/python -m api.schema > schema.graphql

bench: $(STAMP)  ## all benchmarks; writes BENCHMARKS.md
	$(BIN)/python -m bench

chaos-big: $(STAMP)  ## the chaos suite at its big size (CI runs the small one)
	$(BIN)/python -m pytest -q -s -rs tests/chaos --chaos-big

clean:
	rm -rf $(VENV) agentfleet.db agentfleet.db-wal agentfleet.db-shm
