"""Cron arithmetic: next and latest ticks, time zones, validation."""

from datetime import UTC, datetime

import pytest

from common.schedules import InvalidSchedule, latest_tick, next_tick, tick_key, validate


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_next_tick_is_strictly_after():
    assert next_tick("* * * * *", "UTC", at(2026, 1, 1, 0, 0)) == at(2026, 1, 1, 0, 1)
    assert next_tick("*/15 * * * *", "UTC", at(2026, 1, 1, 0, 7, 30)) == at(2026, 1, 1, 0, 15)


def test_latest_tick_includes_an_exact_tick():
    assert latest_tick("* * * * *", "UTC", at(2026, 1, 1, 0, 5)) == at(2026, 1, 1, 0, 5)
    assert latest_tick("* * * * *", "UTC", at(2026, 1, 1, 0, 5, 59)) == at(2026, 1, 1, 0, 5)


def test_after_downtime_only_the_latest_missed_tick_is_found():
    assert latest_tick("0 * * * *", "UTC", at(2026, 1, 1, 7, 42)) == at(2026, 1, 1, 7, 0)


def test_local_time_is_kept_across_daylight_saving():
    # 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer
    assert next_tick("0 9 * * *", "Europe/Berlin", at(2026, 3, 28, 12)) == at(2026, 3, 29, 7)
    assert next_tick("0 9 * * *", "Europe/Berlin", at(2026, 3, 27, 12)) == at(2026, 3, 28, 8)


@pytest.mark.parametrize(
    ("cron", "zone", "message"),
    [
        ("not cron", "UTC", "cron"),
        ("* * * * * *", "UTC", "5-field"),
        ("* * * * *", "Mars/Olympus", "time zone"),
    ],
)
def test_invalid_schedules_say_what_is_wrong(cron, zone, message):
    with pytest.raises(InvalidSchedule, match=message):
        validate(cron, zone)


def test_tick_keys_are_stable_per_tick():
    assert tick_key("s1", at(2026, 1, 1, 9)) == "schedule:s1:2026-01-01T09:00:00+00:00"
