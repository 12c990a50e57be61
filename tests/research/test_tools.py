"""Tool results stay small, whatever Reddit returns, and missing things are told to the model."""

import functools
import json

import pytest

from common.agents.research.tools import MAX_TOOL_OUTPUT_CHARS, bounded_json, reddit_tools
from common.errors import RateLimited
from common.reddit.corpus import Corpus, CorpusSource


@functools.cache
def huge_corpus() -> Corpus:
    now = 1_767_225_600.0
    opinion = "long opinion " * 2_000  # one string shared by every comment
    posts = [
        {
            "id": f"1huge{i:02}",
            "subreddit": "Python",
            "title": "A megathread about packaging " + "and more " * 200,
            "slug": "megathread",
            "author": "someone",
            "score": 10_000 - i,
            "num_comments": 5_000,
            "created_utc": now - 3600,
            "selftext": "packaging " * 10_000,
            "comments": [{"author": f"user{j}", "score": j, "body": opinion} for j in range(2_000)],
        }
        for i in range(30)
    ]
    return Corpus({"now": now, "posts": posts})


@pytest.fixture
def tools():
    return {tool.name: tool for tool in reddit_tools(CorpusSource(huge_corpus()))}


async def test_reading_a_huge_thread_returns_a_bounded_result(tools):
    text = await tools["read_post"].ainvoke({"post_id": "1huge00"})
    assert len(text) <= MAX_TOOL_OUTPUT_CHARS
    post = json.loads(text)
    assert post["id"] == "1huge00"
    assert 1 <= len(post["top_comments"]) <= 8


async def test_searching_huge_posts_returns_a_bounded_result(tools):
    text = await tools["search_subreddit"].ainvoke(
        {"subreddit": "Python", "query": "packaging", "limit": 25}
    )
    assert len(text) <= MAX_TOOL_OUTPUT_CHARS
    result = json.loads(text)
    assert 1 <= len(result["posts"]) <= 25
    assert len(result["posts"]) + result.get("left_out", 0) == 25


def test_bounded_json_drops_trailing_items_and_says_how_many():
    payload = {"query": "q", "posts": [{"text": "x" * 100} for _ in range(50)]}
    text = bounded_json(payload, "posts", limit=1_000)
    result = json.loads(text)
    assert len(text) <= 1_000
    assert len(result["posts"]) + result["left_out"] == 50


async def test_a_missing_subreddit_or_post_is_a_result_the_model_can_correct():
    tools = {tool.name: tool for tool in reddit_tools(CorpusSource())}
    search = json.loads(
        await tools["search_subreddit"].ainvoke({"subreddit": "nope", "query": "x"})
    )
    read = json.loads(await tools["read_post"].ainvoke({"post_id": "0000000"}))
    assert search["posts"] == [] and "not in the offline corpus" in search["error"]
    assert "does not exist" in read["error"]


async def test_a_rate_limited_source_fails_the_tool_call():
    class Throttled(CorpusSource):
        async def search(self, *args, **kwargs):
            raise RateLimited("reddit 429", retry_after=5)

    search = reddit_tools(Throttled())[0]
    with pytest.raises(RateLimited):
        await search.ainvoke({"subreddit": "Python", "query": "x"})
