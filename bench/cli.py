"""`python -m bench`: run the benchmarks, print a table, write JSON and BENCHMARKS.md."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench import machine, report
from bench.registry import BENCHMARKS, Benchmark, select
from bench.result import BenchArgs, Result

ROOT = Path(__file__).resolve().parent.parent


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    names = ", ".join(b.NAME for b in BENCHMARKS)
    parser.add_argument("--only", help=f"comma-separated benchmarks to run, of: {names}")
    parser.add_argument("--quick", action="store_true", help="smoke sizes (seconds, not minutes)")
    parser.add_argument("--json", type=Path, help="write the results as JSON to this file")
    parser.add_argument(
        "--markdown",
        type=Path,
        help="the report to (re)write; default BENCHMARKS.md for a full-size run, none for "
        "--quick (smoke figures are not comparable)",
    )
    parser.add_argument(
        "--load-client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="HTTP load process: wrk when installed (auto), or the Python client",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the working files (databases, logs)"
    )
    return parser


def _run_one(benchmark: Benchmark, args: BenchArgs) -> Result | None:
    print(f"-- {benchmark.NAME}: {benchmark.TITLE}", flush=True)
    started = time.monotonic()
    try:
        result = benchmark.run(args)
    except Exception:
        traceback.print_exc()
        print(f"-- {benchmark.NAME} FAILED", flush=True)
        return None
    result.seconds = time.monotonic() - started
    result.quick = args.quick
    print(report.console(result), flush=True)
    return result


def _write(options: argparse.Namespace, results: list[Result], facts: dict[str, str]) -> None:
    if options.json:
        payload = {
            "machine": facts,
            "quick": options.quick,
            "results": [r.to_json() for r in results],
        }
        options.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {options.json}")
    markdown = options.markdown or (None if options.quick else ROOT / "BENCHMARKS.md")
    if markdown and results:
        command = "python -m bench " + shlex.join(sys.argv[1:])
        report.write_markdown(
            markdown, results, facts, command.strip(), [b.NAME for b in BENCHMARKS]
        )
        print(f"wrote {markdown}")


def main(argv: list[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    try:
        chosen = select(options.only)
    except ValueError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    facts = machine.describe()
    print(f"machine: {machine.one_line(facts)}")
    workdir = Path(tempfile.mkdtemp(prefix="agentfleet-bench-"))
    args = BenchArgs(quick=options.quick, workdir=workdir, load_client=options.load_client)
    results = [r for b in chosen if (r := _run_one(b, args)) is not None]
    _write(options, results, facts)
    if options.keep:
        print(f"working files kept in {workdir}")
    else:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if len(results) == len(chosen) else 1
