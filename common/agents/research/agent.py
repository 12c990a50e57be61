"""`reddit_research` as a LangGraph tool-calling agent (`langchain.agents.create_agent`)."""

from __future__ import annotations

from langchain.agents import create_agent
from langchain.agents.structured_output import ToolStrategy
from langchain_core.messages import HumanMessage

from common.agents.base import AgentContext
from common.agents.langgraph import chat_model_of, checkpointer_of, run_graph
from common.agents.research.models import ResearchInput, ResearchOutput, ResearchReport
from common.agents.research.progress import describe_step
from common.agents.research.prompt import system_prompt, task_message
from common.agents.research.report import build_output
from common.agents.research.scripted import research_policy
from common.agents.research.tools import reddit_tools
from common.reddit.corpus import CorpusSource
from common.reddit.source import RedditSource

#: Graph steps (model + tool nodes) one execution may take: about 20 model turns.
RECURSION_LIMIT = 40


def reddit_source_of(ctx: AgentContext) -> RedditSource:
    """The worker's Reddit source, or the offline corpus outside a worker."""
    source = ctx.resources.get("reddit")
    return source if source is not None else CorpusSource()


async def run_research(data: ResearchInput, ctx: AgentContext) -> ResearchOutput:
    """Research `data.topic` on Reddit; resume from the checkpoint when an attempt failed."""
    graph = create_agent(
        chat_model_of(ctx, research_policy),
        reddit_tools(reddit_source_of(ctx)),
        system_prompt=system_prompt(),
        response_format=ToolStrategy(ResearchReport),
        checkpointer=checkpointer_of(ctx),
        name="reddit_research",
    )
    start = {"messages": [HumanMessage(content=task_message(data))]}
    state = await run_graph(
        graph, start, ctx, describe=describe_step, recursion_limit=RECURSION_LIMIT
    )
    return build_output(state.get("messages", []))
