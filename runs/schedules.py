"""Schedules: create and change them, fire their due slots, backfill a past range.

The scheduler (`schedules_fire_due`, Celery beat every second) locks each due schedule
row (SKIP LOCKED: a second beat started by mistake passes over it), works out which
slots to fire from its catch-up policy, and inserts one `ScheduleFire` per slot. The
(schedule, slot) pair is unique in the database, so a slot fires once even if two
schedulers reach it; the run it starts also carries the idempotency key
`schedule:<id>:<slot>`. The overlap policy decides what a slot does while the
schedule's previous run is still active. Every change is an FSM transition with its
Event.
"""

import json
import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from designer.models import Workflow
from engine.errors import INVALID, TOO_LARGE, DomainError
from engine.timetables import MAX_SLOTS, TimetableError, timetable_problems
from runs import audit
from runs.errors import RunError
from runs.events import EventLog, actor_of
from runs.models import RUN_ACTIVE, Run
from runs.models.schedules import (
    MAX_BACKFILL,
    MAX_CATCHUP,
    CatchupPolicy,
    FireState,
    OverlapPolicy,
    Schedule,
    ScheduleFire,
    ScheduleState,
)
from runs.services.controls import run_cancel
from runs.services.starting import run_start
from runs.sweeping import each_isolated

logger = logging.getLogger("switchyard.schedules")

# With catch-up `none`, a slot this late still fires (a busy or restarted beat is not
# downtime); older ones are dropped.
ON_TIME_GRACE_S = 60.0
# Backfill slots started per schedule per scheduler tick (a tick is a second).
DEFAULT_BACKFILL_RATE = 10
MAX_INPUT_BYTES = 64 * 1024
EDITABLE = (
    "name",
    "kind",
    "cron",
    "interval_s",
    "timezone",
    "input",
    "overlap",
    "catchup",
    "catchup_limit",
)


class ScheduleError(DomainError):
    """A schedule request that cannot be carried out (400: bad fields; 413: input
    too large)."""

    kind = INVALID

    def error_kind(self) -> str:
        return TOO_LARGE if self.code == TOO_LARGE else INVALID


def _record(
    log: EventLog,
    schedule: Schedule,
    kind: str,
    *,
    actor: str,
    reason: str = "",
    data: dict[str, Any] | None = None,
    run: Run | None = None,
) -> None:
    log.add(
        kind,
        run=run,
        actor=actor,
        reason=reason,
        workflow_id=schedule.workflow_id,
        data={"schedule": schedule.pk, "name": schedule.name, **(data or {})},
    )


# ----------------------------------------------------------------- create, change


def _audited(schedule: Schedule) -> dict[str, Any]:
    """The fields the audit trail compares (runs/audit.py)."""
    return {key: getattr(schedule, key) for key in EDITABLE}


def clean_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Check schedule fields (a full set); raise ScheduleError naming the problem."""
    problems = timetable_problems(
        kind=fields.get("kind", ""),
        cron=fields.get("cron") or "",
        interval_s=fields.get("interval_s") or 0,
        timezone=fields.get("timezone") or "UTC",
    )
    if problems:
        raise ScheduleError("bad_timetable", "; ".join(problems))
    limit = fields.get("catchup_limit", 10)
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise ScheduleError("bad_catchup_limit", "catchup_limit must be a number")
    if not 1 <= limit <= MAX_CATCHUP:
        raise ScheduleError(
            "bad_catchup_limit", f"catchup_limit must be from 1 to {MAX_CATCHUP}"
        )
    if not isinstance(fields.get("input", {}), dict):
        raise ScheduleError("bad_input", "input must be a JSON object")
    if len(json.dumps(fields.get("input", {}))) > MAX_INPUT_BYTES:
        raise ScheduleError("too_large", f"input is over {MAX_INPUT_BYTES} bytes")
    cleaned = {k: fields[k] for k in EDITABLE if k in fields}
    if cleaned.get("kind") == "cron":
        cleaned["interval_s"] = None
    else:
        cleaned["cron"] = ""
    return cleaned


def schedule_create(
    *, workflow: Workflow, fields: dict[str, Any], user: Any = None
) -> Schedule:
    """Create an active schedule; it fires from its next slot after now."""
    cleaned = clean_fields(fields)
    now = timezone.now()
    with transaction.atomic():
        schedule = Schedule(
            workflow=workflow,
            anchor_at=now,
            last_slot_at=now,
            created_by=user if getattr(user, "pk", None) else None,
            **cleaned,
        )
        schedule.next_fire_at = schedule.timetable().next_after(now)
        schedule.save()
        log = EventLog()
        _record(
            log,
            schedule,
            "schedule_created",
            actor=actor_of(user),
            data={
                "next_fire_at": schedule.next_fire_at.isoformat(),
                "changes": audit.changes(None, _audited(schedule)),
            },
        )
        log.flush()
    return schedule


def schedule_update(
    *, schedule: Schedule, fields: dict[str, Any], user: Any = None
) -> Schedule:
    """Change a schedule's fields; its next slot is counted again from now."""
    current = {k: getattr(schedule, k) for k in EDITABLE}
    cleaned = clean_fields({**current, **fields})
    now = timezone.now()
    with transaction.atomic():
        locked = Schedule.objects.select_for_update(no_key=True).get(pk=schedule.pk)
        for key, value in cleaned.items():
            setattr(locked, key, value)
        if locked.kind == "interval" and ("interval_s" in fields or "kind" in fields):
            locked.anchor_at = now
        locked.last_slot_at = max(locked.last_slot_at or now, now)
        if locked.state == ScheduleState.ACTIVE:
            locked.next_fire_at = locked.timetable().next_after(now)
        locked.save()
        log = EventLog()
        _record(
            log,
            locked,
            "schedule_changed",
            actor=actor_of(user),
            data={
                "fields": sorted(fields),
                "changes": audit.changes(current, _audited(locked)),
            },
        )
        log.flush()
    return locked


