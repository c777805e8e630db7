"""Change safety over HTTP: test cases, running them, the publish gate and rollback
criteria settings (releases themselves: runs/release_apis.py)."""

from typing import Any

from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import error_response
from config.openapi import results
from designer import access, audit, criteria, run_settings, selectors, testing
from designer.limits import SimulatingApi, simulation_budget
from designer.models import PublishGate, ReleaseState, WorkflowTestCase

MAX_CASES_PER_RUN = 200


# A loop's task may be mocked once per visit, up to the largest max_visits.
MAX_MOCK_VISITS = 1000


class TestCaseInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000
    )
    input = serializers.DictField(required=False, default=dict)
    mocks = serializers.DictField(required=False, default=dict)
    outcomes = serializers.DictField(required=False, default=dict)
    expect = serializers.DictField(required=False, default=dict)

    def validate_mocks(self, value: dict[str, Any]) -> dict[str, Any]:
        for node_id, mock in value.items():
            # A list: one mock per visit of a loop (the last repeats).
            visits = mock if isinstance(mock, list) else [mock]
            if not 1 <= len(visits) <= MAX_MOCK_VISITS or not all(
                isinstance(m, dict) and (("output" in m) ^ ("error" in m))
                for m in visits
            ):
                raise serializers.ValidationError(
                    f"mock of {node_id!r} must be {{'output': ...}} or "
                    "{'error': 'ErrorName'}, or a list of 1 to "
                    f"{MAX_MOCK_VISITS} of them (one per visit)"
                )
        return value

    def validate_expect(self, value: dict[str, Any]) -> dict[str, Any]:
        unknown = set(value) - {"end", "state", "path"}
        if unknown:
            raise serializers.ValidationError(
                f"unknown expectation {', '.join(sorted(unknown))}; use end, state, "
                "path"
            )
        if "path" in value and not (
            isinstance(value["path"], list)
            and all(isinstance(n, str) for n in value["path"])
        ):
            raise serializers.ValidationError("path must be a list of node ids")
        return value


def case_dict(case: WorkflowTestCase) -> dict[str, Any]:
    return {
        "id": case.pk,
        "name": case.name,
        "description": case.description,
        "input": case.input,
        "mocks": case.mocks,
        "outcomes": case.outcomes,
        "expect": case.expect,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
    }


# Response shapes (schema only).
CASE = inline_serializer(
    name="TestCase",
    fields={
        "id": serializers.IntegerField(),
        "name": serializers.CharField(),
        "description": serializers.CharField(allow_blank=True),
        "input": serializers.DictField(),
        "mocks": serializers.DictField(),
        "outcomes": serializers.DictField(),
        "expect": serializers.DictField(),
        "created_at": serializers.DateTimeField(),
        "updated_at": serializers.DateTimeField(),
    },
)
SETTINGS = inline_serializer(
    name="WorkflowSettings",
    fields={
        "publish_gate": serializers.ChoiceField(PublishGate.choices),
        "coverage_threshold": serializers.IntegerField(),
        "rollback_criteria": serializers.JSONField(),
        "input_schema": serializers.JSONField(),
        "sample_inputs": serializers.JSONField(),
        "business_key": serializers.CharField(),
        "retention_days": serializers.IntegerField(allow_null=True),
        "retention_archive": serializers.BooleanField(),
        "live_version": serializers.IntegerField(allow_null=True),
        "previous_live_version": serializers.IntegerField(allow_null=True),
        "live_since": serializers.DateTimeField(allow_null=True),
        "canary": inline_serializer(
            name="Canary",
            fields={
                "version": serializers.IntegerField(),
                "percent": serializers.IntegerField(),
                "started_at": serializers.DateTimeField(),
            },
            allow_null=True,
        ),
    },
)


def _name_taken(name: str) -> Response:
    return error_response(
        status.HTTP_409_CONFLICT,
        [{"code": "name_taken", "message": f"a test case {name!r} exists"}],
    )


class TestCaseListApi(APIView):
    perms = {"POST": access.EDIT}

    @extend_schema(
        operation_id="api_v1_workflows_tests_list",
        responses=results("TestCaseList", CASE),
    )
    def get(self, request: Request, slug: str) -> Response:
        workflow = selectors.workflow_get(slug=slug, user=request.user)
        cases = workflow.test_cases.order_by("name")
        return Response({"results": [case_dict(c) for c in cases]})

    @extend_schema(request=TestCaseInput, responses={201: CASE})
    def post(self, request: Request, slug: str) -> Response:
        workflow = selectors.workflow_get(slug=slug, user=request.user)
        data = TestCaseInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            # A savepoint: a taken name must not break an enclosing transaction.
            with transaction.atomic():
                case = WorkflowTestCase.objects.create(
                    workflow=workflow, created_by=request.user, **data.validated_data
                )
        except IntegrityError:
            return _name_taken(data.validated_data["name"])
        return Response(case_dict(case), status=status.HTTP_201_CREATED)


