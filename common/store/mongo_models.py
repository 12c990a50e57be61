"""The MongoDB collections as beanie documents, their indexes, and document ↔ domain conversion.

The documents inherit the domain models, so the stored schema cannot drift from `Execution` and
`ProgressEvent`. Beanie declares the collections and creates the indexes (`init_beanie`); the
store itself talks to the raw PyMongo collections, because every write that matters is one
conditional `find_one_and_update`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

from beanie import Document
from pymongo import ASCENDING, DESCENDING, IndexModel

from common.domain import Execution, FlowRecord, ProgressEvent, Schedule

#: Where a document has an idempotency key at all; only those take part in the unique index.
HAS_IDEMPOTENCY_KEY = {"idempotency_key": {"$type": "string"}}


class ExecutionDoc(Document, Execution):  # type: ignore[misc]
    """One execution (DESIGN.md): `_id` is `domain.new_id()`, time-ordered."""

    id: str  # type: ignore[assignment]

    class Settings:
        name = "executions"
        indexes = [
            IndexModel(
                [
                    ("state", ASCENDING),
                    ("priority", DESCENDING),
                    ("available_at", ASCENDING),
                    ("_id", ASCENDING),
                ],
                name="claim_order",
            ),
            IndexModel(
                [("state", ASCENDING), ("lease_expires_at", ASCENDING)], name="lease_expiry"
            ),
            # The oldest due PENDING execution, for queue stats across tenants.
            IndexModel([("state", ASCENDING), ("available_at", ASCENDING)], name="due"),
            IndexModel(
                [("tenant", ASCENDING), ("idempotency_key", ASCENDING)],
                name="tenant_idempotency_key",
                unique=True,
                partialFilterExpression=HAS_IDEMPOTENCY_KEY,
            ),
            IndexModel([("tenant", ASCENDING), ("_id", DESCENDING)], name="tenant_newest"),
            # Tenant fairness: which tenants have due work, and each one's own claim order.
            IndexModel(
                [("state", ASCENDING), ("tenant", ASCENDING), ("available_at", ASCENDING)],
                name="tenant_due",
            ),
            IndexModel(
                [
                    ("state", ASCENDING),
                    ("tenant", ASCENDING),
                    ("priority", DESCENDING),
                    ("available_at", ASCENDING),
                    ("_id", ASCENDING),
                ],
                name="tenant_claim_order",
            ),
            IndexModel(
                [("tenant", ASCENDING), ("state", ASCENDING), ("_id", DESCENDING)],
                name="tenant_state_newest",
            ),
        ]


class EventDoc(Document, ProgressEvent):  # type: ignore[misc]
    """One progress event; `tenant` is copied from the execution so reads need no join."""

    id: str  # type: ignore[assignment]
    tenant: str

    class Settings:
        name = "events"
        indexes = [
            IndexModel(
                [("execution_id", ASCENDING), ("seq", ASCENDING)], name="execution_seq", unique=True
            ),
        ]


class ApiKeyDoc(Document):
    """An API key, known only by its hash (the `_id`)."""

    id: str  # type: ignore[assignment]
    tenant: str
    created_at: datetime

    class Settings:
        name = "api_keys"


class FlowStateDoc(Document):
    """One provider's flow state; `_id` is its key, `version` the compare-and-swap token."""

    id: str  # type: ignore[assignment]
    version: int
    state: dict[str, Any]

    class Settings:
        name = "flow_states"


class ScheduleDoc(Document, Schedule):  # type: ignore[misc]
    """One recurring schedule: `_id` is `domain.new_id()`; `version` guards every tick."""

    id: str  # type: ignore[assignment]

    class Settings:
        name = "schedules"
        indexes = [
            # Due schedules of every tenant, soonest first.
            IndexModel(
                [("paused", ASCENDING), ("next_fire_at", ASCENDING), ("_id", ASCENDING)],
                name="due",
            ),
            IndexModel([("tenant", ASCENDING), ("_id", ASCENDING)], name="tenant_oldest"),
        ]


DOCUMENT_MODELS: list[type[Document]] = [
    ExecutionDoc,
    EventDoc,
    ApiKeyDoc,
    FlowStateDoc,
    ScheduleDoc,
]


def plain(value: Any) -> Any:
    """Domain values as BSON-ready Python: enums become their values, the rest stays as is."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def as_utc(value: Any) -> Any:
    """Every datetime timezone-aware UTC: mongomock hands back naive ones, PyMongo bson's utc."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, dict):
        return {k: as_utc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_utc(v) for v in value]
    return value


def to_document(model: Execution | ProgressEvent | Schedule, **extra: Any) -> dict[str, Any]:
    """A domain model as the stored document; `id` becomes `_id`."""
    doc = plain(model.model_dump())
    if "id" in doc:
        doc["_id"] = doc.pop("id")
    return {**doc, **extra}


def to_execution(doc: dict[str, Any]) -> Execution:
    fields = as_utc(doc)
    fields["id"] = fields.pop("_id")
    # $inc adds floats without the rounding `Usage.__add__` does; keep both backends alike.
    usage = fields.get("usage") or {}
    if "cost_usd" in usage:
        usage["cost_usd"] = round(usage["cost_usd"], 8)
    return Execution.model_validate(fields)


def to_event(doc: dict[str, Any]) -> ProgressEvent:
    return ProgressEvent.model_validate(as_utc(doc))


def to_flow_record(doc: dict[str, Any]) -> FlowRecord:
    return FlowRecord(key=doc["_id"], version=doc["version"], state=doc["state"])


def to_schedule(doc: dict[str, Any]) -> Schedule:
    fields = as_utc(doc)
    fields["id"] = fields.pop("_id")
    return Schedule.model_validate(fields)
