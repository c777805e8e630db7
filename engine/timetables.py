"""When a schedule fires: cron expressions and fixed intervals, in a time zone.

A `Timetable` answers which slots (fire times) fall in a range, and the next ones after
a moment, always bounded: a caller asks for at most `limit` slots, never "all of them".
Cron expressions are read by croniter: five fields (minute hour day month weekday), or
six with the seconds first (`*/5 * * * * *`: every 5 seconds), evaluated in the
schedule's time zone, so "09:00 every day" stays 09:00 across daylight saving changes.
An interval fires every `interval_s` seconds from its anchor (the schedule's start).

Pure: no Django, no database, no clock (callers pass `now`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import CroniterBadCronError, CroniterBadDateError, croniter

from engine.retry import MAX_DELAY_S

CRON = "cron"
INTERVAL = "interval"
KINDS = (CRON, INTERVAL)
MIN_INTERVAL_S = 1
MAX_INTERVAL_S = int(MAX_DELAY_S)
MAX_CRON_LENGTH = 200
# How many slots one question may return (a backfill is asked in pages).
MAX_SLOTS = 10_000


class TimetableError(ValueError):
    """A cron expression, interval or time zone that cannot be used."""


@dataclass(frozen=True)
class Timetable:
    """A schedule's fire times: `kind` cron or interval, in `timezone`."""

    kind: str
    cron: str = ""
    interval_s: int = 0
    timezone: str = "UTC"
    # Intervals count from here (aware); cron expressions ignore it.
    anchor: datetime | None = None

    def __post_init__(self) -> None:
        problems = timetable_problems(
            kind=self.kind,
            cron=self.cron,
            interval_s=self.interval_s,
            timezone=self.timezone,
        )
        if problems:
            raise TimetableError("; ".join(problems))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def next_after(self, moment: datetime) -> datetime:
        """Return the first slot strictly after `moment` (aware, in UTC)."""
        moment = _aware(moment)
        if self.kind == INTERVAL:
            anchor = _aware(self.anchor or moment)
            if moment < anchor:
                return anchor.astimezone(UTC)
            elapsed = (moment - anchor).total_seconds()
            count = int(elapsed // self.interval_s) + 1
            return (anchor + timedelta(seconds=count * self.interval_s)).astimezone(UTC)
        it = croniter(
            self.cron,
            moment.astimezone(self.zone),
            second_at_beginning=_has_seconds(self.cron),
        )
        try:
            found: datetime = it.get_next(datetime)
        except CroniterBadDateError as exc:  # no match within croniter's search
            raise TimetableError(f"cron {self.cron!r} never fires") from exc
        return found.astimezone(UTC)

    def next_slots(self, moment: datetime, count: int) -> list[datetime]:
        """Return the next `count` slots after `moment` (at most MAX_SLOTS)."""
        slots: list[datetime] = []
        for _ in range(min(count, MAX_SLOTS)):
            moment = self.next_after(moment)
            slots.append(moment)
        return slots

    def slots_between(
        self, after: datetime, until: datetime, *, limit: int
    ) -> list[datetime]:
        """Return the slots in (after, until], oldest first, at most `limit` of them
        (the oldest `limit`); see `last_slots_between` for the newest."""
        slots: list[datetime] = []
        moment = _aware(after)
        until = _aware(until)
        while len(slots) < min(limit, MAX_SLOTS):
            moment = self.next_after(moment)
            if moment > until:
                break
            slots.append(moment)
        return slots

    def last_slots_between(
        self, after: datetime, until: datetime, *, limit: int
    ) -> list[datetime]:
        """Return the newest `limit` slots in (after, until], oldest first.

        An interval skips ahead arithmetically; a cron expression walks backwards from
        `until`, so a long outage costs `limit` steps, not one per missed slot.
        """
        after, until = _aware(after), _aware(until)
        limit = min(limit, MAX_SLOTS)
        if limit <= 0 or until <= after:
            return []
        if self.kind == INTERVAL:
            anchor = _aware(self.anchor or after)
            if until < anchor:
                return []
            last = int((until - anchor).total_seconds() // self.interval_s)
            slots = []
            for k in range(last, max(last - limit, -1), -1):
                slot = anchor + timedelta(seconds=k * self.interval_s)
                if slot <= after:
                    break
                slots.append(slot.astimezone(UTC))
            return slots[::-1]
        it = croniter(
            self.cron,
            until.astimezone(self.zone) + timedelta(microseconds=1),
            second_at_beginning=_has_seconds(self.cron),
        )
        slots = []
        while len(slots) < limit:
            try:
                slot = it.get_prev(datetime).astimezone(UTC)
            except CroniterBadDateError:
                break
            if slot <= after:
                break
            slots.append(slot)
        return slots[::-1]


def timetable_problems(
    *, kind: str, cron: str = "", interval_s: int | float = 0, timezone: str = "UTC"
) -> list[str]:
    """Return what is wrong with a timetable's fields (empty: usable)."""
    problems: list[str] = []
    if kind not in KINDS:
        problems.append(f"kind must be one of {', '.join(KINDS)}")
    elif kind == CRON:
        if not isinstance(cron, str) or not cron.strip():
            problems.append("cron: an expression is required")
        elif len(cron) > MAX_CRON_LENGTH:
            problems.append(f"cron: at most {MAX_CRON_LENGTH} characters")
        elif len(cron.split()) not in (5, 6):
            problems.append(
                "cron: five fields (minute hour day month weekday), or six with "
                "the seconds first"
            )
        else:
            try:
                croniter(cron, second_at_beginning=_has_seconds(cron))
            except (CroniterBadCronError, ValueError, KeyError) as exc:
                problems.append(f"cron: {exc}")
    else:
        if (
            isinstance(interval_s, bool)
            or not isinstance(interval_s, int | float)
            or not MIN_INTERVAL_S <= interval_s <= MAX_INTERVAL_S
            or int(interval_s) != interval_s
        ):
            problems.append(
                f"interval_s: a whole number of seconds from {MIN_INTERVAL_S} to "
                f"{MAX_INTERVAL_S}"
            )
    if not isinstance(timezone, str) or not _known_zone(timezone):
        problems.append(f"timezone: {timezone!r} is not an IANA time zone")
    return problems


def _known_zone(name: str) -> bool:
    if name == "UTC" or name in _zones():
        return True
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return False  # loadable but not a zone name the system lists (a file path)


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


def _has_seconds(cron: str) -> bool:
    return len(cron.split()) == 6


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise TimetableError("times must be timezone-aware")
    return moment
