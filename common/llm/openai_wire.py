"""The OpenAI chat-completions wire format, as the local fake provider speaks it.

Requests become LangChain messages (`convert_to_messages`), a policy's `AIMessage` becomes a
`chat.completion` body (or the equivalent server-sent-event stream), and errors take OpenAI's
`{"error": {...}}` shape so the real client maps them to its real exception types.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, convert_to_messages

JSON = dict[str, Any]


def request_messages(body: JSON) -> list[BaseMessage]:
    """The conversation of a chat-completions request; ValueError if it is not one."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ValueError("'messages' must be a non-empty list")
    return convert_to_messages(messages)


def request_fingerprint(body: JSON) -> str:
    """Identifies a request by what a provider bills for: the model and the conversation."""
    canonical = json.dumps(
        {"model": body.get("model"), "messages": body.get("messages")},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _wire_tool_calls(message: AIMessage) -> list[JSON]:
    return [
        {
            "id": call["id"],
            "type": "function",
            "function": {"name": call["name"], "arguments": json.dumps(call["args"])},
        }
        for call in message.tool_calls
    ]


def _usage(message: AIMessage) -> JSON:
    usage = message.usage_metadata or {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    return {
        "prompt_tokens": usage["input_tokens"],
        "completion_tokens": usage["output_tokens"],
        "total_tokens": usage["total_tokens"],
    }


def _finish_reason(message: AIMessage) -> str:
    return "tool_calls" if message.tool_calls else "stop"


def completion_body(message: AIMessage, model: str, completion_id: str) -> JSON:
    """A non-streaming `chat.completion` response."""
    wire: JSON = {"role": "assistant", "content": message.text or None}
    if message.tool_calls:
        wire["tool_calls"] = _wire_tool_calls(message)
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": wire,
                "finish_reason": _finish_reason(message),
                "logprobs": None,
            }
        ],
        "usage": _usage(message),
    }


def completion_stream(message: AIMessage, model: str, completion_id: str, usage: bool) -> str:
    """The same answer as server-sent events: one delta, the finish reason, usage if asked."""
    base = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }
    delta: JSON = {"role": "assistant", "content": message.text}
    if message.tool_calls:
        delta["tool_calls"] = [
            {"index": i, **call} for i, call in enumerate(_wire_tool_calls(message))
        ]
    chunks = [
        {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": _finish_reason(message)}]},
    ]
    if usage:
        chunks.append({**base, "choices": [], "usage": _usage(message)})
    events = [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks]
    return "".join(events) + "data: [DONE]\n\n"


def error_body(message: str, type_: str, code: str | None = None) -> JSON:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}
