"""Step logs: what an attempt's action wrote, stored as chunks of consecutive lines."""

from django.db import models
from django.utils import timezone

from runs.models.execution import Attempt, Run
from runs.models.maps import MapItem


class StepLog(models.Model):
    """A chunk of one attempt's log (or one map item attempt's): up to ~64 KB of
    consecutive lines, written in its own short transaction while the action runs.

    A run's logs go with it (`run` cascades), so their retention is the run's.
    """

    # Indexed by (run, id) below.
    run = models.ForeignKey(
        Run, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # References, not constraints (as on Event): a chunk goes with its run, and a
    # constraint would make deleting attempts and items look chunks up one by one.
    attempt = models.ForeignKey(
        Attempt,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    map_item = models.ForeignKey(
        MapItem,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # The attempt's number (a map item's attempt number for items).
    number = models.PositiveIntegerField()
    node_id = models.CharField(max_length=64)
    # Order of the chunk within its attempt, from 1.
    seq = models.PositiveIntegerField()
    # Line number of the chunk's first line within its attempt, from 1.
    first_line = models.PositiveIntegerField()
    lines = models.PositiveIntegerField()
    bytes = models.PositiveIntegerField()
    # The lines joined by "\n" (no trailing newline).
    text = models.TextField()
    # This chunk is the one marker line saying what the size bound dropped.
    truncated = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "runs"
        ordering = ["id"]
        indexes = [models.Index(fields=["run", "id"], name="steplog_run")]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "seq"],
                condition=models.Q(attempt__isnull=False),
                name="steplog_attempt_seq",
            ),
            models.UniqueConstraint(
                fields=["map_item", "number", "seq"],
                condition=models.Q(map_item__isnull=False),
                name="steplog_item_seq",
            ),
        ]

    def __str__(self) -> str:
        owner = (
            f"attempt {self.attempt_id}"
            if self.attempt_id is not None
            else f"item {self.map_item_id}#{self.number}"
        )
        return f"log chunk {self.seq} of {owner} ({self.lines} lines)"
