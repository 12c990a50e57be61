"""Fault plans and provider capacity: pure decisions, no server."""

from __future__ import annotations

from collections import Counter

import pytest

from common.llm.faults import Fault, FaultKind, FaultPlan, SlidingWindow


def faults_of(plan: FaultPlan, calls: int) -> list[Fault | None]:
    return [plan.fault_for(n) for n in range(1, calls + 1)]


def test_a_scripted_plan_fails_exactly_the_named_calls():
    plan = FaultPlan({3: Fault.rate_limit(retry_after=2)})

    assert faults_of(plan, 5) == [None, None, Fault.rate_limit(retry_after=2), None, None]


def test_a_rate_plan_fails_about_that_share_of_calls_in_its_mix():
    plan = FaultPlan(rate=0.3, mix={Fault.rate_limit(): 0.5, Fault.unavailable(): 0.5}, seed=7)

    kinds = Counter(f.kind for f in faults_of(plan, 10_000) if f)

    assert 2_700 < sum(kinds.values()) < 3_300
    assert set(kinds) == {FaultKind.RATE_LIMIT, FaultKind.UNAVAILABLE}
    assert abs(kinds[FaultKind.RATE_LIMIT] - kinds[FaultKind.UNAVAILABLE]) < 300


def test_the_same_seed_injects_the_same_faults():
    def plan() -> FaultPlan:
        return FaultPlan(rate=0.3, seed=7)

    assert faults_of(plan(), 200) == faults_of(plan(), 200)
    assert faults_of(plan(), 200) != faults_of(FaultPlan(rate=0.3, seed=8), 200)


def test_a_scripted_fault_does_not_shift_the_seeded_ones_after_it():
    seeded = faults_of(FaultPlan(rate=0.3, seed=7), 50)
    both = faults_of(FaultPlan({1: Fault.drop()}, rate=0.3, seed=7), 50)

    assert both[1:] == seeded[1:]


def test_plans_parse_from_command_line_text():
    plan = FaultPlan.from_options(
        script="3=429:2, 5=drop,6=timeout:4", rate=0.5, mix="503=1,context=1", retry_after=3
    )

    assert plan.script == {
        3: Fault.rate_limit(retry_after=2),
        5: Fault.drop(),
        6: Fault.slow(seconds=4),
    }
    assert plan.mix == {Fault.unavailable(): 1.0, Fault.context_overflow(): 1.0}
    assert FaultPlan.from_options(script="1=429", retry_after=3).script[1].retry_after == 3


@pytest.mark.parametrize("text", ["3=418", "3", "x=429", "3=429:soon"])
def test_unknown_fault_text_is_refused(text):
    with pytest.raises(ValueError):
        FaultPlan.from_options(script=text)


def test_a_fail_rate_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError):
        FaultPlan(rate=1.5)


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_capacity_admits_up_to_its_rate_then_says_when_a_slot_frees_up():
    time = FakeTime()
    window = SlidingWindow(capacity=2, clock=time)

    assert window.try_admit() == 0.0
    time.now += 0.25
    assert window.try_admit() == 0.0
    assert window.try_admit() == pytest.approx(0.75)
    time.now += 0.75
    assert window.try_admit() == 0.0


def test_a_fractional_capacity_admits_one_request_per_interval():
    time = FakeTime()
    window = SlidingWindow(capacity=0.5, clock=time)

    assert window.try_admit() == 0.0
    assert window.try_admit() == pytest.approx(2.0)
