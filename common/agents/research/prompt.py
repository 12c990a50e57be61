"""The system prompt (from `prompt.md`) and the first human message, which carries the task as
a JSON block so that any policy or model can read its parameters back exactly."""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Any

from common.agents.research.models import ResearchInput

_TASK_BLOCK = re.compile(r"```json\s*(\{.*?\})\s*```", re.DOTALL)


@functools.cache
def system_prompt() -> str:
    """The agent's system prompt, read once from the package."""
    return resources.files("common.agents.research").joinpath("prompt.md").read_text("utf-8")


def task_message(data: ResearchInput) -> str:
    """The first human message: a sentence for the model and the exact parameters as JSON."""
    task = data.model_dump(exclude_none=True)
    return (
        f"Research this topic on Reddit and report at least {data.min_findings} findings.\n\n"
        f"```json\n{json.dumps(task, ensure_ascii=False, indent=2)}\n```"
    )


def parse_task(text: str) -> dict[str, Any] | None:
    """The task parameters from a message written by `task_message`, or None."""
    match = _TASK_BLOCK.search(text)
    if match is None:
        return None
    try:
        task = json.loads(match.group(1))
    except json.JSONDecodeError:
        return None
    return task if isinstance(task, dict) else None
