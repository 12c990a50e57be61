"""Flow-control decisions as tables: (state, event) → (state, decision), pure and clock-free."""

from __future__ import annotations

import random

import pytest

from common.flow import (
    Ask,
    Breaker,
    CallOutcome,
    FlowConfig,
    FlowState,
    Grant,
    Refuse,
    Report,
    acquire,
    record,
    step,
)
from common.flow.decide import PACED, holds_locally

NOW = 1_000.0
CFG = FlowConfig(
    max_local_wait=0.5, max_queue_wait=0.5, breaker_failures=3, breaker_open_seconds=10
)


def ok(paced: int = 1, count: int = 1, trial: bool = False) -> Report:
    return Report(CallOutcome.OK, count=count, paced=paced, trial=trial)


def limited(epoch: int = 0, retry_after: float | None = None) -> Report:
    return Report(CallOutcome.RATE_LIMITED, epoch=epoch, retry_after=retry_after)


def failed(trial: bool = False, retry_after: float | None = None) -> Report:
    return Report(CallOutcome.FAILED, trial=trial, retry_after=retry_after)


# --- pacing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "expected", "next_slot"),
    [
        (FlowState(rate=10), Grant(NOW, 0, paced=False), NOW + 0.1),
        (FlowState(rate=10, next_slot=NOW - 5), Grant(NOW, 0, paced=False), NOW + 0.1),
        (FlowState(rate=10, next_slot=NOW + 0.3), Grant(NOW + 0.3, 0, paced=True), NOW + 0.4),
        (FlowState(rate=10, next_slot=NOW + 2), Refuse(NOW + 2, "paced"), NOW + 2),
        (FlowState(rate=10, cooldown_until=NOW + 0.2), Grant(NOW + 0.2, 0, True), NOW + 0.3),
        (
            FlowState(rate=10, cooldown_until=NOW + 3),
            Refuse(NOW + 3, "provider cooling down"),
            0.0,
        ),
    ],
    ids=["idle", "long idle", "near slot", "far slot", "short cooldown", "long cooldown"],
)
def test_a_caller_is_granted_a_near_slot_and_refused_a_far_one(state, expected, next_slot):
    new, (decision,) = acquire(state, NOW, [Ask()], CFG)
    assert decision == expected
    assert new.next_slot == pytest.approx(next_slot)


@pytest.mark.parametrize(
    ("ceiling", "comebacks"),
    [(20.0, [NOW + 0.55, NOW + 0.65]), (None, [NOW + 0.55, NOW + 0.55])],
    ids=["known ceiling: spread", "slow start: the rate is about to grow"],
)
def test_a_batch_of_asks_gets_consecutive_slots_and_the_rest_comeback_times(ceiling, comebacks):
    state = FlowState(rate=10, ceiling=ceiling, next_slot=NOW + 0.25)
    new, decisions = acquire(state, NOW, [Ask()] * 5, CFG)
    grants = [d for d in decisions if isinstance(d, Grant)]
    refusals = [d for d in decisions if isinstance(d, Refuse)]
    assert [g.at for g in grants] == pytest.approx([NOW + 0.25, NOW + 0.35, NOW + 0.45])
    assert [r.retry_at for r in refusals] == pytest.approx(comebacks)
    assert new.next_slot == pytest.approx(NOW + 0.55)  # refusals reserve nothing


def test_a_caller_refused_only_for_the_queue_is_held_in_process_not_deferred():
    cfg = FlowConfig(max_local_wait=0.5, max_queue_wait=5)
    _, (queued,) = acquire(FlowState(rate=10, next_slot=NOW + 4), NOW, [Ask()], cfg)
    _, (cooling,) = acquire(FlowState(rate=10, cooldown_until=NOW + 1), NOW, [Ask()], cfg)
    assert queued == Refuse(NOW + 4, PACED) and holds_locally(queued, NOW, cfg)
    assert not holds_locally(queued, NOW - 2, cfg)  # it has waited 2 s already: 6 s in all
    assert cooling == Refuse(NOW + 1, "provider cooling down")
    assert not holds_locally(cooling, NOW, cfg)


def test_a_static_requests_per_minute_limit_caps_the_pace():
    cfg = FlowConfig(rpm=60, max_local_wait=5, max_queue_wait=5)
    _, decisions = acquire(FlowState(rate=100), NOW, [Ask()] * 3, cfg)
    assert [d.at for d in decisions if isinstance(d, Grant)] == [NOW, NOW + 1, NOW + 2]


