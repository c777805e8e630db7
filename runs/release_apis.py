"""Releases over HTTP: publish a version (behind its gate, or as a canary), promote or
abort a canary, roll back, and a version's branch coverage by its runs and tests."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from designer import access, selectors, testing
from designer.apis import VersionDetailOutput, WorkflowOutput
from designer.change_apis import SETTINGS, settings_dict
from designer.limits import SimulatingApi, simulation_budget
from runs import releases
from runs import selectors as runs_selectors


class PublishInput(serializers.Serializer):
    # 1-99: publish as a canary taking that share of new runs; 0: make it live.
    canary_percent = serializers.IntegerField(
        min_value=0, max_value=99, required=False, default=0
    )


class RollbackInput(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=500, required=False, default="")


class PublishedVersionSchema(VersionDetailOutput):
    """A version as published, with the gate's verdict, null when off (schema only)."""

    gate = serializers.JSONField(allow_null=True)

    class Meta(VersionDetailOutput.Meta):
        fields = [*VersionDetailOutput.Meta.fields, "gate"]


class VersionPublishApi(APIView):
    perms = {"POST": access.EDIT}

    @extend_schema(request=PublishInput, responses=PublishedVersionSchema)
    def post(self, request: Request, slug: str, number: int) -> Response:
        workflow = selectors.workflow_get(slug=slug, user=request.user)
        version = selectors.version_get(workflow=workflow, number=number)
        data = PublishInput(data=request.data)
        data.is_valid(raise_exception=True)
        # Checked again inside version_publish, which refuses under a block gate;
        # both run the test cases, within one simulation budget.
        with simulation_budget():
            gate = releases.publish_gate_check(version=version)
            version = releases.version_publish(
                version=version,
                actor=request.user,
                canary_percent=data.validated_data["canary_percent"],
            )
        body = VersionDetailOutput(version).data
        body["gate"] = gate
        return Response(body)


class WorkflowRollbackApi(APIView):
    perms = {"POST": access.EDIT}

    @extend_schema(request=RollbackInput, responses=WorkflowOutput)
    def post(self, request: Request, slug: str) -> Response:
        workflow = selectors.workflow_get(slug=slug, user=request.user)
        data = RollbackInput(data=request.data)
        data.is_valid(raise_exception=True)
        workflow = releases.workflow_rollback(
            workflow=workflow,
            number=data.validated_data["version"],
            actor=request.user,
            reason=data.validated_data["reason"],
        )
        return Response(WorkflowOutput(workflow).data)


class VersionCoverageApi(SimulatingApi):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, slug: str, number: int) -> Response:
        workflow = selectors.workflow_get(slug=slug, user=request.user)
        version = selectors.version_get(workflow=workflow, number=number)
        body = runs_selectors.version_coverage(version=version)
        # The same edges taken by the workflow's test cases, and by either.
        with simulation_budget():
            tests = testing.run_cases(version)["coverage"]
        body["tests"] = tests
        either = {
            edge["id"]: edge["taken"] + test["taken"]
            for edge, test in zip(body["edges"], tests["edges"], strict=True)
        }
        body["combined"] = testing.coverage_of(version.graph, either)
        return Response(body)


class CanaryAbortInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class _CanaryApi(APIView):
    perms = {"POST": access.EDIT}

    def act(self, workflow: Any, request: Request) -> Any:
        raise NotImplementedError

    def post(self, request: Request, slug: str) -> Response:
        workflow = selectors.workflow_get(slug=slug, user=request.user)
        workflow = self.act(workflow, request)
        return Response(
            settings_dict(selectors.workflow_get(slug=slug, user=request.user))
        )


@extend_schema_view(post=extend_schema(request=None, responses=SETTINGS))
class CanaryPromoteApi(_CanaryApi):
    def act(self, workflow: Any, request: Request) -> Any:
        return releases.canary_promote(workflow=workflow, actor=request.user)


@extend_schema_view(post=extend_schema(request=CanaryAbortInput, responses=SETTINGS))
class CanaryAbortApi(_CanaryApi):
    def act(self, workflow: Any, request: Request) -> Any:
        data = CanaryAbortInput(data=request.data)
        data.is_valid(raise_exception=True)
        reason = data.validated_data["reason"][:500]
        return releases.canary_abort(
            workflow=workflow, actor=request.user, reason=reason or "aborted"
        )
