"""The audit trail over HTTP: a workflow's changes, and every change (runs/audit.py)."""

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import paginated
from config.pagination import PAGINATION_PARAMETERS, BoundedLimitOffsetPagination
from designer import access
from designer import selectors as designer_selectors
from designer.models import Workflow
from runs import audit

AUDIT_ENTRY = inline_serializer(
    name="AuditEntry",
    fields={
        "id": serializers.IntegerField(),
        "kind": serializers.CharField(),
        "actor": serializers.CharField(),
        "created_at": serializers.DateTimeField(),
        "workflow": serializers.CharField(allow_null=True),
        "subject": serializers.CharField(),
        "team": serializers.CharField(allow_null=True),
        # {field: {"from": …, "to": …}} or {field: {"changed": true}} (a secret).
        "changes": serializers.DictField(),
    },
)


def _page(request: Request, view: APIView, qs: Any) -> Response:
    paginator = BoundedLimitOffsetPagination()
    events = paginator.paginate_queryset(qs, request, view=view)
    ids = {e.workflow_id for e in events if e.workflow_id is not None}
    slugs = dict(Workflow.objects.filter(pk__in=ids).values_list("pk", "slug"))
    return paginator.get_paginated_response(
        [audit.audit_dict(event, slugs) for event in events]
    )


class WorkflowAuditApi(APIView):
    """A workflow's changes, newest first (with its team's connections)."""

    perms = {"GET": access.VIEW}

    @extend_schema(
        operation_id="api_v1_workflows_audit_list",
        parameters=PAGINATION_PARAMETERS,
        responses=paginated("AuditPage", AUDIT_ENTRY),
    )
    def get(self, request: Request, slug: str) -> Response:
        workflow = designer_selectors.workflow_get(slug=slug, user=request.user)
        return _page(request, self, audit.audit_list(workflow=workflow))


class AuditApi(APIView):
    """Every audited change, newest first: for those who manage Switchyard."""

    perms = {"GET": access.VIEW}

    @extend_schema(
        operation_id="api_v1_audit_list",
        parameters=PAGINATION_PARAMETERS,
        responses=paginated("GlobalAuditPage", AUDIT_ENTRY),
    )
    def get(self, request: Request) -> Response:
        user = request.user
        if not (user.is_staff or access.sees_all(user)):
            raise PermissionDenied("the audit trail is for admins and staff")
        return _page(request, self, audit.audit_list())