def test_a_tokens_per_minute_limit_holds_calls_back_until_the_tokens_are_paid_for():
    cfg = FlowConfig(tpm=6_000, max_local_wait=0.5, token_burst_seconds=2)  # 100 tokens/s
    state, (first,) = acquire(FlowState(rate=100), NOW, [Ask(tokens=500)], cfg)
    assert isinstance(first, Grant) and state.token_slot == pytest.approx(NOW + 5)
    _, (second,) = acquire(state, NOW, [Ask(tokens=500)], cfg)
    assert second == Refuse(NOW + 3, "tokens per minute")
    paid = record(state, NOW, Report(CallOutcome.OK, tokens=300), cfg)
    assert paid.token_slot == pytest.approx(NOW + 8)  # completion tokens are charged too


# --- the adaptive rate --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "report", "rate"),
    [
        (FlowState(rate=4), ok(paced=1), 5.0),  # slow start: +1 per paced success
        (FlowState(rate=4), ok(paced=3, count=3), 7.0),
        (FlowState(rate=4), ok(paced=0, count=5), 4.0),  # unpaced: demand below the rate
        (FlowState(rate=10, ceiling=20), ok(paced=1), 11.0),  # recovering: 0.5·20/10
        (FlowState(rate=19.5, ceiling=20), ok(paced=1), 19.5 + 0.01 * 20 / 19.5),  # probing
    ],
    ids=["slow start", "slow start x3", "unpaced", "recovering", "probing"],
)
def test_paced_successes_grow_the_rate(state, report, rate):
    assert record(state, NOW, report, CFG).rate == pytest.approx(rate)


def test_a_429_of_the_current_epoch_decreases_once_and_remembers_the_ceiling():
    state = record(FlowState(rate=20, epoch=3), NOW, limited(epoch=3), CFG)
    assert (state.rate, state.ceiling, state.epoch) == (pytest.approx(18), 20, 4)
    again = record(state, NOW, limited(epoch=3), CFG)  # same burst, granted before the cut
    assert (again.rate, again.epoch, again.calls_rate_limited) == (state.rate, 4, 2)


def test_successes_feed_an_estimate_of_the_rate_the_provider_serves():
    state = FlowState()
    for i in range(50):  # 20 successes per second, reported in batches of 2
        state = record(state, NOW + i * 0.1, ok(paced=0, count=2), CFG)
    assert state.served == pytest.approx(20, rel=0.1)
    assert record(state, NOW + 10, ok(paced=0, count=0), CFG).served < 0.2  # decays


def test_the_first_429_after_slow_start_falls_back_to_the_served_rate_in_one_step():
    overshot = FlowState(rate=40, served=20, served_at=NOW, epoch=2)
    state = record(overshot, NOW, limited(epoch=2), CFG)
    assert state.rate == pytest.approx(20)
    assert state.ceiling == pytest.approx(20 / 0.9)  # recover fast only to about there
    later = FlowState(rate=20.4, ceiling=21, served=10, served_at=NOW)
    state = record(later, NOW, limited(), CFG)
    assert (state.rate, state.ceiling) == (pytest.approx(20.4 * 0.9), 20.4)  # the usual step


def test_the_rate_stays_within_its_floor_and_the_static_limit():
    cfg = FlowConfig(rpm=600, min_rate=1)
    low = record(FlowState(rate=1.05), NOW, limited(), cfg)
    high = record(FlowState(rate=9.5), NOW, ok(paced=3, count=3), cfg)
    assert (low.rate, high.rate) == (1.0, 10.0)


@pytest.mark.parametrize(
    ("reports_at", "cooldown_until"),
    [
        ([(NOW, 2.0)], NOW + 2),  # Retry-After: cooldown for exactly that long
        ([(NOW, None), (NOW + 0.2, None)], 0.0),  # two without: not yet a burst
        ([(NOW, None), (NOW + 0.2, None), (NOW + 0.4, None)], NOW + 1.4),  # a burst
        ([(NOW, None), (NOW + 1.5, None), (NOW + 3.0, None)], 0.0),  # spread out: no burst
    ],
    ids=["retry-after", "two", "burst of three", "spread out"],
)
def test_429s_put_the_provider_in_cooldown(reports_at, cooldown_until):
    state = FlowState(rate=20)
    for at, retry_after in reports_at:
        state = record(state, at, limited(epoch=99, retry_after=retry_after), CFG)
    assert state.cooldown_until == pytest.approx(cooldown_until)


