"""One frozen settings object, read once at start-up from an injectable environment mapping."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from common.errors import ConfigurationError
from common.flow.limits import parse_provider_limits
from common.retry import RetryPolicy

PREFIX = "AGENTFLEET_"

#: Provider variables read without our prefix, as their own SDKs name them.
UNPREFIXED = {
    "MONGODB_URL": "mongodb_url",
    "DEEPSEEK_API_KEY": "deepseek_api_key",
    "OPENAI_API_KEY": "openai_api_key",
    "REDDIT_CLIENT_ID": "reddit_client_id",
    "REDDIT_CLIENT_SECRET": "reddit_client_secret",
    "REDDIT_USER_AGENT": "reddit_user_agent",
}


class Settings(BaseModel):
    """Every knob of agentfleet. Environment: `AGENTFLEET_<FIELD>` (upper case)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # store
    mongodb_url: str | None = None
    mongodb_db: str = "agentfleet"
    write_concern: Literal["1", "majority"] = "majority"
    sqlite_path: str = "./agentfleet.db"

    # worker
    concurrency: int = Field(16, ge=1, le=100_000)
    poll_interval: float = Field(1.0, gt=0, le=60)
    lease_seconds: float = Field(60.0, gt=0)
    heartbeat_seconds: float = Field(20.0, gt=0)
    attempt_timeout: float = Field(900.0, gt=0)
    shutdown_grace: float = Field(10.0, ge=0)
    claim_batch: int = Field(8, ge=1, le=1000)
    # most executions of one tenant in flight across the fleet (None: no cap)
    tenant_concurrency: int | None = Field(None, ge=1)
    metrics_port: int | None = Field(None, ge=1, le=65535)  # a worker's own /metrics
    # how long a FAILED execution keeps its checkpoints, so that a retry resumes at its step
    checkpoint_retention_hours: float = Field(168.0, ge=0)

    # retries
    default_max_attempts: int = Field(5, ge=1, le=1000)
    retry_initial_interval: float = Field(1.0, gt=0)
    retry_backoff_coefficient: float = Field(2.0, ge=1)
    retry_maximum_interval: float = Field(300.0, gt=0)

    # api
    auth: bool = True
    max_body_bytes: int = Field(1_048_576, ge=1024)
    max_query_depth: int = Field(12, ge=2)
    max_query_tokens: int = Field(2000, ge=50)
    max_aliases: int = Field(30, ge=1)
    max_page_size: int = Field(200, ge=1)
    subscription_poll_interval: float = Field(0.25, gt=0, le=60)

    # llm providers
    llm_provider: Literal["auto", "offline", "deepseek", "openai", "ollama", "vllm"] = "auto"
    llm_model: str | None = None
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = Field(60.0, gt=0)
    llm_prices: str | None = None  # JSON: {"model": [usd per 1M prompt, usd per 1M completion]}
    deepseek_api_key: str | None = None
    openai_api_key: str | None = None

    # provider flow control, shared by the fleet through the store (common.flow)
    flow_control: bool = True
    flow_max_local_wait: float = Field(0.5, ge=0, le=60)
    flow_max_queue_wait: float = Field(10.0, ge=0, le=600)
    flow_breaker_failures: int = Field(5, ge=1, le=1000)
    flow_breaker_open_seconds: float = Field(10.0, gt=0, le=3600)
    provider_limits: str | None = None  # JSON: {"deepseek": {"rpm": 600, "tpm": 100000}}

    # reddit
    reddit_client_id: str | None = None
    reddit_client_secret: str | None = None
    reddit_user_agent: str = "agentfleet/0.1 (research agent)"

    # plugins: comma-separated "module:attribute" paths of extra agents
    agents: str = ""

    # client: the key `agentfleet submit` sends (servers ignore it)
    api_key: str | None = None

    # logging
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = False

    @model_validator(mode="after")
    def _heartbeat_within_lease(self) -> Settings:
        if self.heartbeat_seconds >= self.lease_seconds:
            raise ValueError("heartbeat_seconds must be shorter than lease_seconds")
        return self

    @field_validator("provider_limits")
    @classmethod
    def _provider_limits_parse(cls, raw: str | None) -> str | None:
        parse_provider_limits(raw)  # ValueError says what is wrong
        return raw

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            initial_interval=self.retry_initial_interval,
            backoff_coefficient=self.retry_backoff_coefficient,
            maximum_interval=max(self.retry_maximum_interval, self.retry_initial_interval),
            maximum_attempts=self.default_max_attempts,
        )

    @property
    def store_backend(self) -> Literal["mongodb", "sqlite"]:
        return "mongodb" if self.mongodb_url else "sqlite"

    def with_overrides(self, **changes: Any) -> Settings:
        """A validated copy with some fields changed (CLI flags, tests)."""
        return load_settings({}, base=self.model_dump() | changes)


def load_settings(
    environ: Mapping[str, str] | None = None, *, base: Mapping[str, Any] | None = None
) -> Settings:
    """Build and validate settings; a misspelled `AGENTFLEET_*` variable is an error."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = dict(base or {})
    fields = set(Settings.model_fields)
    for name, raw in env.items():
        if name in UNPREFIXED:
            values[UNPREFIXED[name]] = raw
        elif name.startswith(PREFIX):
            field = name[len(PREFIX) :].lower()
            if field not in fields:
                close = difflib.get_close_matches(field, fields, n=1)
                hint = f"; did you mean {PREFIX}{close[0].upper()}?" if close else ""
                raise ConfigurationError(f"unknown setting {name}{hint}")
            values[field] = raw
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{PREFIX}{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from None
