"""The `reddit_research` agent as typed GraphQL: its input (`ResearchInput`) and its report.

Both mirror the pydantic models in `common.agents.research.models`, which stay the one source
of truth: defaults and descriptions are read from them, input is validated by them (through the
same path as `submitExecution`), and a test keeps the field lists in step.
"""

from __future__ import annotations

import enum
import logging
from typing import Any

import strawberry
from pydantic import BaseModel, ValidationError

from common import domain
from common.agents.research import models
from common.agents.research.spec import REDDIT_RESEARCH

logger = logging.getLogger("agentfleet.api")


def _default(model: type[BaseModel], name: str) -> Any:
    return model.model_fields[name].default


def _about(model: type[BaseModel], name: str) -> str | None:
    return model.model_fields[name].description


@strawberry.enum(description="How far back a Reddit search looks.")
class TimeFilter(enum.Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    ALL = "all"


_IN = models.ResearchInput


@strawberry.input(description="What the reddit_research agent researches, where, and how much.")
class ResearchInput:
    topic: str = strawberry.field(description=_about(_IN, "topic"))
    subreddits: list[str] = strawberry.field(
        description=f"{_about(_IN, 'subreddits')} 1-10 of them."
    )
    min_findings: int = strawberry.field(
        default=_default(_IN, "min_findings"), description="Findings wanted, 1-20."
    )
    behavior: str | None = strawberry.field(
        default=_default(_IN, "behavior"), description=_about(_IN, "behavior")
    )
    time_filter: TimeFilter = strawberry.field(
        default=TimeFilter(_default(_IN, "time_filter")),
        description="How far back to search.",
    )

    def to_raw(self) -> dict[str, Any]:
        """The agent's input as `submitExecution` would receive it: snake_case JSON values."""
        return {
            "topic": self.topic,
            "subreddits": list(self.subreddits),
            "min_findings": self.min_findings,
            "behavior": self.behavior,
            "time_filter": self.time_filter.value,
        }


@strawberry.type(description="One insight, backed by one Reddit post the agent's tools returned.")
class ResearchFinding:
    source_id: str = strawberry.field(description="The id of the post it is based on.")
    subreddit: str
    title: str
    url: str
    summary: str
    action_items: list[str] = strawberry.field(description="At most three next steps.")
    relevance_score: float = strawberry.field(description="Relevance to the topic, 0-1.")


@strawberry.type(description="Counted by the agent from its tool calls, not taken on trust.")
class ResearchMetadata:
    searches_made: int
    posts_read: int
    confidence: float = strawberry.field(
        description="The model's confidence, scaled by the share of its findings that were real."
    )
    fabricated_dropped: int = strawberry.field(
        description="Findings dropped because their source was never returned by the tools."
    )


@strawberry.type(description="The findings of a succeeded reddit_research execution.")
class ResearchReport:
    findings: list[ResearchFinding]
    metadata: ResearchMetadata

    @classmethod
    def from_output(cls, output: models.ResearchOutput) -> ResearchReport:
        return cls(
            findings=[ResearchFinding(**f.model_dump()) for f in output.findings],
            metadata=ResearchMetadata(**output.metadata.model_dump()),
        )


def research_report(
    execution_id: str, agent: str, state: domain.State, result: object
) -> ResearchReport | None:
    """The typed report of a succeeded `reddit_research` execution; None for anything else.

    `result` is the stored result as any JSON value (the `JSON` scalar): validated here."""
    if agent != REDDIT_RESEARCH.name or state is not domain.State.SUCCEEDED or result is None:
        return None
    try:
        output = models.ResearchOutput.model_validate(result)
    except ValidationError:
        # The worker validated the result with this model; a mismatch means the model changed
        # since. The raw `result` is still there: answer null instead of failing the query.
        logger.warning("result of %s does not match ResearchOutput", execution_id, exc_info=True)
        return None
    return ResearchReport.from_output(output)
