"""HTTP API for bulk jobs: create one, list them, follow one, cancel one."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import TOO_LARGE
from config.openapi import paginated
from config.pagination import PAGINATION_PARAMETERS, BoundedLimitOffsetPagination
from designer import access
from runs.apis import VersionChoiceField
from runs.bulk import BulkError, bulk_cancel, bulk_create, bulk_get, bulk_list
from runs.models import MAX_BULK_ERRORS, MAX_BULK_RUNS, BulkAction, BulkJob


class RunIdsField(serializers.ListField):
    """Run ids picked by hand; over MAX_BULK_RUNS answers 413 before any is read."""

    def to_internal_value(self, data: Any) -> list[Any]:
        if isinstance(data, list) and len(data) > MAX_BULK_RUNS:
            raise serializers.ValidationError(
                f"a bulk job takes at most {MAX_BULK_RUNS} runs; {len(data)} were sent",
                code=TOO_LARGE,
            )
        return super().to_internal_value(data)


class BulkCreateInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=BulkAction.choices)
    # The run list's query parameters as an object, e.g. {"workflow": "orders",
    # "state": "running"}; or `ids`.
    filter = serializers.DictField(required=False)
    ids = RunIdsField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
    )
    # retry: "original" (default), "live" or a number; rerun: "live" (default),
    # "original" or a number.
    version = VersionChoiceField(required=False)
    reason = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=500
    )

    def validate_filter(self, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > 50:
            raise serializers.ValidationError("at most 50 filter parameters")
        return value


class BulkErrorOutput(serializers.Serializer):
    run_id = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=["skipped", "failed"])
    code = serializers.CharField()
    message = serializers.CharField()


class BulkJobOutput(serializers.ModelSerializer):
    filter = serializers.DictField(child=serializers.CharField())
    reasons = serializers.DictField(child=serializers.IntegerField())
    errors = BulkErrorOutput(many=True, help_text=f"the first {MAX_BULK_ERRORS}")
    processed = serializers.SerializerMethodField()

    class Meta:
        model = BulkJob
        fields = [
            "id",
            "action",
            "version",
            "reason",
            "filter",
            "state",
            "total",
            "processed",
            "done",
            "skipped",
            "failed",
            "reasons",
            "errors",
            "error",
            "actor",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_processed(self, job: BulkJob) -> int:
        return job.position


class BulkListCreateApi(APIView):
    perms = {"POST": access.OPERATE}

    @extend_schema(
        parameters=PAGINATION_PARAMETERS,
        responses=paginated("BulkJobPage", BulkJobOutput()),
    )
    def get(self, request: Request) -> Response:
        paginator = BoundedLimitOffsetPagination()
        page = paginator.paginate_queryset(
            bulk_list(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(BulkJobOutput(page, many=True).data)

    @extend_schema(request=BulkCreateInput, responses={201: BulkJobOutput})
    def post(self, request: Request) -> Response:
        data = BulkCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        job = bulk_create(
            user=request.user,
            action=values["action"],
            filter=values.get("filter"),
            ids=values.get("ids"),
            version=values.get("version"),
            reason=values["reason"],
        )
        return Response(BulkJobOutput(job).data, status=status.HTTP_201_CREATED)


class BulkDetailApi(APIView):
    @extend_schema(responses=BulkJobOutput)
    def get(self, request: Request, job_id: int) -> Response:
        return Response(BulkJobOutput(bulk_get(job_id=job_id, user=request.user)).data)


class BulkCancelApi(APIView):
    perms = {"POST": access.OPERATE}

    @extend_schema(request=None, responses=BulkJobOutput)
    def post(self, request: Request, job_id: int) -> Response:
        job = bulk_get(job_id=job_id, user=request.user)
        if job.created_by_id != request.user.pk and not request.user.has_perm(
            access.MANAGE
        ):
            raise BulkError("not_yours", "only its creator or an admin may cancel it")
        return Response(BulkJobOutput(bulk_cancel(job=job, user=request.user)).data)
