"""`agentfleet submit research`: a GraphQL client that shows live progress and the findings."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

SUBMIT_RESEARCH = """
mutation($input: ResearchInput!, $key: String) {
  submitResearch(input: $input, idempotencyKey: $key) { id state }
}"""

WATCH = """
query($id: ID!, $after: Int) {
  execution(id: $id) {
    id state attempt
    error { type message }
    usage { llmCallsOk llmCallsFailed promptTokens completionTokens toolCalls costUsd }
    events(after: $after) { seq attempt kind tool summary }
    report {
      findings { sourceId subreddit title url summary relevanceScore actionItems }
      metadata { searchesMade postsRead confidence fabricatedDropped }
    }
  }
}"""

TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}


class ClientError(Exception):
    """The API answered with an error (its message is meant for a person)."""


class Client:
    def __init__(self, url: str, api_key: str | None, timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.AsyncClient(base_url=url, headers=headers, timeout=timeout)

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    async def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        try:
            response = await self._http.post(
                "/graphql", json={"query": query, "variables": variables}
            )
        except httpx.HTTPError as exc:
            raise ClientError(f"cannot reach {self._http.base_url}: {exc}") from None
        body = response.json()
        if body.get("errors"):
            error = body["errors"][0]
            code = error.get("extensions", {}).get("code", "ERROR")
            raise ClientError(f"{code}: {error['message']}")
        return body["data"]


async def submit_research(args: Any, console: Console | None = None) -> int:
    console = console or Console()
    research = {
        "topic": args.topic,
        "subreddits": args.subreddit,
        "minFindings": args.min_findings,
        "timeFilter": args.time_filter.upper(),
    }
    api_key = args.api_key or os.environ.get("AGENTFLEET_API_KEY")
    async with Client(args.url, api_key) as client:
        try:
            data = await client.graphql(SUBMIT_RESEARCH, input=research, key=args.idempotency_key)
            execution_id = data["submitResearch"]["id"]
            console.print(f"submitted [bold]{execution_id}[/]")
            if not args.wait:
                return 0
            final = await _watch(client, execution_id, console, args.poll)
        except ClientError as exc:
            console.print(f"[red]{exc}")
            return 1
    _print_outcome(console, final)
    return 0 if final["state"] == "SUCCEEDED" else 1


async def _watch(client: Client, execution_id: str, console: Console, poll: float) -> dict:
    seen, state = 0, None
    while True:
        execution = (await client.graphql(WATCH, id=execution_id, after=seen))["execution"]
        if execution["state"] != state:
            state = execution["state"]
            console.print(f"[bold]{state}[/] (attempt {execution['attempt']})")
        for event in execution["events"]:
            seen = event["seq"]
            tool = f" {event['tool']}" if event["tool"] else ""
            console.print(f"  #{event['seq']} {event['kind']}{tool}: {event['summary']}")
        if state in TERMINAL:
            return execution
        await asyncio.sleep(poll)


def _print_outcome(console: Console, execution: dict) -> None:
    usage = execution["usage"]
    console.print(
        f"LLM calls {usage['llmCallsOk']} ok / {usage['llmCallsFailed']} failed, "
        f"{usage['promptTokens']}+{usage['completionTokens']} tokens, "
        f"{usage['toolCalls']} tool calls, ${usage['costUsd']:.4f}"
    )
    if execution["error"]:
        console.print(f"[red]{execution['error']['type']}: {execution['error']['message']}")
    report = execution.get("report")
    if not report:
        return
    table = Table(title=f"{len(report['findings'])} findings")
    for column in ("relevance", "subreddit", "title", "summary", "url"):
        table.add_column(column, overflow="fold")
    for f in sorted(report["findings"], key=lambda f: -f["relevanceScore"]):
        table.add_row(
            f"{f['relevanceScore']:.2f}", f"r/{f['subreddit']}", f["title"], f["summary"], f["url"]
        )
    console.print(table)
    meta = report["metadata"]
    console.print(
        f"{meta['searchesMade']} searches, {meta['postsRead']} posts read, "
        f"confidence {meta['confidence']:.2f}, {meta['fabricatedDropped']} fabricated dropped"
    )
