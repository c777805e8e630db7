"""Schedules' fire times: cron in a time zone, intervals, bounded slot ranges."""

from datetime import UTC, datetime, timedelta

import pytest

from engine.timetables import Timetable, TimetableError, timetable_problems

T0 = datetime(2026, 3, 28, 12, 0, 0, tzinfo=UTC)


def test_cron_with_seconds_first_fires_every_five_seconds() -> None:
    table = Timetable(kind="cron", cron="*/5 * * * * *")
    assert table.next_slots(T0, 3) == [
        T0 + timedelta(seconds=5),
        T0 + timedelta(seconds=10),
        T0 + timedelta(seconds=15),
    ]


def test_cron_keeps_local_time_across_daylight_saving() -> None:
    table = Timetable(kind="cron", cron="0 9 * * *", timezone="Europe/Paris")
    first, second = table.next_slots(T0, 2)
    # 09:00 in Paris is 08:00 UTC before the change (28 March), 07:00 after.
    assert first == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert second == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_interval_counts_from_its_anchor() -> None:
    table = Timetable(kind="interval", interval_s=60, anchor=T0)
    assert table.next_after(T0) == T0 + timedelta(seconds=60)
    assert table.next_after(T0 + timedelta(seconds=61)) == T0 + timedelta(seconds=120)
    assert table.next_after(T0 - timedelta(hours=1)) == T0


def test_slots_between_are_bounded_oldest_or_newest() -> None:
    table = Timetable(kind="cron", cron="* * * * *")
    day = T0 + timedelta(days=1)
    oldest = table.slots_between(T0, day, limit=3)
    assert oldest == [T0 + timedelta(minutes=m) for m in (1, 2, 3)]
    newest = table.last_slots_between(T0, day, limit=3)
    assert newest == [day - timedelta(minutes=m) for m in (2, 1, 0)]
    every = Timetable(kind="interval", interval_s=10, anchor=T0)
    assert every.last_slots_between(T0, T0 + timedelta(seconds=35), limit=10) == [
        T0 + timedelta(seconds=s) for s in (10, 20, 30)
    ]
    assert len(table.slots_between(T0, T0 + timedelta(days=365), limit=10**9)) == (
        10_000
    )


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"kind": "cron", "cron": "61 * * * *"}, "cron:"),
        ({"kind": "cron", "cron": "* * *"}, "five fields"),
        ({"kind": "cron", "cron": ""}, "required"),
        ({"kind": "interval", "interval_s": 0}, "interval_s"),
        ({"kind": "interval", "interval_s": 1.5}, "interval_s"),
        ({"kind": "interval", "interval_s": 10**12}, "interval_s"),
        ({"kind": "cron", "cron": "* * * * *", "timezone": "Mars/Olympus"}, "IANA"),
        ({"kind": "cron", "cron": "* * * * *", "timezone": "/etc/passwd"}, "IANA"),
        ({"kind": "weekly"}, "kind"),
    ],
)
def test_bad_timetables_are_named(fields: dict, fragment: str) -> None:
    problems = timetable_problems(**fields)
    assert problems and fragment in " ".join(problems)
    with pytest.raises(TimetableError):
        Timetable(**fields)
