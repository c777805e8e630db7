"""The event log (the source of truth for live views) and the effects ledger."""

from django.db import models

from runs.models.execution import Attempt, Run, StepRun


class Event(models.Model):
    """An append-only record of one state change; the source of truth for live views."""

    # The log is append-only and written on every transition, so it carries only the
    # indexes its readers need: (run, id), (workflow, id), (kind, created_at).
    workflow = models.ForeignKey(
        "designer.Workflow",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    version = models.ForeignKey(
        "designer.WorkflowVersion",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    run = models.ForeignKey(
        Run,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
    )
    # References, not constraints: a step's or attempt's events go with its run
    # (deleted through `run`), and a constraint would need an index per column.
    step = models.ForeignKey(
        StepRun,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    attempt = models.ForeignKey(
        Attempt,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    handoff = models.ForeignKey(
        "Handoff",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    node_id = models.CharField(max_length=64, blank=True, default="")
    kind = models.CharField(max_length=48)
    from_state = models.CharField(max_length=24, blank=True, default="")
    to_state = models.CharField(max_length=24, blank=True, default="")
    # "user:<id>", "worker:<hostname>", "system:<component>"
    actor = models.CharField(max_length=200, blank=True, default="")
    reason = models.CharField(max_length=500, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["run", "id"], name="event_run_id"),
            models.Index(fields=["workflow", "id"], name="event_workflow_id"),
            models.Index(fields=["kind", "created_at"], name="event_kind_created"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind}"


class LedgerEntry(models.Model):
    """An effect recorded once per idempotency key (exactly-once effects demo)."""

    key = models.CharField(max_length=200, unique=True)
    run = models.ForeignKey(Run, null=True, on_delete=models.SET_NULL, related_name="+")
    node_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return self.key
