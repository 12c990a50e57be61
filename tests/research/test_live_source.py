"""Live Reddit without the network: asyncpraw's errors are classified like the LLM's, and its
objects become the same bounded models the corpus returns. Reddit itself is never called."""

from __future__ import annotations

from types import SimpleNamespace

import aiohttp
import pytest
from asyncprawcore import exceptions as reddit_errors

from common.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    SourceNotFound,
    classify,
)
from common.reddit.corpus import CorpusSource
from common.reddit.live import AsyncPrawSource
from common.reddit.models import COMMENT_BODY_CHARS, DETAIL_SELFTEXT_CHARS
from common.reddit.source import open_reddit_source
from common.settings import Settings


def response(status: int, **headers: str) -> SimpleNamespace:
    """What asyncprawcore's exceptions read from aiohttp's response."""
    return SimpleNamespace(status=status, headers=headers, text="")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (reddit_errors.TooManyRequests(response(429, **{"retry-after": "7"})), RateLimited),
        (reddit_errors.ServerError(response(503)), ProviderUnavailable),
        (reddit_errors.ServerError(response(500)), ProviderUnavailable),
        (reddit_errors.InvalidToken(response(401)), AuthenticationFailed),
        (reddit_errors.Forbidden(response(403)), AuthenticationFailed),
        (reddit_errors.OAuthException(response(400), "invalid_grant"), AuthenticationFailed),
        (reddit_errors.NotFound(response(404)), SourceNotFound),
        (reddit_errors.Redirect(response(302, location="/subreddits/search")), SourceNotFound),
        (reddit_errors.RequestException(TimeoutError(), (), {}), ProviderTimeout),
        (
            reddit_errors.RequestException(aiohttp.ServerDisconnectedError(), (), {}),
            ConnectionFailed,
        ),
    ],
)
def test_reddit_failures_are_classified_like_provider_failures(error, expected):
    assert type(classify(error)) is expected


def test_reddits_retry_after_is_kept():
    error = reddit_errors.TooManyRequests(response(429, **{"retry-after": "7"}))
    assert classify(error).retry_after == 7


class FakeSubmission:
    def __init__(self, post_id: str, comments: int = 3) -> None:
        self.id = post_id
        self.subreddit = SimpleNamespace(display_name="Python")
        self.title = f"Post {post_id}"
        self.permalink = f"/r/Python/comments/{post_id}/post/"
        self.author = SimpleNamespace(name="someone")
        self.score, self.num_comments, self.created_utc = 42, comments, 1_700_000_000.0
        self.selftext = "body " * 5_000
        self._comments = [
            SimpleNamespace(author=None, score=10 - i, body="reply " * 1_000)
            for i in range(comments)
        ]
        self.loaded_with: tuple[str, int] | None = None

    async def load(self) -> None:
        self.loaded_with = (self.comment_sort, self.comment_limit)
        self.comments = FakeForest(self._comments[: self.comment_limit])


class FakeForest(list):
    async def replace_more(self, *, limit):
        assert limit == 0  # never fetch "load more" stubs


class FakeReddit:
    """The slice of asyncpraw.Reddit the source uses."""

    def __init__(self, **config) -> None:
        self.config, self.closed, self.searches = config, False, []
        self.missing: set[str] = set()

    async def subreddit(self, name: str):
        reddit = self

        class Subreddit:
            async def search(self, query, *, sort, time_filter, limit):
                reddit.searches.append((name, query, sort, time_filter, limit))
                for i in range(limit):
                    yield FakeSubmission(f"p{i}")

        return Subreddit()

    async def submission(self, post_id: str, *, fetch: bool):
        assert not fetch  # sort and limit must be set before the fetch
        if post_id in self.missing:
            raise reddit_errors.NotFound(response(404))
        return FakeSubmission(post_id, comments=20)

    async def close(self) -> None:
        self.closed = True


@pytest.fixture
def reddit() -> FakeReddit:
    return FakeReddit()


@pytest.fixture
def source(reddit) -> AsyncPrawSource:
    def factory(**config):
        reddit.config = config
        return reddit

    return AsyncPrawSource(
        client_id="id", client_secret="secret", user_agent="agentfleet test", reddit_factory=factory
    )


async def test_search_passes_the_options_and_caps_the_limit(source, reddit):
    posts = await source.search("r/Python", "asyncio", "top", "month", 100)
    assert len(posts) == 25
    assert reddit.searches == [("Python", "asyncio", "top", "month", 25)]
    assert posts[0].url == "https://www.reddit.com/r/Python/comments/p0/post/"
    assert reddit.config["user_agent"] == "agentfleet test"


async def test_a_post_is_read_with_bounded_top_comments(source):
    post = await source.get_post("t3_abc", comment_limit=50)
    assert post.id == "abc" and len(post.comments) == 10
    assert len(post.selftext) <= DETAIL_SELFTEXT_CHARS
    assert all(len(c.body) <= COMMENT_BODY_CHARS and c.author == "[deleted]" for c in post.comments)


async def test_a_missing_post_is_not_found(source, reddit):
    reddit.missing.add("gone")
    with pytest.raises(SourceNotFound):
        await source.get_post("gone")


async def test_closing_releases_the_client(source, reddit):
    await source.search("Python", "x")
    await source.aclose()
    assert reddit.closed


def test_without_credentials_the_offline_corpus_is_used():
    assert isinstance(open_reddit_source(Settings()), CorpusSource)


def test_with_credentials_live_reddit_is_used_and_nothing_is_contacted_yet():
    settings = Settings(reddit_client_id="id", reddit_client_secret="secret")
    source = open_reddit_source(settings)
    assert isinstance(source, AsyncPrawSource) and source._reddit is None
