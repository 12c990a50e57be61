"""The `reddit_research` agent. `REDDIT_RESEARCH` is its AgentSpec; the agent itself lives in
`agent.py` and is imported on first run."""

from common.agents.research.models import (
    Finding,
    ResearchInput,
    ResearchMetadata,
    ResearchOutput,
)
from common.agents.research.spec import REDDIT_RESEARCH

__all__ = ["REDDIT_RESEARCH", "Finding", "ResearchInput", "ResearchMetadata", "ResearchOutput"]
