"""HTTP API of the handoff inbox: list, claim, release, complete, reassign."""

from typing import Any

from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import LimitedCharField
from config.openapi import EventSchema, paginated
from config.pagination import PAGINATION_PARAMETERS, BoundedLimitOffsetPagination
from designer import access
from runs import handoffs, selectors
from runs.models import HANDOFF_ACTIVE, AssigneeKind, Event, Handoff, HandoffState
from runs.serializers import event_dict

STATUSES = {state.value: [state.value] for state in HandoffState} | {
    "active": [str(s) for s in HANDOFF_ACTIVE]
}


def handoff_dict(handoff: Handoff, user: Any) -> dict[str, Any]:
    """Return the API shape of a handoff (see docs/api-contract.md)."""
    now = timezone.now()

    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    def username(value: Any) -> str | None:
        return value.get_username() if value is not None else None

    return {
        "id": handoff.pk,
        "state": handoff.state,
        "run_id": handoff.run_id,
        "run_state": handoff.run.state,
        "workflow": handoff.workflow.slug,
        "workflow_name": handoff.workflow.name,
        "version": handoff.version.number,
        "node_id": handoff.node_id,
        "title": handoff.title,
        "instructions": handoff.instructions,
        "outcomes": handoff.outcomes,
        "context": handoff.context,
        "context_errors": handoff.context_errors,
        "to": {"kind": handoff.assignee_kind, "name": handoff.assignee},
        "escalate_to": (
            {"kind": handoff.escalate_kind, "name": handoff.escalate_to}
            if handoff.escalate_kind
            else None
        ),
        "sla_s": handoff.sla_s,
        "due_at": iso(handoff.due_at),
        "overdue": bool(
            handoff.is_active and handoff.due_at is not None and handoff.due_at <= now
        ),
        "created_at": iso(handoff.created_at),
        "claimed_by": username(handoff.claimed_by),
        "claimed_at": iso(handoff.claimed_at),
        "completed_by": username(handoff.completed_by),
        "completed_at": iso(handoff.completed_at),
        "outcome": handoff.outcome,
        "note": handoff.note,
        "escalated_at": iso(handoff.escalated_at),
        "verdict": handoff.verdict,
        "can": handoffs.allowed_actions(user, handoff),
    }


def _assignee(name: str, **kwargs: Any) -> Any:
    return inline_serializer(
        name=name,
        fields={"kind": serializers.CharField(), "name": serializers.CharField()},
        **kwargs,
    )


# The shape handoff_dict returns (schema only).
HANDOFF_FIELDS: dict[str, Any] = {
    "id": serializers.IntegerField(),
    "state": serializers.ChoiceField(HandoffState.choices),
    "run_id": serializers.IntegerField(),
    "run_state": serializers.CharField(),
    "workflow": serializers.CharField(),
    "workflow_name": serializers.CharField(),
    "version": serializers.IntegerField(),
    "node_id": serializers.CharField(),
    "title": serializers.CharField(allow_blank=True),
    "instructions": serializers.CharField(allow_blank=True),
    "outcomes": serializers.ListField(child=serializers.CharField()),
    "context": serializers.DictField(),
    "context_errors": serializers.DictField(child=serializers.CharField()),
    "to": _assignee("HandoffAssignee"),
    "escalate_to": _assignee("HandoffEscalation", allow_null=True),
    "sla_s": serializers.FloatField(allow_null=True),
    "due_at": serializers.DateTimeField(allow_null=True),
    "overdue": serializers.BooleanField(),
    "created_at": serializers.DateTimeField(),
    "claimed_by": serializers.CharField(allow_null=True),
    "claimed_at": serializers.DateTimeField(allow_null=True),
    "completed_by": serializers.CharField(allow_null=True),
    "completed_at": serializers.DateTimeField(allow_null=True),
    "outcome": serializers.CharField(allow_blank=True),
    "note": serializers.CharField(allow_blank=True),
    "escalated_at": serializers.DateTimeField(allow_null=True),
    "verdict": serializers.CharField(),
    "can": serializers.DictField(child=serializers.BooleanField()),
}
HANDOFF = inline_serializer(name="Handoff", fields=HANDOFF_FIELDS)
HANDOFF_DETAIL = inline_serializer(
    name="HandoffDetail",
    fields={**HANDOFF_FIELDS, "events": serializers.ListField(child=EventSchema())},
)


def _base(user: Any) -> QuerySet[Handoff]:
    return (
        Handoff.objects.select_related(
            "run", "workflow", "version", "claimed_by", "completed_by"
        )
        .defer("run__input", "run__output", "version__graph")
        .filter(access.visible_q(user, "workflow__"))
    )


