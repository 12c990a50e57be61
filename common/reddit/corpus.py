"""The offline Reddit: a corpus shipped in the package, searched with simple, deterministic scoring.

The corpus file is written by `python -m common.reddit.generate_corpus`; it is read and indexed
once per process, on first use, and shared by every `CorpusSource`.
"""

from __future__ import annotations

import functools
import gzip
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from common.errors import SourceNotFound
from common.reddit.models import (
    MAX_COMMENTS,
    MAX_SEARCH_LIMIT,
    TIME_FILTER_SECONDS,
    Comment,
    PostDetail,
    PostSummary,
    Sort,
    TimeFilter,
    post_url,
)

CORPUS_RESOURCE = "data/corpus.json.gz"

_WORD = re.compile(r"[a-z0-9][a-z0-9+#.]*[a-z0-9+#]|[a-z0-9]")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "my",
        "of",
        "on",
        "or",
        "our",
        "that",
        "the",
        "this",
        "to",
        "we",
        "what",
        "when",
        "which",
        "who",
        "why",
        "with",
        "you",
        "your",
        "do",
        "does",
        "vs",
        "about",
        "best",
        "way",
        "ways",
        "should",
        "can",
    ]
)


def _stem(word: str) -> str:
    # Just enough folding that "hosting", "hosted" and "hosts" meet "host", "LLMs" meets "LLM".
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def terms(text: str) -> set[str]:
    """Search terms of `text`: lower-cased words without stop words, lightly stemmed."""
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS}


@dataclass(frozen=True)
class _Post:
    raw: dict[str, Any]
    title_terms: frozenset[str]
    body_terms: frozenset[str]

    @property
    def id(self) -> str:
        return str(self.raw["id"])

    @property
    def created(self) -> float:
        return float(self.raw["created_utc"])

    @property
    def score(self) -> int:
        return int(self.raw["score"])

    def summary(self) -> PostSummary:
        return PostSummary.bounded(**_common_fields(self.raw))

    def detail(self, comment_limit: int) -> PostDetail:
        best = sorted(self.raw["comments"], key=lambda c: -int(c["score"]))[:comment_limit]
        comments = [Comment.bounded(c["author"], int(c["score"]), c["body"]) for c in best]
        return PostDetail.bounded(**_common_fields(self.raw), comments=comments)


def _common_fields(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": raw["id"],
        "subreddit": raw["subreddit"],
        "title": raw["title"],
        "url": post_url(raw["subreddit"], raw["id"], raw["slug"]),
        "author": raw["author"],
        "score": raw["score"],
        "num_comments": raw["num_comments"],
        "created_utc": raw["created_utc"],
        "selftext": raw["selftext"],
    }


class Corpus:
    """Posts indexed by id and by subreddit (case-insensitive), with pre-computed search terms."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.now: float = float(data["now"])
        self.posts: dict[str, _Post] = {}
        self.subreddits: dict[str, str] = {}  # lower-case name -> canonical name
        self._by_subreddit: dict[str, list[_Post]] = {}
        for raw in data["posts"]:
            post = _Post(raw, frozenset(terms(raw["title"])), frozenset(terms(raw["selftext"])))
            self.posts[post.id] = post
            key = raw["subreddit"].lower()
            self.subreddits.setdefault(key, raw["subreddit"])
            self._by_subreddit.setdefault(key, []).append(post)

    def in_subreddit(self, subreddit: str) -> list[_Post]:
        key = subreddit.removeprefix("r/").lower()
        if key not in self._by_subreddit:
            known = ", ".join(f"r/{name}" for name in sorted(self.subreddits.values()))
            raise SourceNotFound(f"r/{subreddit} is not in the offline corpus (it has {known})")
        return self._by_subreddit[key]


@functools.cache
def load_corpus() -> Corpus:
    """The packaged corpus, read and indexed once per process."""
    blob = resources.files("common.reddit").joinpath(CORPUS_RESOURCE).read_bytes()
    return Corpus(json.loads(gzip.decompress(blob)))


def _match_score(post: _Post, wanted: set[str]) -> int:
    # A title hit says more about what a post is about than a word somewhere in its body.
    return 3 * len(wanted & post.title_terms) + len(wanted & post.body_terms)


def _hot(post: _Post) -> float:
    # Reddit's published hot formula: log-votes plus a bonus for recency (12.5 h per decade).
    return math.log10(max(abs(post.score), 1)) + post.created / 45_000


def _ranked(hits: Iterable[tuple[int, _Post]], sort: Sort) -> list[_Post]:
    keys = {
        "relevance": lambda h: (-h[0], -h[1].score, h[1].id),
        "top": lambda h: (-h[1].score, h[1].id),
        "new": lambda h: (-h[1].created, h[1].id),
        "hot": lambda h: (-_hot(h[1]), h[1].id),
    }
    return [post for _, post in sorted(hits, key=keys[sort])]


class CorpusSource:
    """`RedditSource` over the packaged corpus: no network, same shapes and bounds as live Reddit.

    Time filters count back from `now` (default: the corpus's own fixed "now"), so results do
    not drift with the wall clock.
    """

    def __init__(self, corpus: Corpus | None = None, *, now: float | None = None) -> None:
        self._corpus = corpus
        self._now = now

    @property
    def corpus(self) -> Corpus:
        if self._corpus is None:
            self._corpus = load_corpus()
        return self._corpus

    async def search(
        self,
        subreddit: str,
        query: str,
        sort: Sort = "relevance",
        time_filter: TimeFilter = "year",
        limit: int = 10,
    ) -> list[PostSummary]:
        posts = self.corpus.in_subreddit(subreddit)
        wanted = terms(query)
        reach = TIME_FILTER_SECONDS[time_filter]
        now = self._now if self._now is not None else self.corpus.now
        hits = []
        for post in posts:
            if reach is not None and not (now - reach <= post.created <= now):
                continue
            score = _match_score(post, wanted)
            if wanted and score == 0:
                continue
            hits.append((score, post))
        cap = max(1, min(limit, MAX_SEARCH_LIMIT))
        return [post.summary() for post in _ranked(hits, sort)[:cap]]

    async def get_post(self, post_id: str, comment_limit: int = 8) -> PostDetail:
        post = self.corpus.posts.get(post_id.removeprefix("t3_"))
        if post is None:
            raise SourceNotFound(f"post {post_id!r} does not exist")
        return post.detail(max(0, min(comment_limit, MAX_COMMENTS)))

    async def aclose(self) -> None:
        return None
