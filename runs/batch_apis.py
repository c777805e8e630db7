"""HTTP API for starting many runs of one workflow in one request."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import TOO_LARGE
from designer import access
from designer import selectors as designer_selectors
from designer.models import Workflow, WorkflowVersion
from runs.apis import RunStartInput
from runs.events import actor_of
from runs.models import Run
from runs.services.starting import MAX_BATCH_RUNS, RunRequest, runs_start_batch


class RunRequestsField(serializers.ListField):
    """1 to MAX_BATCH_RUNS run requests; more answers 413 before any is read."""

    def to_internal_value(self, data: Any) -> list[Any]:
        if isinstance(data, list) and len(data) > MAX_BATCH_RUNS:
            raise serializers.ValidationError(
                f"a batch starts at most {MAX_BATCH_RUNS} runs; this one has "
                f"{len(data)}",
                code=TOO_LARGE,
            )
        return super().to_internal_value(data)


class RunBatchInput(serializers.Serializer):
    # Each item as the single start takes it: {input, version?, idempotency_key?}.
    runs = RunRequestsField(
        child=RunStartInput(), min_length=1, max_length=MAX_BATCH_RUNS
    )


class RunBatchItemOutput(serializers.Serializer):
    """One started (or found) run, as `batch_item_dict` writes it (schema only)."""

    id = serializers.IntegerField()
    state = serializers.CharField()
    version = serializers.IntegerField()
    idempotency_key = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    # True: an earlier run had this idempotency key; this is that run.
    duplicate = serializers.BooleanField()


class RunBatchOutput(serializers.Serializer):
    runs = RunBatchItemOutput(many=True)


# Dates written as the run summaries write them.
_DATETIME = serializers.DateTimeField()


def batch_item_dict(run: Run, *, created: bool) -> dict[str, Any]:
    """Return one run of a batch's answer (a plain dict: a batch has 1,000 of them)."""
    return {
        "id": run.pk,
        "state": run.state,
        "version": run.version.number,
        "idempotency_key": run.idempotency_key,
        "created_at": _DATETIME.to_representation(run.created_at),
        "duplicate": not created,
    }


def _versions(
    workflow: Workflow, items: list[dict[str, Any]]
) -> dict[int, WorkflowVersion]:
    """Return the versions the items pin, by number; 404 naming the first unknown."""
    numbers = {item["version"] for item in items if "version" in item}
    if not numbers:
        return {}
    found = {
        v.number: v
        for v in designer_selectors.version_list(workflow=workflow).filter(
            number__in=numbers
        )
    }
    for index, item in enumerate(items):
        number = item.get("version")
        if number is not None and number not in found:
            # As the single start answers for an unknown version, naming the item.
            raise exceptions.NotFound(
                {
                    "runs": {
                        index: {"version": [f"{workflow.slug} has no version {number}"]}
                    }
                }
            )
    return found


class WorkflowRunsBatchApi(APIView):
    """Start up to 1,000 runs in one transaction: all of them, or none."""

    perms = {"POST": access.OPERATE}

    @extend_schema(
        request=RunBatchInput,
        # 200: every item's idempotency key belongs to an earlier run.
        responses={201: RunBatchOutput, 200: RunBatchOutput},
    )
    def post(self, request: Request, slug: str) -> Response:
        workflow = designer_selectors.workflow_get(slug=slug, user=request.user)
        data = RunBatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        items = data.validated_data["runs"]
        versions = _versions(workflow, items)
        started = runs_start_batch(
            workflow=workflow,
            requests=[
                RunRequest(
                    input=item["input"],
                    idempotency_key=item.get("idempotency_key"),
                    version=versions[item["version"]] if "version" in item else None,
                )
                for item in items
            ],
            actor=actor_of(request.user),
            created_by=request.user,
        )
        created = any(made for _, made in started)
        return Response(
            {"runs": [batch_item_dict(run, created=made) for run, made in started]},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
