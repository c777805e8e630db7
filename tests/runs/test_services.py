"""Run services: transitions, their Event rows, publishing after commit."""

from typing import Any

import pytest
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from runs.models import Attempt, Event, Run, RunState, StepRun, StepState
from runs.services.attempts import attempt_finish, attempt_start
from runs.services.starting import run_start
from tests.support import choice_graph, drive, linear_graph

pytestmark = pytest.mark.django_db


def test_start_publishes_the_first_attempt_only_after_commit(
    workflow_factory: Any, django_capture_on_commit_callbacks: Any
) -> None:
    workflow = workflow_factory(linear_graph(2))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run, created = run_start(workflow=workflow, input={}, actor="user:alice")
    assert created
    assert len(callbacks) == 1
    run.refresh_from_db()
    assert run.state == RunState.RUNNING
    steps = {s.node_id: s.state for s in run.steps.all()}
    assert steps == {"start": StepState.SUCCEEDED, "s1": StepState.QUEUED}
    kinds = list(Event.objects.filter(run=run).values_list("kind", flat=True))
    assert kinds[:2] == ["run_created", "run_running"]
    assert "attempt_queued" in kinds


def test_linear_run_succeeds_with_outputs(workflow_factory: Any) -> None:
    workflow = workflow_factory(linear_graph(5, action="builtin.echo", params={"n": 1}))
    run, _ = run_start(workflow=workflow, input={"x": 1}, actor="system")
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    assert run.output["s5"] == {"params": {"n": 1}, "input": {"x": 1}}
    assert run.steps.filter(state=StepState.SUCCEEDED).count() == 7


def test_every_state_change_has_an_event_row(workflow_factory: Any) -> None:
    workflow = workflow_factory(linear_graph(2))
    run, _ = run_start(workflow=workflow, input={}, actor="system")
    drive(run)
    for step in run.steps.all():
        assert Event.objects.filter(step=step, to_state=step.state).exists()
    for attempt in run.attempts.all():
        assert Event.objects.filter(attempt=attempt, to_state=attempt.state).exists()
    assert Event.objects.filter(run=run, kind="run_succeeded").count() == 1


def test_choice_takes_selected_branch_and_skips_the_other(
    workflow_factory: Any,
) -> None:
    workflow = workflow_factory(choice_graph())
    run, _ = run_start(workflow=workflow, input={"amount": 5000}, actor="system")
    drive(run)
    run.refresh_from_db()
    states = {s.node_id: s.state for s in run.steps.all()}
    assert run.state == RunState.SUCCEEDED
    assert states["big"] == StepState.SUCCEEDED
    assert states["small"] == StepState.SKIPPED
    assert states["after_small"] == StepState.SKIPPED
    assert run.steps.get(node_id="pick").taken_edges == ["to_big"]


def test_choice_default_branch(workflow_factory: Any) -> None:
    workflow = workflow_factory(choice_graph())
    run, _ = run_start(workflow=workflow, input={"amount": 5}, actor="system")
    drive(run)
    states = {s.node_id: s.state for s in run.steps.all()}
    assert states["big"] == StepState.SKIPPED
    assert states["small"] == states["after_small"] == StepState.SUCCEEDED


def test_failing_task_fails_the_run_with_the_error(workflow_factory: Any) -> None:
    workflow = workflow_factory(
        linear_graph(3, action="builtin.fail", params={"error": "CardDeclined"})
    )
    run, _ = run_start(workflow=workflow, input={}, actor="system")
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert run.error["type"] == "CardDeclined"
    assert run.error["node_id"] == "s1"
    assert not run.steps.filter(node_id="s2").exists()


