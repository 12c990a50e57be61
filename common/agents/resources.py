"""Process-wide objects that agents look up in `AgentContext.resources`.

Opened once per process (a worker, or `dev`) and shared by every attempt in it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from common.settings import Settings


@contextlib.asynccontextmanager
async def open_resources(settings: Settings) -> AsyncIterator[dict[str, Any]]:
    resources: dict[str, Any] = {"settings": settings}
    yield resources
