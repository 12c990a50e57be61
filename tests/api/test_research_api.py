"""submitResearch and Execution.report: typed research input and findings over GraphQL.

Input goes through the agent's own pydantic model on the same path as submitExecution; findings,
usage (per execution and per attempt) and progress events come back typed once a worker ran it.
"""

from __future__ import annotations

from typing import Any

import pytest

from api.research import ResearchFinding, ResearchInput, ResearchMetadata
from common.agents.registry import default_registry
from common.agents.research import models
from common.agents.research.scripted import FABRICATE_MARKER
from common.errors import AuthenticationFailed
from common.reddit.corpus import load_corpus
from common.settings import Settings
from common.store.base import Store
from tests.api.graphql import GET, STATS, GraphQLClient, only_error
from tests.research.test_research_agent import scripted
from tests.worker.harness import make_worker, step

SUBMIT_RESEARCH = """
mutation Research($input: ResearchInput!, $key: String) {
  submitResearch(input: $input, idempotencyKey: $key) { id agent state input idempotencyKey }
}
"""

REPORT = """
query Report($id: ID!, $after: Int) {
  execution(id: $id) {
    state
    report {
      findings { sourceId subreddit title url summary actionItems relevanceScore }
      metadata { searchesMade postsRead confidence fabricatedDropped }
    }
    result
    usage { llmCallsOk llmCallsFailed promptTokens completionTokens toolCalls costUsd }
    attempts { number outcome usage { llmCallsOk toolCalls promptTokens costUsd } }
    events(after: $after) { seq attempt kind tool summary at }
  }
}
"""

TOPIC = {
    "topic": "How do teams handle LLM API rate limits, retries and costs?",
    "subreddits": ["r/startups", "MachineLearning", "Python"],
    "minFindings": 4,
}
#: $ per 1M tokens for the offline model, so the test can check cost is priced from the table.
PRICES = '{"scripted": [1.0, 2.0]}'


async def run_worker(store: Store, clock, **resources: Any) -> None:
    """One worker step, offline (scripted model, corpus), with a price for the scripted model."""
    worker = make_worker(store, default_registry(), clock, "w1")
    settings = Settings(llm_provider="offline", llm_prices=PRICES)
    worker.runner.resources.update({"settings": settings, **resources})
    await step(worker)


async def submit_research(client: GraphQLClient, **changes) -> dict:
    data = await client.data(SUBMIT_RESEARCH, {"input": TOPIC | changes})
    return data["submitResearch"]


async def report_of(client: GraphQLClient, execution_id: str, after: int | None = None) -> dict:
    return (await client.data(REPORT, {"id": execution_id, "after": after}))["execution"]


async def test_submit_research_stores_a_pending_reddit_research_execution_with_defaults(
    client_a: GraphQLClient,
) -> None:
    submitted = await submit_research(client_a)

    assert submitted["agent"] == "reddit_research" and submitted["state"] == "PENDING"
    assert submitted["input"] == {
        "topic": TOPIC["topic"],
        "subreddits": ["startups", "MachineLearning", "Python"],  # cleaned by the model
        "min_findings": 4,
        "behavior": None,
        "time_filter": "year",
    }
    pending = await report_of(client_a, submitted["id"])
    assert pending["report"] is None and pending["events"] == []


async def test_submit_research_stores_what_submit_execution_would_store(
    client_a: GraphQLClient,
) -> None:
    typed = await submit_research(client_a, timeFilter="MONTH", behavior="Prefer recent posts.")
    raw_input = {
        "topic": TOPIC["topic"],
        "subreddits": TOPIC["subreddits"],
        "min_findings": 4,
        "behavior": "Prefer recent posts.",
        "time_filter": "month",
    }
    untyped = await client_a.submit("reddit_research", raw_input)

    assert typed["input"] == untyped["input"]


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"subreddits": ["not a subreddit!"]}, "input.subreddits", "is not a subreddit name"),
        ({"subreddits": []}, "input.subreddits", "at least 1 item"),
        ({"minFindings": 0}, "input.minFindings", "greater than or equal to 1"),
        ({"topic": "   "}, "input.topic", "at least 1 character"),
    ],
)
async def test_invalid_research_input_is_bad_user_input_naming_the_field_and_stores_nothing(
    client_a: GraphQLClient, changes: dict, field: str, says: str
) -> None:
    body = await client_a.execute(SUBMIT_RESEARCH, {"input": TOPIC | changes})

    error = only_error(body)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["fields"] == [field] and says in error["message"]
    assert body["data"] is None
    assert (await client_a.data(STATS))["stats"]["total"] == 0


async def test_an_unknown_time_filter_is_refused_by_the_schema_and_stores_nothing(
    client_a: GraphQLClient,
) -> None:
    body = await client_a.execute(SUBMIT_RESEARCH, {"input": TOPIC | {"timeFilter": "DECADE"}})

    error = only_error(body)
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "timeFilter" in error["message"]
    assert (await client_a.data(STATS))["stats"]["total"] == 0


