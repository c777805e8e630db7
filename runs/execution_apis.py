"""HTTP API for a run's data in the editor: the params a step's attempts were given
(`GET /api/v1/runs/{id}/steps/{step_id}/params/`) and an expression evaluated
against a run (`POST /api/v1/expressions/preview/`).

Attempts do not store their evaluated params (the hot path writes as little as it
can); they are evaluated again here from what the run stored: its input and the
outputs of the steps that had succeeded when the step started. Expressions are
pure, so that is what the attempt was given. Step outputs are stored with their
connection's secrets redacted (engine.tasks), so no secret can appear here either.
"""

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from designer import access
from designer.expression_apis import (
    ExpressionApi,
    ExpressionInput,
    expression_source,
    problem_of,
)
from designer.limits import SimulatingApi, simulation_budget
from engine.expressions import (
    ExpressionError,
    compile_expression,
    evaluate_params,
    param_expressions,
)
from runs import selectors
from runs.models import Run, StepRun, StepState

# The largest value (params or a preview) answered, as JSON; larger is left out and
# its size said instead.
MAX_VALUE_BYTES = 65_536


def _bounded(value: Any) -> dict[str, Any]:
    """Return {"value": value}, or {"value": None, "too_large": bytes} when large."""
    size = len(json.dumps(value, separators=(",", ":"), default=str))
    if size > MAX_VALUE_BYTES:
        return {"value": None, "too_large": size}
    return {"value": value}


def run_context(
    run: Run,
    steps: Iterable[StepRun],
    *,
    before: datetime | None = None,
    outcome: Any = None,
    attempt: int | None = None,
) -> dict[str, Any]:
    """Return the expression context the engine gives: input, step outputs, run.

    `steps.<id>.output` is the output of the node's latest succeeded visit (finished
    by `before`, when given), as in runs.services.advancing.Advance.context.
    """
    outputs: dict[str, Any] = {}
    for step in sorted(steps, key=lambda s: s.pk):
        if step.state != StepState.SUCCEEDED or step.compensates_id is not None:
            continue
        if before is not None and (
            step.finished_at is None or step.finished_at > before
        ):
            continue
        outputs[step.node_id] = {"output": step.output}
    return {
        "input": run.input,
        "steps": outputs,
        "outcome": outcome,
        "run": {"id": run.pk},
        "attempt": attempt,
    }


def _node(run: Run, node_id: str) -> dict[str, Any] | None:
    nodes = (run.version.graph or {}).get("nodes", [])
    return next((n for n in nodes if n.get("id") == node_id), None)


class StepParamsApi(SimulatingApi):
    """The params each attempt of a step was given, evaluated again from the run."""

    perms = {"GET": access.VIEW}

    @extend_schema(responses=serializers.DictField())
    def get(self, request: Request, run_id: int, step_id: int) -> Response:
        run = selectors.run_get(run_id=run_id, user=request.user)
        steps = list(run.steps.all())
        step = next((s for s in steps if s.pk == step_id), None)
        if step is None:
            raise Http404(f"run {run_id} has no step {step_id}")
        node = _node(run, step.node_id) or {}
        params = node.get("params", {})
        expressions = [path for path, _ in param_expressions(params)]
        before = step.started_at or step.created_at
        answers = []
        with simulation_budget():
            numbers: list[int | None] = [a.number for a in step.attempts.all()]
            for number in numbers or [None]:
                context = run_context(run, steps, before=before, attempt=number)
                try:
                    value = evaluate_params(params, context)
                    answer: dict[str, Any] = {"number": number, **_bounded(value)}
                except ExpressionError as exc:
                    answer = {"number": number, "value": None, "error": exc.message}
                answers.append(answer)
        return Response(
            {
                "step_id": step.pk,
                "node_id": step.node_id,
                "expressions": expressions,
                "attempts": answers,
            }
        )


class PreviewInput(ExpressionInput):
    run_id = serializers.IntegerField(min_value=1)
    # The node whose step gives `outcome` and `attempt` (an edge's source), if any.
    node_id = serializers.CharField(max_length=64, required=False)


class ExpressionPreviewApi(ExpressionApi):
    """Evaluate an expression against a run's data, within a request's budget."""

    perms = {"POST": access.VIEW}

    @extend_schema(request=PreviewInput, responses=serializers.DictField())
    def post(self, request: Request) -> Response:
        data = PreviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        run = selectors.run_get(run_id=data.validated_data["run_id"], user=request.user)
        steps = list(run.steps.all())
        source = expression_source(data.validated_data["expression"])
        node_id = data.validated_data.get("node_id")
        outcome, attempt = None, None
        if node_id:
            visits = [s for s in steps if s.node_id == node_id]
            if visits:
                latest = max(visits, key=lambda s: s.pk)
                outcome = latest.output
                attempt = max((a.number for a in latest.attempts.all()), default=None)
        context = run_context(run, steps, outcome=outcome, attempt=attempt)
        with simulation_budget():
            try:
                value = compile_expression(source).evaluate(context)
            except ExpressionError as exc:
                return Response({"ok": False, "errors": [problem_of(source, exc)]})
        return Response({"ok": True, **_bounded(value)})
