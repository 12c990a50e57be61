"""Run a compiled LangGraph graph as one attempt of an execution: the helpers every LangGraph
agent uses, built-in (`reddit_research`) or plugin (see `examples/plugin_agent`).

What any LangGraph agent needs to be a good citizen of the fleet, in one place: the graph's
thread is the execution id, so a retry finds the checkpoint of the failed attempt and resumes at
the step that failed (input None) instead of starting over; usage is counted by the LLM usage
callback; every step is reported as a progress event; and errors leave as `common.errors` types.

Not named after any one agent, so plugins do not import a built-in agent's package to get them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.errors import GraphRecursionError
from langgraph.pregel import Pregel

from common.agents.base import AgentContext
from common.checkpoints import thread_config
from common.errors import InvalidAgentOutput, classify
from common.llm import Policy, UsageCallback, chat_model_factory, load_prices
from common.settings import Settings, load_settings

#: One progress event: (kind "llm" | "tool", short summary, tool name or None).
Step = tuple[str, str, str | None]
#: Turns one node's update (as streamed with stream_mode="updates") into progress events.
DescribeStep = Callable[[str, Any], Iterable[Step]]


def settings_of(ctx: AgentContext) -> Settings:
    """The worker's settings, or defaults (offline model, offline Reddit) outside a worker."""
    settings = ctx.resources.get("settings")
    return settings if isinstance(settings, Settings) else load_settings({})


def checkpointer_of(ctx: AgentContext) -> BaseCheckpointSaver:
    """The worker's durable checkpointer; outside a worker, a fresh in-memory one (no resume
    across processes, which a test or a one-off run does not need)."""
    saver = ctx.resources.get("checkpointer")
    return saver if saver is not None else InMemorySaver()


def chat_model_of(ctx: AgentContext, policy: Policy) -> BaseChatModel:
    """The chat model for this run: the worker's factory (`resources["chat_model"]`) or one built
    from settings, called with the agent's offline policy (used only when no provider is set)."""
    factory = ctx.resources.get("chat_model") or chat_model_factory(settings_of(ctx))
    return factory(policy)


def run_config(ctx: AgentContext, recursion_limit: int) -> RunnableConfig:
    prices = load_prices(settings_of(ctx).llm_prices)
    return {
        **thread_config(ctx.execution_id),
        "callbacks": [UsageCallback(ctx, prices)],
        "recursion_limit": recursion_limit,
    }


async def run_graph(
    graph: Pregel,
    start: dict[str, Any],
    ctx: AgentContext,
    *,
    describe: DescribeStep,
    recursion_limit: int = 50,
) -> dict[str, Any]:
    """Drive `graph` (compiled with a checkpointer) to its end; return its final state values.

    - A checkpoint with pending nodes (or a step whose tasks all finished, with its successor
      checkpoint missing): resume there with input None; steps already done are neither
      re-run nor paid for again.
    - A checkpoint of a finished run (the attempt died after the graph ended but before the
      result was written): return that state without calling anything.
    - No checkpoint: start from `start`.
    """
    config = run_config(ctx, recursion_limit)
    snapshot = await graph.aget_state(config)
    # `next` leaves out tasks whose writes were saved: a worker that died after a step's tasks
    # finished but before the step's checkpoint was written leaves `next` empty with the graph
    # not finished. Finished means no task at all is due.
    pending = bool(snapshot.next or snapshot.tasks)
    if snapshot.values and not pending:
        return dict(snapshot.values)
    run_input = None if pending else start
    final: dict[str, Any] = dict(snapshot.values)
    # With a list of stream modes LangGraph yields (mode, data) pairs, and both of these modes'
    # data are dicts; its annotation (`dict[str, Any] | Any`) covers every mode, so say which.
    stream = cast(
        AsyncIterator[tuple[str, dict[str, Any]]],
        graph.astream(run_input, config, stream_mode=["updates", "values"]),
    )
    try:
        async for mode, chunk in stream:
            if mode == "values":
                final = chunk
                continue
            for node, update in chunk.items():
                for kind, summary, tool in describe(node, update):
                    await ctx.progress(kind, summary, tool)
    except GraphRecursionError:
        raise InvalidAgentOutput(
            f"the agent did not finish within {recursion_limit} steps"
        ) from None
    except Exception as exc:  # every failure leaves as one of our types
        raise classify(exc) from exc
    # This run's own final values, not the thread's newest checkpoint: an attempt that lost its
    # lease and has not noticed yet may still be writing to the thread, a few steps behind.
    return dict(final)
