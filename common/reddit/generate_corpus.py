"""Write the offline Reddit corpus: `python -m common.reddit.generate_corpus [--check]`.

Deterministic: the same themes and seed give the same bytes (gzip without a timestamp), so the
committed data file can be checked against its generator in CI with `--check`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common.reddit.themes import Theme, all_themes

SEED = 20260101
#: The corpus's fixed "now": time filters count back from here, not from the wall clock.
CORPUS_NOW = datetime(2026, 1, 1, tzinfo=UTC)
POSTS_PER_THEME = 10
OUTPUT = Path(__file__).parent / "data" / "corpus.json.gz"

OPENERS = (
    "",
    "",
    "Long-time lurker, first post.",
    "Throwaway because my team reads this sub.",
    "Sorry for the wall of text.",
)
CLOSERS = (
    "Curious what others think.",
    "Any advice appreciated.",
    "Happy to answer questions in the comments.",
    "EDIT: thanks for all the replies, lots to read.",
    "",
)
GENERIC_COMMENTS = (
    "Saved. Thanks for the detailed write-up.",
    "Following, we are dealing with the same thing right now.",
    "Great post. Would love a follow-up in a few months.",
    "Can you share more details about your setup?",
    "This matches my experience almost exactly.",
    "Hard disagree on one point, but good write-up overall.",
)
_ADJECTIVES = [
    "quiet",
    "brave",
    "lazy",
    "rusty",
    "sleepy",
    "clever",
    "grumpy",
    "cosmic",
    "tiny",
    "salty",
    "witty",
    "humble",
]
_NOUNS = [
    "otter",
    "falcon",
    "badger",
    "walrus",
    "penguin",
    "koala",
    "gopher",
    "ferret",
    "lynx",
    "heron",
    "yak",
    "panda",
]
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _author(rng: random.Random) -> str:
    style = rng.random()
    if style < 0.15:
        return f"throwaway_{rng.randint(1000, 99999)}"
    adjective, noun = rng.choice(_ADJECTIVES), rng.choice(_NOUNS)
    if style < 0.6:
        return f"{adjective}_{noun}_{rng.randint(1, 999)}"
    return f"{adjective.capitalize()}{noun.capitalize()}{rng.randint(10, 99)}"


def _post_id(rng: random.Random, taken: set[str]) -> str:
    while True:  # Reddit's ids of 2024-2025 are seven base-36 digits starting with 1
        candidate = "1" + "".join(rng.choice(_BASE36) for _ in range(6))
        if candidate not in taken:
            taken.add(candidate)
            return candidate


def _slug(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", title.lower())
    slug = ""
    for word in words:
        if len(slug) + len(word) + 1 > 50:
            break
        slug = f"{slug}_{word}" if slug else word
    return slug or "post"


def _age_days(rng: random.Random) -> float:
    # A few very fresh posts so that day/week filters find something; most within a year.
    roll = rng.random()
    if roll < 0.03:
        return rng.uniform(0.05, 1.0)
    if roll < 0.10:
        return rng.uniform(1.0, 7.0)
    if roll < 0.22:
        return rng.uniform(7.0, 30.0)
    if roll < 0.65:
        return rng.uniform(30.0, 365.0)
    return rng.uniform(365.0, 1100.0)


def _selftext(theme: Theme, fill: str, rng: random.Random) -> str:
    # Paragraphs keep the theme's order, so each body still reads as one story.
    picked = sorted(rng.sample(range(len(theme.bodies)), k=min(len(theme.bodies), 3)))
    if len(picked) > 2 and rng.random() < 0.4:
        picked.pop(rng.randrange(len(picked)))
    paragraphs = [theme.bodies[i].format(x=fill) for i in picked]
    parts = [rng.choice(OPENERS), *paragraphs, rng.choice(CLOSERS)]
    return "\n\n".join(part for part in parts if part)


def _comments(theme: Theme, fill: str, rng: random.Random) -> list[dict[str, Any]]:
    count = rng.randint(3, len(theme.comments))
    bodies = rng.sample(theme.comments, k=count)
    if rng.random() < 0.5:
        bodies.append(rng.choice(GENERIC_COMMENTS))
    return [
        {
            "author": _author(rng),
            "score": int(rng.lognormvariate(2.0, 1.2)),
            "body": body.format(x=fill),
        }
        for body in bodies
    ]


def _posts_of_theme(subreddit: str, theme: Theme, rng: random.Random, taken: set[str]) -> list:
    pairs = [(title, fill) for title in theme.titles for fill in theme.fills]
    rng.shuffle(pairs)
    # Distinct titles only: real repeats exist, but identical titles would read as a bug.
    pairs = list({title.format(x=fill): (title, fill) for title, fill in reversed(pairs)}.values())
    pairs.reverse()
    posts = []
    now = CORPUS_NOW.timestamp()
    for title_template, fill in pairs[:POSTS_PER_THEME]:
        title = title_template.format(x=fill)
        comments = _comments(theme, fill, rng)
        post_id = _post_id(rng, taken)
        posts.append(
            {
                "id": post_id,
                "subreddit": subreddit,
                "title": title,
                "slug": _slug(title),
                "author": _author(rng),
                "score": int(rng.lognormvariate(3.5, 1.3)),
                "num_comments": len(comments) + int(rng.lognormvariate(1.5, 1.0)),
                "created_utc": round(now - _age_days(rng) * 86_400),
                "selftext": _selftext(theme, fill, rng),
                "comments": comments,
                "theme": theme.key,
            }
        )
    return posts


def build_corpus(seed: int = SEED) -> dict[str, Any]:
    """The whole corpus as a JSON-ready dict; a pure function of the themes and `seed`."""
    rng = random.Random(seed)
    taken: set[str] = set()
    posts = []
    for subreddit, themes in all_themes().items():
        for theme in themes:
            posts.extend(_posts_of_theme(subreddit, theme, rng, taken))
    return {
        "version": 1,
        "seed": seed,
        "now": CORPUS_NOW.timestamp(),
        "generator": "python -m common.reddit.generate_corpus",
        "posts": posts,
    }


def encode(corpus: dict[str, Any]) -> bytes:
    text = json.dumps(corpus, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return gzip.compress(text.encode(), compresslevel=9, mtime=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    corpus = build_corpus()
    blob = encode(corpus)
    if args.check:
        current = args.output.read_bytes() if args.output.exists() else b""
        if current != blob:
            print(f"{args.output} is out of date; run python -m common.reddit.generate_corpus")
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(blob)
    subreddits = len({p["subreddit"] for p in corpus["posts"]})
    comments = sum(len(p["comments"]) for p in corpus["posts"])
    print(
        f"wrote {args.output}: {len(corpus['posts'])} posts in {subreddits} subreddits, "
        f"{comments} comments, {len(blob):,} bytes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
