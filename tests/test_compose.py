"""compose.yaml, the Dockerfile and .env.example agree with the code (no Docker engine here)."""

from __future__ import annotations

from pathlib import Path

import yaml

from agentfleet.cli import _parser
from common.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_has_mongo_replica_set_api_and_a_scalable_worker():
    services = _compose()["services"]
    assert set(services) == {"mongo", "api", "worker"}
    assert "--replSet" in services["mongo"]["command"]
    assert "ports" not in services["worker"], "a published port would stop --scale worker=N"
    assert "container_name" not in services["worker"]


def test_compose_commands_are_valid_agentfleet_commands():
    parser = _parser()
    for name in ("api", "worker"):
        command = _compose()["services"][name]["command"]
        assert command[0] == "agentfleet"
        assert parser.parse_args(command[1:]).command == name


def test_compose_environment_is_valid_settings():
    for name in ("api", "worker"):
        environment = _compose()["services"][name]["environment"]
        settings = load_settings(environment)
        assert settings.store_backend == "mongodb"
        assert "replicaSet=rs0" in settings.mongodb_url


def test_env_example_names_only_real_settings():
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = dict(
        line.split("=", 1) for line in lines if line.strip() and not line.lstrip().startswith("#")
    )
    load_settings(pairs)  # raises on a misspelled or invalid AGENTFLEET_* variable


def test_api_port_matches_the_published_port_and_the_dockerfile():
    api = _compose()["services"]["api"]
    assert api["ports"] == ["8000:8000"]
    assert api["command"][-1] == "8000"
    assert "EXPOSE 8000" in (ROOT / "Dockerfile").read_text()


def test_dockerfile_copies_every_package_of_the_distribution():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("api", "worker", "common", "agentfleet"):
        assert f"COPY {package} ./{package}" in dockerfile
