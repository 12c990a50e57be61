"""Provider flow state on MongoDB: one document per key, each write one conditional operation."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from common.domain import FlowRecord
from common.store import mongo_queries as q
from common.store.base import flow_state_json
from common.store.mongo_models import to_flow_record

T = TypeVar("T")


class MongoFlowStates:
    """`Store`'s flow-state methods for `MongoStore` (mixed in; uses its `_call`)."""

    _flow_states: Any

    if TYPE_CHECKING:

        async def _call(self, operation: Awaitable[T]) -> T: ...

    async def get_flow_state(self, key: str) -> FlowRecord | None:
        doc = await self._call(self._flow_states.find_one(q.flow_key_filter(key)))
        return to_flow_record(doc) if doc else None

    async def put_flow_state(
        self, key: str, state: dict[str, Any], expected_version: int | None
    ) -> FlowRecord | None:
        # Through JSON, so both backends store (and hand back) exactly the same values.
        stored = json.loads(flow_state_json(state))
        if expected_version is None:
            try:
                await self._call(self._flow_states.insert_one(q.flow_state_document(key, stored)))
            except DuplicateKeyError:
                return None
            return FlowRecord(key=key, version=1, state=stored)
        doc = await self._call(
            self._flow_states.find_one_and_update(
                q.flow_version_filter(key, expected_version),
                q.flow_state_update(stored),
                return_document=ReturnDocument.AFTER,
            )
        )
        return to_flow_record(doc) if doc else None

    async def list_flow_states(self) -> list[FlowRecord]:
        docs = await self._call(self._flow_states.find().sort(q.FLOW_KEY_ORDER).to_list())
        return [to_flow_record(doc) for doc in docs]
