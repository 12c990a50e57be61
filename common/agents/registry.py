"""Name → agent. Built-ins register here; plugins come from entry points or settings paths."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from importlib.metadata import entry_points

from common.agents.base import AgentSpec
from common.errors import ConfigurationError

ENTRY_POINT_GROUP = "agentfleet.agents"


class AgentRegistry:
    def __init__(self, specs: Iterable[AgentSpec] = ()) -> None:
        self._specs: dict[str, AgentSpec] = {}
        for spec in specs:
            self.register(spec)

    def register(self, spec: AgentSpec) -> None:
        if spec.name in self._specs:
            raise ConfigurationError(f"agent {spec.name!r} is registered twice")
        self._specs[spec.name] = spec

    def get(self, name: str) -> AgentSpec | None:
        return self._specs.get(name)

    def __iter__(self) -> Iterator[AgentSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: s.name))

    def __contains__(self, name: object) -> bool:
        return name in self._specs


def _load_path(path: str) -> AgentSpec:
    module_name, _, attribute = path.partition(":")
    if not attribute:
        raise ConfigurationError(f"agent path {path!r} must look like 'package.module:attribute'")
    try:
        spec = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"cannot load agent {path!r}: {exc}") from None
    if not isinstance(spec, AgentSpec):
        raise ConfigurationError(f"{path!r} is not an AgentSpec")
    return spec


def default_registry(extra_paths: str = "") -> AgentRegistry:
    """Built-ins, then entry-point plugins, then `AGENTFLEET_AGENTS` paths."""
    from common.agents.builtin import BUILTIN_AGENTS

    registry = AgentRegistry(BUILTIN_AGENTS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        spec = ep.load()
        if spec.name not in registry:
            registry.register(spec)
    for path in filter(None, (p.strip() for p in extra_paths.split(","))):
        registry.register(_load_path(path))
    return registry
