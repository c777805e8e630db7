"""Handoffs to people, groups and agents, with their state machine."""

from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField

from config.fsm import transition
from runs.models.execution import Run, StepRun

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class HandoffState(models.TextChoices):
    OPEN = "open"
    CLAIMED = "claimed"
    COMPLETED = "completed"
    EXPIRED = "expired"
    ESCALATED = "escalated"
    CANCELLED = "cancelled"


HANDOFF_ACTIVE = (
    HandoffState.OPEN,
    HandoffState.CLAIMED,
    HandoffState.EXPIRED,
    HandoffState.ESCALATED,
)


class HandoffVerdict(models.TextChoices):
    UNREVIEWED = "unreviewed"
    CORRECT = "correct"
    INCORRECT = "incorrect"


class AssigneeKind(models.TextChoices):
    GROUP = "group"
    USER = "user"
    AGENT = "agent"


class Handoff(ConcurrentTransitionMixin, models.Model):
    """Work passed to a person, a group or an agent; its outcome routes the run.

    Who it is for is kept by name (`assignee_kind`, `assignee`), so a graph can name a
    group before anyone joins it; membership is checked when someone acts.
    """

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="handoffs")
    # The waiting step: a handoff node's, or a task's whose action asked for a handoff.
    step = models.OneToOneField(
        StepRun, on_delete=models.CASCADE, related_name="handoff"
    )
    workflow = models.ForeignKey(
        "designer.Workflow", on_delete=models.CASCADE, related_name="+"
    )
    version = models.ForeignKey(
        "designer.WorkflowVersion", on_delete=models.CASCADE, related_name="+"
    )
    node_id = models.CharField(max_length=64)
    title = models.CharField(max_length=200, blank=True, default="")
    instructions = models.TextField(blank=True, default="")
    outcomes = models.JSONField(default=list)
    # {expression: value} as evaluated when the handoff opened, and what failed.
    context = models.JSONField(default=dict, blank=True)
    context_errors = models.JSONField(default=dict, blank=True)
    assignee_kind = models.CharField(max_length=8, choices=AssigneeKind.choices)
    assignee = models.CharField(max_length=150)
    # Where it goes when the SLA passes; empty: the default escalation group.
    escalate_kind = models.CharField(
        max_length=8, choices=AssigneeKind.choices, blank=True, default=""
    )
    escalate_to = models.CharField(max_length=150, blank=True, default="")
    sla_s = models.FloatField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    state = FSMField(
        max_length=16,
        choices=HandoffState.choices,
        default=HandoffState.OPEN,
        protected=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    # First claim, kept across releases: open → first claim is the pickup wait.
    first_claimed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=100, blank=True, default="")
    note = models.TextField(blank=True, default="")
    escalated_at = models.DateTimeField(null=True, blank=True)
    verdict = FSMField(
        max_length=16,
        choices=HandoffVerdict.choices,
        default=HandoffVerdict.UNREVIEWED,
        protected=True,
    )
    review_comment = models.TextField(blank=True, default="")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["state", "due_at"], name="handoff_state_due"),
            models.Index(
                fields=["assignee_kind", "assignee", "state"], name="handoff_assignee"
            ),
            models.Index(fields=["version", "verdict"], name="handoff_version_verdict"),
        ]
        permissions = [
            ("review_handoff", "Can review handoffs (correct/incorrect)"),
            ("work_handoff", "Can claim, complete, release and reassign handoffs"),
        ]

    def __str__(self) -> str:
        return f"handoff {self.pk} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in HANDOFF_ACTIVE

    def _is_completed(self) -> bool:
        """Guard of `review`: only a completed handoff has an outcome to judge."""
        return self.state == HandoffState.COMPLETED

    @transition(
        field=state,
        source=[HandoffState.OPEN, HandoffState.EXPIRED, HandoffState.ESCALATED],
        target=HandoffState.CLAIMED,
    )
    def claim(self, *, user: "User", at: datetime) -> None:
        self.claimed_by = user
        self.claimed_at = at
        if self.first_claimed_at is None:
            self.first_claimed_at = at

    @transition(
        field=state,
        source=HandoffState.CLAIMED,
        target=RETURN_VALUE(HandoffState.OPEN, HandoffState.ESCALATED),
    )
    def release(self) -> str:
        self.claimed_by = None
        self.claimed_at = None
        return HandoffState.ESCALATED if self.escalated_at else HandoffState.OPEN

    @transition(
        field=state,
        source=[
            HandoffState.OPEN,
            HandoffState.CLAIMED,
            HandoffState.EXPIRED,
            HandoffState.ESCALATED,
        ],
        target=HandoffState.OPEN,
    )
    def reassign(self, *, assignee_kind: str, assignee: str) -> None:
        self.assignee_kind = assignee_kind
        self.assignee = assignee
        self.claimed_by = None
        self.claimed_at = None

    @transition(field=state, source=HandoffState.CLAIMED, target=HandoffState.COMPLETED)
    def complete(self, *, user: "User", outcome: str, note: str, at: datetime) -> None:
        self.completed_by = user
        self.outcome = outcome
        self.note = note
        self.completed_at = at

    @transition(
        field=state,
        source=[HandoffState.OPEN, HandoffState.CLAIMED],
        target=HandoffState.EXPIRED,
    )
    def expire(self) -> None:
        pass

    @transition(field=state, source=HandoffState.EXPIRED, target=HandoffState.ESCALATED)
    def escalate(self, *, assignee_kind: str, assignee: str, at: datetime) -> None:
        self.assignee_kind = assignee_kind
        self.assignee = assignee
        self.claimed_by = None
        self.claimed_at = None
        self.escalated_at = at

    @transition(field=state, source=list(HANDOFF_ACTIVE), target=HandoffState.CANCELLED)
    def cancel(self, *, at: datetime) -> None:
        self.completed_at = at

    @transition(
        field=verdict,
        source="*",
        target=RETURN_VALUE(HandoffVerdict.CORRECT, HandoffVerdict.INCORRECT),
        conditions=[_is_completed],
    )
    def review(self, *, verdict: str, comment: str, user: "User", at: datetime) -> str:
        self.review_comment = comment
        self.reviewed_by = user
        self.reviewed_at = at
        return verdict
