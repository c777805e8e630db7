"""A run's expression errors name where they came from: the param path or the edge."""

from typing import Any

import pytest

from runs.models import Event, RunState, StepState
from runs.services.starting import run_start
from tests.support import choice_graph, drive, linear_graph

pytestmark = pytest.mark.django_db


def test_param_error_names_the_param_path_on_the_step_and_the_run(
    workflow_factory: Any,
) -> None:
    workflow = workflow_factory(
        linear_graph(
            1,
            action="builtin.echo",
            params={"json": {"order": "=input.order.id"}, "n": 1},
        )
    )
    run, _ = run_start(workflow=workflow, input={"order": {}}, actor="system")
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    step = run.steps.get(node_id="s1")
    assert step.state == StepState.FAILED
    expected = "params.json.order (=input.order.id): cannot evaluate: "
    assert step.error["type"] == "ExpressionError"
    assert step.error["message"].startswith(expected)
    assert "'id'" in step.error["message"]
    assert run.error["message"].startswith(expected)
    # The attempt's failure event carries the error (the step's follows it).
    assert any(
        expected in str(event.data) or expected in event.reason
        for event in Event.objects.filter(step=step, to_state=StepState.FAILED)
    )


def test_param_error_in_a_list_names_the_index(workflow_factory: Any) -> None:
    workflow = workflow_factory(
        linear_graph(1, action="builtin.echo", params={"to": ["a", "=1 + 'b'"]})
    )
    run, _ = run_start(workflow=workflow, input={}, actor="system")
    drive(run)
    step = run.steps.get(node_id="s1")
    assert step.error["message"] == (
        "params.to[1] (=1 + 'b'): cannot evaluate: no operator + for int and string"
    )


def test_choice_condition_error_names_the_edge(workflow_factory: Any) -> None:
    workflow = workflow_factory(choice_graph())
    run, _ = run_start(workflow=workflow, input={}, actor="system")
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    message = run.error["message"]
    assert message.startswith(
        "edge to_big pick→big (when input.amount > 1000): cannot evaluate: "
    ), message
    assert "'amount'" in message
    step = run.steps.get(node_id="pick")
    assert step.error["message"] == message


def test_non_boolean_condition_names_the_edge(workflow_factory: Any) -> None:
    graph = choice_graph()
    graph["edges"][1]["when"] = "input.amount"
    workflow = workflow_factory(graph)
    run, _ = run_start(workflow=workflow, input={"amount": 3}, actor="system")
    run.refresh_from_db()
    assert run.error["message"] == (
        "edge to_big pick→big (when input.amount): condition must be true or false"
    )
