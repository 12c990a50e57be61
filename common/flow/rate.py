"""The adaptive rate (AIMD) and cooldowns: pure functions over `FlowState`.

Pacing at a rate rather than counting calls in flight: with the provider's latency L, pacing at r
calls per second keeps r·L calls in flight (Little's law), so the fleet's in-flight calls settle
where the provider's capacity is, and no worker has to tell the others when its call ended.

* Slow start (no ceiling known yet): every paced success adds `slow_start_gain` calls per second,
  so the rate grows about e-fold per second while callers queue for slots.
* A 429 of the current epoch sets the ceiling to the rate it happened at and multiplies the rate
  by `decrease` (0.9, gentler than halving); a 429 of a call granted before that decrease changes
  nothing more, so a burst of 429s counts as one signal. The first 429 ends slow start, which
  overshoots: the rate then falls back to what the provider served, in one step.
* Congestion avoidance: below `near_ceiling` of the ceiling the rate grows fast
  (`recover_gain` of the ceiling per second), above it slowly (`probe_gain`): most of the time is
  spent just under the ceiling, probing beyond it only gently.
* Only paced successes (calls that waited for their slot) grow the rate: a fleet that asks for
  less than its rate learns nothing about the provider's capacity from its calls.
"""

from __future__ import annotations

import math

from common.flow.state import FlowConfig, FlowState, Report


def _clamped(rate: float, cfg: FlowConfig) -> float:
    return min(cfg.max_rate, max(cfg.min_rate, rate))


def _growth(rate: float, ceiling: float | None, cfg: FlowConfig) -> float:
    """Calls per second one paced success adds."""
    if ceiling is None:
        return cfg.slow_start_gain
    gain = cfg.recover_gain if rate < cfg.near_ceiling * ceiling else cfg.probe_gain
    # r paced successes arrive per second, so each adds 1/r of the growth per second.
    return gain * ceiling / rate


def on_successes(
    state: FlowState, now: float, count: int, paced: int, cfg: FlowConfig
) -> FlowState:
    """Additive increase for `paced` successful calls that had waited for their slot; all
    `count` successes go into the estimate of the rate the provider serves."""
    rate = state.rate
    for _ in range(paced):
        rate = _clamped(rate + _growth(rate, state.ceiling, cfg), cfg)
    return state.model_copy(update={"rate": rate, **_served(state, now, count, cfg)})


def _served(state: FlowState, now: float, count: int, cfg: FlowConfig) -> dict[str, float]:
    """Successes per second over about the last `served_window` seconds (exponential decay:
    reports arrive in batches, from several processes, out of step)."""
    elapsed = max(0.0, now - state.served_at)
    decayed = state.served * math.exp(-elapsed / cfg.served_window)
    return {"served": decayed + count / cfg.served_window, "served_at": max(now, state.served_at)}


def cooled_down(
    state: FlowState, now: float, retry_after: float | None, cfg: FlowConfig
) -> FlowState:
    """A 429 puts the provider in cooldown: for its Retry-After, or, without one, for
    `burst_cooldown` once `burst_429s` of them came within `burst_window`."""
    if retry_after is not None and retry_after > 0:
        until = max(state.cooldown_until, now + retry_after)
        return state.model_copy(update={"cooldown_until": until})
    if now - state.burst_started > cfg.burst_window:
        return state.model_copy(update={"burst": 1, "burst_started": now})
    burst = state.burst + 1
    if burst < cfg.burst_429s:
        return state.model_copy(update={"burst": burst})
    until = max(state.cooldown_until, now + cfg.burst_cooldown)
    return state.model_copy(update={"burst": 0, "cooldown_until": until})


def on_rate_limited(state: FlowState, now: float, report: Report, cfg: FlowConfig) -> FlowState:
    """Multiplicative decrease (once per epoch) and cooldown for one 429."""
    state = cooled_down(state, now, report.retry_after, cfg)
    state = state.model_copy(update={"calls_rate_limited": state.calls_rate_limited + 1})
    if report.epoch != state.epoch:
        return state  # granted before the last decrease, which already answered this overload
    rate = state.rate * cfg.decrease
    served = state.model_copy(update=_served(state, now, 0, cfg)).served
    ceiling = state.rate
    if state.ceiling is None and 0 < served < rate:
        # Slow start overshot (its growth outruns the 429s' feedback): fall back to what the
        # provider served at once instead of decreasing step by step, one epoch each. Only
        # here: later, a fleet that uses less than its rate serves less for want of demand.
        rate = max(served, state.rate / 2)
        ceiling = min(ceiling, served / cfg.decrease)
    return state.model_copy(
        update={"ceiling": ceiling, "rate": _clamped(rate, cfg), "epoch": state.epoch + 1}
    )
