"""Serialize runs, steps, attempts and events for the API and the live streams."""

from typing import Any

from django.db.models import Count
from django.utils import timezone
from rest_framework import serializers

from runs.models import TEST_TRIGGER, Attempt, Event, MapItem, Run, StepRun


def event_dict(event: Event) -> dict[str, Any]:
    """Return the small dict sent to live clients and the events API."""
    return {
        "id": event.pk,
        # With the id, the event's place in the live stream (see runs.selectors).
        "tx": event.tx,
        "kind": event.kind,
        "run_id": event.run_id,
        "step_id": event.step_id,
        "attempt_id": event.attempt_id,
        "handoff_id": event.handoff_id,
        "workflow": event.workflow.slug if event.workflow is not None else None,
        "version": event.version.number if event.version is not None else None,
        "node_id": event.node_id,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "actor": event.actor,
        "reason": event.reason,
        "data": event.data,
        "created_at": event.created_at.isoformat(),
    }


class RunSummaryOutput(serializers.ModelSerializer):
    workflow = serializers.CharField(source="workflow.slug")
    workflow_name = serializers.CharField(source="workflow.name")
    version = serializers.IntegerField(source="version.number")
    last_event_at = serializers.SerializerMethodField()
    stuck = serializers.SerializerMethodField()

    class Meta:
        model = Run
        fields = [
            "id",
            "workflow",
            "workflow_name",
            "version",
            "state",
            "trigger",
            "trigger_at",
            "business_key",
            "created_at",
            "started_at",
            "finished_at",
            "error",
            "last_event_at",
            "stuck",
        ]

    def get_last_event_at(self, obj: Run) -> str | None:
        value = getattr(obj, "last_event_at", None)
        return value.isoformat() if value else None

    def get_stuck(self, obj: Run) -> bool:
        """Say whether an active run has been silent longer than its steps may take."""
        value = getattr(obj, "last_event_at", None)
        if value is None or obj.state not in ("running", "compensating"):
            return False
        from runs.services.recovery import stuck_after_s

        silent = (timezone.now() - value).total_seconds()
        return silent > stuck_after_s(obj.version_id)


class AttemptOutput(serializers.ModelSerializer):
    queue_delay_s = serializers.SerializerMethodField()

    class Meta:
        model = Attempt
        fields = [
            "id",
            "number",
            "state",
            "queue",
            "priority",
            "error",
            "due_at",
            "enqueued_at",
            "started_at",
            "finished_at",
            "heartbeat_at",
            "deadline_at",
            "publish_count",
            "worker",
            "queue_delay_s",
        ]

    def get_queue_delay_s(self, obj: Attempt) -> float | None:
        if obj.started_at is None:
            return None
        return max(0.0, (obj.started_at - obj.due_at).total_seconds())


class StepOutput(serializers.ModelSerializer):
    attempts = AttemptOutput(many=True, read_only=True)
    handoff = serializers.SerializerMethodField()
    map = serializers.SerializerMethodField()

    def get_map(self, obj: StepRun) -> dict[str, Any] | None:
        """A map step's items by state (one grouped count, not the items)."""
        if obj.node_type != "map":
            return None
        counts = {
            row["state"]: row["n"]
            for row in MapItem.objects.filter(step=obj)
            .values("state")
            .annotate(n=Count("pk"))
            .order_by()
        }
        return {"total": sum(counts.values()), "by_state": counts}

    def get_handoff(self, obj: StepRun) -> dict[str, Any] | None:
        """The handoff this step waits (or waited) on, in brief; the inbox has more."""
        try:
            handoff = obj.handoff
        except StepRun.handoff.RelatedObjectDoesNotExist:
            return None
        return {
            "id": handoff.pk,
            "state": handoff.state,
            "to": {"kind": handoff.assignee_kind, "name": handoff.assignee},
            "outcome": handoff.outcome,
            "due_at": handoff.due_at.isoformat() if handoff.due_at else None,
        }

    class Meta:
        model = StepRun
        fields = [
            "id",
            "node_id",
            "seq",
            "node_type",
            "state",
            "output",
            "error",
            "taken_edges",
            "compensates",
            "wake_at",
            "map",
            "created_at",
            "started_at",
            "finished_at",
            "attempts",
            "handoff",
        ]


class RunDetailOutput(RunSummaryOutput):
    steps = StepOutput(many=True, read_only=True)
    children = serializers.SerializerMethodField()
    seeded = serializers.SerializerMethodField()

    class Meta(RunSummaryOutput.Meta):
        fields = [
            *RunSummaryOutput.Meta.fields,
            "input",
            "output",
            "reruns",
            "steps",
            "parent_run",
            "call_depth",
            "children",
            "seeded",
        ]

    def get_seeded(self, obj: Run) -> dict[str, int]:
        """A test run's steps copied from an earlier run, not run: {step id: run id}
        (runs.services.test_runs); {} for any other run, without a query."""
        if obj.trigger != TEST_TRIGGER:
            return {}
        rows = Event.objects.filter(run=obj, kind="step_seeded").values_list(
            "step_id", "data"
        )
        return {
            str(step_id): int(data["from_run"])
            for step_id, data in rows
            if step_id is not None
            and isinstance(data, dict)
            and isinstance(data.get("from_run"), int)
        }

    def get_children(self, obj: Run) -> list[dict[str, Any]]:
        """The runs its call steps started (at most 200, newest last)."""
        rows = obj.children.order_by("id").values(
            "id", "state", "workflow__slug", "parent_attempt__step__node_id"
        )[:200]
        return [
            {
                "id": row["id"],
                "state": row["state"],
                "workflow": row["workflow__slug"],
                "node_id": row["parent_attempt__step__node_id"],
            }
            for row in rows
        ]
