"""HTTP API for workflows, versions, validation, diff and actions."""

from typing import Any

from django.db import IntegrityError, transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import error_response
from config.openapi import paginated, results
from config.pagination import PAGINATION_PARAMETERS, BoundedLimitOffsetPagination
from config.parsers import as_id
from designer import access, selectors, services
from designer.limits import SimulatingApi, simulation_budget
from designer.models import Workflow, WorkflowVersion
from engine.actions import registered_actions
from engine.graph.diff import diff_graphs


class WorkflowOutput(serializers.ModelSerializer):
    live_version = serializers.SerializerMethodField()
    owner_group = serializers.SlugRelatedField(
        slug_field="name", read_only=True, allow_null=True
    )
    last_run = serializers.SerializerMethodField()

    class Meta:
        model = Workflow
        fields = [
            "slug",
            "name",
            "description",
            "live_version",
            "owner_group",
            "last_run",
            "created_at",
            "updated_at",
        ]

    def get_live_version(self, obj: Workflow) -> int | None:
        return obj.live_version.number if obj.live_version else None

    def get_last_run(self, obj: Workflow) -> dict[str, Any] | None:
        # Annotated by runs (selectors.register_list_annotation) on list rows only.
        run_id = getattr(obj, "last_run_id", None)
        if run_id is None:
            return None
        return {
            "id": run_id,
            "state": getattr(obj, "last_run_state", None),
            "version": getattr(obj, "last_run_version", None),
            "created_at": getattr(obj, "last_run_created_at", None),
            "finished_at": getattr(obj, "last_run_finished_at", None),
        }


class WorkflowInput(serializers.Serializer):
    slug = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000
    )
    owner_group = serializers.CharField(required=False, max_length=150)

    def validate_owner_group(self, value: str) -> str:
        # A role is not a team: owned by `editor`, a workflow would be every
        # editor's, in every team.
        if value in access.ROLES:
            raise serializers.ValidationError(
                f"{value!r} is a role, not a team; a workflow's owner group must "
                f"be a team (not one of {', '.join(access.ROLES)})",
                code="role_group",
            )
        return value


class WorkflowPatchInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class VersionOutput(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    is_live = serializers.SerializerMethodField()

    class Meta:
        model = WorkflowVersion
        fields = [
            "id",
            "number",
            "status",
            "checksum",
            "note",
            "created_by",
            "created_at",
            "updated_at",
            "published_at",
            "is_live",
        ]

    def get_is_live(self, obj: WorkflowVersion) -> bool:
        return obj.workflow.live_version_id == obj.pk


class VersionDetailOutput(VersionOutput):
    class Meta(VersionOutput.Meta):
        fields = [*VersionOutput.Meta.fields, "graph"]


class VersionInput(serializers.Serializer):
    graph = serializers.JSONField()
    note = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )


class GraphInput(serializers.Serializer):
    graph = serializers.JSONField()


class ValidateInput(GraphInput):
    # Also simulate the workflow's test cases to lint untested choice branches.
    cases = serializers.BooleanField(default=False)


