"""The offline corpus: realistic, small, deterministic, and searched like Reddit is."""

import re
from collections import Counter

import pytest

from common.errors import SourceNotFound
from common.reddit import generate_corpus
from common.reddit.corpus import CORPUS_RESOURCE, CorpusSource, load_corpus, terms
from common.reddit.models import MAX_SEARCH_LIMIT, TIME_FILTER_SECONDS

URL = re.compile(r"^https://www\.reddit\.com/r/(\w+)/comments/(\w+)/\w+/$")


@pytest.fixture
def source() -> CorpusSource:
    return CorpusSource()


def test_the_committed_corpus_is_what_its_generator_writes():
    assert generate_corpus.main(["--check"]) == 0


def test_the_corpus_file_stays_small():
    size = (generate_corpus.OUTPUT.parent.parent / CORPUS_RESOURCE).stat().st_size
    assert size < 1_000_000


def test_the_corpus_has_several_subreddits_and_a_few_hundred_discussed_posts():
    corpus = load_corpus()
    per_subreddit = Counter(p.raw["subreddit"] for p in corpus.posts.values())
    assert 6 <= len(per_subreddit) <= 8
    assert 300 <= len(corpus.posts) <= 500
    assert all(len(p.raw["comments"]) >= 3 for p in corpus.posts.values())
    assert all(p.raw["num_comments"] >= len(p.raw["comments"]) for p in corpus.posts.values())


def test_the_corpus_is_loaded_once_per_process():
    assert load_corpus() is load_corpus()


async def test_search_results_match_the_query_and_link_to_the_post(source):
    posts = await source.search("LocalLLaMA", "GPU home server", "relevance", "all", 10)
    assert posts
    for post in posts:
        assert terms("GPU home server") & terms(f"{post.title} {post.selftext}")
        match = URL.match(post.url)
        assert match and match.groups() == ("LocalLLaMA", post.id)


async def test_subreddit_names_are_case_insensitive_with_or_without_r(source):
    a = await source.search("localllama", "quantization", "top", "all", 5)
    b = await source.search("r/LocalLLaMA", "quantization", "top", "all", 5)
    assert a == b and a[0].subreddit == "LocalLLaMA"


@pytest.mark.parametrize(
    ("sort", "key"),
    [("top", lambda p: -p.score), ("new", lambda p: -p.created_utc)],
)
async def test_sorts_order_results_as_named(source, sort, key):
    posts = await source.search("devops", "retries backoff outage", sort, "all", 25)
    assert len(posts) > 3
    assert posts == sorted(posts, key=key)


async def test_time_filters_count_back_from_the_corpus_now(source):
    corpus = load_corpus()
    for time_filter, reach in TIME_FILTER_SECONDS.items():
        posts = await source.search("Python", "", "new", time_filter, 25)
        if reach is not None:
            assert all(corpus.now - reach <= p.created_utc <= corpus.now for p in posts)
    assert len(await source.search("Python", "", "new", "all", 25)) == MAX_SEARCH_LIMIT


async def test_an_injected_now_moves_the_time_window(source):
    far_future = CorpusSource(now=load_corpus().now + 10 * 366 * 86_400)
    assert await far_future.search("Python", "", "new", "year", 10) == []


async def test_search_is_deterministic(source):
    first = await source.search("startups", "LLM costs", "relevance", "year", 10)
    assert first == await CorpusSource().search("startups", "LLM costs", "relevance", "year", 10)


async def test_a_post_is_read_with_its_best_comments_first(source):
    (hit,) = await source.search("selfhosted", "backup restore", "top", "all", 1)
    post = await source.get_post(hit.id, comment_limit=3)
    assert post.id == hit.id and post.url == hit.url
    assert 1 <= len(post.comments) <= 3
    assert [c.score for c in post.comments] == sorted(
        (c.score for c in post.comments), reverse=True
    )


async def test_missing_subreddits_and_posts_are_not_found(source):
    with pytest.raises(SourceNotFound, match="not in the offline corpus"):
        await source.search("doesnotexist", "anything")
    with pytest.raises(SourceNotFound):
        await source.get_post("0000000")
