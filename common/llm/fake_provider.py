"""A local OpenAI-compatible chat-completions server that fails on purpose.

It answers tool-calling conversations deterministically through a policy (the same policies
`ScriptedChatModel` runs), and injects faults by exact call number or seeded rate (see
`common.llm.faults`): 429 with Retry-After, 500/503, replies slower than the client's timeout,
dropped connections, 401, 404 unknown model, 400 context_length_exceeded. With `capacity` it
admits at most that many requests per second and answers 429 beyond it, with a Retry-After
saying when capacity frees up (fractional seconds, plus `retry-after-ms`).

`GET /stats` counts requests by outcome; `repeated_ok` counts successful answers to a request
(same model and messages) that had already been answered successfully, which is how a benchmark
shows that no call was paid twice. Distinct executions must therefore send distinct
conversations (e.g. different topics) for the count to mean that. `POST /reset` zeroes it all.

    python -m common.llm.fake_provider --port 9100 --fail-rate 0.3 --seed 7
    async with serve_fake_provider(FakeProvider(plan=FaultPlan({3: Fault.drop()}))) as fake:
        ChatOpenAI(base_url=fake.base_url, api_key="x", max_retries=0, ...)
"""

from __future__ import annotations

import argparse
import importlib
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

import uvicorn

from common.asgi_server import serve_in_loop
from common.llm.fake_app import FakeProvider, FakeProviderStats
from common.llm.faults import Fault, FaultKind, FaultPlan
from common.llm.scripted import Policy, echo_policy

__all__ = [
    "FakeProvider",
    "FakeProviderStats",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "RunningFakeProvider",
    "main",
    "serve_fake_provider",
]


@dataclass(frozen=True)
class RunningFakeProvider:
    provider: FakeProvider
    url: str  # http://127.0.0.1:<port>

    @property
    def base_url(self) -> str:
        """What OpenAI clients take as `base_url`."""
        return f"{self.url}/v1"

    @property
    def stats(self) -> FakeProviderStats:
        return self.provider.stats


def uvicorn_config(provider: FakeProvider, **options: Any) -> uvicorn.Config:
    # A bound method looks like an ASGI2 app to uvicorn's guess: say it is ASGI3.
    return uvicorn.Config(
        provider.app,
        interface="asgi3",
        lifespan="off",
        ws="none",
        log_level="warning",
        timeout_graceful_shutdown=1,
        **options,
    )


@asynccontextmanager
async def serve_fake_provider(
    provider: FakeProvider | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[RunningFakeProvider]:
    """Run the server in this event loop on `port` (0: a free one) until the block exits."""
    provider = provider or FakeProvider()
    async with serve_in_loop(uvicorn_config(provider), host=host, port=port) as url:
        yield RunningFakeProvider(provider, url)


def load_policy(path: str) -> Policy:
    """`package.module:attribute` of a policy callable."""
    module_name, _, attribute = path.partition(":")
    policy = getattr(importlib.import_module(module_name), attribute)
    if not callable(policy):
        raise TypeError(f"{path} is not callable")
    return policy


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m common.llm.fake_provider", description=__doc__.split("\n")[0]
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9100)
    p.add_argument("--policy", help="module:attr of the answering policy (default: echo)")
    p.add_argument("--fail-rate", type=float, default=0.0, help="share of requests that fail")
    p.add_argument("--fail-mix", default="", help="fault weights, e.g. 429=0.5,503=0.3,timeout=0.2")
    p.add_argument("--script", default="", help="faults by call number, e.g. 3=429:2,5=drop")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--retry-after", type=float, default=1.0, help="Retry-After of injected 429s")
    p.add_argument("--slow-seconds", type=float, default=90.0, help="stall of a timeout fault")
    p.add_argument("--capacity", type=float, help="requests per second admitted; 429 beyond")
    p.add_argument("--latency", type=float, default=0.0, help="seconds per successful reply")
    p.add_argument("--api-key", help="require this bearer key (401 otherwise)")
    p.add_argument("--models", default="", help="comma-separated known models (404 otherwise)")
    return p


def provider_from_args(args: argparse.Namespace) -> FakeProvider:
    plan = FaultPlan.from_options(
        script=args.script,
        rate=args.fail_rate,
        mix=args.fail_mix,
        seed=args.seed,
        retry_after=args.retry_after,
    )
    return FakeProvider(
        load_policy(args.policy) if args.policy else echo_policy,
        plan,
        capacity=args.capacity,
        latency=args.latency,
        slow_seconds=args.slow_seconds,
        api_key=args.api_key,
        models=[m for m in args.models.split(",") if m] or None,
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    provider = provider_from_args(args)
    print(f"fake provider on http://{args.host}:{args.port}/v1", json.dumps(vars(args)), flush=True)
    with suppress(KeyboardInterrupt):  # Ctrl-C is how it is meant to stop
        uvicorn.Server(uvicorn_config(provider, host=args.host, port=args.port)).run()


if __name__ == "__main__":
    main()
