"""The GraphQL schema, its protective limits, and the committed SDL (`schema.graphql`).

Regenerate the SDL after changing any type: `python -m api.schema > schema.graphql`.
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.types import ExecutionContext

from api.errors import ErrorCodes
from api.mutations import Mutation
from api.queries import Query
from common.settings import Settings


class AgentfleetSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # strawberry would log every error, bad user input included, as a server error.
        # `ErrorCodes` logs the unexpected ones, with their tracebacks, where it masks them.
        return None


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    """The schema with depth, token and alias limits from `settings` (defaults if None)."""
    settings = settings or Settings()
    return AgentfleetSchema(
        query=Query,
        mutation=Mutation,
        # Factories: strawberry builds fresh extension instances for every operation.
        extensions=[
            lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
            lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
            lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
            ErrorCodes,
        ],
    )


def export_sdl() -> str:
    """The schema in SDL, exactly as committed in `schema.graphql`."""
    return build_schema().as_str().rstrip("\n") + "\n"


if __name__ == "__main__":
    print(export_sdl(), end="")
