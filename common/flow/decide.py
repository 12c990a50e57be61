"""Flow-control decisions as one pure function: fold reports into the state, then grant slots.

`step(state, now, reports, asks, cfg) -> (state, decisions)` is all a controller computes between
reading the shared state and writing it back with compare-and-swap; it has no I/O, clock or
randomness of its own, so tables of (state, event) → (state, decision) specify it.

Pacing is a fleet-wide GCRA: `next_slot` is when the next call may be sent. A granted caller
learns its slot in the same write that reserves it and waits for it locally, so nobody polls the
store. Slots are handed out at most `max_local_wait` ahead, so a decrease of the rate or a
cooldown takes effect that soon; a caller further back is refused with the instant to ask again
(reserving nothing). Its controller keeps it waiting in-process and asks again then when the
wait is only the queue's (`holds_locally`); otherwise its execution is deferred.
"""

from __future__ import annotations

from collections.abc import Sequence

from common.flow import breaker, rate
from common.flow.state import (
    Ask,
    CallOutcome,
    Decision,
    FlowConfig,
    FlowState,
    Grant,
    Refuse,
    Report,
)

#: The reason of a refusal that only says "the queue is long": nothing is wrong with the provider.
PACED = "paced"


def record(state: FlowState, now: float, report: Report, cfg: FlowConfig) -> FlowState:
    """Fold one report (or a batch of successes) into the state."""
    outcome = report.outcome
    if outcome is CallOutcome.FAILED:
        return breaker.on_failure(state, now, report.trial, report.retry_after, cfg)
    state = breaker.on_answer(state, report.trial)
    if outcome is CallOutcome.RATE_LIMITED:
        return rate.on_rate_limited(state, now, report, cfg)
    if outcome is CallOutcome.OK:
        state = rate.on_successes(state, now, report.count, report.paced, cfg)
        state = _charged_tokens(state, now, report.tokens, cfg)
        return state.model_copy(update={"calls_ok": state.calls_ok + report.count})
    return state  # REJECTED: the provider is up; nothing else to learn


def _charged_tokens(state: FlowState, from_: float, tokens: int, cfg: FlowConfig) -> FlowState:
    per_second = cfg.tokens_per_second
    if not per_second or tokens <= 0:
        return state
    return state.model_copy(
        update={"token_slot": max(state.token_slot, from_) + tokens / per_second}
    )


def _earliest(state: FlowState, now: float, cfg: FlowConfig) -> tuple[float, str]:
    """The first instant a call may be sent, and what holds it back."""
    candidates = [
        (now, "now"),
        (state.next_slot, PACED),
        (state.cooldown_until, "provider cooling down"),
    ]
    if cfg.tokens_per_second:
        candidates.append((state.token_slot - cfg.token_burst_seconds, "tokens per minute"))
    return max(candidates, key=lambda c: c[0])


def holds_locally(refusal: Refuse, asked_at: float, cfg: FlowConfig) -> bool:
    """Whether a refused caller waits in-process and asks again, rather than deferring: when
    only the queue holds it back, and its turn comes within `max_queue_wait` of its first ask."""
    return refusal.reason == PACED and refusal.retry_at - asked_at <= cfg.max_queue_wait


def _interval(state: FlowState, cfg: FlowConfig) -> float:
    return 1.0 / min(state.rate, cfg.max_rate)


def _acquire_one(
    state: FlowState, now: float, ask: Ask, queued: int, cfg: FlowConfig
) -> tuple[FlowState, Decision]:
    refusal, trial = breaker.admission(state, now)
    if refusal is not None:
        return state, refusal
    slot, reason = _earliest(state, now, cfg)
    if slot - now > cfg.max_local_wait:
        # Not reserved; later refusals of the same batch are told to come back later still,
        # except in slow start, where the rate is about to grow.
        spread = queued * _interval(state, cfg) if state.ceiling is not None else 0.0
        return state, Refuse(slot + spread, reason)
    state = state.model_copy(update={"next_slot": slot + _interval(state, cfg)})
    state = _charged_tokens(state, slot, ask.tokens, cfg)
    if trial:
        state = breaker.start_trial(state, now, cfg)
    return state, Grant(at=slot, epoch=state.epoch, paced=slot > now, trial=trial)


def acquire(
    state: FlowState, now: float, asks: Sequence[Ask], cfg: FlowConfig
) -> tuple[FlowState, list[Decision]]:
    """Slots for `asks`, in order: a `Grant` to wait for locally, or a `Refuse`."""
    decisions: list[Decision] = []
    refused = 0
    for ask in asks:
        state, decision = _acquire_one(state, now, ask, refused, cfg)
        refused += isinstance(decision, Refuse)
        decisions.append(decision)
    return state, decisions


def step(
    state: FlowState,
    now: float,
    reports: Sequence[Report],
    asks: Sequence[Ask],
    cfg: FlowConfig,
) -> tuple[FlowState, list[Decision]]:
    """Everything one compare-and-swap round decides: reports first, then the asks."""
    for report in reports:
        state = record(state, now, report, cfg)
    state, decisions = acquire(state, now, asks, cfg)
    return state.model_copy(update={"updated_at": now}), decisions
