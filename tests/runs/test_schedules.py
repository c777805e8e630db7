"""Schedules fire each slot once, catch up by policy, respect overlap, backfill."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from runs import schedules
from runs.models import (
    Event,
    FireState,
    Run,
    RunState,
    Schedule,
    ScheduleFire,
    ScheduleState,
)
from tests.support import drive, linear_graph

pytestmark = pytest.mark.django_db


def _schedule(workflow_factory: Any, slug: str = "sched", **fields: Any) -> Schedule:
    workflow = workflow_factory(linear_graph(1), slug=slug)
    defaults = {"name": "every 10 s", "kind": "interval", "interval_s": 10}
    return schedules.schedule_create(workflow=workflow, fields={**defaults, **fields})


def _runs(schedule: Schedule) -> list[Run]:
    return list(Run.objects.filter(trigger=schedule.trigger).order_by("trigger_at"))


def _at(schedule: Schedule, seconds: float) -> Any:
    return schedule.anchor_at + timedelta(seconds=seconds)


def test_a_slot_fires_once_with_its_trigger(workflow_factory: Any) -> None:
    schedule = _schedule(workflow_factory, input={"n": 1})
    assert schedules.schedules_fire_due(now=_at(schedule, 5)) == 0
    assert schedules.schedules_fire_due(now=_at(schedule, 10)) == 1
    assert schedules.schedules_fire_due(now=_at(schedule, 10)) == 0
    (run,) = _runs(schedule)
    assert run.trigger == f"schedule:{schedule.pk}"
    assert run.trigger_at == _at(schedule, 10)
    assert run.input == {"n": 1}
    assert run.idempotency_key == f"schedule:{schedule.pk}:{run.trigger_at.isoformat()}"
    fire = ScheduleFire.objects.get(schedule=schedule)
    assert (fire.state, fire.run_id) == (FireState.STARTED, run.pk)
    assert Event.objects.filter(kind="schedule_fired", run=run).exists()


def test_a_slot_already_claimed_does_not_fire_again(workflow_factory: Any) -> None:
    """What the unique key guarantees when a second scheduler reaches the slot."""
    schedule = _schedule(workflow_factory)
    ScheduleFire.objects.create(schedule=schedule, slot_at=_at(schedule, 10))
    assert schedules.schedules_fire_due(now=_at(schedule, 10)) == 0
    assert _runs(schedule) == []


@pytest.mark.parametrize(
    ("catchup", "interval_s", "now_s", "fired", "dropped"),
    [
        ("all", 10, 65, 6, 0),
        ("latest", 10, 65, 1, 5),
        ("none", 10, 65, 1, 5),  # the latest slot is 5 s late: still on time
        ("none", 100, 290, 0, 2),  # 90 s late: downtime, nothing fires
    ],
)
def test_an_outage_is_caught_up_by_the_policy(
    workflow_factory: Any,
    catchup: str,
    interval_s: int,
    now_s: int,
    fired: int,
    dropped: int,
) -> None:
    schedule = _schedule(
        workflow_factory,
        catchup=catchup,
        catchup_limit=10,
        overlap="allow",
        interval_s=interval_s,
    )
    now = _at(schedule, now_s)
    assert schedules.schedules_fire_due(now=now) == fired
    runs = _runs(schedule)
    assert len(runs) == fired
    if fired:
        assert runs[-1].trigger_at == _at(schedule, now_s // interval_s * interval_s)
    missed = Event.objects.filter(
        kind="schedule_missed", workflow_id=schedule.workflow_id
    )
    assert sum(e.data["dropped"] for e in missed) == dropped
    schedule.refresh_from_db()
    assert schedule.next_fire_at > now


def test_catch_up_all_is_bounded_by_its_limit(workflow_factory: Any) -> None:
    schedule = _schedule(
        workflow_factory, catchup="all", catchup_limit=3, overlap="allow"
    )
    assert schedules.schedules_fire_due(now=_at(schedule, 1000)) == 3
    assert [r.trigger_at for r in _runs(schedule)] == [
        _at(schedule, s) for s in (980, 990, 1000)
    ]


def test_overlap_skip_never_runs_two_at_once(workflow_factory: Any) -> None:
    schedule = _schedule(workflow_factory, overlap="skip")
    assert schedules.schedules_fire_due(now=_at(schedule, 10)) == 1
    assert schedules.schedules_fire_due(now=_at(schedule, 20)) == 0
    skipped = ScheduleFire.objects.get(schedule=schedule, slot_at=_at(schedule, 20))
    assert skipped.state == FireState.SKIPPED
    (first,) = _runs(schedule)
    drive(first)
    first.refresh_from_db()
    assert first.state == RunState.SUCCEEDED
    assert schedules.schedules_fire_due(now=_at(schedule, 30)) == 1


def test_overlap_queue_starts_the_slot_when_the_previous_run_ends(
    workflow_factory: Any,
) -> None:
    schedule = _schedule(workflow_factory, overlap="queue")
    schedules.schedules_fire_due(now=_at(schedule, 10))
    assert schedules.schedules_fire_due(now=_at(schedule, 20)) == 0
    queued = ScheduleFire.objects.get(schedule=schedule, slot_at=_at(schedule, 20))
    assert queued.state == FireState.QUEUED
    drive(_runs(schedule)[0])
    assert schedules.schedules_fire_due(now=_at(schedule, 21)) == 1
    assert [r.trigger_at for r in _runs(schedule)] == [
        _at(schedule, 10),
        _at(schedule, 20),
    ]


def test_overlap_cancel_previous_cancels_then_starts(workflow_factory: Any) -> None:
    schedule = _schedule(workflow_factory, overlap="cancel_previous")
    schedules.schedules_fire_due(now=_at(schedule, 10))
    assert schedules.schedules_fire_due(now=_at(schedule, 20)) == 1
    first, second = _runs(schedule)
    first.refresh_from_db()
    assert first.state == RunState.CANCELLED
    assert second.state == RunState.RUNNING


def test_a_paused_schedule_does_not_fire_and_resumes_from_now(
    workflow_factory: Any,
) -> None:
    schedule = _schedule(workflow_factory, catchup="all", overlap="allow")
    schedule = schedules.schedule_pause(schedule=schedule)
    assert schedule.state == ScheduleState.PAUSED
    assert schedules.schedules_fire_due(now=_at(schedule, 100)) == 0
    schedule = schedules.schedule_resume(schedule=schedule)
    assert schedule.next_fire_at > timezone.now()
    assert schedules.schedules_fire_due(now=schedule.next_fire_at) == 1
    kinds = set(
        Event.objects.filter(workflow_id=schedule.workflow_id).values_list(
            "kind", flat=True
        )
    )
    assert {"schedule_created", "schedule_paused", "schedule_resumed"} <= kinds


def test_a_backfill_of_100_slots_starts_exactly_100_runs(
    workflow_factory: Any, settings: Any
) -> None:
    settings.SWITCHYARD_BACKFILL_RATE = 25
    schedule = _schedule(workflow_factory, kind="cron", cron="0 * * * *")
    end = schedule.anchor_at.replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=99)
    assert schedules.schedule_backfill(schedule=schedule, start=start, end=end) == 100
    assert schedules.schedule_backfill(schedule=schedule, start=start, end=end) == 0
    for tick in range(4):
        assert schedules.schedules_fire_due() == 25, tick
    assert schedules.schedules_fire_due() == 0
    runs = _runs(schedule)
    assert len(runs) == 100
    assert len({r.trigger_at for r in runs}) == 100


def test_backfill_refuses_the_future_and_huge_ranges(workflow_factory: Any) -> None:
    schedule = _schedule(workflow_factory, kind="cron", cron="* * * * * *")
    now = timezone.now()
    with pytest.raises(schedules.ScheduleError) as future:
        schedules.schedule_backfill(
            schedule=schedule, start=now, end=now + timedelta(days=1)
        )
    assert future.value.code == "bad_range"
    with pytest.raises(schedules.ScheduleError) as huge:
        schedules.schedule_backfill(
            schedule=schedule, start=now - timedelta(days=1), end=now
        )
    assert huge.value.code == "too_many_slots"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"kind": "cron", "cron": "nonsense"}, "bad_timetable"),
        ({"kind": "interval", "interval_s": 0}, "bad_timetable"),
        ({"timezone": "Nowhere/City"}, "bad_timetable"),
        ({"catchup_limit": 0}, "bad_catchup_limit"),
        ({"catchup_limit": 10**6}, "bad_catchup_limit"),
        ({"input": [1, 2]}, "bad_input"),
    ],
)
def test_bad_fields_are_refused(workflow_factory: Any, fields: dict, code: str) -> None:
    workflow = workflow_factory(linear_graph(1), slug="bad")
    base = {"name": "x", "kind": "interval", "interval_s": 10}
    with pytest.raises(schedules.ScheduleError) as caught:
        schedules.schedule_create(workflow=workflow, fields={**base, **fields})
    assert caught.value.code == code


def test_one_broken_schedule_does_not_stop_the_others(workflow_factory: Any) -> None:
    good = _schedule(workflow_factory, slug="good")
    bad = _schedule(workflow_factory, slug="bad")
    # A row this engine cannot read (stored before a bound, say).
    Schedule.objects.filter(pk=bad.pk).update(kind="cron", cron="not a cron")
    now = _at(good, 10) + timedelta(seconds=1)
    assert schedules.schedules_fire_due(now=now) == 1
    assert len(_runs(good)) == 1
    bad.refresh_from_db()
    assert bad.next_fire_at > now
    assert Event.objects.filter(kind="schedule_error", workflow_id=bad.workflow_id)


def test_the_backfill_command_queues_the_range(workflow_factory: Any) -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    schedule = _schedule(workflow_factory, kind="cron", cron="0 * * * *")
    end = schedule.anchor_at.replace(minute=0, second=0, microsecond=0)
    out = StringIO()
    call_command(
        "backfill_schedule",
        str(schedule.pk),
        "--start",
        (end - timedelta(hours=2)).isoformat(),
        "--end",
        end.isoformat(),
        stdout=out,
    )
    assert "3 slots queued" in out.getvalue()
    with pytest.raises(CommandError, match="zone"):
        call_command(
            "backfill_schedule", str(schedule.pk), "--start", "2026-01-01", "--end", "x"
        )