def schedule_delete(*, schedule: Schedule, user: Any = None) -> None:
    with transaction.atomic():
        log = EventLog()
        _record(
            log,
            schedule,
            "schedule_deleted",
            actor=actor_of(user),
            data={"changes": audit.changes(_audited(schedule), None)},
        )
        log.flush()
        schedule.delete()


def schedule_pause(*, schedule: Schedule, user: Any = None) -> Schedule:
    with transaction.atomic():
        locked = Schedule.objects.select_for_update(no_key=True).get(pk=schedule.pk)
        locked.pause()
        locked.save()
        log = EventLog()
        _record(log, locked, "schedule_paused", actor=actor_of(user))
        log.flush()
    return locked


def schedule_resume(*, schedule: Schedule, user: Any = None) -> Schedule:
    """Resume from now: slots that passed while paused are not fired."""
    with transaction.atomic():
        locked = Schedule.objects.select_for_update(no_key=True).get(pk=schedule.pk)
        locked.resume(at=timezone.now())
        locked.save()
        log = EventLog()
        _record(
            log,
            locked,
            "schedule_resumed",
            actor=actor_of(user),
            data={"next_fire_at": locked.next_fire_at.isoformat()},
        )
        log.flush()
    return locked


def schedule_preview(fields: dict[str, Any], *, count: int = 5) -> list[datetime]:
    """Return the next `count` fire times of unsaved fields (ScheduleError if bad)."""
    cleaned = clean_fields({"catchup_limit": 1, **fields})
    probe = Schedule(anchor_at=timezone.now(), **cleaned)
    try:
        return probe.timetable().next_slots(timezone.now(), min(count, 50))
    except TimetableError as exc:
        raise ScheduleError("bad_timetable", str(exc)) from exc


# ----------------------------------------------------------------- firing


