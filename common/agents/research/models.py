"""The input, the model's report and the output of `reddit_research`, as pydantic models.

Kept free of LangChain imports: the API validates submissions against `ResearchInput` without
loading the agent stack.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from typing_extensions import TypedDict

SUBREDDIT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{2,20}$")

TimeFilterName = Literal["day", "week", "month", "year", "all"]


class ResearchInput(BaseModel):
    """What to research, where, and how much evidence to bring back."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    topic: str = Field(min_length=1, max_length=500, description="The research question.")
    subreddits: list[str] = Field(
        min_length=1, max_length=10, description="Subreddit names, with or without 'r/'."
    )
    min_findings: int = Field(5, ge=1, le=20)
    behavior: str | None = Field(
        None, max_length=2000, description="Extra instructions for the agent."
    )
    time_filter: TimeFilterName = "year"

    @field_validator("subreddits")
    @classmethod
    def _reddit_names(cls, names: list[str]) -> list[str]:
        cleaned: list[str] = []
        for raw in names:
            name = raw.strip()
            name = name[2:] if name[:2].lower() == "r/" else name
            if not SUBREDDIT_NAME.match(name):
                raise ValueError(
                    f"{raw!r} is not a subreddit name (3-21 letters, digits or underscores, "
                    "optionally prefixed with r/)"
                )
            if name.lower() not in (c.lower() for c in cleaned):
                cleaned.append(name)
        return cleaned


class Finding(BaseModel):
    """One insight, backed by one post the tools returned."""

    source_id: str = Field(description="The id of the Reddit post this finding is based on.")
    subreddit: str
    title: str = Field(description="The post's title.")
    url: str = Field(description="The post's URL as returned by the tools.")
    summary: str = Field(max_length=2000, description="What the post and its comments say.")
    action_items: list[Annotated[str, Field(max_length=500)]] = Field(
        default_factory=list, max_length=3, description="At most three concrete next steps."
    )
    relevance_score: float = Field(ge=0.0, le=1.0, description="Relevance to the topic, 0-1.")


class ReportedFinding(TypedDict):
    """A finding as the model submits it; the same fields and limits as `Finding`."""

    source_id: Annotated[str, Field(description="The id of the post this finding is based on.")]
    subreddit: str
    title: Annotated[str, Field(description="The post's title.")]
    url: Annotated[str, Field(description="The post's URL as returned by the tools.")]
    summary: Annotated[str, Field(max_length=2000)]
    action_items: Annotated[list[Annotated[str, Field(max_length=500)]], Field(max_length=3)]
    relevance_score: Annotated[float, Field(ge=0.0, le=1.0)]


class ResearchReport(TypedDict):
    """Submit the final research report. Call this once, when the research is complete."""

    # A TypedDict, not a model: the agent's checkpointed state then holds plain data, which
    # every checkpoint serializer restores without an allow-list of our classes.
    findings: Annotated[list[ReportedFinding], Field(max_length=40)]
    confidence: Annotated[
        float, Field(ge=0.0, le=1.0, description="How well the findings answer the topic, 0-1.")
    ]


#: The tool name under which the model submits its report (the schema's name).
REPORT_TOOL = ResearchReport.__name__


class ResearchMetadata(BaseModel):
    """Counted by the agent from the conversation, not taken from the model's word."""

    searches_made: int = Field(ge=0)
    posts_read: int = Field(ge=0)
    confidence: float = Field(ge=0.0, le=1.0)
    fabricated_dropped: int = Field(0, ge=0)


class ResearchOutput(BaseModel):
    findings: list[Finding]
    metadata: ResearchMetadata
