"""`run_graph` after a worker died between a step's last task and that step's checkpoint."""

from __future__ import annotations

import operator
from collections import Counter
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph

from common.agents.base import AgentContext
from common.agents.langgraph import run_graph
from common.checkpoints import open_checkpointer
from common.clock import ManualClock
from common.settings import Settings


class Trail(TypedDict):
    steps: Annotated[list[str], operator.add]


def three_steps(runs: Counter[str], saver):
    def node(name: str):
        async def run(state: Trail) -> dict:
            runs[name] += 1
            return {"steps": [name]}

        return run

    graph = StateGraph(Trail)
    for name in ("a", "b", "c"):
        graph.add_node(name, node(name))
    graph.add_edge(START, "a")
    graph.add_edge("a", "b")
    graph.add_edge("b", "c")
    graph.add_edge("c", END)
    return graph.compile(checkpointer=saver)


async def test_a_step_finished_without_its_checkpoint_is_resumed_not_taken_as_the_end(tmp_path):
    settings = Settings(sqlite_path=str(tmp_path / "agentfleet.db"))
    runs: Counter[str] = Counter()
    async with open_checkpointer(settings) as saver:
        ctx = AgentContext("exec-1", "t", 1, 0, ManualClock(), resources={"checkpointer": saver})
        graph = three_steps(runs, saver)
        await run_graph(graph, {"steps": []}, ctx, describe=lambda node, update: [])
        # The worker "dies" after b's task wrote its result, before the checkpoint after b:
        # drop the two newest checkpoints (after b, after c); b's saved writes stay.
        await saver.conn.execute(
            "DELETE FROM checkpoints WHERE checkpoint_id IN (SELECT checkpoint_id FROM "
            "checkpoints WHERE thread_id = 'exec-1' ORDER BY checkpoint_id DESC LIMIT 2)"
        )
        await saver.conn.commit()
        snapshot = await graph.aget_state({"configurable": {"thread_id": "exec-1"}})
        assert snapshot.next == () and snapshot.tasks  # what looked like a finished run

        final = await run_graph(graph, {"steps": []}, ctx, describe=lambda node, update: [])

    assert final["steps"] == ["a", "b", "c"]
    assert runs == Counter({"a": 1, "b": 1, "c": 2})  # c again, b's saved result reused
