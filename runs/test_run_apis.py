"""HTTP API for "run from here": a test run of a draft seeded with a run's data
(`POST /api/v1/workflows/{slug}/versions/{n}/test-runs/`, runs.services.test_runs)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.parsers import MAX_ID
from designer import access
from designer import selectors as designer_selectors
from runs import selectors
from runs.events import actor_of
from runs.serializers import RunSummaryOutput
from runs.services.test_runs import run_test_from


class TestRunInput(serializers.Serializer):
    run = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    node = serializers.CharField(max_length=64)


class TestRunsApi(APIView):
    # A test run edits nothing but runs the draft's tasks for real: both roles.
    perms = {"POST": (access.EDIT, access.OPERATE)}

    @extend_schema(request=TestRunInput, responses={201: RunSummaryOutput})
    def post(self, request: Request, slug: str, number: int) -> Response:
        workflow = designer_selectors.workflow_get(slug=slug, user=request.user)
        draft = designer_selectors.version_get(workflow=workflow, number=number)
        data = TestRunInput(data=request.data)
        data.is_valid(raise_exception=True)
        source = selectors.run_get(run_id=data.validated_data["run"], user=request.user)
        run = run_test_from(
            workflow=workflow,
            draft=draft,
            source=source,
            node_id=data.validated_data["node"],
            actor=actor_of(request.user),
            created_by=request.user,
        )
        return Response(RunSummaryOutput(run).data, status=status.HTTP_201_CREATED)