# Response shapes the views build by hand (schema only).
class GraphIssue(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    node_id = serializers.CharField(required=False)
    edge_id = serializers.CharField(required=False)


class SavedVersionSchema(VersionDetailOutput):
    """A version as saved, with its graph's warnings (schema only)."""

    warnings = serializers.ListField(child=GraphIssue())

    class Meta(VersionDetailOutput.Meta):
        fields = [*VersionDetailOutput.Meta.fields, "warnings"]


VALIDATION = inline_serializer(
    name="GraphValidation",
    fields={
        "errors": serializers.ListField(child=GraphIssue()),
        "warnings": serializers.ListField(child=GraphIssue()),
    },
)
LIST_PARAMETERS = PAGINATION_PARAMETERS


class WorkflowListCreateApi(APIView):
    perms = {"POST": access.EDIT}

    @extend_schema(
        parameters=[OpenApiParameter("search", str), *LIST_PARAMETERS],
        responses=paginated("WorkflowPage", WorkflowOutput()),
        operation_id="api_v1_workflows_list",
    )
    def get(self, request: Request) -> Response:
        qs = selectors.workflow_list(
            search=request.query_params.get("search", "")[:100], user=request.user
        )
        paginator = BoundedLimitOffsetPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(WorkflowOutput(page, many=True).data)

    @extend_schema(request=WorkflowInput, responses={201: WorkflowOutput})
    def post(self, request: Request) -> Response:
        data = WorkflowInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields["owner_group"] = access.owner_team(
            request.user, fields.pop("owner_group", None), owns="workflows"
        )
        try:
            # A savepoint: a taken slug must not break an enclosing transaction.
            with transaction.atomic():
                workflow = services.workflow_create(**fields, created_by=request.user)
        except IntegrityError:
            return error_response(
                status.HTTP_409_CONFLICT,
                [
                    {
                        "code": "slug_taken",
                        "message": f"a workflow '{data.validated_data['slug']}' exists",
                        "field": "slug",
                    }
                ],
            )
        return Response(WorkflowOutput(workflow).data, status=status.HTTP_201_CREATED)


class WorkflowDetailApi(APIView):
    perms = {"PATCH": access.EDIT}

    @extend_schema(responses=WorkflowOutput)
    def get(self, request: Request, slug: str) -> Response:
        return Response(
            WorkflowOutput(selectors.workflow_get(slug=slug, user=request.user)).data
        )

    @extend_schema(request=WorkflowPatchInput, responses=WorkflowOutput)
    def patch(self, request: Request, slug: str) -> Response:
        workflow = selectors.workflow_get(slug=slug, user=request.user)
        data = WorkflowPatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        for field, value in data.validated_data.items():
            setattr(workflow, field, value)
        workflow.save()
        return Response(WorkflowOutput(workflow).data)


class VersionListCreateApi(APIView):
    perms = {"POST": access.EDIT}

    @extend_schema(
        parameters=LIST_PARAMETERS,
        responses=paginated("VersionPage", VersionOutput()),
        operation_id="api_v1_workflows_versions_list",
    )
    def get(self, request: Request, slug: str) -> Response:
        workflow = selectors.workflow_get(slug=slug, user=request.user)
        versions = selectors.version_list(workflow=workflow)
        for version in versions:
            version.workflow = workflow
        paginator = BoundedLimitOffsetPagination()
        page = paginator.paginate_queryset(versions, request, view=self)
        return paginator.get_paginated_response(VersionOutput(page, many=True).data)

    @extend_schema(request=VersionInput, responses={201: SavedVersionSchema})
    def post(self, request: Request, slug: str) -> Response:
        workflow = selectors.workflow_get(slug=slug, user=request.user)
        data = VersionInput(data=request.data)
        data.is_valid(raise_exception=True)
        version, result = services.version_create(
            workflow=workflow,
            graph=data.validated_data["graph"],
            note=data.validated_data["note"],
            created_by=request.user,
        )
        body = VersionDetailOutput(version).data
        body["warnings"] = [w.to_dict() for w in result.warnings]
        return Response(body, status=status.HTTP_201_CREATED)


class VersionDetailApi(APIView):
    perms = {"PUT": access.EDIT}

    @extend_schema(responses=VersionDetailOutput)
    def get(self, request: Request, slug: str, number: int) -> Response:
        workflow = selectors.workflow_get(slug=slug, user=request.user)
        version = selectors.version_get(workflow=workflow, number=number)
        return Response(VersionDetailOutput(version).data)

    @extend_schema(request=VersionInput, responses=SavedVersionSchema)
    def put(self, request: Request, slug: str, number: int) -> Response:
        workflow = selectors.workflow_get(slug=slug, user=request.user)
        version = selectors.version_get(workflow=workflow, number=number)
        data = VersionInput(data=request.data)
        data.is_valid(raise_exception=True)
        if not version.is_editable:
            raise services.VersionConflict(
                "version_immutable",
                f"version {version.number} is {version.status}; create a new draft",
            )
        version, result = services.version_update(
            version=version,
            graph=data.validated_data["graph"],
            note=data.validated_data["note"],
            actor=request.user,
        )
        body = VersionDetailOutput(version).data
        body["warnings"] = [w.to_dict() for w in result.warnings]
        return Response(body)


class VersionDiffApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("against", int, required=True)],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request, slug: str, number: int) -> Response:
        workflow = selectors.workflow_get(slug=slug, user=request.user)
        version = selectors.version_get(workflow=workflow, number=number)
        against = as_id(request.query_params.get("against", ""))
        if against is None:
            return error_response(
                status.HTTP_400_BAD_REQUEST,
                [{"code": "against_required", "message": "pass ?against=<number>"}],
            )
        other = selectors.version_get(workflow=workflow, number=against)
        return Response(
            {
                "from": other.number,
                "to": version.number,
                **diff_graphs(other.graph, version.graph),
            }
        )


class WorkflowValidateApi(SimulatingApi):
    perms = {"POST": access.VIEW}

    @extend_schema(request=ValidateInput, responses=VALIDATION)
    def post(self, request: Request, slug: str) -> Response:
        workflow = selectors.workflow_get(slug=slug, user=request.user)
        data = ValidateInput(data=request.data)
        data.is_valid(raise_exception=True)
        # The submitted graph's expressions are compiled here, at a cost that grows
        # with their length: that is charged to the same budget as the cases.
        with simulation_budget():
            result = services.graph_validate(
                graph=data.validated_data["graph"],
                workflow=workflow,
                with_cases=data.validated_data["cases"],
            )
        return Response(result.to_dict())


class ActionListApi(APIView):
    @extend_schema(responses=results("ActionList", serializers.DictField()))
    def get(self, request: Request) -> Response:
        actions = sorted(registered_actions().values(), key=lambda a: a.name)
        return Response({"results": [a.to_dict() for a in actions]})
