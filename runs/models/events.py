"""The event log (the source of truth for live views) and the effects ledger."""

from typing import Any

from django.db import models

from runs.models.execution import Attempt, Run, StepRun


class TransactionId(models.Func):
    """The id of the inserting transaction on PostgreSQL (its xid8); 0 elsewhere.

    The live stream orders events by (tx, id) and reads only events whose
    transaction is below the oldest one still in flight (see runs.selectors).
    SQLite runs one writer at a time, so there ids alone are in commit order.
    """

    template = "0"
    output_field = models.BigIntegerField()

    def __init__(self) -> None:
        super().__init__()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "(pg_current_xact_id()::text::bigint)"
        return self.as_sql(compiler, connection, template=template, **extra)


class Event(models.Model):
    """An append-only record of one state change; the source of truth for live views."""

    # The log is append-only and written on every transition, so it carries only the
    # indexes its readers need: (tx, id) and (run, tx, id) for the live stream,
    # (workflow, id), (kind, created_at).
    # References, not constraints: every step writes about six events, and each
    # foreign key constraint is a lookup and a KEY SHARE lock on the referenced row
    # at commit (the workflow's and version's rows are shared by all its runs). The
    # rows go with their workflow, version or run all the same: Django deletes them
    # (on_delete), and nothing else deletes those rows.
    workflow = models.ForeignKey(
        "designer.Workflow",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    version = models.ForeignKey(
        "designer.WorkflowVersion",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    run = models.ForeignKey(
        Run,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
        db_constraint=False,
    )
    # A step's or attempt's events go with its run (deleted through `run`), and a
    # constraint would need an index per column.
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
    # The writing transaction's id, set by the database (never by the application).
    tx = models.BigIntegerField(db_default=TransactionId(), editable=False)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["tx", "id"], name="event_tx_id"),
            models.Index(fields=["run", "tx", "id"], name="event_run_tx_id"),
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
