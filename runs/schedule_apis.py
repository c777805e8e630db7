"""Schedules over HTTP: list, create, change, pause, resume, delete, preview the next
fire times, backfill a past range, and list a schedule's fires (newest first)."""

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import paginated, results
from config.pagination import BoundedLimitOffsetPagination
from designer import access
from designer import selectors as designer_selectors
from engine.timetables import KINDS
from runs import schedules
from runs.models import (
    CatchupPolicy,
    OverlapPolicy,
    Schedule,
    ScheduleFire,
)
from runs.models.schedules import MAX_CATCHUP
from runs.selectors import of_visible_workflow

PREVIEW_COUNT = 5


class ScheduleInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=list(KINDS))
    cron = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    interval_s = serializers.IntegerField(required=False, allow_null=True, default=None)
    timezone = serializers.CharField(max_length=64, required=False, default="UTC")
    input = serializers.JSONField(required=False, default=dict)
    overlap = serializers.ChoiceField(
        choices=OverlapPolicy.choices, required=False, default=OverlapPolicy.SKIP
    )
    catchup = serializers.ChoiceField(
        choices=CatchupPolicy.choices, required=False, default=CatchupPolicy.LATEST
    )
    catchup_limit = serializers.IntegerField(
        required=False, default=10, min_value=1, max_value=MAX_CATCHUP
    )


class SchedulePatchInput(ScheduleInput):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, partial=True, **kwargs)


class PreviewInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(KINDS))
    cron = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    interval_s = serializers.IntegerField(required=False, allow_null=True, default=None)
    timezone = serializers.CharField(max_length=64, required=False, default="UTC")


class BackfillInput(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class ScheduleOutput(serializers.ModelSerializer):
    workflow = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    trigger = serializers.CharField(read_only=True)
    next_fire_times = serializers.SerializerMethodField()

    class Meta:
        model = Schedule
        fields = [
            "id",
            "workflow",
            "name",
            "kind",
            "cron",
            "interval_s",
            "timezone",
            "input",
            "overlap",
            "catchup",
            "catchup_limit",
            "state",
            "trigger",
            "next_fire_at",
            "last_slot_at",
            "next_fire_times",
            "created_at",
            "updated_at",
        ]

    def get_next_fire_times(self, obj: Schedule) -> list[str]:
        if obj.state != "active":
            return []
        try:
            slots = obj.timetable().next_slots(timezone.now(), PREVIEW_COUNT)
        except ValueError:
            return []
        return [slot.isoformat() for slot in slots]


class FireOutput(serializers.ModelSerializer):
    class Meta:
        model = ScheduleFire
        fields = ["id", "slot_at", "state", "run", "reason", "created_at"]


def _schedule_get(request: Request, schedule_id: int) -> Schedule:
    """Return a schedule of a workflow the user sees, or 404."""
    schedule: Schedule = of_visible_workflow(
        Schedule.objects.all(), pk=schedule_id, user=request.user
    )
    return schedule


class WorkflowSchedulesApi(APIView):
    perms = {"POST": access.EDIT}

    @extend_schema(responses=results("Schedules", ScheduleOutput()))
    def get(self, request: Request, slug: str) -> Response:
        workflow = designer_selectors.workflow_get(slug=slug, user=request.user)
        rows = Schedule.objects.filter(workflow=workflow).select_related("workflow")
        return Response({"results": ScheduleOutput(rows[:200], many=True).data})

    @extend_schema(request=ScheduleInput, responses={201: ScheduleOutput})
    def post(self, request: Request, slug: str) -> Response:
        workflow = designer_selectors.workflow_get(slug=slug, user=request.user)
        data = ScheduleInput(data=request.data)
        data.is_valid(raise_exception=True)
        schedule = schedules.schedule_create(
            workflow=workflow, fields=dict(data.validated_data), user=request.user
        )
        return Response(ScheduleOutput(schedule).data, status=status.HTTP_201_CREATED)


class ScheduleDetailApi(APIView):
    perms = {"PATCH": access.EDIT, "DELETE": access.EDIT}

    @extend_schema(responses=ScheduleOutput)
    def get(self, request: Request, schedule_id: int) -> Response:
        return Response(ScheduleOutput(_schedule_get(request, schedule_id)).data)

    @extend_schema(request=SchedulePatchInput, responses=ScheduleOutput)
    def patch(self, request: Request, schedule_id: int) -> Response:
        schedule = _schedule_get(request, schedule_id)
        data = SchedulePatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = {k: v for k, v in data.validated_data.items() if k in request.data}
        schedule = schedules.schedule_update(
            schedule=schedule, fields=fields, user=request.user
        )
        return Response(ScheduleOutput(schedule).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, schedule_id: int) -> Response:
        schedules.schedule_delete(
            schedule=_schedule_get(request, schedule_id), user=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class SchedulePauseApi(APIView):
    perms = {"POST": access.OPERATE}

    @extend_schema(request=None, responses=ScheduleOutput)
    def post(self, request: Request, schedule_id: int) -> Response:
        schedule = schedules.schedule_pause(
            schedule=_schedule_get(request, schedule_id), user=request.user
        )
        return Response(ScheduleOutput(schedule).data)


class ScheduleResumeApi(APIView):
    perms = {"POST": access.OPERATE}

    @extend_schema(request=None, responses=ScheduleOutput)
    def post(self, request: Request, schedule_id: int) -> Response:
        schedule = schedules.schedule_resume(
            schedule=_schedule_get(request, schedule_id), user=request.user
        )
        return Response(ScheduleOutput(schedule).data)


class ScheduleBackfillApi(APIView):
    perms = {"POST": access.OPERATE}

    @extend_schema(request=BackfillInput, responses={202: OpenApiTypes.OBJECT})
    def post(self, request: Request, schedule_id: int) -> Response:
        schedule = _schedule_get(request, schedule_id)
        data = BackfillInput(data=request.data)
        data.is_valid(raise_exception=True)
        added = schedules.schedule_backfill(
            schedule=schedule,
            start=data.validated_data["start"],
            end=data.validated_data["end"],
            user=request.user,
        )
        return Response(
            {"slots": added, "rate_per_s": schedules.backfill_rate()},
            status=status.HTTP_202_ACCEPTED,
        )


class ScheduleFiresApi(APIView):
    @extend_schema(responses=paginated("FirePage", FireOutput()))
    def get(self, request: Request, schedule_id: int) -> Response:
        schedule = _schedule_get(request, schedule_id)
        paginator = BoundedLimitOffsetPagination()
        page = paginator.paginate_queryset(
            ScheduleFire.objects.filter(schedule=schedule).order_by("-slot_at"),
            request,
            view=self,
        )
        return paginator.get_paginated_response(FireOutput(page, many=True).data)


class SchedulePreviewApi(APIView):
    """The next fire times of a timetable before it is saved (400 if it is bad)."""

    # Changes nothing: whoever may view workflows may ask.
    perms = {"POST": access.VIEW}

    @extend_schema(request=PreviewInput, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        data = PreviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        slots = schedules.schedule_preview(
            dict(data.validated_data), count=PREVIEW_COUNT
        )
        return Response({"next": [slot.isoformat() for slot in slots]})
