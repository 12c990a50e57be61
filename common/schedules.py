"""Cron arithmetic for recurring schedules, as pure functions (shared by the API and workers)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from common.errors import AgentfleetError


class InvalidSchedule(AgentfleetError):
    """The cron expression or time zone is not valid."""


def validate(cron: str, timezone: str) -> ZoneInfo:
    """Raise `InvalidSchedule` naming what is wrong; return the zone."""
    if not croniter.is_valid(cron) or len(cron.split()) != 5:
        raise InvalidSchedule(
            f"cron {cron!r} is not a 5-field cron expression (minute hour day month weekday)"
        )
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSchedule(f"time zone {timezone!r} is unknown (use an IANA name)") from None


def next_tick(cron: str, timezone: str, after: datetime) -> datetime:
    """The first tick strictly after `after`, in UTC (ticks are computed in the schedule's zone,
    so '0 9 * * *' stays at 9:00 local time across daylight-saving changes)."""
    zone = validate(cron, timezone)
    tick = croniter(cron, after.astimezone(zone)).get_next(datetime)
    return tick.astimezone(UTC)


def latest_tick(cron: str, timezone: str, now: datetime) -> datetime:
    """The most recent tick at or before `now`, in UTC."""
    zone = validate(cron, timezone)
    local = now.astimezone(zone)
    if croniter.match(cron, local) and local.second == 0 and local.microsecond == 0:
        return now.astimezone(UTC)
    return croniter(cron, local).get_prev(datetime).astimezone(UTC)


def tick_key(schedule_id: str, tick: datetime) -> str:
    """The idempotency key of one tick: a crash between submit and advance re-fires into the
    same execution, so each tick fires exactly once."""
    return f"schedule:{schedule_id}:{tick.astimezone(UTC).isoformat()}"
