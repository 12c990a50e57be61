"""Per-request context handed to every resolver: the app's dependencies and the caller."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import strawberry

from api.auth import authenticate
from api.live import ChangeFeed
from common.agents.registry import AgentRegistry
from common.clock import Clock
from common.settings import Settings
from common.store.base import Store

logger = logging.getLogger("agentfleet.api")


@dataclass(frozen=True)
class ApiDeps:
    """What the API needs from the process; built once in `create_app`."""

    settings: Settings
    store: Store
    registry: AgentRegistry
    clock: Clock
    #: How subscriptions learn of changes (change streams or polling).
    feed: ChangeFeed
    #: Called after new work became claimable (submit, retry); `dev` wakes its worker loops.
    on_submit: Callable[[], None] | None = None


@dataclass
class ApiContext:
    deps: ApiDeps
    authorization: str | None
    #: The payload of a WebSocket's connection_init (subscriptions), where the key travels.
    connection_params: dict | None = None
    _tenant: str | None = field(default=None, init=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    async def tenant(self) -> str:
        """The caller's tenant; resolved on first use (one key lookup per request).

        Lazy, so requests that touch no tenant data (introspection, GraphiQL) need no key.
        """
        async with self._lock:  # sibling root fields resolve concurrently
            if self._tenant is None:
                self._tenant = await authenticate(
                    self.deps.store, self.authorization, auth_required=self.deps.settings.auth
                )
            return self._tenant

    @property
    def feed(self) -> ChangeFeed:
        return self.deps.feed

    def work_available(self) -> None:
        """Tell local workers (dev) that an execution became due; never fails the request."""
        if self.deps.on_submit is None:
            return
        try:
            self.deps.on_submit()
        except Exception:
            # The write is already acknowledged; a missed wake-up only costs one poll interval.
            logger.exception("on_submit callback failed")


Info = strawberry.Info[ApiContext, None]
