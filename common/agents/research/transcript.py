"""Facts about a research conversation, read from its messages alone.

The messages are what the checkpointer stored, so these facts survive a crash and a resume on
another worker: nothing here depends on the memory of the process that made the tool calls.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from common.agents.research.tools import READ_TOOL, SEARCH_TOOL


@dataclass(frozen=True)
class SeenPost:
    id: str
    subreddit: str
    title: str
    url: str
    score: int = 0
    excerpt: str = ""


@dataclass
class Transcript:
    """Which tools ran with what, and every post their results showed."""

    searches: list[dict[str, Any]] = field(default_factory=list)  # the arguments of each search
    reads: list[str] = field(default_factory=list)  # ids of posts read successfully
    seen: dict[str, SeenPost] = field(default_factory=dict)  # every post a tool returned
    details: dict[str, dict[str, Any]] = field(default_factory=dict)  # read_post results by id

    @property
    def searches_made(self) -> int:
        return len(self.searches)

    @property
    def posts_read(self) -> int:
        return len(self.reads)


def _calls_by_id(messages: Sequence[BaseMessage]) -> dict[str, dict[str, Any]]:
    calls: dict[str, dict[str, Any]] = {}
    for message in messages:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                if call["id"]:
                    calls[call["id"]] = dict(call)
    return calls


def _json(message: ToolMessage) -> dict[str, Any] | None:
    try:
        value = json.loads(message.text)
    except (json.JSONDecodeError, TypeError):
        return None
    return value if isinstance(value, dict) else None


def _record_search(transcript: Transcript, args: dict[str, Any], result: dict[str, Any]) -> None:
    transcript.searches.append(args)
    subreddit = str(result.get("subreddit", args.get("subreddit", "")))
    for post in result.get("posts") or ():
        if isinstance(post, dict) and "id" in post:
            transcript.seen.setdefault(
                str(post["id"]),
                SeenPost(
                    str(post["id"]),
                    subreddit,
                    str(post.get("title", "")),
                    str(post.get("url", "")),
                    int(post.get("score", 0)),
                    str(post.get("excerpt", "")),
                ),
            )


def _record_read(transcript: Transcript, result: dict[str, Any]) -> None:
    if "error" in result or "id" not in result:
        return
    post_id = str(result["id"])
    if post_id not in transcript.details:
        transcript.reads.append(post_id)
    transcript.details[post_id] = result
    transcript.seen.setdefault(
        post_id,
        SeenPost(
            post_id,
            str(result.get("subreddit", "")),
            str(result.get("title", "")),
            str(result.get("url", "")),
            int(result.get("score", 0)),
        ),
    )


def read_transcript(messages: Sequence[BaseMessage]) -> Transcript:
    """Searches made, posts read and posts seen, from the tool calls and their results.

    Tool names come from the calls the results answer (tool messages lose their name on some
    wires); results that are not our JSON are ignored.
    """
    transcript = Transcript()
    calls = _calls_by_id(messages)
    for message in messages:
        if not isinstance(message, ToolMessage):
            continue
        call = calls.get(message.tool_call_id, {})
        name = call.get("name") or message.name
        result = _json(message)
        if result is None:
            continue
        if name == SEARCH_TOOL:
            _record_search(transcript, dict(call.get("args") or {}), result)
        elif name == READ_TOOL:
            _record_read(transcript, result)
    return transcript
