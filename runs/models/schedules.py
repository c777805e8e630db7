"""Schedules and their fires: runs that start themselves on a timetable.

A `Schedule` says when (cron or interval, in a time zone), with what input, and what to
do when a slot comes while the previous run is still going (overlap) or after downtime
(catch-up). Each slot considered is one `ScheduleFire` row, unique per (schedule,
slot): a slot fires once however many schedulers run (runs/schedules.py).
"""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from engine.timetables import INTERVAL, KINDS, Timetable

# At most this many missed slots are caught up (catch-up `all`) or queued (overlap
# `queue`); a backfill asks for at most MAX_BACKFILL slots at once.
MAX_CATCHUP = 1000
MAX_BACKFILL = 10_000


class OverlapPolicy(models.TextChoices):
    """A slot comes while the schedule's previous run is still active."""

    SKIP = "skip", "Skip the slot"
    QUEUE = "queue", "Start it when the previous run ends"
    ALLOW = "allow", "Start it anyway"
    CANCEL_PREVIOUS = "cancel_previous", "Cancel the previous run, then start"


class CatchupPolicy(models.TextChoices):
    """Slots missed while nothing fired (downtime)."""

    NONE = "none", "Skip missed slots"
    LATEST = "latest", "Fire the latest missed slot"
    ALL = "all", "Fire every missed slot (up to the limit)"


class ScheduleState(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"


class Schedule(ConcurrentTransitionMixin, models.Model):
    workflow = models.ForeignKey(
        "designer.Workflow", on_delete=models.CASCADE, related_name="schedules"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=[(k, k) for k in KINDS])
    cron = models.CharField(max_length=200, blank=True, default="")
    interval_s = models.PositiveIntegerField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    input = models.JSONField(default=dict, blank=True)
    overlap = models.CharField(
        max_length=16, choices=OverlapPolicy.choices, default=OverlapPolicy.SKIP
    )
    catchup = models.CharField(
        max_length=8, choices=CatchupPolicy.choices, default=CatchupPolicy.LATEST
    )
    catchup_limit = models.PositiveIntegerField(default=10)
    state = FSMField(
        max_length=8,
        choices=ScheduleState.choices,
        default=ScheduleState.ACTIVE,
        protected=True,
    )
    # Intervals count from here; slots are considered from here on.
    anchor_at = models.DateTimeField()
    # The newest slot considered (fired, skipped, queued or dropped).
    last_slot_at = models.DateTimeField(null=True, blank=True)
    # When the scheduler looks at it next (NULL while paused).
    next_fire_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["next_fire_at"],
                condition=models.Q(state="active"),
                name="schedule_due",
            )
        ]

    def __str__(self) -> str:
        return f"schedule {self.pk} ({self.name})"

    @property
    def trigger(self) -> str:
        """The `trigger` of the runs it starts."""
        return f"schedule:{self.pk}"

    def timetable(self) -> Timetable:
        return Timetable(
            kind=self.kind,
            cron=self.cron,
            interval_s=self.interval_s or 0,
            timezone=self.timezone,
            anchor=self.anchor_at if self.kind == INTERVAL else None,
        )

    @transition(field=state, source=ScheduleState.ACTIVE, target=ScheduleState.PAUSED)
    def pause(self) -> None:
        self.next_fire_at = None

    @transition(field=state, source=ScheduleState.PAUSED, target=ScheduleState.ACTIVE)
    def resume(self, *, at: datetime) -> None:
        """Slots that passed while paused are not fired: count from now."""
        self.last_slot_at = at
        self.next_fire_at = self.timetable().next_after(at)


class FireState(models.TextChoices):
    PENDING = "pending", "Pending"
    QUEUED = "queued", "Queued behind the previous run"
    BACKFILL = "backfill", "Waiting to be backfilled"
    STARTED = "started", "Started a run"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Could not start"


FIRE_WAITING = (FireState.PENDING, FireState.QUEUED, FireState.BACKFILL)


class ScheduleFire(ConcurrentTransitionMixin, models.Model):
    """One slot of a schedule, considered once: it started a run, or why not."""

    schedule = models.ForeignKey(
        Schedule, on_delete=models.CASCADE, related_name="fires"
    )
    slot_at = models.DateTimeField()
    state = FSMField(
        max_length=16,
        choices=FireState.choices,
        default=FireState.PENDING,
        protected=True,
    )
    run = models.ForeignKey(
        "runs.Run",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-slot_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "slot_at"], name="schedule_fire_slot_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["schedule", "state", "slot_at"], name="schedule_fire_state"
            )
        ]

    def __str__(self) -> str:
        return f"slot {self.slot_at.isoformat()} of schedule {self.schedule_id}"

    @transition(field=state, source=list(FIRE_WAITING), target=FireState.STARTED)
    def start(self, run: Any) -> None:
        self.run = run

    @transition(field=state, source=list(FIRE_WAITING), target=FireState.SKIPPED)
    def skip(self, *, reason: str) -> None:
        self.reason = reason[:500]

    @transition(field=state, source=FireState.PENDING, target=FireState.QUEUED)
    def queue(self) -> None:
        self.reason = "the previous run is still active"

    @transition(field=state, source=list(FIRE_WAITING), target=FireState.FAILED)
    def fail(self, *, reason: str) -> None:
        self.reason = reason[:500]
