"""The `reddit_research` AgentSpec. Importing it loads only pydantic: the LangChain stack is
imported on the first run, so processes that only validate input (the API) stay light."""

from __future__ import annotations

from common.agents.base import AgentContext, AgentSpec
from common.agents.research.models import ResearchInput, ResearchOutput


async def run_reddit_research(data: ResearchInput, ctx: AgentContext) -> ResearchOutput:
    from common.agents.research.agent import run_research

    return await run_research(data, ctx)


REDDIT_RESEARCH = AgentSpec(
    name="reddit_research",
    description=(
        "Researches a topic across subreddits with a tool-calling LLM agent and returns findings "
        "that each cite a real post, with action items and relevance scores."
    ),
    input_model=ResearchInput,
    output_model=ResearchOutput,
    run=run_reddit_research,
    durable=True,  # checkpoints every step; the worker deletes them once the execution is final
)