def schedules_fire_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Fire the due slots of every active schedule; return how many runs started.

    Each schedule is handled in its own transaction: one that cannot fire (a bad
    row) is logged and skipped until its next slot, never stopping the others.
    """
    now = now or timezone.now()
    due = list(
        Schedule.objects.filter(state=ScheduleState.ACTIVE, next_fire_at__lte=now)
        .order_by("next_fire_at")
        .values_list("pk", flat=True)[:limit]
    )
    waiting = list(
        ScheduleFire.objects.filter(
            state__in=[FireState.QUEUED, FireState.BACKFILL],
            schedule__state=ScheduleState.ACTIVE,
        )
        .values_list("schedule_id", flat=True)
        .distinct()[:limit]
    )
    ids = list(dict.fromkeys([*due, *waiting]))
    started = [0]

    def one(schedule_id: int) -> bool:
        count = _fire_schedule(schedule_id, now=now)
        started[0] += count
        return count > 0

    each_isolated(
        "schedules",
        ids,
        one,
        mark=partial(_mark_broken, now=now),
        describe=lambda schedule_id: f"schedule {schedule_id}",
    )
    return started[0]


def _mark_broken(schedule_id: int, reason: str, *, now: datetime) -> None:
    """Move a schedule that failed to fire past its slot, so it does not spin."""
    schedule = Schedule.objects.filter(pk=schedule_id).first()
    if schedule is None or schedule.state != ScheduleState.ACTIVE:
        return
    try:
        following = schedule.timetable().next_after(now)
    except TimetableError:
        following = now + timedelta(hours=1)
    Schedule.objects.filter(pk=schedule_id).update(
        next_fire_at=following, last_slot_at=now
    )
    log = EventLog()
    _record(log, schedule, "schedule_error", actor="system:scheduler", reason=reason)
    log.flush()


def _fire_schedule(schedule_id: int, *, now: datetime) -> int:
    with transaction.atomic():
        schedule = (
            Schedule.objects.select_for_update(skip_locked=True, no_key=True)
            .select_related("workflow")
            .filter(pk=schedule_id, state=ScheduleState.ACTIVE)
            .first()
        )
        if schedule is None:
            return 0  # paused, deleted, or another scheduler holds it
        started = 0
        if schedule.next_fire_at is not None and schedule.next_fire_at <= now:
            started += _fire_slots(schedule, now)
        started += _release_queued(schedule)
        started += _backfill_some(schedule)
        return started


def _slots_due(schedule: Schedule, now: datetime) -> tuple[list[datetime], int]:
    """Return (slots to fire, slots dropped) per the catch-up policy."""
    table = schedule.timetable()
    after = schedule.last_slot_at or schedule.anchor_at
    if schedule.catchup == CatchupPolicy.ALL:
        limit = schedule.catchup_limit
    else:
        limit = 1
    slots = table.last_slots_between(after, now, limit=limit)
    missed = len(table.slots_between(after, now, limit=MAX_SLOTS))
    if (
        schedule.catchup == CatchupPolicy.NONE
        and slots
        and (now - slots[-1]).total_seconds() > ON_TIME_GRACE_S
    ):
        slots = []
    return slots, max(0, missed - len(slots))


def _fire_slots(schedule: Schedule, now: datetime) -> int:
    slots, dropped = _slots_due(schedule, now)
    log = EventLog()
    if dropped:
        _record(
            log,
            schedule,
            "schedule_missed",
            actor="system:scheduler",
            reason=f"{dropped} missed slots not fired (catch-up {schedule.catchup})",
            data={"dropped": dropped},
        )
    schedule.last_slot_at = max(now, slots[-1]) if slots else now
    schedule.next_fire_at = schedule.timetable().next_after(schedule.last_slot_at)
    schedule.save(update_fields=["last_slot_at", "next_fire_at", "updated_at"])
    log.flush()
    started = 0
    for slot in slots:
        fire = _claim(schedule, slot)
        if fire is not None:
            started += _fire(schedule, fire)
    return started


def _claim(schedule: Schedule, slot: datetime) -> ScheduleFire | None:
    """Insert the slot's fire row; None when it was fired already (the unique key)."""
    try:
        with transaction.atomic():
            return ScheduleFire.objects.create(schedule=schedule, slot_at=slot)
    except IntegrityError:
        return None


def _active_runs(schedule: Schedule) -> list[Run]:
    return list(
        Run.objects.filter(
            workflow_id=schedule.workflow_id,
            trigger=schedule.trigger,
            state__in=RUN_ACTIVE,
        ).order_by("id")
    )


def _fire(schedule: Schedule, fire: ScheduleFire) -> int:
    """Apply the overlap policy to one claimed slot; return 1 if a run started."""
    active = _active_runs(schedule)
    log = EventLog()
    if active and schedule.overlap == OverlapPolicy.SKIP:
        fire.skip(reason=f"run {active[-1].pk} is still active")
        fire.save()
        _record(
            log,
            schedule,
            "schedule_skipped",
            actor="system:scheduler",
            reason=fire.reason,
            data={"slot": fire.slot_at.isoformat()},
        )
        log.flush()
        return 0
    if active and schedule.overlap == OverlapPolicy.QUEUE:
        fire.queue()
        fire.save()
        _record(
            log,
            schedule,
            "schedule_queued",
            actor="system:scheduler",
            reason=fire.reason,
            data={"slot": fire.slot_at.isoformat()},
        )
        log.flush()
        _drop_excess_queued(schedule)
        return 0
    if active and schedule.overlap == OverlapPolicy.CANCEL_PREVIOUS:
        for run in active:
            try:
                run_cancel(
                    run=run,
                    actor=f"system:{schedule.trigger}",
                    reason=f"slot {fire.slot_at.isoformat()} replaces it",
                )
            except Exception:  # noqa: BLE001 - finished meanwhile: nothing to cancel
                logger.info("run %s ended before it could be cancelled", run.pk)
    return _start(schedule, fire)


