"""A tiny GraphQL-over-HTTP client for tests, and the operations they share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

EXECUTION_FIELDS = """
    id agent input state attempt failedAttempts maxAttempts priority idempotencyKey
    availableAt createdAt updatedAt startedAt finishedAt cancelRequested
    attempts { number workerId outcome error { type message retryable } }
    result error { type message retryable }
    usage { llmCallsOk llmCallsFailed promptTokens completionTokens toolCalls costUsd }
"""

SUBMIT = f"""
mutation Submit($agent: String!, $input: JSON!, $key: String, $priority: Int, $max: Int) {{
  submitExecution(agent: $agent, input: $input, idempotencyKey: $key, priority: $priority,
                  maxAttempts: $max) {{ {EXECUTION_FIELDS} }}
}}
"""

GET = f"query Get($id: ID!) {{ execution(id: $id) {{ {EXECUTION_FIELDS} }} }}"

CANCEL = "mutation Cancel($id: ID!) { cancelExecution(id: $id) { id state cancelRequested } }"

RETRY = "mutation Retry($id: ID!) { retryExecution(id: $id) { id state failedAttempts } }"

LIST = """
query List($state: ExecutionState, $agent: String, $first: Int, $after: String) {
  executions(state: $state, agent: $agent, first: $first, after: $after) {
    edges { cursor node { id state agent } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

STATS = """
query { stats { pending running succeeded failed cancelled total oldestDuePendingAgeSeconds } }
"""


@dataclass
class GraphQLClient:
    http: httpx.AsyncClient
    key: str | None = None

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict:
        """The response body of a GraphQL request that must reach the schema (HTTP 200)."""
        response = await self.post(query, variables)
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict:
        """The `data` of a request that must succeed without errors."""
        body = await self.execute(query, variables)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def submit(self, agent: str = "echo", input: Any = None, **variables: Any) -> dict:
        data = await self.data(
            SUBMIT, {"agent": agent, "input": input or {"message": "hi"}, **variables}
        )
        return data["submitExecution"]


def error_codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def only_error(body: dict) -> dict:
    """The single error of a response, asserting there is exactly one."""
    errors = body.get("errors") or []
    assert len(errors) == 1, body
    return errors[0]
