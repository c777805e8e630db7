"""HTTP API for starting, listing and inspecting runs and their events."""

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import EventSchema, paginated, results
from config.pagination import (
    PAGINATION_PARAMETERS,
    BoundedLimitOffsetPagination,
    CappedCountPagination,
    bounded_int,
)
from config.parsers import MAX_ID, as_id
from designer import access
from designer import selectors as designer_selectors
from runs import metrics, selectors
from runs.events import actor_of
from runs.models import Run
from runs.run_filters import RunFilter, runs_matching
from runs.serializers import RunDetailOutput, RunSummaryOutput, event_dict
from runs.services.controls import run_cancel, run_pause, run_resume, run_retry
from runs.services.starting import run_start

MAX_INPUT_BYTES = 256 * 1024
LIST_PARAMETERS = PAGINATION_PARAMETERS
MAX_EVENTS_PAGE = 1000


class RunStartInput(serializers.Serializer):
    input = serializers.JSONField(required=False, default=dict)
    version = serializers.IntegerField(required=False, min_value=1)
    idempotency_key = serializers.CharField(required=False, max_length=200)

    def validate_input(self, value: Any) -> Any:
        if len(json.dumps(value)) > MAX_INPUT_BYTES:
            raise serializers.ValidationError(
                f"input is larger than {MAX_INPUT_BYTES} bytes", code="too_large"
            )
        return value


class WorkflowRunsApi(APIView):
    perms = {"POST": access.OPERATE}

    @extend_schema(
        parameters=[OpenApiParameter("state", str), *LIST_PARAMETERS],
        responses=paginated("RunPage", RunSummaryOutput()),
    )
    def get(self, request: Request, slug: str) -> Response:
        workflow = designer_selectors.workflow_get(slug=slug, user=request.user)
        run_filter = RunFilter.from_query(request.query_params)
        qs = selectors.run_list(
            run_filter=replace(run_filter, workflow=workflow.slug),
        )
        paginator = BoundedLimitOffsetPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(RunSummaryOutput(page, many=True).data)

    @extend_schema(
        request=RunStartInput,
        # 200: a run with this idempotency key exists already.
        responses={201: RunSummaryOutput, 200: RunSummaryOutput},
    )
    def post(self, request: Request, slug: str) -> Response:
        workflow = designer_selectors.workflow_get(slug=slug, user=request.user)
        data = RunStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        version = None
        if "version" in data.validated_data:
            version = designer_selectors.version_get(
                workflow=workflow, number=data.validated_data["version"]
            )
        run, created = run_start(
            workflow=workflow,
            version=version,
            input=data.validated_data["input"],
            idempotency_key=data.validated_data.get("idempotency_key"),
            actor=actor_of(request.user),
            created_by=request.user,
        )
        # The service's run comes with its workflow and version: a summary needs
        # nothing more (run_get would read its steps and attempts too).
        return Response(
            RunSummaryOutput(run).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class RunListApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("workflow", str),
            OpenApiParameter("state", str),
            OpenApiParameter("version", int),
            OpenApiParameter("queue", str),
            OpenApiParameter("ids", str, description="run ids, comma-separated"),
            OpenApiParameter("key", str, description="business key, exactly"),
            OpenApiParameter("q", str, description="a run id or a business key prefix"),
            OpenApiParameter(
                "input.<path>",
                str,
                description="a field of the input equals a value (docs/search.md)",
            ),
            OpenApiParameter("trigger", str, description="a kind, or kind:id"),
            OpenApiParameter("started_after", OpenApiTypes.DATETIME),
            OpenApiParameter("started_before", OpenApiTypes.DATETIME),
            OpenApiParameter("error_type", str),
            OpenApiParameter(
                "sort",
                str,
                enum=["newest", "oldest", "started", "finished", "state", "workflow"],
            ),
            *LIST_PARAMETERS,
        ],
        responses=paginated(
            "RunListPage",
            RunSummaryOutput(),
            last_event_id=serializers.IntegerField(),
            last_event_tx=serializers.IntegerField(),
            count_capped=serializers.BooleanField(),
        ),
        operation_id="api_v1_runs_list",
    )
    def get(self, request: Request) -> Response:
        run_filter = RunFilter.from_query(request.query_params)
        last_tx, last_event = selectors.last_event_position()
        qs = selectors.run_list(
            user=request.user,
            run_filter=run_filter,
            sort=request.query_params.get("sort", "newest"),
        )
        paginator = CappedCountPagination(
            count_queryset=runs_matching(run_filter, user=request.user)
        )
        page = paginator.paginate_queryset(qs, request, view=self)
        response = paginator.get_paginated_response(
            RunSummaryOutput(page, many=True).data
        )
        response.data["last_event_id"] = last_event
        response.data["last_event_tx"] = last_tx
        return response


