"""A minimal graphql-transport-ws client for tests, over a real WebSocket."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect


class Subscriptions:
    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self._ids = 0

    async def subscribe(self, query: str, **variables: Any) -> AsyncIterator[dict]:
        """Yield each `next` payload's data until the server completes the operation."""
        self._ids += 1
        op = str(self._ids)
        message = {"query": query, "variables": variables}
        await self.socket.send(json.dumps({"id": op, "type": "subscribe", "payload": message}))
        while True:
            reply = json.loads(await self.socket.recv())
            if reply.get("type") == "ping":
                await self.socket.send(json.dumps({"type": "pong"}))
            elif reply.get("id") != op:
                continue
            elif reply["type"] == "next":
                payload = reply["payload"]
                if payload.get("errors"):
                    raise SubscriptionError(payload["errors"])
                yield payload["data"]
            elif reply["type"] == "error":
                raise SubscriptionError(reply["payload"])
            elif reply["type"] == "complete":
                return


class SubscriptionError(Exception):
    def __init__(self, errors: list[dict]) -> None:
        super().__init__(errors[0]["message"])
        self.errors = errors


@asynccontextmanager
async def ws_connect(url: str, key: str | None = None) -> AsyncIterator[Subscriptions]:
    """Open a socket and do the connection_init handshake (the key travels in its payload)."""
    ws_url = url.replace("http://", "ws://") + "/graphql"
    async with connect(ws_url, subprotocols=["graphql-transport-ws"]) as socket:
        payload = {"Authorization": f"Bearer {key}"} if key else {}
        await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = json.loads(await socket.recv())
        assert ack["type"] == "connection_ack", ack
        yield Subscriptions(socket)
