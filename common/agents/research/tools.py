"""The agent's two tools, bound to one execution's `RedditSource`, with bounded JSON output.

Every result is compact JSON carrying the ids of the posts it shows; the agent later recovers
"which posts did the tools really return" from these messages (see `transcript.py`), so the
format here and the parser there change together.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from common.errors import SourceNotFound
from common.reddit.models import MAX_SEARCH_LIMIT, PostDetail, PostSummary
from common.reddit.source import RedditSource

SEARCH_TOOL = "search_subreddit"
READ_TOOL = "read_post"
#: Hard ceiling on one tool result (about 3,000 tokens), whatever the source returned.
MAX_TOOL_OUTPUT_CHARS = 12_000
COMMENTS_PER_POST = 8


class SearchArgs(BaseModel):
    subreddit: str = Field(description="Subreddit name without 'r/', e.g. 'Python'.")
    query: str = Field(max_length=300, description="Search terms.")
    sort: Literal["relevance", "hot", "top", "new"] = "relevance"
    time_filter: Literal["day", "week", "month", "year", "all"] = "year"
    limit: int = Field(10, ge=1, le=MAX_SEARCH_LIMIT, description="How many posts, 1-25.")


class ReadArgs(BaseModel):
    post_id: str = Field(max_length=20, description="A post id from search_subreddit results.")


def _day(created_utc: float) -> str:
    return datetime.fromtimestamp(created_utc, UTC).date().isoformat()


def _summary_json(post: PostSummary) -> dict[str, Any]:
    return {
        "id": post.id,
        "title": post.title,
        "url": post.url,
        "score": post.score,
        "num_comments": post.num_comments,
        "created": _day(post.created_utc),
        "excerpt": post.selftext,
    }


def _detail_json(post: PostDetail) -> dict[str, Any]:
    return {
        "id": post.id,
        "subreddit": post.subreddit,
        "title": post.title,
        "url": post.url,
        "author": post.author,
        "score": post.score,
        "num_comments": post.num_comments,
        "created": _day(post.created_utc),
        "selftext": post.selftext,
        "top_comments": [c.model_dump() for c in post.comments],
    }


def bounded_json(payload: dict[str, Any], list_key: str, limit: int = MAX_TOOL_OUTPUT_CHARS) -> str:
    """`payload` as JSON of at most `limit` characters, dropping items of `payload[list_key]`
    from the end (least relevant first) and saying how many were left out."""
    items = list(payload[list_key])
    text = json.dumps(payload, ensure_ascii=False)
    dropped = 0
    while len(text) > limit and items:
        items.pop()
        dropped += 1
        text = json.dumps({**payload, list_key: items, "left_out": dropped}, ensure_ascii=False)
    return text[:limit]  # the remaining fields are bounded at the source; this is a last resort


def reddit_tools(source: RedditSource) -> list[BaseTool]:
    """`search_subreddit` and `read_post` over `source`.

    A missing subreddit or post is told to the model as a tool result so it can correct itself;
    every other failure (rate limits, outages, credentials) propagates and fails the step.
    """

    async def search_subreddit(
        subreddit: str,
        query: str,
        sort: Literal["relevance", "hot", "top", "new"] = "relevance",
        time_filter: Literal["day", "week", "month", "year", "all"] = "year",
        limit: int = 10,
    ) -> str:
        name = subreddit.strip().removeprefix("r/")
        try:
            posts = await source.search(name, query, sort, time_filter, limit)
        except SourceNotFound as exc:
            return json.dumps({"error": str(exc), "posts": []})
        payload = {
            "subreddit": posts[0].subreddit if posts else name,
            "query": query,
            "sort": sort,
            "time_filter": time_filter,
            "posts": [_summary_json(p) for p in posts],
        }
        return bounded_json(payload, "posts")

    async def read_post(post_id: str) -> str:
        try:
            post = await source.get_post(post_id.strip(), COMMENTS_PER_POST)
        except SourceNotFound as exc:
            return json.dumps({"error": str(exc)})
        return bounded_json(_detail_json(post), "top_comments")

    return [
        StructuredTool.from_function(
            coroutine=search_subreddit,
            name=SEARCH_TOOL,
            description=(
                "Search one subreddit. Returns compact post summaries (id, title, url, score, "
                "comment count, date, excerpt), best match first."
            ),
            args_schema=SearchArgs,
        ),
        StructuredTool.from_function(
            coroutine=read_post,
            name=READ_TOOL,
            description="Read one post by id: its text and its top comments, best first.",
            args_schema=ReadArgs,
        ),
    ]
