"""Bulk jobs: one action (cancel, retry, re-run) over a frozen selection of runs.

A job resolves its filter (or the ids picked by hand) to a list of run ids when it is
created, so the selection does not drift while it runs. A worker processes the list
in order from `position` (runs/bulk.py); each run's change goes through the run's own
service and is counted as done, skipped (with the reason) or failed.
"""

from datetime import datetime

from django.conf import settings
from django.db import models
from django_fsm import ConcurrentTransitionMixin, FSMField

from config.fsm import transition

# The most runs one job may select, and the per-run outcomes it keeps (the counts in
# `reasons` cover every run).
MAX_BULK_RUNS = 10_000
MAX_BULK_ERRORS = 100


class BulkAction(models.TextChoices):
    CANCEL = "cancel", "Cancel"
    RETRY = "retry", "Retry from the failed step"
    RERUN = "rerun", "Start again on a version"


class BulkState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Every run processed"
    FAILED = "failed", "Stopped by an error of the job"
    CANCELLED = "cancelled", "Cancelled"


BULK_FINISHED = (BulkState.SUCCEEDED, BulkState.FAILED, BulkState.CANCELLED)
BULK_ACTIVE = (BulkState.QUEUED, BulkState.RUNNING)


class BulkJob(ConcurrentTransitionMixin, models.Model):
    """An action over up to MAX_BULK_RUNS runs, processed by a worker in order."""

    action = models.CharField(max_length=16, choices=BulkAction.choices)
    # retry: "original" | "live" | a number; rerun: "live" | a number; cancel: "".
    version = models.CharField(max_length=16, blank=True, default="")
    reason = models.CharField(max_length=500, blank=True, default="")
    # The filter as RunFilter.to_query gave it ({"ids": ...} for runs picked by hand).
    filter = models.JSONField(default=dict, blank=True)
    # [run id, ...] ascending, frozen at creation.
    run_ids = models.JSONField(default=list)
    # The one workflow of the selection (for the event stream's access checks), if so.
    workflow = models.ForeignKey(
        "designer.Workflow",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    state = FSMField(
        max_length=16,
        choices=BulkState.choices,
        default=BulkState.QUEUED,
        protected=True,
    )
    total = models.PositiveIntegerField(default=0)
    # Index into run_ids of the next run to process.
    position = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # {reason code: runs}, e.g. {"already_finished": 12}, for skipped and failed runs.
    reasons = models.JSONField(default=dict, blank=True)
    # [{run_id, outcome: skipped|failed, code, message}, ...], the first
    # MAX_BULK_ERRORS.
    errors = models.JSONField(default=list, blank=True)
    # Why the job itself stopped (state failed).
    error = models.CharField(max_length=500, blank=True, default="")
    actor = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # A worker holds the job while `lease_token` is set and `leased_until` is ahead;
    # `stalls` counts leases that expired at the same position (a worker died).
    lease_token = models.CharField(max_length=32, blank=True, default="")
    leased_until = models.DateTimeField(null=True, blank=True)
    stalls = models.PositiveSmallIntegerField(default=0)
    # When a message asking a worker to process it was last published.
    queued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["leased_until"],
                condition=models.Q(state__in=["queued", "running"]),
                name="bulk_job_active",
            ),
            models.Index(fields=["created_by", "-id"], name="bulk_job_creator"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total__lte=MAX_BULK_RUNS),
                name="bulk_job_total_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"bulk job {self.pk} ({self.action}, {self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state in BULK_FINISHED

    @transition(field=state, source=BulkState.QUEUED, target=BulkState.RUNNING)
    def start(self, *, at: datetime) -> None:
        self.started_at = at

    @transition(field=state, source=BulkState.RUNNING, target=BulkState.SUCCEEDED)
    def succeed(self, *, at: datetime) -> None:
        self.finished_at = at
        self.lease_token = ""
        self.leased_until = None

    @transition(
        field=state,
        source=[BulkState.QUEUED, BulkState.RUNNING],
        target=BulkState.FAILED,
    )
    def fail(self, *, error: str, at: datetime) -> None:
        self.error = error[:500]
        self.finished_at = at
        self.lease_token = ""
        self.leased_until = None

    @transition(
        field=state,
        source=[BulkState.QUEUED, BulkState.RUNNING],
        target=BulkState.CANCELLED,
    )
    def cancel(self, *, at: datetime) -> None:
        self.finished_at = at
        self.lease_token = ""
        self.leased_until = None
