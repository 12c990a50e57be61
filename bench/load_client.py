"""The Python HTTP load client, used when `wrk` is not installed: a separate process with
`concurrency` connections, each sending the same POST back to back for `seconds`.

Run: `python -m bench.load_client URL --body-file F [--header 'Name: value'] -c 32 -d 10`;
prints one JSON object (requests, seconds, requests_per_s, p50_ms, p99_ms, errors).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import httpx

from bench.stats import percentile


async def _connection(
    client: httpx.AsyncClient, url: str, body: bytes, deadline: float, out: list[float]
) -> int:
    errors = 0
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        response = await client.post(url, content=body)
        out.append((time.perf_counter() - start) * 1000)
        errors += response.status_code >= 400
    return errors


async def load(
    url: str, body: bytes, headers: dict[str, str], concurrency: int, seconds: float
) -> dict[str, float]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:
        start = time.perf_counter()
        deadline = start + seconds
        errors = await asyncio.gather(
            *(_connection(client, url, body, deadline, latencies) for _ in range(concurrency))
        )
        elapsed = time.perf_counter() - start
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "errors": sum(errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--body-file", required=True)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("-c", "--concurrency", type=int, default=32)
    parser.add_argument("-d", "--seconds", type=float, default=10.0)
    args = parser.parse_args()
    headers = dict(h.split(": ", 1) for h in args.header)
    body = Path(args.body_file).read_bytes()
    figures = asyncio.run(load(args.url, body, headers, args.concurrency, args.seconds))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
