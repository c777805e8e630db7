"""Runs, step runs and attempts, with their state machines."""

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django_fsm import ConcurrentTransitionMixin, FSMField

from config.fsm import transition

if TYPE_CHECKING:
    from designer.models import WorkflowVersion


class RunState(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    COMPENSATING = "compensating"
    COMPENSATED = "compensated"
    COMPENSATION_FAILED = "compensation_failed"


RUN_FINISHED = (
    RunState.SUCCEEDED,
    RunState.FAILED,
    RunState.CANCELLED,
    RunState.COMPENSATED,
    RunState.COMPENSATION_FAILED,
)
RUN_ACTIVE = (
    RunState.PENDING,
    RunState.RUNNING,
    RunState.PAUSED,
    RunState.COMPENSATING,
)
# `Run.trigger` of a draft's test run ("run from here", runs.services.test_runs):
# left out of the scorecard and of notifications.
TEST_TRIGGER = "test"


class Run(ConcurrentTransitionMixin, models.Model):
    """One execution of a pinned workflow version."""

    workflow = models.ForeignKey(
        "designer.Workflow", on_delete=models.PROTECT, related_name="runs"
    )
    version = models.ForeignKey(
        "designer.WorkflowVersion", on_delete=models.PROTECT, related_name="runs"
    )
    state = FSMField(
        max_length=24,
        choices=RunState.choices,
        default=RunState.PENDING,
        protected=True,
    )
    input = models.JSONField(default=dict, blank=True)
    output = models.JSONField(null=True, blank=True)
    # {"type": "StepFailed", "message": "...", "node_id": "charge"}
    error = models.JSONField(null=True, blank=True)
    # NULL (not "") when absent, so the partial unique constraint ignores it.
    idempotency_key = models.CharField(  # noqa: DJ001
        max_length=200, null=True, blank=True
    )
    # What started it: "api" (a person or a client program), "schedule:<id>",
    # "webhook:<id>", "call:<parent run id>"; and, for a schedule, the slot it fired.
    trigger = models.CharField(max_length=64, default="api")
    # The workflow's business key expression over the input, at start ("" when none
    # or when it gave no usable key; the start event says why). Searched by `key=`.
    business_key = models.CharField(max_length=200, blank=True, default="")
    trigger_at = models.DateTimeField(null=True, blank=True)
    # Past this the run fails with RunTimeout (the graph's `timeout_s` from its start).
    deadline_at = models.DateTimeField(null=True, blank=True)
    # A sub-workflow's run: the call attempt of its parent run, and how deep it nests.
    parent_run = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    parent_attempt = models.ForeignKey(
        "runs.Attempt",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="child_runs",
    )
    call_depth = models.PositiveSmallIntegerField(default=0)
    # A map item's run, when the map calls a workflow per item.
    parent_item = models.ForeignKey(
        "runs.MapItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="child_runs",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # One entry per retry-from-failure, oldest first: {"version": n, "from_node": id,
    # "input": {overrides}, "after_step": step id, "nodes": [node ids restarted]}.
    # Steps up to after_step of those nodes are history, not the run's current path.
    reruns = models.JSONField(default=list, blank=True)
    # Its OpenTelemetry context, made at the start when tracing is on (NULL when
    # off): {"traceparent": the run span's, "parent": span id at the start}; the
    # spans of its steps and attempts join that trace (config/tracing.py).
    trace_context = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["state", "workflow"], name="run_state_workflow"),
            models.Index(
                fields=["workflow", "-created_at"], name="run_workflow_created"
            ),
            # Time ranges, newest first (started_after/before), and retention's
            # oldest-first walk: created_at never changes, so the index costs one
            # append per run and no HOT update is lost.
            models.Index(fields=["created_at", "id"], name="run_created"),
            models.Index(fields=["version", "state"], name="run_version_state"),
            models.Index(
                fields=["workflow", "trigger", "state"], name="run_workflow_trigger"
            ),
            # Exact keys and key prefixes (LIKE 'k%': the pattern opclass, so the
            # database's collation does not matter); runs without a key left out.
            models.Index(
                fields=["business_key"],
                name="run_business_key",
                opclasses=["varchar_pattern_ops"],
                condition=~models.Q(business_key=""),
            ),
            models.Index(
                fields=["deadline_at"],
                condition=models.Q(
                    deadline_at__isnull=False, state__in=["running", "paused"]
                ),
                name="run_deadline",
            ),
        ]
        permissions = [
            ("operate_run", "Can start, cancel, pause, resume and retry runs"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="run_idempotency_key_unique",
            )
        ]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state in RUN_FINISHED

    @transition(field=state, source=RunState.PENDING, target=RunState.RUNNING)
    def start(self, *, at: datetime, deadline_at: datetime | None = None) -> None:
        self.started_at = at
        self.deadline_at = deadline_at

    @transition(field=state, source=RunState.RUNNING, target=RunState.SUCCEEDED)
    def succeed(self, *, output: Any, at: datetime) -> None:
        self.output = output
        self.finished_at = at

    @transition(
        field=state, source=[RunState.RUNNING, RunState.PAUSED], target=RunState.FAILED
    )
    def fail(self, *, error: dict[str, Any], at: datetime) -> None:
        self.error = error
        self.finished_at = at

    @transition(
        field=state,
        source=[
            RunState.PENDING,
            RunState.RUNNING,
            RunState.PAUSED,
            RunState.COMPENSATING,
        ],
        target=RunState.CANCELLED,
    )
    def cancel(self, *, at: datetime) -> None:
        self.finished_at = at

    @transition(field=state, source=RunState.FAILED, target=RunState.COMPENSATING)
    def compensate(self) -> None:
        self.finished_at = None

    @transition(field=state, source=RunState.COMPENSATING, target=RunState.COMPENSATED)
    def compensated(self, *, at: datetime) -> None:
        self.finished_at = at

    @transition(
        field=state,
        source=RunState.COMPENSATING,
        target=RunState.COMPENSATION_FAILED,
    )
    def compensation_fail(self, *, at: datetime) -> None:
        self.finished_at = at

    @transition(
        field=state,
        source=[
            RunState.FAILED,
            RunState.CANCELLED,
            RunState.COMPENSATED,
            RunState.COMPENSATION_FAILED,
        ],
        target=RunState.RUNNING,
    )
    def retry(
        self,
        *,
        version: "WorkflowVersion",
        input: dict[str, Any],
        rerun: dict[str, Any],
    ) -> None:
        self.version = version
        self.input = input
        self.reruns = [*self.reruns, rerun]
        self.error = None
        self.output = None
        self.finished_at = None

    @transition(field=state, source=RunState.RUNNING, target=RunState.PAUSED)
    def pause(self) -> None:
        pass

    @transition(field=state, source=RunState.PAUSED, target=RunState.RUNNING)
    def resume(self) -> None:
        pass


