"""The GraphQL schema, its protective limits, and the committed SDL (`schema.graphql`).

Regenerate the SDL after changing any type: `python -m api.schema > schema.graphql`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import ASTValidationRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as query_depth_rule
from strawberry.types import ExecutionContext

from api.errors import ErrorCodes, client_errors
from api.mutations import Mutation
from api.queries import Query
from api.subscriptions import Subscription
from common.settings import Settings


class AgentfleetSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # strawberry would log every error, bad user input included, as a server error.
        # `ErrorCodes` logs the unexpected ones, with their tracebacks, where it masks them.
        return None

    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        """Streams (subscriptions over WebSocket) get the same coded, masked errors as queries:
        the ErrorCodes extension only sees single results."""
        source = await super().stream(*args, **kwargs)
        if not isinstance(source, AsyncGenerator):
            return source
        return _coded_stream(source)


async def _coded_stream(source: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
    async for result in source:
        if getattr(result, "errors", None):
            result.errors = client_errors(result.errors)
        yield result


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    """The schema with depth, token and alias limits from `settings` (defaults if None)."""
    settings = settings or Settings()
    # The rules of QueryDepthLimiter and MaxAliasesLimiter, built once: those extensions make
    # a new rule class per instance, i.e. per operation, which would defeat ValidationCache.
    limits: list[type[ASTValidationRule]] = [
        query_depth_rule(settings.max_query_depth, should_ignore=None),
        max_aliases_rule(settings.max_aliases),
    ]
    return AgentfleetSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        # Factories: strawberry builds fresh extension instances for every operation.
        extensions=[
            lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
            lambda: AddValidationRules(limits),
            # Clients send the same few query texts again and again (variables carry the
            # data), and full validation was half of a submit's CPU time: parse and validate
            # each text once. Bounded LRU caches, keyed by the text (and for validation the
            # schema and rules), so unique texts cannot grow memory; failures are not cached.
            ParserCache,
            ValidationCache,
            ErrorCodes,
        ],
    )


def export_sdl() -> str:
    """The schema in SDL, exactly as committed in `schema.graphql`."""
    return build_schema().as_str().rstrip("\n") + "\n"


if __name__ == "__main__":
    print(export_sdl(), end="")
