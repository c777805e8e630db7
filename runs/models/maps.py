"""A map step's items: one row per item, and one progress row the items count on."""

from typing import Any

from django.db import models
from django_fsm import ConcurrentTransitionMixin, FSMField, transition


class ItemState(models.TextChoices):
    PENDING = "pending", "Pending"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    RETRY_WAIT = "retry_wait", "Waiting to retry"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ITEM_FINISHED = (ItemState.SUCCEEDED, ItemState.FAILED, ItemState.CANCELLED)


class MapItem(ConcurrentTransitionMixin, models.Model):
    """One item of a map step: its value, attempts and result."""

    step = models.ForeignKey(
        "runs.StepRun", on_delete=models.CASCADE, related_name="map_items"
    )
    run = models.ForeignKey("runs.Run", on_delete=models.CASCADE, related_name="+")
    index = models.PositiveIntegerField()
    item = models.JSONField(null=True, blank=True)
    state = FSMField(
        max_length=16,
        choices=ItemState.choices,
        default=ItemState.PENDING,
        protected=True,
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    output = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["step", "index"]
        constraints = [
            models.UniqueConstraint(fields=["step", "index"], name="map_item_unique")
        ]

    def __str__(self) -> str:
        return f"item {self.index} of step {self.step_id}"

    @transition(
        field=state,
        source=[ItemState.PENDING, ItemState.RETRY_WAIT],
        target=ItemState.QUEUED,
    )
    def enqueue(self) -> None:
        pass

    @transition(field=state, source=ItemState.QUEUED, target=ItemState.RUNNING)
    def start(self) -> None:
        self.attempts += 1

    @transition(field=state, source=ItemState.RUNNING, target=ItemState.SUCCEEDED)
    def succeed(self, *, output: Any) -> None:
        self.output = output
        self.error = None

    @transition(field=state, source=ItemState.RUNNING, target=ItemState.RETRY_WAIT)
    def retry(self, *, error: dict[str, Any]) -> None:
        self.error = error

    @transition(field=state, source=ItemState.RUNNING, target=ItemState.FAILED)
    def fail(self, *, error: dict[str, Any]) -> None:
        self.error = error

    @transition(
        field=state,
        source=[
            ItemState.PENDING,
            ItemState.QUEUED,
            ItemState.RUNNING,
            ItemState.RETRY_WAIT,
        ],
        target=ItemState.CANCELLED,
    )
    def cancel(self) -> None:
        pass


class MapProgress(models.Model):
    """Counts of a map step's items, updated in place (one row, not a scan): the
    next item to start, how many ended, and the concurrency bound."""

    step = models.OneToOneField(
        "runs.StepRun", on_delete=models.CASCADE, related_name="map_progress"
    )
    total = models.PositiveIntegerField()
    next_index = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    max_concurrency = models.PositiveIntegerField()
    tolerated = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return (
            f"map of step {self.step_id}: {self.succeeded + self.failed}/{self.total}"
        )
