"""The one interface agents use to read Reddit, and the choice between live Reddit and corpus."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from common.reddit.models import PostDetail, PostSummary, Sort, TimeFilter

if TYPE_CHECKING:
    from common.settings import Settings


@runtime_checkable
class RedditSource(Protocol):
    """Read-only Reddit access, live or offline, with identical shapes and bounds.

    Failures are raised as `common.errors` types: `RateLimited`, `ProviderUnavailable`,
    `ProviderTimeout`, `ConnectionFailed` (retryable); `AuthenticationFailed` and `SourceNotFound`
    (not retryable).
    """

    async def search(
        self,
        subreddit: str,
        query: str,
        sort: Sort = "relevance",
        time_filter: TimeFilter = "year",
        limit: int = 10,
    ) -> list[PostSummary]:
        """Posts of one subreddit matching `query`, at most `limit` (capped at 25)."""
        ...

    async def get_post(self, post_id: str, comment_limit: int = 8) -> PostDetail:
        """One post with its top comments (at most `comment_limit`, capped at 10), best first."""
        ...

    async def aclose(self) -> None:
        """Release connections; the source is not used afterwards."""
        ...


def open_reddit_source(settings: Settings) -> RedditSource:
    """Live Reddit through asyncpraw when credentials are configured, else the offline corpus."""
    if settings.reddit_client_id and settings.reddit_client_secret:
        from common.reddit.live import AsyncPrawSource

        return AsyncPrawSource(
            client_id=settings.reddit_client_id,
            client_secret=settings.reddit_client_secret,
            user_agent=settings.reddit_user_agent,
        )
    from common.reddit.corpus import CorpusSource

    return CorpusSource()