def test_flaky_task_is_retried_by_policy(workflow_factory: Any) -> None:
    graph = linear_graph(1, action="builtin.fail", params={"until_attempt": 3})
    graph["defaults"]["retry"] = {
        "max_attempts": 3,
        "initial_interval_s": 0,
        "jitter": "none",
    }
    workflow = workflow_factory(graph)
    run, _ = run_start(workflow=workflow, input={}, actor="system")
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    step = run.steps.get(node_id="s1")
    assert list(step.attempts.values_list("state", flat=True)) == [
        "failed",
        "failed",
        "succeeded",
    ]
    assert step.output == {"attempt": 3}
    kinds = list(Event.objects.filter(step=step).values_list("kind", flat=True))
    assert kinds.count("step_retry_wait") == 2


def test_duplicate_finish_changes_nothing(workflow_factory: Any) -> None:
    workflow = workflow_factory(linear_graph(1))
    run, _ = run_start(workflow=workflow, input={}, actor="system")
    attempt = Attempt.objects.get(run=run)
    attempt_start(attempt_id=attempt.pk, worker="w1")
    assert attempt_finish(attempt_id=attempt.pk, output={}, error=None)
    before = Event.objects.count()
    assert not attempt_finish(attempt_id=attempt.pk, output={}, error=None)
    assert attempt_start(attempt_id=attempt.pk, worker="w2") is None
    assert Event.objects.count() == before


def test_transition_from_wrong_state_is_refused(workflow_factory: Any) -> None:
    workflow = workflow_factory(linear_graph(1))
    run, _ = run_start(workflow=workflow, input={}, actor="system")
    with pytest.raises(TransitionNotAllowed):
        run.start(at=None)


def test_stale_copy_raises_concurrent_transition(workflow_factory: Any) -> None:
    workflow = workflow_factory(linear_graph(1))
    run, _ = run_start(workflow=workflow, input={}, actor="system")
    stale = Run.objects.get(pk=run.pk)
    fresh = Run.objects.get(pk=run.pk)
    fresh.pause()
    fresh.save()
    stale.pause()
    with pytest.raises(ConcurrentTransition):
        stale.save()


def test_state_field_cannot_be_assigned_directly(workflow_factory: Any) -> None:
    workflow = workflow_factory(linear_graph(1))
    run, _ = run_start(workflow=workflow, input={}, actor="system")
    with pytest.raises(AttributeError):
        run.state = RunState.SUCCEEDED


def test_max_concurrent_runs_keeps_extra_runs_pending_then_admits_fifo(
    workflow_factory: Any,
) -> None:
    graph = linear_graph(1)
    graph["max_concurrent_runs"] = 1
    workflow = workflow_factory(graph)
    first, _ = run_start(workflow=workflow, input={}, actor="system")
    second, _ = run_start(workflow=workflow, input={}, actor="system")
    second.refresh_from_db()
    assert second.state == RunState.PENDING
    drive(first)
    second.refresh_from_db()
    assert second.state == RunState.RUNNING


def test_same_idempotency_key_returns_the_same_run(workflow_factory: Any) -> None:
    workflow = workflow_factory(linear_graph(1))
    one, created_one = run_start(
        workflow=workflow, input={}, actor="system", idempotency_key="order-7"
    )
    two, created_two = run_start(
        workflow=workflow, input={}, actor="system", idempotency_key="order-7"
    )
    assert (created_one, created_two) == (True, False)
    assert one.pk == two.pk
    assert StepRun.objects.filter(run=one, node_id="start").count() == 1


def test_param_expressions_are_evaluated_against_input(workflow_factory: Any) -> None:
    workflow = workflow_factory(
        linear_graph(1, action="builtin.echo", params={"amount": "=input.amount * 2"})
    )
    run, _ = run_start(workflow=workflow, input={"amount": 21}, actor="system")
    drive(run)
    run.refresh_from_db()
    assert run.output["s1"]["params"] == {"amount": 42}


def test_choice_condition_that_cannot_evaluate_fails_the_run_cleanly(
    workflow_factory: Any,
) -> None:
    workflow = workflow_factory(choice_graph())
    run, _ = run_start(workflow=workflow, input={}, actor="system")
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert run.error["type"] == "ExpressionError"
    assert run.error["node_id"] == "pick"
    assert run.steps.get(node_id="pick").state == StepState.FAILED
