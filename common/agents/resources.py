"""Process-wide objects that agents look up in `AgentContext.resources`.

Opened once per process (a worker, or `dev`) and shared by every attempt in it:

* `settings` — the process's Settings;
* `checkpointer` — the LangGraph saver of the configured backend (step-level resume);
* `chat_model` — `factory(offline_policy) -> BaseChatModel` (the scripted model offline, else
  the configured provider's client, with its hidden retries off);
* `flow` — the `FlowController` every real provider call goes through (None: offline model or
  `AGENTFLEET_FLOW_CONTROL=false`);
* `reddit` — live Reddit through asyncpraw with credentials, else the offline corpus;
* `on_terminal` — called with the execution id once an execution of a durable agent SUCCEEDED or
  was CANCELLED, to delete its checkpoints (a FAILED one keeps them for a retry; the worker's
  checkpoint janitor deletes them after `checkpoint_retention_hours`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from common.checkpoints import delete_checkpoints, open_checkpointer
from common.clock import Clock, SystemClock
from common.flow import FlowController, config_for
from common.llm.providers import chat_model_factory, choose_provider, describe
from common.reddit.source import open_reddit_source
from common.settings import Settings
from common.store.base import Store

log = logging.getLogger("agentfleet")


def open_flow(
    settings: Settings, store: Store, clock: Clock | None = None
) -> FlowController | None:
    """The process's flow controller, when flow control is on and a real provider is used."""
    if not settings.flow_control or choose_provider(settings).client == "scripted":
        return None
    return FlowController(store, config_for(settings), clock or SystemClock())


@contextlib.asynccontextmanager
async def open_resources(
    settings: Settings, store: Store, *, clock: Clock | None = None
) -> AsyncIterator[dict[str, Any]]:
    mongo_database = getattr(store, "database", None) if settings.mongodb_url else None
    async with open_checkpointer(settings, mongo_database=mongo_database) as checkpointer:
        flow = open_flow(settings, store, clock)
        chat_model = chat_model_factory(settings, flow)
        reddit = open_reddit_source(settings)
        log.info("llm: %s; reddit: %s", describe(settings), type(reddit).__name__)

        async def on_terminal(execution_id: str) -> None:
            await delete_checkpoints(checkpointer, execution_id)

        try:
            yield {
                "settings": settings,
                "checkpointer": checkpointer,
                "chat_model": chat_model,
                "reddit": reddit,
                "on_terminal": on_terminal,
                "flow": flow,
            }
        finally:
            if flow is not None:
                await flow.aclose()
            await chat_model.aclose()
            await reddit.aclose()
