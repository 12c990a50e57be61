"""Source material for the offline corpus: per subreddit, a few discussion themes.

Only `common.reddit.generate_corpus` reads these; the agent reads the generated corpus file.
Each theme gives title templates and body paragraphs with a `{x}` slot, the values that fill
it, and comments; the generator combines them with a seeded random source.
"""

from __future__ import annotations

import importlib
from typing import NamedTuple


class Theme(NamedTuple):
    key: str
    titles: tuple[str, ...]
    fills: tuple[str, ...]
    bodies: tuple[str, ...]
    comments: tuple[str, ...]


MODULES = (
    "python",
    "machinelearning",
    "devops",
    "selfhosted",
    "localllama",
    "startups",
    "dataengineering",
)


def all_themes() -> dict[str, tuple[Theme, ...]]:
    """Subreddit name (Reddit's spelling) → its themes, in a fixed order."""
    themes = {}
    for name in MODULES:
        module = importlib.import_module(f"common.reddit.themes.{name}")
        themes[module.SUBREDDIT] = module.THEMES
    return themes