class TestCaseDetailApi(APIView):
    perms = {"PUT": access.EDIT, "DELETE": access.EDIT}

    def _case(self, request: Request, slug: str, case_id: int) -> WorkflowTestCase:
        workflow = selectors.workflow_get(slug=slug, user=request.user)
        return get_object_or_404(workflow.test_cases, pk=case_id)

    @extend_schema(responses=CASE)
    def get(self, request: Request, slug: str, case_id: int) -> Response:
        return Response(case_dict(self._case(request, slug, case_id)))

    @extend_schema(request=TestCaseInput, responses=CASE)
    def put(self, request: Request, slug: str, case_id: int) -> Response:
        case = self._case(request, slug, case_id)
        data = TestCaseInput(data=request.data)
        data.is_valid(raise_exception=True)
        for field, value in data.validated_data.items():
            setattr(case, field, value)
        try:
            with transaction.atomic():
                case.save()
        except IntegrityError:
            return _name_taken(data.validated_data["name"])
        return Response(case_dict(case))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, slug: str, case_id: int) -> Response:
        self._case(request, slug, case_id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class RunTestsInput(serializers.Serializer):
    # Saved cases to run (default: all); or unsaved cases straight from the editor.
    ids = serializers.ListField(
        child=serializers.IntegerField(), required=False, max_length=MAX_CASES_PER_RUN
    )
    cases = serializers.ListField(
        child=TestCaseInput(), required=False, max_length=MAX_CASES_PER_RUN
    )


class VersionTestApi(SimulatingApi):
    """Run test cases against a version (drafts too): no action is called."""

    perms = {"POST": access.VIEW}

    @extend_schema(request=RunTestsInput, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, slug: str, number: int) -> Response:
        workflow = selectors.workflow_get(slug=slug, user=request.user)
        version = selectors.version_get(workflow=workflow, number=number)
        data = RunTestsInput(data=request.data)
        data.is_valid(raise_exception=True)
        if "cases" in data.validated_data:
            cases: list[Any] = [
                WorkflowTestCase(workflow=workflow, **c)
                for c in data.validated_data["cases"]
            ]
        else:
            saved = workflow.test_cases.order_by("name")
            if "ids" in data.validated_data:
                saved = saved.filter(pk__in=data.validated_data["ids"])
            cases = list(saved[:MAX_CASES_PER_RUN])
        with simulation_budget():
            report = testing.run_cases(version, cases)
        return Response(report)


class SettingsInput(serializers.Serializer):
    publish_gate = serializers.ChoiceField(PublishGate.choices, required=False)
    coverage_threshold = serializers.IntegerField(
        min_value=0, max_value=100, required=False
    )
    rollback_criteria = serializers.JSONField(required=False)

    input_schema = serializers.JSONField(required=False)
    sample_inputs = serializers.JSONField(required=False)
    business_key = serializers.CharField(
        required=False, allow_blank=True, max_length=run_settings.MAX_KEY_EXPRESSION
    )
    retention_days = serializers.JSONField(required=False, allow_null=True)
    retention_archive = serializers.BooleanField(required=False)

    def validate_rollback_criteria(self, value: Any) -> dict[str, Any]:
        try:
            return criteria.clean_criteria(value)
        except criteria.CriteriaError as exc:
            raise serializers.ValidationError(exc.message, code=exc.code) from exc

    def _run_setting(self, clean: Any, value: Any) -> Any:
        try:
            return clean(value)
        except run_settings.RunSettingsError as exc:
            raise serializers.ValidationError(exc.message, code=exc.code) from exc

    def validate_input_schema(self, value: Any) -> dict[str, Any]:
        return self._run_setting(run_settings.clean_input_schema, value)

    def validate_sample_inputs(self, value: Any) -> list[dict[str, Any]]:
        return self._run_setting(run_settings.clean_sample_inputs, value)

    def validate_business_key(self, value: Any) -> str:
        return self._run_setting(run_settings.clean_business_key, value)

    def validate_retention_days(self, value: Any) -> int | None:
        return self._run_setting(run_settings.clean_retention_days, value)


def settings_dict(workflow: Any) -> dict[str, Any]:
    canary = None
    if workflow.release_state == ReleaseState.CANARY:
        canary = {
            "version": workflow.canary_version.number,
            "percent": workflow.canary_percent,
            "started_at": workflow.canary_started_at.isoformat(),
        }
    return {
        "publish_gate": workflow.publish_gate,
        "coverage_threshold": workflow.coverage_threshold,
        "rollback_criteria": workflow.rollback_criteria,
        "input_schema": workflow.input_schema,
        "sample_inputs": workflow.sample_inputs,
        "business_key": workflow.business_key,
        "retention_days": workflow.retention_days,
        "retention_archive": workflow.retention_archive,
        "live_version": workflow.live_version.number if workflow.live_version else None,
        "previous_live_version": (
            workflow.previous_live_version.number
            if workflow.previous_live_version
            else None
        ),
        "live_since": workflow.live_since.isoformat() if workflow.live_since else None,
        "canary": canary,
    }


class WorkflowSettingsApi(APIView):
    perms = {"PATCH": access.EDIT}

    @extend_schema(responses=SETTINGS)
    def get(self, request: Request, slug: str) -> Response:
        workflow = selectors.workflow_get(slug=slug, user=request.user)
        return Response(settings_dict(workflow))

    @extend_schema(request=SettingsInput, responses=SETTINGS)
    def patch(self, request: Request, slug: str) -> Response:
        workflow = selectors.workflow_get(slug=slug, user=request.user)
        data = SettingsInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = list(data.validated_data)
        before = settings_dict(workflow)
        for field, value in data.validated_data.items():
            setattr(workflow, field, value)
        after = settings_dict(workflow)
        with transaction.atomic():
            workflow.save(update_fields=[*fields, "updated_at"])
            audit.announce(
                kind="settings_changed",
                actor=request.user,
                changes=audit.diff(before, after, fields=fields),
                subject="settings",
                workflow=workflow,
            )
        return Response(after)