def _start(schedule: Schedule, fire: ScheduleFire) -> int:
    log = EventLog()
    slot = fire.slot_at.isoformat()
    try:
        with transaction.atomic():
            run, _ = run_start(
                workflow=schedule.workflow,
                input=schedule.input,
                actor=f"system:{schedule.trigger}",
                idempotency_key=f"{schedule.trigger}:{slot}",
                trigger=schedule.trigger,
                trigger_at=fire.slot_at,
            )
    except RunError as exc:
        fire.fail(reason=exc.message)
        fire.save()
        _record(
            log,
            schedule,
            "schedule_failed",
            actor="system:scheduler",
            reason=exc.message,
            data={"slot": slot},
        )
        log.flush()
        return 0
    fire.start(run)
    fire.save()
    _record(
        log,
        schedule,
        "schedule_fired",
        run=run,
        actor="system:scheduler",
        reason=f"slot {slot}",
        data={"slot": slot},
    )
    log.flush()
    return 1


def _drop_excess_queued(schedule: Schedule) -> None:
    """Keep at most catchup_limit queued slots: the oldest beyond it are skipped."""
    queued = list(
        ScheduleFire.objects.filter(schedule=schedule, state=FireState.QUEUED)
        .order_by("-slot_at")
        .values_list("pk", flat=True)[
            schedule.catchup_limit : schedule.catchup_limit + 100
        ]
    )
    for fire in ScheduleFire.objects.filter(pk__in=queued):
        fire.skip(reason=f"more than {schedule.catchup_limit} slots were queued")
        fire.save()


def _release_queued(schedule: Schedule) -> int:
    """Start the oldest queued slot once the previous run has ended."""
    if schedule.overlap != OverlapPolicy.QUEUE or _active_runs(schedule):
        return 0
    fire = (
        ScheduleFire.objects.filter(schedule=schedule, state=FireState.QUEUED)
        .order_by("slot_at")
        .first()
    )
    return _start(schedule, fire) if fire is not None else 0


def backfill_rate() -> int:
    return int(getattr(settings, "SWITCHYARD_BACKFILL_RATE", DEFAULT_BACKFILL_RATE))


def _backfill_some(schedule: Schedule) -> int:
    """Start up to backfill_rate() waiting backfill slots, oldest first."""
    fires = list(
        ScheduleFire.objects.filter(
            schedule=schedule, state=FireState.BACKFILL
        ).order_by("slot_at")[: backfill_rate()]
    )
    return sum(_start(schedule, fire) for fire in fires)


def schedule_backfill(
    *, schedule: Schedule, start: datetime, end: datetime, user: Any = None
) -> int:
    """Queue the slots of [start, end] that never fired; the scheduler starts them at
    backfill_rate() per second (overlap does not apply). Return how many."""
    if end < start:
        raise ScheduleError("bad_range", "end is before start")
    if end > timezone.now():
        raise ScheduleError("bad_range", "a backfill covers the past only")
    table = schedule.timetable()
    slots = table.slots_between(
        start - timedelta(microseconds=1), end, limit=MAX_BACKFILL
    )
    if len(slots) == MAX_BACKFILL and table.next_after(slots[-1]) <= end:
        raise ScheduleError(
            "too_many_slots",
            f"the range holds more than {MAX_BACKFILL} slots; backfill it in parts",
        )
    with transaction.atomic():
        before = ScheduleFire.objects.filter(schedule=schedule).count()
        ScheduleFire.objects.bulk_create(
            [
                ScheduleFire(schedule=schedule, slot_at=slot, state=FireState.BACKFILL)
                for slot in slots
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        added = ScheduleFire.objects.filter(schedule=schedule).count() - before
        log = EventLog()
        _record(
            log,
            schedule,
            "schedule_backfill",
            actor=actor_of(user),
            reason=f"{added} slots from {start.isoformat()} to {end.isoformat()}",
            data={
                "start": start.isoformat(),
                "end": end.isoformat(),
                "slots": added,
                "already_fired": len(slots) - added,
            },
        )
        log.flush()
    return added
