"""The classification cases the LLM clients need beyond plain status codes."""

from __future__ import annotations

import httpx
import openai
from langchain_core.exceptions import ContextOverflowError

from common.errors import ContextOverflow, RateLimited, classify


def rate_limit_error(headers: dict[str, str]) -> openai.RateLimitError:
    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx.Response(429, headers=headers, request=request)
    return openai.RateLimitError("Rate limit reached", response=response, body=None)


def test_retry_after_ms_is_preferred_for_its_precision():
    error = classify(rate_limit_error({"retry-after": "1", "retry-after-ms": "750"}))

    assert isinstance(error, RateLimited)
    assert error.retry_after == 0.75


def test_retry_after_in_seconds_is_read_without_the_milliseconds_header():
    assert classify(rate_limit_error({"retry-after": "2"})).retry_after == 2.0


def test_langchains_typed_context_overflow_is_a_context_overflow_whatever_it_says():
    assert isinstance(classify(ContextOverflowError("prompt is too long")), ContextOverflow)
