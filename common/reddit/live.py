"""Live Reddit through asyncpraw, Reddit's async client (praw is synchronous and warns inside an
event loop). Read-only, application-only OAuth: a client id, a secret and a user agent.

Reddit's failures are raised as `common.errors` types through `classify`, the one place that
knows how Reddit's client reports them (429, 5xx, 401/403, a missing post or subreddit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common.errors import classify
from common.reddit.models import (
    MAX_COMMENTS,
    MAX_SEARCH_LIMIT,
    Comment,
    PostDetail,
    PostSummary,
    Sort,
    TimeFilter,
)

REQUEST_TIMEOUT_S = 20


def _author(thing: Any) -> str:
    author = getattr(thing, "author", None)
    return str(getattr(author, "name", None) or "[deleted]")


def _fields(submission: Any) -> dict[str, Any]:
    return {
        "id": str(submission.id),
        "subreddit": str(getattr(submission.subreddit, "display_name", submission.subreddit)),
        "title": submission.title,
        "url": f"https://www.reddit.com{submission.permalink}",
        "author": _author(submission),
        "score": int(submission.score),
        "num_comments": int(submission.num_comments),
        "created_utc": float(submission.created_utc),
        "selftext": getattr(submission, "selftext", "") or "",
    }


def summary_of(submission: Any) -> PostSummary:
    """A bounded `PostSummary` from an asyncpraw Submission (or anything shaped like one)."""
    return PostSummary.bounded(**_fields(submission))


def detail_of(submission: Any, comments: list[Any]) -> PostDetail:
    """A bounded `PostDetail`; `comments` are top-level comments, best first."""
    return PostDetail.bounded(
        **_fields(submission),
        comments=[Comment.bounded(_author(c), int(c.score), c.body) for c in comments],
    )


class AsyncPrawSource:
    """`RedditSource` over live Reddit. The client is created on first use, inside the running
    event loop (its HTTP session belongs to that loop); `aclose()` releases it."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        user_agent: str,
        reddit_factory: Callable[..., Any] | None = None,
    ) -> None:
        self._credentials: dict[str, Any] = {
            "client_id": client_id,
            "client_secret": client_secret,
            "user_agent": user_agent,
        }
        self._factory = reddit_factory
        self._reddit: Any = None

    def _client(self) -> Any:
        if self._reddit is None:
            factory = self._factory
            if factory is None:
                import asyncpraw

                factory = asyncpraw.Reddit
            # No hidden waiting: asyncpraw may sleep out short rate limits on its own, which
            # would hide them from the fleet's retry accounting, so cap that at one second.
            self._reddit = factory(
                **self._credentials, timeout=REQUEST_TIMEOUT_S, ratelimit_seconds=1
            )
        return self._reddit

    async def search(
        self,
        subreddit: str,
        query: str,
        sort: Sort = "relevance",
        time_filter: TimeFilter = "year",
        limit: int = 10,
    ) -> list[PostSummary]:
        cap = max(1, min(limit, MAX_SEARCH_LIMIT))
        try:
            sub = await self._client().subreddit(subreddit.removeprefix("r/"))
            return [
                summary_of(s)
                async for s in sub.search(query, sort=sort, time_filter=time_filter, limit=cap)
            ]
        except Exception as exc:
            raise classify(exc) from exc

    async def get_post(self, post_id: str, comment_limit: int = 8) -> PostDetail:
        limit = max(0, min(comment_limit, MAX_COMMENTS))
        try:
            submission = await self._client().submission(post_id.removeprefix("t3_"), fetch=False)
            # Sort and limit must be set before the fetch; only top-level comments are kept,
            # so "load more" stubs are dropped instead of fetched (replace_more(limit=0)).
            submission.comment_sort = "top"
            submission.comment_limit = limit
            await submission.load()
            await submission.comments.replace_more(limit=0)
            top = [submission.comments[i] for i in range(min(limit, len(submission.comments)))]
            return detail_of(submission, top)
        except Exception as exc:
            raise classify(exc) from exc

    async def aclose(self) -> None:
        if self._reddit is not None:
            await self._reddit.close()
            self._reddit = None