def handoff_list(
    *, user: Any, status: str = "", mine: bool = False, workflow: str = ""
) -> QuerySet[Handoff]:
    """Return handoffs: active ones first (overdue, then by due time, then newest),
    then finished ones newest finished first (a history reads newest first)."""
    now = timezone.now()
    qs = _base(user)
    if status:
        qs = qs.filter(state__in=STATUSES.get(status, [status]))
    if workflow:
        qs = qs.filter(workflow__slug=workflow)
    if mine:
        groups = list(user.groups.values_list("name", flat=True))
        qs = qs.filter(
            Q(assignee_kind=AssigneeKind.GROUP, assignee__in=groups)
            | Q(
                assignee_kind__in=[AssigneeKind.USER, AssigneeKind.AGENT],
                assignee=user.get_username(),
            )
            | Q(claimed_by=user)
        )
    # 0 overdue, 1 other active, 2 finished (completed or cancelled).
    rank = Case(
        When(state__in=HANDOFF_ACTIVE, due_at__lte=now, then=Value(0)),
        When(state__in=HANDOFF_ACTIVE, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return qs.annotate(list_rank=rank).order_by(
        "list_rank",
        # Due time orders the active ones only; finished ones all have NULL here.
        Case(When(state__in=HANDOFF_ACTIVE, then=F("due_at"))).asc(nulls_last=True),
        F("completed_at").desc(nulls_last=True),
        "-id",
    )


class HandoffListApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=sorted(STATUSES)),
            OpenApiParameter("mine", str, enum=["1", "0", "true", "false"]),
            OpenApiParameter("workflow", str),
            *PAGINATION_PARAMETERS,
        ],
        responses=paginated(
            "HandoffPage",
            HANDOFF,
            last_event_id=serializers.IntegerField(),
            last_event_tx=serializers.IntegerField(),
        ),
        operation_id="api_v1_handoffs_list",
    )
    def get(self, request: Request) -> Response:
        last_tx, last_event = selectors.last_event_position()
        qs = handoff_list(
            user=request.user,
            status=request.query_params.get("status", ""),
            mine=request.query_params.get("mine", "") in ("1", "true", "yes"),
            workflow=request.query_params.get("workflow", ""),
        )
        paginator = BoundedLimitOffsetPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        response = paginator.get_paginated_response(
            [handoff_dict(h, request.user) for h in page]
        )
        response.data["last_event_id"] = last_event
        response.data["last_event_tx"] = last_tx
        return response


def _get(handoff_id: int, user: Any) -> Handoff:
    return get_object_or_404(_base(user), pk=handoff_id)


class HandoffDetailApi(APIView):
    @extend_schema(responses=HANDOFF_DETAIL)
    def get(self, request: Request, handoff_id: int) -> Response:
        handoff = _get(handoff_id, request.user)
        events = Event.objects.filter(
            run_id=handoff.run_id, handoff_id=handoff.pk
        ).select_related("workflow", "version")
        body = handoff_dict(handoff, request.user)
        body["events"] = [event_dict(e) for e in events]
        return Response(body)


class NoteInput(serializers.Serializer):
    note = LimitedCharField(
        required=False, default="", allow_blank=True, max_length=handoffs.MAX_NOTE
    )


class CompleteInput(NoteInput):
    outcome = serializers.CharField(max_length=100)


class ReassignInput(NoteInput):
    to = serializers.DictField()


class _HandoffActionApi(APIView):
    """POST an action on a handoff; answer with the handoff as it is now."""

    perms = {"POST": access.WORK_HANDOFFS}

    input_class: type[serializers.Serializer] = NoteInput

    def act(self, *, handoff_id: int, user: Any, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def post(self, request: Request, handoff_id: int) -> Response:
        _get(handoff_id, request.user)  # 404 before anything else
        data = self.input_class(data=request.data)
        data.is_valid(raise_exception=True)
        self.act(handoff_id=handoff_id, user=request.user, data=data.validated_data)
        return Response(handoff_dict(_get(handoff_id, request.user), request.user))


@extend_schema_view(post=extend_schema(request=None, responses=HANDOFF))
class HandoffClaimApi(_HandoffActionApi):
    def act(self, *, handoff_id: int, user: Any, data: dict[str, Any]) -> None:
        handoffs.handoff_claim(handoff_id=handoff_id, user=user)


@extend_schema_view(post=extend_schema(request=NoteInput, responses=HANDOFF))
class HandoffReleaseApi(_HandoffActionApi):
    def act(self, *, handoff_id: int, user: Any, data: dict[str, Any]) -> None:
        handoffs.handoff_release(handoff_id=handoff_id, user=user, note=data["note"])


@extend_schema_view(post=extend_schema(request=CompleteInput, responses=HANDOFF))
class HandoffCompleteApi(_HandoffActionApi):
    input_class = CompleteInput

    def act(self, *, handoff_id: int, user: Any, data: dict[str, Any]) -> None:
        handoffs.handoff_complete(
            handoff_id=handoff_id,
            user=user,
            outcome=data["outcome"],
            note=data["note"],
        )


@extend_schema_view(post=extend_schema(request=ReassignInput, responses=HANDOFF))
class HandoffReassignApi(_HandoffActionApi):
    input_class = ReassignInput

    def act(self, *, handoff_id: int, user: Any, data: dict[str, Any]) -> None:
        handoffs.handoff_reassign(
            handoff_id=handoff_id, user=user, to=data["to"], note=data["note"]
        )
