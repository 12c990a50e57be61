"""Foreign exceptions are classified in one place, by status code and type."""

import httpx
import pytest

from common import errors
from common.errors import classify


class FakeStatusError(Exception):
    def __init__(self, status: int, message: str = "boom", headers=None):
        super().__init__(message)
        self.status_code = status
        self.response = httpx.Response(status, headers=headers or {})


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (429, errors.RateLimited),
        (500, errors.ProviderUnavailable),
        (503, errors.ProviderUnavailable),
        (401, errors.AuthenticationFailed),
        (403, errors.AuthenticationFailed),
        (404, errors.UnknownModel),
        (400, errors.BadRequest),
    ],
)
def test_status_codes_map_to_one_error_type_each(status, expected):
    assert type(classify(FakeStatusError(status))) is expected


def test_retry_after_header_is_carried_on_the_error():
    error = classify(FakeStatusError(429, headers={"Retry-After": "2.5"}))
    assert error.retryable
    assert error.retry_after == 2.5


def test_context_overflow_is_not_retryable():
    error = classify(FakeStatusError(400, "This model's maximum context length is 8192 tokens"))
    assert isinstance(error, errors.ContextOverflow)
    assert not error.retryable


def test_timeouts_and_connection_errors_are_retryable():
    assert isinstance(classify(httpx.ReadTimeout("slow")), errors.ProviderTimeout)
    assert isinstance(classify(TimeoutError()), errors.ProviderTimeout)
    assert isinstance(classify(httpx.ConnectError("refused")), errors.ConnectionFailed)
    assert isinstance(classify(ConnectionResetError()), errors.ConnectionFailed)


def test_unknown_exceptions_are_bugs_and_not_retried():
    error = classify(KeyError("x"))
    assert isinstance(error, errors.AgentCrashed)
    assert not error.retryable
    assert "KeyError" in str(error)


def test_our_own_errors_pass_through_unchanged():
    original = errors.RateLimited("slow down", retry_after=3)
    assert classify(original) is original