class RunCountsApi(APIView):
    @extend_schema(
        responses=results(
            "RunCounts",
            inline_serializer(
                name="RunCount",
                fields={
                    "workflow__slug": serializers.CharField(),
                    "workflow__name": serializers.CharField(),
                    "state": serializers.CharField(),
                    "count": serializers.IntegerField(),
                },
            ),
            last_event_id=serializers.IntegerField(),
            last_event_tx=serializers.IntegerField(),
        )
    )
    def get(self, request: Request) -> Response:
        # Read before the counts: events after this position are not in them.
        last_tx, last_event = selectors.last_event_position()
        return Response(
            {
                "results": selectors.run_counts(user=request.user),
                "last_event_id": last_event,
                "last_event_tx": last_tx,
            }
        )


class RunDetailApi(APIView):
    @extend_schema(responses=RunDetailOutput)
    def get(self, request: Request, run_id: int) -> Response:
        return Response(
            RunDetailOutput(selectors.run_get(run_id=run_id, user=request.user)).data
        )


class RunGraphApi(APIView):
    """The graph the run runs on: its version's, or its test snapshot's (a draft's
    number names the draft, which may have changed since: docs/run-data.md)."""

    @extend_schema(
        responses=inline_serializer(
            "RunGraph",
            {
                "version": serializers.IntegerField(),
                "status": serializers.CharField(),
                "graph": serializers.JSONField(),
            },
        )
    )
    def get(self, request: Request, run_id: int) -> Response:
        run = selectors.of_visible_workflow(
            Run.objects.select_related("version"), pk=run_id, user=request.user
        )
        version = run.version
        return Response(
            {
                "version": version.number,
                "status": version.status,
                "graph": version.graph,
            }
        )


class RunEventsApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("after", int, description="events after this id"),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_EVENTS_PAGE},
                description=f"1 to {MAX_EVENTS_PAGE} (default 500)",
            ),
        ],
        responses=results("RunEvents", EventSchema()),
    )
    def get(self, request: Request, run_id: int) -> Response:
        selectors.run_get(run_id=run_id, user=request.user)
        after = request.query_params.get("after", "0")
        limit = bounded_int(
            request,
            "limit",
            default=500,
            low=1,
            high=MAX_EVENTS_PAGE,
            code="invalid_limit",
        )
        events = selectors.event_list(
            run_id=run_id,
            after=selectors.event_position(as_id(after) or 0),
            limit=limit,
        )
        return Response({"results": [event_dict(e) for e in events]})


class RunControlInput(serializers.Serializer):
    reason = serializers.CharField(required=False, default="", max_length=500)


class _RunControlApi(APIView):
    """POST a control with an optional reason; answer with the run as it is now."""

    perms = {"POST": access.OPERATE}

    def control(self, *, run: Run, actor: str, reason: str) -> Run:
        raise NotImplementedError

    @extend_schema(request=RunControlInput, responses=RunDetailOutput)
    def post(self, request: Request, run_id: int) -> Response:
        data = RunControlInput(data=request.data)
        data.is_valid(raise_exception=True)
        run = self.control(
            run=selectors.run_get(run_id=run_id, user=request.user),
            actor=actor_of(request.user),
            reason=data.validated_data["reason"],
        )
        return Response(RunDetailOutput(selectors.run_get(run_id=run.pk)).data)


class RunCancelApi(_RunControlApi):
    def control(self, *, run: Run, actor: str, reason: str) -> Run:
        return run_cancel(run=run, actor=actor, reason=reason)


class RunPauseApi(_RunControlApi):
    def control(self, *, run: Run, actor: str, reason: str) -> Run:
        return run_pause(run=run, actor=actor, reason=reason)


class RunResumeApi(_RunControlApi):
    def control(self, *, run: Run, actor: str, reason: str) -> Run:
        return run_resume(run=run, actor=actor)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "enum": ["original", "live"]},
            {"type": "integer", "minimum": 1},
        ]
    }
)
class VersionChoiceField(serializers.Field):
    """`"original"` (default), `"live"`, or a version number."""

    def to_internal_value(self, data: Any) -> str | int:
        if data in ("original", "live"):
            return str(data)
        if isinstance(data, int) and not isinstance(data, bool) and 1 <= data <= MAX_ID:
            return data
        if isinstance(data, str) and (as_id(data) or 0) >= 1:
            return int(data)
        raise serializers.ValidationError(
            "must be 'original', 'live' or a version number", code="invalid"
        )

    def to_representation(self, value: Any) -> Any:
        return value


