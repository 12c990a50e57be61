"""What a benchmark hands back: figures for machines, a table and targets for people."""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class BenchArgs:
    """What every benchmark's `run` receives."""

    quick: bool = False  # smoke sizes: seconds, not minutes; figures are not comparable
    workdir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))
    #: Load client for HTTP benchmarks: "auto" (wrk when installed), "wrk" or "python".
    load_client: str = "auto"


@dataclass(frozen=True)
class Target:
    """One goal of the issue, and whether this run met it."""

    what: str
    goal: str
    measured: str
    met: bool


@dataclass
class Result:
    """One benchmark's outcome.

    `figures` is the machine-readable part (written by `--json`); `columns`/`rows` is the table
    of figures shown to people; `method` says what was measured and how (markdown).
    """

    name: str
    title: str
    figures: dict[str, Any]
    columns: list[str]
    rows: list[list[str]]
    targets: list[Target]
    method: str
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0  # set by the runner
    quick: bool = False  # set by the runner: smoke sizes, figures not comparable

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def fmt(value: float, digits: int = 0) -> str:
    """A figure as people read it: thousands separated, fixed decimals."""
    return f"{value:,.{digits}f}"