def test_a_report_and_an_ask_in_one_round_see_the_report_first():
    _, (decision,) = step(FlowState(rate=20), NOW, [limited(retry_after=2)], [Ask()], CFG)
    assert decision == Refuse(NOW + 2, "provider cooling down")


# --- the circuit breaker ------------------------------------------------------------------------


def test_consecutive_failures_open_the_breaker_and_an_answer_resets_the_count():
    state = FlowState()
    for _ in range(2):
        state = record(state, NOW, failed(), CFG)
    assert (state.breaker, state.failures) == (Breaker.CLOSED, 2)
    assert record(state, NOW, ok(), CFG).failures == 0
    assert record(state, NOW, limited(), CFG).failures == 0  # a 429 is an answer too
    opened = record(state, NOW, failed(), CFG)
    assert (opened.breaker, opened.open_until, opened.calls_failed) == (
        Breaker.OPEN,
        NOW + 10,
        3,
    )


def test_an_open_breaker_refuses_then_gives_one_caller_the_trial():
    opened = FlowState(breaker=Breaker.OPEN, open_until=NOW + 10, open_seconds=10)
    _, (early,) = acquire(opened, NOW + 5, [Ask()], CFG)
    assert early == Refuse(NOW + 10, "circuit open")
    half, (trial, other) = acquire(opened, NOW + 10, [Ask(), Ask()], CFG)
    assert isinstance(trial, Grant) and trial.trial
    assert other == Refuse(NOW + 20, "circuit half-open: a trial call is out")
    assert (half.breaker, half.trial_until) == (Breaker.HALF_OPEN, NOW + 20)


@pytest.mark.parametrize(
    ("report", "breaker", "open_until"),
    [
        (ok(trial=True), Breaker.CLOSED, None),
        (Report(CallOutcome.REJECTED, trial=True), Breaker.CLOSED, None),
        (failed(trial=True), Breaker.OPEN, NOW + 20),  # twice as long as last time
        (failed(trial=False), Breaker.HALF_OPEN, None),  # a straggler, not the trial
    ],
    ids=["trial ok", "trial 4xx", "trial failed", "straggler failed"],
)
def test_the_trial_call_decides(report, breaker, open_until):
    half = FlowState(breaker=Breaker.HALF_OPEN, trial_until=NOW + 10, open_seconds=10)
    state = record(half, NOW, report, CFG)
    assert state.breaker is breaker
    if open_until is not None:
        assert state.open_until == open_until


def test_a_trial_whose_caller_vanished_is_given_to_the_next_caller():
    half = FlowState(breaker=Breaker.HALF_OPEN, trial_until=NOW + 10, open_seconds=10)
    _, (decision,) = acquire(half, NOW + 11, [Ask()], CFG)
    assert isinstance(decision, Grant) and decision.trial


def test_a_503_with_retry_after_cools_the_provider_down_as_well():
    state = record(FlowState(), NOW, failed(retry_after=3), CFG)
    assert state.cooldown_until == NOW + 3


# --- the state as stored ------------------------------------------------------------------------


def test_the_state_round_trips_through_json_and_ignores_keys_it_does_not_know():
    state = FlowState(rate=7.5, ceiling=9, breaker=Breaker.OPEN, open_until=NOW)
    assert FlowState.from_dict(state.to_dict()) == state
    assert FlowState.from_dict({**state.to_dict(), "from_the_future": 1}) == state
    assert FlowState.from_dict(None) == FlowState()


def test_random_event_sequences_keep_the_invariants():
    rng = random.Random(2024)
    cfg = FlowConfig(rpm=1200, max_local_wait=0.5, max_queue_wait=2)
    state, now = FlowState(), NOW
    for _ in range(5_000):
        now += rng.expovariate(20)
        kind = rng.choice(["ok", "ok", "ok", "429", "fail", "ask"])
        reports = {
            "ok": [ok(paced=rng.randint(0, 1))],
            "429": [limited(epoch=state.epoch - rng.randint(0, 1), retry_after=rng.random())],
            "fail": [failed()],
            "ask": [],
        }[kind]
        before = state
        state, decisions = step(state, now, reports, [Ask()] * rng.randint(0, 3), cfg)
        assert cfg.min_rate <= state.rate <= cfg.max_rate
        assert state.next_slot >= before.next_slot
        for d in decisions:
            if isinstance(d, Grant):
                assert now <= d.at <= now + cfg.max_queue_wait and d.at >= state.cooldown_until
            else:
                assert d.retry_at > now
