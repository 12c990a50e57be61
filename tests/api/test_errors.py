"""client_error: every error gets a code; only errors meant for clients keep their text."""

from __future__ import annotations

import logging

import pytest
from graphql import GraphQLError

from api.errors import INTERNAL_MESSAGE, UNAVAILABLE_MESSAGE, ApiError, ErrorCode, client_error
from common.errors import NotFound, RateLimited, StateConflict, StoreUnavailable


def raised(original: Exception) -> GraphQLError:
    return GraphQLError(str(original), path=["field"], original_error=original)


@pytest.mark.parametrize(
    ("original", "code", "message"),
    [
        (ApiError(ErrorCode.FORBIDDEN, "no"), "FORBIDDEN", "no"),
        (NotFound("no execution 7"), "NOT_FOUND", "no execution 7"),
        (StateConflict("already SUCCEEDED"), "CONFLICT", "already SUCCEEDED"),
        (StoreUnavailable("socket timeout on 10.1.2.3"), "UNAVAILABLE", UNAVAILABLE_MESSAGE),
        (RateLimited("provider detail"), "INTERNAL", INTERNAL_MESSAGE),
        (ZeroDivisionError("division by zero"), "INTERNAL", INTERNAL_MESSAGE),
    ],
)
def test_each_kind_of_error_gets_its_code_and_a_client_safe_message(
    original: Exception, code: str, message: str
) -> None:
    coded = client_error(raised(original))

    assert coded.extensions == {"code": code}
    assert coded.message == message
    assert coded.original_error is None
    assert coded.path == ["field"]


def test_an_error_about_the_request_itself_is_bad_user_input() -> None:
    coded = client_error(GraphQLError("Cannot query field 'nope' on type 'Query'."))

    assert coded.extensions == {"code": "BAD_USER_INPUT"}
    assert coded.message == "Cannot query field 'nope' on type 'Query'."


def test_an_exception_that_escaped_outside_any_field_is_internal() -> None:
    coded = client_error(GraphQLError("secret", original_error=RuntimeError("secret")))

    assert coded.extensions == {"code": "INTERNAL"}
    assert "secret" not in coded.message


def test_coding_an_error_twice_changes_nothing() -> None:
    once = client_error(raised(StateConflict("already FAILED")))

    assert client_error(once) is once


def test_an_unexpected_error_is_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    try:
        raise ValueError("the detail")
    except ValueError as exc:
        error = raised(exc)

    with caplog.at_level(logging.ERROR, logger="agentfleet.api"):
        client_error(error)

    (record,) = caplog.records
    assert record.exc_info is not None and record.exc_info[1] is error.original_error
