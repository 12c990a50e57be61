"""`word_stats`: counts words, then asks an LLM for a one-line summary. A plugin example.

Two graph steps (count, then summarize) make the fleet's machinery visible: each step is
checkpointed under the execution id, so a retry after a failed LLM call does not count again;
the LLM call is counted in the execution's usage; each step appends a progress event.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from common.agents.base import AgentContext, AgentSpec
from common.agents.langgraph import Step, chat_model_of, checkpointer_of, run_graph

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


class WordStatsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=100_000)
    top_n: int = Field(5, ge=1, le=50)


class WordCount(BaseModel):
    word: str
    count: int


class WordStatsOutput(BaseModel):
    words: int
    distinct: int
    top: list[WordCount]
    summary: str


class State(TypedDict, total=False):
    text: str
    top_n: int
    words: int
    distinct: int
    top: list[list[Any]]  # [word, count] pairs: plain data checkpoints well
    summary: str


def count_words(state: State) -> State:
    words = [w.lower() for w in _WORD.findall(state["text"])]
    counts = Counter(words)
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: state["top_n"]]
    return {"words": len(words), "distinct": len(counts), "top": [list(p) for p in top]}


def summary_policy(messages: Sequence[BaseMessage]) -> AIMessage:
    """Offline stand-in for the LLM: a deterministic one-liner from the prompt's numbers."""
    prompt = next((m.text for m in reversed(messages) if isinstance(m, HumanMessage)), "")
    words = re.search(r"(\d+) words", prompt)
    top = re.findall(r"'([^']+)' \(\d+\)", prompt)[:3]
    return AIMessage(
        content=f"A text of {words.group(1) if words else 'some'} words, "
        f"mostly about {', '.join(top) or 'nothing in particular'}."
    )


def build_graph(ctx: AgentContext) -> Any:
    model = chat_model_of(ctx, summary_policy)

    async def summarize(state: State) -> State:
        top = ", ".join(f"'{w}' ({n})" for w, n in state["top"])
        reply = await model.ainvoke(
            [HumanMessage(f"Summarize in one line a text of {state['words']} words: {top}.")]
        )
        return {"summary": reply.text}

    graph = StateGraph(State)
    graph.add_node("count", count_words)
    graph.add_node("summarize", summarize)
    graph.add_edge(START, "count")
    graph.add_edge("count", "summarize")
    graph.add_edge("summarize", END)
    return graph.compile(checkpointer=checkpointer_of(ctx))


def describe(node: str, update: Any) -> Iterable[Step]:
    if node == "count":
        yield ("tool", f"counted {update['words']} words", "count_words")
    elif node == "summarize":
        yield ("llm", update["summary"][:200], None)


async def run_word_stats(data: WordStatsInput, ctx: AgentContext) -> WordStatsOutput:
    state = await run_graph(build_graph(ctx), data.model_dump(), ctx, describe=describe)
    return WordStatsOutput(
        words=state["words"],
        distinct=state["distinct"],
        top=[WordCount(word=w, count=n) for w, n in state["top"]],
        summary=state["summary"],
    )


SPEC = AgentSpec(
    name="word_stats",
    description="Counts words and summarizes the most frequent ones with an LLM (plugin example).",
    input_model=WordStatsInput,
    output_model=WordStatsOutput,
    run=run_word_stats,
    durable=True,  # it checkpoints its steps: the worker deletes them when the execution ends
)
