"""The fake provider's ASGI application: routes, fault injection and counters.

See `common.llm.fake_provider` for what it does and how to run it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from common.llm import openai_wire as wire
from common.llm.faults import Fault, FaultKind, FaultPlan, SlidingWindow
from common.llm.scripted import Policy, complete_message, echo_policy

log = logging.getLogger(__name__)

_TRANSPORT_KEY = "agentfleet.transport"


@dataclass
class FakeProviderStats:
    requests: int = 0
    ok: int = 0
    repeated_ok: int = 0
    abandoned: int = 0  # the client gave up (timeout) before the reply was ready
    by_status: Counter[str] = field(default_factory=Counter)  # plus "dropped"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    answered: set[str] = field(default_factory=set, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "ok": self.ok,
            "repeated_ok": self.repeated_ok,
            "abandoned": self.abandoned,
            "by_status": dict(sorted(self.by_status.items())),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }


class FakeProvider:
    """The server's behaviour and counters; `app` is its ASGI application."""

    def __init__(
        self,
        policy: Policy = echo_policy,
        plan: FaultPlan | None = None,
        *,
        capacity: float | None = None,
        latency: float = 0.0,
        slow_seconds: float = 90.0,
        api_key: str | None = None,
        models: Sequence[str] | None = None,
    ) -> None:
        self.policy = policy
        self.plan = plan or FaultPlan()
        self.capacity = capacity
        self.latency = latency
        self.slow_seconds = slow_seconds
        self.api_key = api_key
        self.models = set(models) if models else None
        self.reset()
        routes = [
            Route("/v1/chat/completions", self._chat, methods=["POST"]),
            Route("/v1/models", self._models, methods=["GET"]),
            Route("/stats", self._stats, methods=["GET"]),
            Route("/reset", self._reset, methods=["POST"]),
        ]
        self._starlette = Starlette(routes=routes)

    def reset(self) -> None:
        """Zero the counters and restart the fault plan and the capacity window."""
        self.stats = FakeProviderStats()
        self.plan = FaultPlan(self.plan.script, self.plan.rate, self.plan.mix, self.plan.seed)
        self.window = SlidingWindow(self.capacity) if self.capacity else None

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        # uvicorn's `send` is a bound method of the request cycle, which holds the transport:
        # the only way to close a connection without any response, as a crashing proxy does.
        scope[_TRANSPORT_KEY] = getattr(getattr(send, "__self__", None), "transport", None)
        await self._starlette(scope, receive, send)

    # --- routes --------------------------------------------------------------------------------

    async def _chat(self, request: Request) -> Response:
        self.stats.requests += 1
        call = self.stats.requests
        try:
            body = await request.json()
            messages = wire.request_messages(body)
        except ValueError as exc:
            return self._error(400, f"invalid request: {exc}", "invalid_request_error")
        if self.api_key and request.headers.get("authorization") != f"Bearer {self.api_key}":
            return self._error(
                401, "Incorrect API key provided", "invalid_request_error", "invalid_api_key"
            )
        fault = self.plan.fault_for(call)
        if fault is not None:
            return await self._inject(fault, request, body, messages)
        if self.models is not None and body.get("model") not in self.models:
            return self._unknown_model(body)
        if self.window is not None and (wait := self.window.try_admit()):
            return self._rate_limited(wait, "capacity exceeded")
        if self.latency and not await _stall(request, self.latency):
            return self._abandoned()
        return self._answer(body, messages)

    async def _models(self, request: Request) -> Response:
        names = sorted(self.models or {"deepseek-chat", "gpt-4o-mini", "scripted"})
        data = [{"id": n, "object": "model", "owned_by": "agentfleet"} for n in names]
        return JSONResponse({"object": "list", "data": data})

    async def _stats(self, request: Request) -> Response:
        return JSONResponse(self.stats.to_dict())

    async def _reset(self, request: Request) -> Response:
        self.reset()
        return JSONResponse(self.stats.to_dict())

    # --- answers ------------------------------------------------------------------------------

    def _answer(self, body: dict[str, Any], messages: list[Any]) -> Response:
        model = str(body.get("model") or "scripted")
        try:
            message = complete_message(self.policy, messages, model)
        except Exception as exc:  # a policy bug must show up as a failed call, not a hang
            log.exception("fake provider policy failed")
            return self._error(500, f"policy failed: {exc}", "server_error")
        fingerprint = wire.request_fingerprint(body)
        self.stats.ok += 1
        self.stats.by_status["200"] += 1
        self.stats.repeated_ok += fingerprint in self.stats.answered
        self.stats.answered.add(fingerprint)
        usage = message.usage_metadata or {"input_tokens": 0, "output_tokens": 0}
        self.stats.prompt_tokens += usage["input_tokens"]
        self.stats.completion_tokens += usage["output_tokens"]
        completion_id = f"chatcmpl-{fingerprint[:24]}"
        if body.get("stream"):
            with_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            events = wire.completion_stream(message, model, completion_id, with_usage)
            return Response(events, media_type="text/event-stream")
        return JSONResponse(wire.completion_body(message, model, completion_id))

    def _error(
        self,
        status: int,
        message: str,
        type_: str,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        self.stats.by_status[str(status)] += 1
        return JSONResponse(wire.error_body(message, type_, code), status, headers=headers)

    def _rate_limited(self, retry_after: float | None, why: str) -> Response:
        headers = None
        if retry_after is not None:
            headers = {
                "retry-after": f"{retry_after:.3f}",
                "retry-after-ms": f"{retry_after * 1000:.0f}",
            }
        return self._error(
            429, f"Rate limit reached: {why}", "requests", "rate_limit_exceeded", headers
        )

    def _unknown_model(self, body: dict[str, Any]) -> Response:
        message = f"The model `{body.get('model')}` does not exist or you do not have access to it."
        return self._error(404, message, "invalid_request_error", "model_not_found")

    def _abandoned(self) -> Response:
        self.stats.abandoned += 1
        return Response(status_code=499)  # nobody is listening any more

    async def _inject(
        self, fault: Fault, request: Request, body: dict[str, Any], messages: list[Any]
    ) -> Response:
        kind = fault.kind
        if kind is FaultKind.RATE_LIMIT:
            return self._rate_limited(fault.retry_after, "injected")
        if kind in (FaultKind.SERVER_ERROR, FaultKind.UNAVAILABLE):
            headers = {"retry-after": f"{fault.retry_after:g}"} if fault.retry_after else None
            status = int(kind.value)
            return self._error(status, f"injected {status}", "server_error", None, headers)
        if kind is FaultKind.AUTH:
            return self._error(
                401,
                "Incorrect API key provided (injected)",
                "invalid_request_error",
                "invalid_api_key",
            )
        if kind is FaultKind.UNKNOWN_MODEL:
            return self._unknown_model(body)
        if kind is FaultKind.CONTEXT_OVERFLOW:
            message = (
                "This model's maximum context length is 65536 tokens. However, you requested "
                "70000 tokens. Please reduce the length of the messages."
            )
            return self._error(400, message, "invalid_request_error", "context_length_exceeded")
        if kind is FaultKind.DROP:
            self.stats.by_status["dropped"] += 1
            return await _drop_connection(request)
        # A slow reply: a client with a longer timeout than the stall still gets its answer.
        if await _stall(request, fault.seconds or self.slow_seconds):
            return self._answer(body, messages)
        return self._abandoned()


async def _stall(request: Request, seconds: float) -> bool:
    """Wait `seconds` unless the client hangs up first; True if it is still there."""

    async def disconnected() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    sleeper = asyncio.ensure_future(asyncio.sleep(seconds))
    watcher = asyncio.ensure_future(disconnected())
    done, pending = await asyncio.wait({sleeper, watcher}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
    return sleeper in done


async def _drop_connection(request: Request) -> Response:
    transport = request.scope.get(_TRANSPORT_KEY)
    if transport is None:  # not under uvicorn: break the response instead
        raise ConnectionAbortedError("fake provider: injected dropped connection")
    transport.abort()
    while (await request.receive())["type"] != "http.disconnect":
        pass  # uvicorn notices the loss; it then ignores the response below
    return Response(status_code=499)
