"""Prometheus metrics of one process. One `Metrics` per process, passed down explicitly.

Counters are the process's own (claims, attempts, retries, LLM calls); gauges of the whole
fleet (executions per state, queue age, provider flow state) are read from the store when
`/metrics` is scraped, so every API replica reports the same fleet-wide numbers.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from common.domain import State
from common.store.base import Store

LLM_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.claims = Counter("agentfleet_claims", "Executions claimed", ["agent"], registry=r)
        self.claim_conflicts = Counter(
            "agentfleet_claim_conflicts", "Claims lost to another worker's update", registry=r
        )
        self.attempts = Counter(
            "agentfleet_attempts", "Attempts ended, by outcome", ["agent", "outcome"], registry=r
        )
        self.retries = Counter(
            "agentfleet_retries", "Failed attempts parked for another try", ["error"], registry=r
        )
        self.finished = Counter(
            "agentfleet_executions_finished",
            "Executions this process drove to a terminal state",
            ["agent", "state"],
            registry=r,
        )
        self.llm_latency = Histogram(
            "agentfleet_llm_call_seconds",
            "LLM call latency, by outcome",
            ["outcome"],  # "ok" or the error class
            buckets=LLM_BUCKETS,
            registry=r,
        )
        self.provider_rate_limited = Counter(
            "agentfleet_provider_rate_limited",
            "429 answers from providers, by model",
            ["model"],
            registry=r,
        )
        self.provider_cooldowns = Counter(
            "agentfleet_provider_cooldowns",
            "Attempts deferred by flow control (provider cooling down, breaker open, slot far off)",
            ["reason"],
            registry=r,
        )
        self.executions = Gauge(
            "agentfleet_executions", "Executions in the store, by state", ["state"], registry=r
        )
        self.oldest_due_pending = Gauge(
            "agentfleet_oldest_due_pending_age_seconds",
            "How long the oldest due PENDING execution has waited (0 if none)",
            registry=r,
        )

    async def render(self, store: Store, now: datetime) -> bytes:
        """Refresh the fleet-wide gauges from the store, then the text exposition format."""
        stats = await store.stats(None, now)
        for state in State:
            self.executions.labels(state.value).set(stats.counts.get(state, 0))
        oldest = stats.oldest_due_pending_at
        self.oldest_due_pending.set((now - oldest).total_seconds() if oldest else 0.0)
        return generate_latest(self.registry)