class StepState(models.TextChoices):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    RETRY_WAIT = "retry_wait"
    SKIPPED = "skipped"
    WAITING = "waiting"
    CANCELLED = "cancelled"


STEP_FINISHED = (
    StepState.SUCCEEDED,
    StepState.FAILED,
    StepState.SKIPPED,
    StepState.CANCELLED,
)


class StepRun(ConcurrentTransitionMixin, models.Model):
    """One visit of a run to one node of the graph."""

    # Indexed by the (run, node_id, seq) constraint.
    run = models.ForeignKey(
        Run, on_delete=models.CASCADE, related_name="steps", db_index=False
    )
    node_id = models.CharField(max_length=64)
    # Visit number of this node within the run; part of the idempotency key.
    seq = models.PositiveIntegerField(default=1)
    node_type = models.CharField(max_length=16)
    state = FSMField(
        max_length=16,
        choices=StepState.choices,
        default=StepState.PENDING,
        protected=True,
    )
    output = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    # Edge ids this step took when it finished: [edge_id, ...]
    taken_edges = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A wait node's step wakes (and succeeds) at this time.
    wake_at = models.DateTimeField(null=True, blank=True)
    # Set on a compensation step: the completed step it undoes.
    compensates = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["wake_at"],
                name="step_waiting_wake",
                condition=models.Q(state="waiting"),
            ),
            # A run's held tasks (over its task slots) and its active tasks: both
            # read on each branch completion of a fan-out, so neither scans it.
            models.Index(
                fields=["run", "id"],
                name="step_held_task",
                condition=models.Q(state="pending", node_type="task"),
            ),
            models.Index(
                fields=["run"],
                name="step_active_task",
                condition=models.Q(
                    state__in=["queued", "running", "retry_wait"], node_type="task"
                ),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "node_id", "seq"], name="step_node_seq_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.node_id}#{self.seq} ({self.state})"

    @property
    def idempotency_key(self) -> str:
        return f"{self.run_id}:{self.node_id}:{self.seq}"

    @property
    def is_finished(self) -> bool:
        return self.state in STEP_FINISHED

    @transition(
        field=state,
        source=[StepState.PENDING, StepState.RETRY_WAIT],
        target=StepState.QUEUED,
    )
    def enqueue(self) -> None:
        pass

    @transition(field=state, source=StepState.QUEUED, target=StepState.RUNNING)
    def start(self, *, at: datetime) -> None:
        if self.started_at is None:
            self.started_at = at

    @transition(
        field=state,
        source=[StepState.PENDING, StepState.RUNNING, StepState.WAITING],
        target=StepState.SUCCEEDED,
    )
    def succeed(self, *, output: Any, taken_edges: list[str], at: datetime) -> None:
        self.output = output
        self.taken_edges = taken_edges
        self.finished_at = at

    @transition(
        field=state,
        source=[
            StepState.PENDING,
            StepState.RUNNING,
            StepState.QUEUED,
            StepState.WAITING,
        ],
        target=StepState.FAILED,
    )
    def fail(
        self, *, error: dict[str, Any], taken_edges: list[str], at: datetime
    ) -> None:
        self.error = error
        self.taken_edges = taken_edges
        self.finished_at = at

    @transition(field=state, source=StepState.FAILED, target=StepState.RETRY_WAIT)
    def schedule_retry(self) -> None:
        self.finished_at = None

    @transition(field=state, source=StepState.PENDING, target=StepState.SKIPPED)
    def skip(self, *, at: datetime) -> None:
        self.finished_at = at

    @transition(
        field=state,
        source=[StepState.PENDING, StepState.RUNNING],
        target=StepState.WAITING,
    )
    def wait(self, *, until: datetime) -> None:
        self.wake_at = until

    @transition(
        field=state,
        source=[
            StepState.PENDING,
            StepState.QUEUED,
            StepState.RUNNING,
            StepState.RETRY_WAIT,
            StepState.WAITING,
        ],
        target=StepState.CANCELLED,
    )
    def cancel(self, *, at: datetime) -> None:
        self.finished_at = at


