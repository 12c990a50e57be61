"""The circuit breaker of one provider, shared by the fleet: pure functions over `FlowState`.

CLOSED: calls flow; `breaker_failures` consecutive 5xx/timeouts/dropped connections open it.
OPEN: nobody calls until `open_until`; callers defer their executions until then.
HALF_OPEN: the first caller after `open_until` makes the one trial call; everybody else waits for
its outcome (until `trial_until`, after which a trial whose worker died is given to another
caller). Any answer of the provider closes it; another failure opens it again for twice as long.
"""

from __future__ import annotations

from common.flow.state import Breaker, FlowConfig, FlowState, Refuse


def admission(state: FlowState, now: float) -> tuple[Refuse | None, bool]:
    """(refusal, trial): whether a caller may call now, and whether its call is the trial."""
    if state.breaker is Breaker.CLOSED:
        return None, False
    if state.breaker is Breaker.OPEN and now < state.open_until:
        return Refuse(state.open_until, "circuit open"), False
    if state.breaker is Breaker.HALF_OPEN and now < state.trial_until:
        return Refuse(state.trial_until, "circuit half-open: a trial call is out"), False
    return None, True


def start_trial(state: FlowState, now: float, cfg: FlowConfig) -> FlowState:
    return state.model_copy(
        update={"breaker": Breaker.HALF_OPEN, "trial_until": now + cfg.breaker_open_seconds}
    )


def on_answer(state: FlowState, trial: bool) -> FlowState:
    """The provider answered (a success, a 429 or another 4xx): it is up."""
    update: dict[str, object] = {"failures": 0}
    if trial and state.breaker is Breaker.HALF_OPEN:
        update |= {"breaker": Breaker.CLOSED, "open_seconds": 0.0, "trial_until": 0.0}
    return state.model_copy(update=update)


def _opened(state: FlowState, now: float, seconds: float) -> FlowState:
    return state.model_copy(
        update={
            "breaker": Breaker.OPEN,
            "open_seconds": seconds,
            "open_until": now + seconds,
            "trial_until": 0.0,
        }
    )


def on_failure(
    state: FlowState, now: float, trial: bool, retry_after: float | None, cfg: FlowConfig
) -> FlowState:
    """A 5xx, timeout or dropped connection."""
    failures = state.failures + 1
    state = state.model_copy(update={"failures": failures, "calls_failed": state.calls_failed + 1})
    if retry_after is not None and retry_after > 0:  # a 503 that says when to come back
        until = max(state.cooldown_until, now + retry_after)
        state = state.model_copy(update={"cooldown_until": until})
    if trial and state.breaker is Breaker.HALF_OPEN:
        longer = min(cfg.breaker_max_open_seconds, 2 * state.open_seconds)
        return _opened(state, now, max(longer, cfg.breaker_open_seconds))
    if state.breaker is Breaker.CLOSED and failures >= cfg.breaker_failures:
        return _opened(state, now, cfg.breaker_open_seconds)
    return state
