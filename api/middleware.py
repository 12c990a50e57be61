"""ASGI middleware of the API process."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _BodyTooLarge(Exception):
    pass


def too_large_response(max_bytes: int) -> JSONResponse:
    # GraphQL-shaped, so clients read every failure of /graphql the same way.
    return JSONResponse(
        {
            "data": None,
            "errors": [
                {
                    "message": f"request body is larger than {max_bytes} bytes",
                    "extensions": {"code": "BAD_USER_INPUT"},
                }
            ],
        },
        status_code=413,
    )


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodySizeLimit:
    """Answers 413 to any HTTP request whose body exceeds `max_bytes`.

    The declared Content-Length is checked before reading; a chunked body is counted as it
    streams in, so a client cannot get round the limit by not declaring a length.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await too_large_response(self.max_bytes)(scope, receive, send)
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if started:
                raise
            await too_large_response(self.max_bytes)(scope, receive, send)