async def test_an_idempotency_key_yields_the_same_research_execution(
    client_a: GraphQLClient,
) -> None:
    variables = {"input": TOPIC, "key": "research-1"}
    first = (await client_a.data(SUBMIT_RESEARCH, variables))["submitResearch"]
    again = (await client_a.data(SUBMIT_RESEARCH, variables))["submitResearch"]
    raw_input = {"topic": "another question", "subreddits": ["Python"]}
    generic = await client_a.submit("reddit_research", raw_input, key="research-1")

    assert first["id"] == again["id"] == generic["id"]
    assert first["idempotencyKey"] == "research-1"
    assert (await client_a.data(STATS))["stats"]["total"] == 1


async def test_a_succeeded_research_execution_has_a_typed_report_usage_and_events(
    client_a: GraphQLClient, store: Store, clock
) -> None:
    submitted = await submit_research(client_a)
    await run_worker(store, clock)

    done = await report_of(client_a, submitted["id"])

    assert done["state"] == "SUCCEEDED"
    report = done["report"]
    assert len(report["findings"]) >= TOPIC["minFindings"]
    corpus = load_corpus()
    for finding in report["findings"]:
        post = corpus.posts[finding["sourceId"]].summary()
        assert (finding["url"], finding["title"], finding["subreddit"]) == (
            post.url,
            post.title,
            post.subreddit,
        )
        assert 0 <= finding["relevanceScore"] <= 1 and len(finding["actionItems"]) <= 3
    assert report["findings"][0]["sourceId"] == done["result"]["findings"][0]["source_id"]
    metadata = report["metadata"]
    assert metadata["searchesMade"] >= len(TOPIC["subreddits"])
    assert metadata["postsRead"] >= len(report["findings"])
    assert metadata["fabricatedDropped"] == 0 and 0 < metadata["confidence"] <= 1

    usage = done["usage"]
    assert usage["llmCallsOk"] >= 3 and usage["llmCallsFailed"] == 0
    assert usage["toolCalls"] == metadata["searchesMade"] + metadata["postsRead"]
    assert usage["promptTokens"] > 0 and usage["completionTokens"] > 0
    expected_cost = (usage["promptTokens"] * 1.0 + usage["completionTokens"] * 2.0) / 1e6
    assert usage["costUsd"] == pytest.approx(expected_cost)
    (attempt,) = done["attempts"]
    assert attempt["outcome"] == "SUCCEEDED"
    assert attempt["usage"] == {
        "llmCallsOk": usage["llmCallsOk"],
        "toolCalls": usage["toolCalls"],
        "promptTokens": usage["promptTokens"],
        "costUsd": usage["costUsd"],
    }

    events = done["events"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert len(events) == usage["llmCallsOk"] + usage["toolCalls"]
    assert {e["kind"] for e in events} == {"llm", "tool"} and events[0]["kind"] == "llm"
    assert {e["tool"] for e in events if e["kind"] == "tool"} == {"search_subreddit", "read_post"}
    assert all(e["attempt"] == 1 and e["summary"] for e in events)
    later = (await report_of(client_a, submitted["id"], after=3))["events"]
    assert later == events[3:]


async def test_a_fabricated_finding_is_counted_in_the_report_metadata(
    client_a: GraphQLClient, store: Store, clock
) -> None:
    submitted = await submit_research(client_a, behavior=FABRICATE_MARKER)
    await run_worker(store, clock)

    report = (await report_of(client_a, submitted["id"]))["report"]

    assert report["metadata"]["fabricatedDropped"] == 1
    assert all(f["sourceId"] in load_corpus().posts for f in report["findings"])


async def test_the_report_is_null_for_other_agents_and_unfinished_or_failed_research(
    client_a: GraphQLClient, store: Store, clock
) -> None:
    echo = await client_a.submit("echo", {"message": "hi"})
    research = await submit_research(client_a)
    await run_worker(store, clock, chat_model=scripted({1: AuthenticationFailed("bad key")}))

    echoed = (await client_a.data(GET, {"id": echo["id"]}))["execution"]
    assert echoed["state"] == "SUCCEEDED"
    assert (await report_of(client_a, echo["id"]))["report"] is None
    failed = await report_of(client_a, research["id"])
    assert failed["state"] == "FAILED" and failed["report"] is None


@pytest.mark.parametrize(
    ("graphql_type", "model"),
    [
        (ResearchInput, models.ResearchInput),
        (ResearchFinding, models.Finding),
        (ResearchMetadata, models.ResearchMetadata),
    ],
)
def test_the_graphql_research_types_mirror_the_agents_models(graphql_type, model) -> None:
    fields = {f.python_name for f in graphql_type.__strawberry_definition__.fields}
    assert fields == set(model.model_fields)
