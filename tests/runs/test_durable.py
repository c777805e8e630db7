"""Durable engine in-process: timers, joins, sagas, controls, reruns, the sweeper."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from designer import services as designer
from runs import releases
from runs.errors import RunError
from runs.models import AttemptState, Event, Run, RunState, StepState
from runs.services.attempts import attempt_finish, attempt_start
from runs.services.controls import run_cancel, run_pause, run_resume, run_retry
from runs.services.recovery import (
    HEARTBEAT_TIMEOUT_S,
    QUEUED_GRACE_S,
    attempts_heartbeat,
    attempts_recover_lost,
    attempts_republish_stuck,
    steps_wake_due,
)
from runs.services.starting import run_start
from tests.support import drive, linear_graph

pytestmark = pytest.mark.django_db


def _graph(nodes: list[dict], edges: list[tuple[str, str] | dict]) -> dict[str, Any]:
    built = []
    for i, edge in enumerate(edges):
        if isinstance(edge, dict):
            built.append(edge)
        else:
            built.append({"id": f"e{i}", "source": edge[0], "target": edge[1]})
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 1}},
        "nodes": [{"id": "start", "type": "start"}, *nodes],
        "edges": built,
    }


def _task(node_id: str, action: str = "builtin.noop", **extra: Any) -> dict:
    return {"id": node_id, "type": "task", "action": action, **extra}


def _states(run: Run) -> dict[str, str]:
    return {s.node_id: s.state for s in run.steps.order_by("id")}


def _kinds(run: Run) -> list[str]:
    return list(Event.objects.filter(run=run).values_list("kind", flat=True))


def test_wait_node_sleeps_until_its_timer_then_continues(workflow_factory: Any) -> None:
    graph = _graph(
        [
            {"id": "nap", "type": "wait", "seconds": 30},
            _task("after"),
            {"id": "done", "type": "end"},
        ],
        [("start", "nap"), ("nap", "after"), ("after", "done")],
    )
    run, _ = run_start(workflow=workflow_factory(graph), input={}, actor="system")
    step = run.steps.get(node_id="nap")
    assert step.state == StepState.WAITING
    assert step.wake_at is not None
    assert steps_wake_due(now=step.wake_at - timedelta(seconds=1)) == 0
    assert steps_wake_due(now=step.wake_at + timedelta(seconds=1)) == 1
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    assert "step_waiting" in _kinds(run)


def test_parallel_of_twenty_joined_with_all_runs_each_branch_once(
    workflow_factory: Any,
) -> None:
    branches = [f"b{i}" for i in range(20)]
    graph = _graph(
        [
            {"id": "fan", "type": "parallel"},
            *[_task(b, "builtin.ledger") for b in branches],
            {"id": "join", "type": "join", "mode": "all"},
            {"id": "done", "type": "end"},
        ],
        [
            ("start", "fan"),
            *[("fan", b) for b in branches],
            *[(b, "join") for b in branches],
            ("join", "done"),
        ],
    )
    run, _ = run_start(workflow=workflow_factory(graph), input={}, actor="system")
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    assert run.attempts.count() == 20
    assert run.steps.filter(node_id="join").count() == 1
    from runs.models import LedgerEntry

    assert LedgerEntry.objects.filter(run=run).count() == 20


def test_join_any_continues_with_the_first_branch_and_cancels_the_rest(
    workflow_factory: Any,
) -> None:
    graph = _graph(
        [
            {"id": "fan", "type": "parallel"},
            _task("quick"),
            {"id": "slow", "type": "wait", "seconds": 3600},
            _task("after_slow"),
            {"id": "join", "type": "join", "mode": "any"},
            {"id": "done", "type": "end"},
        ],
        [
            ("start", "fan"),
            ("fan", "quick"),
            ("fan", "slow"),
            ("slow", "after_slow"),
            ("quick", "join"),
            ("after_slow", "join"),
            ("join", "done"),
        ],
    )
    run, _ = run_start(workflow=workflow_factory(graph), input={}, actor="system")
    drive(run)
    run.refresh_from_db()
    states = _states(run)
    assert run.state == RunState.SUCCEEDED
    assert states["quick"] == StepState.SUCCEEDED
    assert states["slow"] == StepState.CANCELLED
    assert "after_slow" not in states
    assert run.steps.filter(node_id="join").count() == 1


def test_non_retryable_error_fails_at_once_and_takes_the_failure_route(
    workflow_factory: Any,
) -> None:
    graph = _graph(
        [
            _task(
                "charge",
                "builtin.fail",
                params={"error": "CardDeclined"},
                retry={"max_attempts": 5, "non_retryable": ["CardDeclined"]},
            ),
            _task("apologise"),
            {"id": "done", "type": "end"},
            {"id": "stop", "type": "end", "status": "failed"},
        ],
        [
            ("start", "charge"),
            ("charge", "done"),
            {"id": "fail", "source": "charge", "target": "apologise", "on": "failure"},
            ("apologise", "stop"),
        ],
    )
    run, _ = run_start(workflow=workflow_factory(graph), input={}, actor="system")
    drive(run)
    run.refresh_from_db()
    assert run.attempts.filter(step__node_id="charge").count() == 1
    assert _states(run)["apologise"] == StepState.SUCCEEDED
    assert _states(run)["done"] == StepState.SKIPPED
    assert run.state == RunState.FAILED
    assert run.error["type"] == "EndFailed"
    assert "run_compensating" not in _kinds(run)


def _saga_graph(fail_compensation: bool = False) -> dict[str, Any]:
    undo_action = "builtin.fail" if fail_compensation else "builtin.ledger"
    nodes = [
        _task("s1", "builtin.ledger", compensate_with="undo1"),
        _task("s2", "builtin.ledger", compensate_with="undo2"),
        _task("s3", "builtin.ledger", compensate_with="undo3"),
        _task("s4", "builtin.fail"),
        _task("undo1", "builtin.ledger"),
        _task("undo2", undo_action, retry={"max_attempts": 2}),
        _task("undo3", "builtin.ledger"),
        {"id": "done", "type": "end"},
    ]
    edges = [("start", "s1"), ("s1", "s2"), ("s2", "s3"), ("s3", "s4"), ("s4", "done")]
    return _graph(nodes, edges)


def test_failed_saga_compensates_completed_steps_in_reverse_order(
    workflow_factory: Any,
) -> None:
    run, _ = run_start(
        workflow=workflow_factory(_saga_graph()), input={}, actor="system"
    )
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.COMPENSATED
    undo = list(
        run.steps.filter(compensates__isnull=False)
        .order_by("finished_at", "id")
        .values_list("node_id", "compensates__node_id", "state")
    )
    assert undo == [
        ("undo3", "s3", StepState.SUCCEEDED),
        ("undo2", "s2", StepState.SUCCEEDED),
        ("undo1", "s1", StepState.SUCCEEDED),
    ]
    kinds = _kinds(run)
    assert kinds.index("run_failed") < kinds.index("run_compensating")
    assert kinds[-1] == "run_compensated"
    assert run.error["node_id"] == "s4"


def test_a_compensation_that_keeps_failing_leaves_the_run_compensation_failed(
    workflow_factory: Any,
) -> None:
    run, _ = run_start(
        workflow=workflow_factory(_saga_graph(fail_compensation=True)),
        input={},
        actor="system",
    )
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.COMPENSATION_FAILED
    assert run.attempts.filter(step__node_id="undo2").count() == 2
    assert not run.steps.filter(node_id="undo1").exists()


def test_cancel_stops_the_run_and_its_attempts_and_is_refused_afterwards(
    workflow_factory: Any,
) -> None:
    run, _ = run_start(
        workflow=workflow_factory(linear_graph(2)), input={}, actor="system"
    )
    run_cancel(run=run, actor="user:alice", reason="not needed")
    run.refresh_from_db()
    assert run.state == RunState.CANCELLED
    assert run.attempts.get().state == AttemptState.CANCELLED
    assert _states(run)["s1"] == StepState.CANCELLED
    event = Event.objects.get(run=run, kind="run_cancelled")
    assert event.actor == "user:alice"
    with pytest.raises(TransitionNotAllowed):
        run_cancel(run=run, actor="user:alice")


def test_pause_holds_new_work_and_resume_continues_it(
    workflow_factory: Any, django_capture_on_commit_callbacks: Any
) -> None:
    run, _ = run_start(
        workflow=workflow_factory(linear_graph(2)), input={}, actor="system"
    )
    first = run.attempts.get()
    work = attempt_start(attempt_id=first.pk, worker="w")
    assert work is not None
    run_pause(run=run, actor="user:alice")
    # The attempt in flight finishes, but nothing new starts while paused.
    assert attempt_finish(attempt_id=first.pk, output={}, error=None)
    run.refresh_from_db()
    assert run.state == RunState.PAUSED
    assert _states(run) == {"start": "succeeded", "s1": "succeeded"}
    with pytest.raises(TransitionNotAllowed):
        run_pause(run=run, actor="user:alice")
    with django_capture_on_commit_callbacks(execute=False) as published:
        run_resume(run=run, actor="user:alice")
    assert len(published) == 1
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    kinds = _kinds(run)
    assert kinds.index("run_paused") < kinds.index("run_running", 2)


def test_paused_run_does_not_start_queued_attempts(workflow_factory: Any) -> None:
    run, _ = run_start(
        workflow=workflow_factory(linear_graph(1)), input={}, actor="system"
    )
    run_pause(run=run, actor="user:alice")
    attempt = run.attempts.get()
    assert attempt_start(attempt_id=attempt.pk, worker="w") is None
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.QUEUED


def _rerun_graph(action_for_s2: str = "builtin.fail") -> dict[str, Any]:
    failing = action_for_s2 == "builtin.fail"
    params = {"until_attempt": "=input.until"} if failing else {}
    return _graph(
        [
            _task("s1", "builtin.echo"),
            _task("s2", action_for_s2, params=params),
            _task("s3", "builtin.echo"),
            {"id": "done", "type": "end"},
        ],
        [("start", "s1"), ("s1", "s2"), ("s2", "s3"), ("s3", "done")],
    )


def test_retry_from_failure_on_the_original_version_with_an_input_override(
    workflow_factory: Any,
) -> None:
    workflow = workflow_factory(_rerun_graph())
    run, _ = run_start(
        workflow=workflow, input={"until": 99, "order": 7}, actor="system"
    )
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    s1_output = run.steps.get(node_id="s1").output
    run_retry(run=run, actor="user:alice", input={"until": 1})
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    assert run.version.number == 1
    assert run.input == {"until": 1, "order": 7}
    # s1 was kept (one visit, same output); s2 ran again as a second visit.
    assert list(run.steps.filter(node_id="s1").values_list("output", flat=True)) == [
        s1_output
    ]
    assert list(
        run.steps.filter(node_id="s2").order_by("seq").values_list("seq", "state")
    ) == [(1, "failed"), (2, "succeeded")]
    event = Event.objects.get(run=run, kind="run_running", from_state="failed")
    assert event.data["version"] == 1
    assert event.data["version_choice"] == "original"
    assert event.data["from_node"] == "s2"
    assert event.data["input"] == {"until": 1}


def test_retry_from_failure_on_the_live_version(workflow_factory: Any) -> None:
    workflow = workflow_factory(_rerun_graph())
    run, _ = run_start(workflow=workflow, input={"until": 99}, actor="x")
    drive(run)
    v2, _ = designer.version_create(
        workflow=workflow, graph=_rerun_graph("builtin.echo")
    )
    releases.version_publish(version=v2)
    workflow.refresh_from_db()
    run_retry(run=run, actor="user:alice", version="live", input={"n": 2})
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    assert run.version.number == 2
    assert run.steps.get(node_id="s2", seq=2).output["input"] == {"until": 99, "n": 2}
    event = Event.objects.get(run=run, kind="run_running", from_state="failed")
    assert (event.data["version"], event.data["version_choice"]) == (2, "live")


def test_retry_is_refused_for_a_running_run_and_an_unknown_node(
    workflow_factory: Any,
) -> None:
    workflow = workflow_factory(_rerun_graph())
    run, _ = run_start(workflow=workflow, input={"until": 99}, actor="x")
    with pytest.raises(RunError) as running:
        run_retry(run=run, actor="user:alice")
    assert running.value.code == "not_retryable"
    drive(run)
    with pytest.raises(RunError) as unknown:
        run_retry(run=run, actor="user:alice", from_node="nope")
    assert unknown.value.code == "unknown_node"
    run.refresh_from_db()
    assert run.state == RunState.FAILED


def test_sweeper_recovers_an_attempt_whose_worker_died(workflow_factory: Any) -> None:
    graph = linear_graph(1)
    graph["defaults"]["retry"] = {"max_attempts": 3, "initial_interval_s": 0}
    run, _ = run_start(workflow=workflow_factory(graph), input={}, actor="system")
    attempt = run.attempts.get()
    assert attempt_start(attempt_id=attempt.pk, worker="doomed") is not None
    later = timezone.now() + timedelta(seconds=HEARTBEAT_TIMEOUT_S - 5)
    assert attempts_recover_lost(now=later) == 0
    later = timezone.now() + timedelta(seconds=HEARTBEAT_TIMEOUT_S + 1)
    assert attempts_recover_lost(now=later) == 1
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.FAILED
    assert attempt.error["type"] == "WorkerLost"
    retry = run.attempts.get(number=2)
    assert retry.state == AttemptState.QUEUED
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED


def test_heartbeat_keeps_a_long_attempt_alive(workflow_factory: Any) -> None:
    run, _ = run_start(
        workflow=workflow_factory(linear_graph(1)), input={}, actor="system"
    )
    attempt = run.attempts.get()
    attempt_start(attempt_id=attempt.pk, worker="w")
    later = timezone.now() + timedelta(seconds=HEARTBEAT_TIMEOUT_S + 1)
    assert attempts_heartbeat(attempt_ids=[attempt.pk], now=later) == 1
    assert attempts_recover_lost(now=later) == 0


def test_sweeper_republishes_a_lost_message_with_backoff(
    workflow_factory: Any, django_capture_on_commit_callbacks: Any
) -> None:
    run, _ = run_start(
        workflow=workflow_factory(linear_graph(1)), input={}, actor="system"
    )
    attempt = run.attempts.get()
    base = attempt.enqueued_at
    grace = QUEUED_GRACE_S
    assert attempts_republish_stuck(now=base + timedelta(seconds=1)) == 0
    with django_capture_on_commit_callbacks(execute=False) as published:
        assert attempts_republish_stuck(now=base + timedelta(seconds=grace + 1)) == 1
    assert len(published) == 1
    # The second copy waits twice as long.
    soon, later = (base + timedelta(seconds=s) for s in (grace + 2, 2 * grace + 1))
    assert attempts_republish_stuck(now=soon) == 0
    assert attempts_republish_stuck(now=later) == 1
    attempt.refresh_from_db()
    assert attempt.publish_count == 2
    assert attempt.state == AttemptState.QUEUED
    republished = Event.objects.filter(attempt=attempt, kind="attempt_republished")
    assert republished.count() == 2


def test_max_concurrent_runs_two_with_ten_started(workflow_factory: Any) -> None:
    graph = linear_graph(1)
    graph["max_concurrent_runs"] = 2
    workflow = workflow_factory(graph)
    runs = [run_start(workflow=workflow, input={}, actor="x")[0] for _ in range(10)]
    peak = 0
    for _ in range(10):
        running = list(Run.objects.filter(state=RunState.RUNNING))
        peak = max(peak, len(running))
        if not running:
            break
        drive(running[0])
    assert peak == 2
    assert all(Run.objects.get(pk=r.pk).state == RunState.SUCCEEDED for r in runs), (
        "every run was admitted in turn"
    )
    started = list(
        Run.objects.filter(pk__in=[r.pk for r in runs])
        .order_by("started_at")
        .values_list("pk", flat=True)
    )
    assert started == sorted(started)
