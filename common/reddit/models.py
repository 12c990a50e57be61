"""What a Reddit source returns: compact, size-bounded posts and comments.

Every text field is cut to a fixed budget when the model is built, so a 40,000-character post or
a 2,000-comment thread reaches the agent's context as a few kilobytes, whichever source served it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Sort = Literal["relevance", "hot", "top", "new"]
TimeFilter = Literal["day", "week", "month", "year", "all"]

SORTS: tuple[Sort, ...] = ("relevance", "hot", "top", "new")
TIME_FILTERS: tuple[TimeFilter, ...] = ("day", "week", "month", "year", "all")

#: Seconds each time filter reaches back from "now".
TIME_FILTER_SECONDS: dict[str, float | None] = {
    "day": 86_400.0,
    "week": 7 * 86_400.0,
    "month": 31 * 86_400.0,
    "year": 366 * 86_400.0,
    "all": None,
}

TITLE_CHARS = 300
SUMMARY_SELFTEXT_CHARS = 280  # excerpt in search results
DETAIL_SELFTEXT_CHARS = 1_800  # body of a post that is read
COMMENT_BODY_CHARS = 500
MAX_SEARCH_LIMIT = 25
MAX_COMMENTS = 10


def clip(text: str, limit: int) -> str:
    """`text` with whitespace collapsed, cut at a word boundary to at most `limit` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:  # prefer a word boundary unless it throws away half the budget
        cut = cut[:space]
    return cut + "…"


def post_url(subreddit: str, post_id: str, slug: str) -> str:
    return f"https://www.reddit.com/r/{subreddit}/comments/{post_id}/{slug}/"


class PostSummary(BaseModel):
    """One search hit: enough to decide whether the post is worth reading."""

    model_config = ConfigDict(frozen=True)

    id: str
    subreddit: str
    title: str
    url: str
    author: str
    score: int
    num_comments: int
    created_utc: float
    selftext: str  # an excerpt, at most SUMMARY_SELFTEXT_CHARS

    @classmethod
    def bounded(cls, **fields: object) -> PostSummary:
        fields["title"] = clip(str(fields["title"]), TITLE_CHARS)
        fields["selftext"] = clip(str(fields.get("selftext") or ""), SUMMARY_SELFTEXT_CHARS)
        return cls.model_validate(fields)


class Comment(BaseModel):
    model_config = ConfigDict(frozen=True)

    author: str
    score: int
    body: str  # at most COMMENT_BODY_CHARS

    @classmethod
    def bounded(cls, author: str, score: int, body: str) -> Comment:
        return cls(author=author, score=score, body=clip(body, COMMENT_BODY_CHARS))


class PostDetail(PostSummary):
    """A post that was read: a longer body excerpt and its top comments, best first."""

    comments: list[Comment] = []

    @classmethod
    def bounded(cls, **fields: object) -> PostDetail:  # type: ignore[override]
        fields["title"] = clip(str(fields["title"]), TITLE_CHARS)
        fields["selftext"] = clip(str(fields.get("selftext") or ""), DETAIL_SELFTEXT_CHARS)
        comments = list(fields.get("comments") or [])  # type: ignore[call-overload]
        fields["comments"] = comments[:MAX_COMMENTS]
        return cls.model_validate(fields)
