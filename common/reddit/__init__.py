"""Reddit for agents: one `RedditSource` interface, served live by asyncpraw or offline by the
packaged corpus. `open_reddit_source(settings)` picks one."""

from common.reddit.models import Comment, PostDetail, PostSummary, Sort, TimeFilter
from common.reddit.source import RedditSource, open_reddit_source

__all__ = [
    "Comment",
    "PostDetail",
    "PostSummary",
    "RedditSource",
    "Sort",
    "TimeFilter",
    "open_reddit_source",
]
