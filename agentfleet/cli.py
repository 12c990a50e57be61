"""The `agentfleet` command: api, worker, dev, keys, demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from common.errors import ConfigurationError
from common.logs import configure_logging
from common.settings import Settings, load_settings

log = logging.getLogger("agentfleet")

TIME_FILTERS = ("day", "week", "month", "year", "all")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentfleet",
        description="Run LLM agents reliably on unreliable, rate-limited LLM providers.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    api = commands.add_parser("api", help="the GraphQL service")
    api.add_argument("--host", default="0.0.0.0")
    api.add_argument("--port", type=int, default=8000)

    worker = commands.add_parser("worker", help="one stateless worker process")
    worker.add_argument("--concurrency", type=int, help="executions in flight (default 16)")
    worker.add_argument(
        "--stats-file",
        help="on shutdown, write this worker's counters (claims, store round trips, claim "
        "conflicts) to this JSON file; for benchmarks",
    )

    dev = commands.add_parser("dev", help="API and worker loops in one process, offline")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000)
    dev.add_argument("--workers", type=int, default=4, help="worker loops (default 4)")
    dev.add_argument("--auth", action="store_true", help="require API keys (off by default)")

    keys = commands.add_parser("keys", help="API keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = key_commands.add_parser("create", help="create a key; it is printed once")
    create.add_argument("--tenant", required=True)

    submit = commands.add_parser("submit", help="submit work to a running API")
    submit_kinds = submit.add_subparsers(dest="submit_kind", required=True)
    research = submit_kinds.add_parser("research", help="a reddit_research execution")
    research.add_argument("--topic", required=True)
    research.add_argument("--subreddit", action="append", required=True, help="repeatable")
    research.add_argument("--min-findings", type=int, default=5)
    research.add_argument("--time-filter", default="year", choices=TIME_FILTERS)
    research.add_argument("--idempotency-key")
    research.add_argument("--wait", action="store_true", help="show progress until it ends")
    research.add_argument("--url", default="http://127.0.0.1:8000")
    research.add_argument("--api-key", help="or AGENTFLEET_API_KEY")
    research.add_argument("--poll", type=float, default=0.5, help=argparse.SUPPRESS)

    demo = commands.add_parser("demo", help="offline demo: a mixed batch through the real API")
    demo.add_argument("--executions", type=int, default=200)
    demo.add_argument("--workers", type=int, default=4)
    demo.add_argument("--db", help="SQLite file (default: a fresh temporary file)")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings()
    if args.command == "worker" and args.concurrency is not None:
        settings = settings.with_overrides(concurrency=args.concurrency)
    if args.command == "dev" and not args.auth:
        settings = settings.with_overrides(auth=False)
    return settings


async def _create_key(settings: Settings, tenant: str) -> str:
    from agentfleet.runtime import opened_store
    from common.keys import create_key

    async with opened_store(settings) as store:
        return await create_key(store, tenant)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "submit":  # a client: no server settings needed
        from agentfleet.client import submit_research

        return asyncio.run(submit_research(args))
    try:
        settings = _settings(args)
    except ConfigurationError as exc:
        print(f"agentfleet: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_json)
    try:
        return asyncio.run(_dispatch(args, settings))
    except ConfigurationError as exc:
        print(f"agentfleet: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from agentfleet import runtime

    if args.command == "api":
        await runtime.run_api(settings, args.host, args.port)
    elif args.command == "worker":
        await runtime.run_worker(settings, stats_file=args.stats_file)
    elif args.command == "dev":
        await runtime.run_dev(settings, args.host, args.port, args.workers)
    elif args.command == "keys":
        key = await _create_key(settings, args.tenant)
        print(key)
        print(
            f"# API key for tenant {args.tenant!r}; shown once, only its hash is stored.",
            file=sys.stderr,
        )
    elif args.command == "demo":
        from agentfleet.demo import run_demo

        return await run_demo(settings, args.executions, args.workers, args.db)
    return 0