class RunRetryInput(serializers.Serializer):
    version = VersionChoiceField(required=False, default="original")
    from_node = serializers.CharField(required=False, max_length=64)
    input = serializers.DictField(required=False)

    def validate_input(self, value: Any) -> Any:
        if len(json.dumps(value)) > MAX_INPUT_BYTES:
            raise serializers.ValidationError(
                f"input is larger than {MAX_INPUT_BYTES} bytes", code="too_large"
            )
        return value


class RunRetryApi(APIView):
    perms = {"POST": access.OPERATE}

    @extend_schema(request=RunRetryInput, responses=RunDetailOutput)
    def post(self, request: Request, run_id: int) -> Response:
        data = RunRetryInput(data=request.data)
        data.is_valid(raise_exception=True)
        run = run_retry(
            run=selectors.run_get(run_id=run_id, user=request.user),
            actor=actor_of(request.user),
            version=data.validated_data["version"],
            from_node=data.validated_data.get("from_node"),
            input=data.validated_data.get("input"),
        )
        return Response(RunDetailOutput(selectors.run_get(run_id=run.pk)).data)


MAX_WINDOW_DAYS = 366


class MetricsInput(serializers.Serializer):
    workflow = serializers.SlugField(required=False)
    version = serializers.IntegerField(required=False, min_value=1)
    compare = serializers.IntegerField(required=False, min_value=1)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        until = attrs.get("until") or timezone.now()
        since = attrs.get("since") or until - timedelta(days=7)
        if since >= until:
            raise serializers.ValidationError(
                {"since": "must be before until"}, code="bad_window"
            )
        if until - since > timedelta(days=MAX_WINDOW_DAYS):
            raise serializers.ValidationError(
                {"since": f"the window is at most {MAX_WINDOW_DAYS} days"},
                code="bad_window",
            )
        if ("version" in attrs or "compare" in attrs) and "workflow" not in attrs:
            raise serializers.ValidationError(
                {"workflow": "name the workflow whose versions to measure"},
                code="required",
            )
        if "compare" in attrs and "version" not in attrs:
            raise serializers.ValidationError(
                {"version": "compare needs a version to compare with"},
                code="required",
            )
        return {**attrs, "since": since, "until": until}


class MetricsApi(APIView):
    @extend_schema(parameters=[MetricsInput], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        data = MetricsInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        query = data.validated_data
        window = metrics.Window(since=query["since"], until=query["until"])
        workflow: Any = None
        version = None
        if "workflow" not in query:
            # Every workflow the user may see (None: all of them).
            workflow = access.visible_workflow_ids(request.user)
        if "workflow" in query:
            workflow = designer_selectors.workflow_get(
                slug=query["workflow"], user=request.user
            )
        other = rows = None
        attempts = None
        if "version" in query:
            version = designer_selectors.version_get(
                workflow=workflow, number=query["version"]
            )
            # MetricsInput takes `compare` only with a `version`.
            if "compare" in query:
                other = designer_selectors.version_get(
                    workflow=workflow, number=query["compare"]
                )
                # Both versions' attempts in one pass over the window.
                rows = metrics.attempt_rows_by_version(
                    window, workflow, [version, other]
                )
                attempts = rows[version.pk]
        body: dict[str, Any] = {
            "window": {
                "since": window.since.isoformat(),
                "until": window.until.isoformat(),
            },
            "workflow": query.get("workflow"),
            "version": version.number if version else None,
            "scorecard": metrics.scorecard(
                window=window, workflow=workflow, version=version, attempts=attempts
            ),
            "trend": metrics.daily_trend(
                window=window, workflow=workflow, version=version
            ),
        }
        if version is not None and other is not None:
            body["comparison"] = metrics.compare(
                window=window,
                workflow=workflow,
                a=version,
                b=other,
                a_card=body["scorecard"],
                rows=rows,
            )
        return Response(body)


class PrometheusApi(APIView):
    """Prometheus text format; scrape with `Authorization: Token <key>`."""

    perms = {"GET": access.MANAGE}

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request: Request) -> HttpResponse:
        return HttpResponse(
            metrics.prometheus_text(),
            content_type="text/plain; version=0.0.4; charset=utf-8",
        )
