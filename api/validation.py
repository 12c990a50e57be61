"""Submissions are checked completely before anything is written; each failure names its field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from api.errors import bad_input
from common.agents.registry import AgentRegistry
from common.domain import NewExecution
from common.settings import Settings

MAX_ATTEMPTS_RANGE = (1, 100)
PRIORITY_RANGE = (-1000, 1000)
IDEMPOTENCY_KEY_MAX_LENGTH = 200


#: How a field of the agent's input model is called where the client wrote it.
FieldName = Callable[[str], str]


def _location(loc: tuple[int | str, ...], field_name: FieldName | None = None) -> str:
    path = "input"
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{field_name(part) if field_name else part}"
    return path


def validate_input(
    registry: AgentRegistry, agent: str, raw: Any, field_name: FieldName | None = None
) -> dict[str, Any]:
    """The agent's input, validated by its pydantic model and dumped to plain JSON values.

    `field_name` names fields in errors as the client wrote them: JSON input keeps the model's
    snake_case, a typed GraphQL input (`submitResearch`) uses camelCase.
    """
    spec = registry.get(agent)
    if spec is None:
        known = ", ".join(s.name for s in registry) or "none"
        raise bad_input(f"unknown agent {agent!r}; known agents: {known}", fields=["agent"])
    if not isinstance(raw, dict):
        raise bad_input(f"input must be a JSON object, got {type(raw).__name__}", fields=["input"])
    try:
        model = spec.input_model.model_validate(raw)
    except ValidationError as exc:
        problems = [(_location(e["loc"], field_name), e["msg"]) for e in exc.errors()]
        raise bad_input(
            "; ".join(f"{where}: {msg}" for where, msg in problems),
            fields=[where for where, _ in problems],
        ) from None
    return model.model_dump(mode="json")


def _in_range(name: str, value: int, bounds: tuple[int, int]) -> int:
    low, high = bounds
    if not low <= value <= high:
        raise bad_input(f"{name} must be between {low} and {high}, got {value}", fields=[name])
    return value


def _idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not key.strip():
        raise bad_input("idempotencyKey must not be blank", fields=["idempotencyKey"])
    if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise bad_input(
            f"idempotencyKey is {len(key)} characters long; the limit is "
            f"{IDEMPOTENCY_KEY_MAX_LENGTH}",
            fields=["idempotencyKey"],
        )
    return key


def validate_submission(
    *,
    settings: Settings,
    registry: AgentRegistry,
    tenant: str,
    agent: str,
    raw_input: Any,
    idempotency_key: str | None,
    priority: int | None,
    max_attempts: int | None,
    field_name: FieldName | None = None,
) -> NewExecution:
    """A `NewExecution` ready to be written, or `BAD_USER_INPUT` naming what is wrong."""
    return NewExecution(
        tenant=tenant,
        agent=agent,
        input=validate_input(registry, agent, raw_input, field_name),
        # The range binds what a client asks for; the operator's default is trusted as set.
        max_attempts=(
            settings.default_max_attempts
            if max_attempts is None
            else _in_range("maxAttempts", max_attempts, MAX_ATTEMPTS_RANGE)
        ),
        priority=_in_range("priority", 0 if priority is None else priority, PRIORITY_RANGE),
        idempotency_key=_idempotency_key(idempotency_key),
    )
