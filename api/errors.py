"""What a client sees when something goes wrong: a GraphQL error with `extensions.code`.

Resolvers raise `ApiError` (or let the store's `NotFound`, `StateConflict` and
`StoreUnavailable` through); `client_error` turns every GraphQL error into one with a code from
`ErrorCode` and a message a person can act on. Anything unexpected becomes `INTERNAL` with a
generic message: its text and traceback go to the server log only, never to the client.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from common.errors import NotFound, StateConflict, StoreUnavailable

logger = logging.getLogger("agentfleet.api")


class ErrorCode(StrEnum):
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"


UNAVAILABLE_MESSAGE = "the store is unreachable; nothing was written, try again"
INTERNAL_MESSAGE = "internal error; it has been logged"


class ApiError(Exception):
    """An error meant for the client: its message is shown as is, with `extensions.code`."""

    def __init__(
        self, code: ErrorCode, message: str, extensions: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extensions = dict(extensions or {})


def bad_input(message: str, **extensions: Any) -> ApiError:
    return ApiError(ErrorCode.BAD_USER_INPUT, message, extensions)


def _with_code(
    error: GraphQLError, code: ErrorCode, message: str, extra: Mapping[str, Any] | None = None
) -> GraphQLError:
    # original_error is dropped on purpose: nothing below this point may reach the client.
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(extra or {}), "code": code.value},
    )


def _already_coded(error: GraphQLError) -> bool:
    code = (error.extensions or {}).get("code")
    return error.original_error is None and code in ErrorCode.__members__


def client_error(error: GraphQLError) -> GraphQLError:
    """The client-safe version of `error`, with `extensions.code`. Idempotent.

    Unexpected exceptions are logged here, with their traceback, at the one place they are
    masked.
    """
    original = error.original_error
    if _already_coded(error):
        return error
    if isinstance(original, ApiError):
        return _with_code(error, original.code, original.message, original.extensions)
    if isinstance(original, NotFound):
        return _with_code(error, ErrorCode.NOT_FOUND, str(original))
    if isinstance(original, StateConflict):
        return _with_code(error, ErrorCode.CONFLICT, str(original))
    if isinstance(original, StoreUnavailable):
        logger.warning("store unavailable at %s: %s", _where(error), original)
        return _with_code(error, ErrorCode.UNAVAILABLE, UNAVAILABLE_MESSAGE)
    if original is None or isinstance(original, GraphQLError):
        # Syntax, validation, variable and argument coercion errors: graphql-core wrote these
        # messages about the request itself, so they are safe and useful to show.
        return _with_code(error, ErrorCode.BAD_USER_INPUT, error.message)
    logger.error(
        "unexpected error at %s",
        _where(error),
        exc_info=(type(original), original, original.__traceback__),
    )
    return _with_code(error, ErrorCode.INTERNAL, INTERNAL_MESSAGE)


def _where(error: GraphQLError) -> str:
    return ".".join(map(str, error.path)) if error.path else "<operation>"


def client_errors(errors: list[GraphQLError] | None) -> list[GraphQLError] | None:
    return [client_error(e) for e in errors] if errors else errors


class ErrorCodes(SchemaExtension):
    """Rewrites every error of an operation with `client_error` before it leaves the schema."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if isinstance(result, GraphQLExecutionResult | ExecutionResult):
            result.errors = client_errors(result.errors)
