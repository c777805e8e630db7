"""Retention counts per workflow: `GET /api/v1/retention/` (docs/api-contract.md)."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import results
from designer import access
from designer.models import Workflow
from runs.retention import retention_rows


class RetentionApi(APIView):
    @extend_schema(
        responses=results(
            "RetentionCounts",
            inline_serializer(
                name="RetentionCount",
                fields={
                    "workflow": serializers.CharField(),
                    "workflow_name": serializers.CharField(),
                    "retention_days": serializers.IntegerField(allow_null=True),
                    "archive": serializers.BooleanField(),
                    "due": serializers.IntegerField(),
                    "due_capped": serializers.BooleanField(),
                    "pruned_total": serializers.IntegerField(),
                    "archived_total": serializers.IntegerField(),
                    "last_pruned_at": serializers.DateTimeField(allow_null=True),
                },
            ),
        )
    )
    def get(self, request: Request) -> Response:
        workflows = access.visible_workflows(request.user, Workflow.objects.all())
        return Response({"results": retention_rows(workflows, timezone.now())})
