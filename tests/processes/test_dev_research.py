"""Issue 3's acceptance, as a newcomer sees it: `agentfleet dev` with no keys at all, and
`submitResearch` on a corpus topic over real HTTP SUCCEEDS with at least `minFindings` findings,
every one linking to a post of the offline corpus; usage and progress are readable alongside."""

from __future__ import annotations

import time

import pytest

from common.reddit.corpus import load_corpus
from tests.processes.fleet import free_port
from tests.processes.test_dev import _env, _gql, _start_dev

pytestmark = pytest.mark.slow

SUBMIT = """
mutation($input: ResearchInput!) { submitResearch(input: $input) { id state agent } }
"""
GET = """
query($id: ID!) {
  execution(id: $id) {
    state error { type message }
    report {
      findings { sourceId subreddit title url summary actionItems relevanceScore }
      metadata { searchesMade postsRead confidence fabricatedDropped }
    }
    usage { llmCallsOk llmCallsFailed promptTokens completionTokens toolCalls costUsd }
    attempts { number outcome usage { llmCallsOk toolCalls } }
    events { seq attempt kind tool summary }
  }
}
"""
TOPIC = {
    "topic": "How do teams handle LLM API rate limits, retries and costs?",
    "subreddits": ["startups", "MachineLearning", "r/Python", "LocalLLaMA"],
    "minFindings": 5,
}


def _wait_until_final(url: str, execution_id: str, limit: float = 60.0) -> dict:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        execution = _gql(url, GET, id=execution_id)["execution"]
        if execution["state"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return execution
        time.sleep(0.1)
    raise AssertionError(f"{execution_id} did not finish within {limit}s: {execution}")


def test_dev_without_keys_researches_a_corpus_topic_with_findings_that_link_to_corpus_posts(
    tmp_path,
):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    dev = _start_dev(tmp_path, port, _env())
    try:
        submitted = _gql(url, SUBMIT, input=TOPIC)["submitResearch"]
        assert submitted["agent"] == "reddit_research" and submitted["state"] == "PENDING"
        done = _wait_until_final(url, submitted["id"])
    finally:
        dev.terminate()
        dev.wait(timeout=30)

    assert done["state"] == "SUCCEEDED", done["error"]
    findings = done["report"]["findings"]
    assert len(findings) >= TOPIC["minFindings"]
    corpus = load_corpus()
    for finding in findings:
        assert finding["sourceId"] in corpus.posts, finding
        post = corpus.posts[finding["sourceId"]].summary()
        assert finding["url"] == post.url and finding["url"].startswith("https://www.reddit.com/r/")
        assert finding["subreddit"] == post.subreddit and finding["summary"]
    metadata = done["report"]["metadata"]
    assert metadata["fabricatedDropped"] == 0 and metadata["postsRead"] >= len(findings)

    usage = done["usage"]
    assert usage["llmCallsOk"] >= 3 and usage["llmCallsFailed"] == 0
    assert usage["toolCalls"] == metadata["searchesMade"] + metadata["postsRead"]
    assert usage["promptTokens"] > 0 and usage["completionTokens"] > 0
    assert done["attempts"] == [
        {
            "number": 1,
            "outcome": "SUCCEEDED",
            "usage": {"llmCallsOk": usage["llmCallsOk"], "toolCalls": usage["toolCalls"]},
        }
    ]
    events, steps = done["events"], usage["llmCallsOk"] + usage["toolCalls"]
    assert [e["seq"] for e in events] == list(range(1, steps + 1))  # one event per step
    assert sum(e["kind"] == "tool" for e in events) == usage["toolCalls"]