class AttemptState(models.TextChoices):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


ATTEMPT_FINISHED = (AttemptState.SUCCEEDED, AttemptState.FAILED, AttemptState.CANCELLED)


class Attempt(ConcurrentTransitionMixin, models.Model):
    """One try of a task step on a worker."""

    # Both indexed by the composite index and constraint below; every index on this
    # hot table costs each state change.
    step = models.ForeignKey(
        StepRun, on_delete=models.CASCADE, related_name="attempts", db_index=False
    )
    run = models.ForeignKey(
        Run, on_delete=models.CASCADE, related_name="attempts", db_index=False
    )
    number = models.PositiveIntegerField()
    state = FSMField(
        max_length=16,
        choices=AttemptState.choices,
        default=AttemptState.QUEUED,
        protected=True,
    )
    queue = models.CharField(max_length=64, default="default")
    priority = models.PositiveSmallIntegerField(default=5)
    # When the attempt became eligible to run: enqueue time, or the retry's due time.
    due_at = models.DateTimeField()
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True)
    publish_count = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True, default="")
    # {"type": "StepFailed", "message": "...", "retryable": true}
    error = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["state", "due_at"], name="attempt_state_due"),
            models.Index(fields=["run", "number"], name="attempt_run"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["step", "number"], name="attempt_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.step_id} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state in ATTEMPT_FINISHED

    @property
    def is_retry(self) -> bool:
        return self.number > 1

    @transition(field=state, source=AttemptState.SCHEDULED, target=AttemptState.QUEUED)
    def enqueue(self, *, at: datetime) -> None:
        self.enqueued_at = at

    @transition(
        field=state, source=AttemptState.SCHEDULED, target=AttemptState.SCHEDULED
    )
    def defer(self, *, until: datetime) -> None:
        """Push a retry back: the retry budget of its queue is spent for now."""
        self.due_at = until

    @transition(field=state, source=AttemptState.QUEUED, target=AttemptState.RUNNING)
    def start(self, *, at: datetime, worker: str, deadline: datetime) -> None:
        self.started_at = at
        self.heartbeat_at = at
        self.worker = worker
        self.deadline_at = deadline

    @transition(field=state, source=AttemptState.RUNNING, target=AttemptState.SUCCEEDED)
    def succeed(self, *, at: datetime) -> None:
        self.finished_at = at

    @transition(
        field=state,
        source=[AttemptState.RUNNING, AttemptState.QUEUED],
        target=AttemptState.FAILED,
    )
    def fail(self, *, error: dict[str, Any], at: datetime) -> None:
        self.error = error
        self.finished_at = at

    @transition(
        field=state,
        source=[AttemptState.SCHEDULED, AttemptState.QUEUED, AttemptState.RUNNING],
        target=AttemptState.CANCELLED,
    )
    def cancel(self, *, at: datetime) -> None:
        self.finished_at = at
