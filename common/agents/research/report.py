"""From the finished conversation to `ResearchOutput`: the model's report, checked against what
the tools really returned."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import AIMessage, BaseMessage
from pydantic import TypeAdapter, ValidationError

from common.agents.research.models import (
    REPORT_TOOL,
    Finding,
    ResearchMetadata,
    ResearchOutput,
    ResearchReport,
)
from common.agents.research.transcript import Transcript, read_transcript
from common.errors import InvalidAgentOutput

_REPORT = TypeAdapter(ResearchReport)


def final_report(messages: Sequence[BaseMessage]) -> tuple[list[Finding], float]:
    """The findings and confidence of the last report the model submitted.

    Read from the conversation rather than the graph's `structured_response`: messages are the
    part of a checkpoint every saver restores faithfully, and the agent validated this very call
    before it ended the run.
    """
    for message in reversed(messages):
        if not isinstance(message, AIMessage):
            continue
        for call in reversed(message.tool_calls):
            if call["name"] == REPORT_TOOL:
                try:
                    report = _REPORT.validate_python(call["args"])
                    findings = [Finding.model_validate(f) for f in report["findings"]]
                except ValidationError as exc:
                    raise InvalidAgentOutput(f"the report does not validate: {exc}") from None
                return findings, report["confidence"]
    raise InvalidAgentOutput(f"the agent finished without calling {REPORT_TOOL}")


def _grounded(findings: Sequence[Finding], transcript: Transcript) -> tuple[list[Finding], int]:
    """Findings whose source the tools returned, with the source's own subreddit, title and url
    (the model may have garbled them); fabricated ones are counted, repeats are dropped."""
    kept: list[Finding] = []
    fabricated = 0
    for finding in findings:
        post = transcript.seen.get(finding.source_id)
        if post is None:
            fabricated += 1
            continue
        if any(k.source_id == post.id for k in kept):
            continue
        kept.append(
            finding.model_copy(
                update={
                    "subreddit": post.subreddit or finding.subreddit,
                    "title": post.title or finding.title,
                    "url": post.url or finding.url,
                }
            )
        )
    return kept, fabricated


def build_output(messages: Sequence[BaseMessage]) -> ResearchOutput:
    """The agent's output: grounded findings, and metadata counted from the tool calls made.

    Confidence is the model's own, scaled by the share of its findings that survived the source
    check: a report that invented half its sources is worth half the trust.
    """
    reported, confidence = final_report(messages)
    transcript = read_transcript(messages)
    findings, fabricated = _grounded(reported, transcript)
    claimed = len(findings) + fabricated
    trust = len(findings) / claimed if claimed else 1.0
    metadata = ResearchMetadata(
        searches_made=transcript.searches_made,
        posts_read=transcript.posts_read,
        confidence=round(confidence * trust, 3),
        fabricated_dropped=fabricated,
    )
    return ResearchOutput(findings=findings, metadata=metadata)
