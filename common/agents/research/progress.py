"""One short progress line per agent step, from what the step added to the conversation."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langgraph.types import Command

from common.agents.langgraph import Step
from common.agents.research.tools import READ_TOOL, SEARCH_TOOL

SUMMARY_CHARS = 200


def _messages_of(update: Any) -> list[BaseMessage]:
    # create_agent's model node returns Commands; its tool node returns plain state updates.
    updates = update if isinstance(update, list | tuple) else [update]
    found: list[BaseMessage] = []
    for item in updates:
        value = item.update if isinstance(item, Command) else item
        if isinstance(value, dict):
            found.extend(m for m in value.get("messages", ()) if isinstance(m, BaseMessage))
    return found


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SUMMARY_CHARS else flat[: SUMMARY_CHARS - 1] + "…"


def _llm_step(message: AIMessage) -> Step:
    names = [call["name"] for call in message.tool_calls]
    if not names:
        return ("llm", _short(f"answered: {message.text}"), None)
    counts = {name: names.count(name) for name in dict.fromkeys(names)}
    calls = ", ".join(f"{n}x {name}" if n > 1 else name for name, n in counts.items())
    return ("llm", _short(f"requested {calls}"), None)


def _tool_step(message: ToolMessage) -> Step:
    name = message.name or "tool"
    try:
        result = json.loads(message.text)
    except (json.JSONDecodeError, TypeError):
        result = None
    if not isinstance(result, dict):
        return ("tool", _short(message.text), name)
    if "error" in result:
        return ("tool", _short(f"error: {result['error']}"), name)
    if name == SEARCH_TOOL:
        where, query = result.get("subreddit"), result.get("query")
        return ("tool", _short(f"r/{where} '{query}': {len(result['posts'])} posts"), name)
    if name == READ_TOOL:
        return ("tool", _short(f"read {result.get('id')}: {result.get('title')}"), name)
    return ("tool", _short(message.text), name)


def describe_step(node: str, update: Any) -> Iterable[Step]:
    """Progress events for one streamed node update: one per model call and per tool result.

    The structured report's bookkeeping tool message belongs to the model step that wrote it,
    so it adds no event of its own.
    """
    messages: Sequence[BaseMessage] = _messages_of(update)
    for message in messages:
        if isinstance(message, AIMessage):
            yield _llm_step(message)
        elif isinstance(message, ToolMessage) and node == "tools":
            yield _tool_step(message)
