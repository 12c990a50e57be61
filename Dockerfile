# One image for both processes: `agentfleet api` and `agentfleet worker`.
FROM python:3.11-slim AS base
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY api ./api
COPY worker ./worker
COPY common ./common
COPY agentfleet ./agentfleet
RUN pip install . && useradd --create-home --uid 10001 agentfleet
USER agentfleet
EXPOSE 8000
CMD ["agentfleet", "api", "--host", "0.0.0.0", "--port", "8000"]
