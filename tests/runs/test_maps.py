"""Map (for-each): one action per item, bounded concurrency, outputs in item order."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from designer.simulation import simulate
from engine.graph.validate import validate_graph
from runs import maps
from runs.models import Event, ItemState, MapItem, MapProgress, RunState, StepState
from runs.services.controls import run_cancel
from runs.services.starting import run_start
from tests.support import drive, echo_child_graph

pytestmark = pytest.mark.django_db

ACTIONS = {"builtin.echo": {"type": "object"}, "builtin.fail": {"type": "object"}}


def _graph(**map_fields: Any) -> dict[str, Any]:
    node = {
        "id": "each",
        "type": "map",
        "items": "input.orders",
        "action": "builtin.echo",
        "params": {"order": "=item", "position": "=index"},
        "max_concurrency": 3,
        **map_fields,
    }
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            node,
            {"id": "done", "type": "end"},
            {"id": "failed", "type": "end", "status": "failed"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "each"},
            {"id": "e2", "source": "each", "target": "done"},
            {"id": "e3", "source": "each", "target": "failed", "on": "failure"},
        ],
    }


def test_outputs_come_in_item_order(workflow_factory: Any) -> None:
    orders = [f"o{i}" for i in range(10)]
    run, _ = run_start(
        workflow=workflow_factory(_graph()), input={"orders": orders}, actor="system"
    )
    step = run.steps.get(node_id="each")
    assert step.state == StepState.RUNNING
    progress = MapProgress.objects.get(step=step)
    assert (progress.total, progress.next_index) == (10, 3)
    queued = MapItem.objects.filter(step=step, state=ItemState.QUEUED).count()
    assert queued == 3, "at most max_concurrency in flight"
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    step.refresh_from_db()
    assert [o["params"]["order"] for o in step.output] == orders
    assert [o["params"]["position"] for o in step.output] == list(range(10))


def test_an_empty_list_succeeds_at_once(workflow_factory: Any) -> None:
    run, _ = run_start(
        workflow=workflow_factory(_graph()), input={"orders": []}, actor="system"
    )
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    assert run.steps.get(node_id="each").output == []


def test_failures_within_the_tolerance_pass(workflow_factory: Any) -> None:
    graph = _graph(
        action="builtin.fail",
        params={"until_attempt": "=item"},
        retry={"max_attempts": 1},
        tolerate_failures=2,
    )
    # Items 1 succeed at once; 2 and 3 fail (attempt 1 < 2 or 3).
    run, _ = run_start(
        workflow=workflow_factory(graph), input={"orders": [1, 1, 2, 3]}, actor="x"
    )
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    output = run.steps.get(node_id="each").output
    assert output[2] is None and output[3] is None


def test_too_many_failures_take_the_failure_edge(workflow_factory: Any) -> None:
    graph = _graph(
        action="builtin.fail", params={}, retry={"max_attempts": 1}, tolerate_percent=50
    )
    run, _ = run_start(
        workflow=workflow_factory(graph), input={"orders": [1, 2, 3]}, actor="x"
    )
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.FAILED  # the failing end
    step = run.steps.get(node_id="each")
    assert step.error["type"] == "MapFailed"
    assert run.steps.get(node_id="failed").state == StepState.SUCCEEDED


def test_items_retry_on_their_own(workflow_factory: Any) -> None:
    graph = _graph(
        action="builtin.fail",
        params={"until_attempt": 2},
        retry={"max_attempts": 3, "jitter": "none"},
    )
    run, _ = run_start(
        workflow=workflow_factory(graph), input={"orders": ["a", "b"]}, actor="x"
    )
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    assert list(MapItem.objects.filter(run=run).values_list("attempts", flat=True)) == [
        2,
        2,
    ]


def test_a_cancelled_run_runs_no_more_items(workflow_factory: Any) -> None:
    run, _ = run_start(
        workflow=workflow_factory(_graph()), input={"orders": list(range(5))}, actor="x"
    )
    run_cancel(run=run, actor="user:x", reason="stop")
    drive(run)
    assert not MapItem.objects.filter(run=run, state=ItemState.SUCCEEDED).exists()


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({"a": 1}, "not a list"),
        (None, "null, not a list"),
        (list(range(10_001)), "at most"),
    ],
)
def test_items_must_be_a_bounded_list(
    workflow_factory: Any, value: Any, fragment: str
) -> None:
    run, _ = run_start(
        workflow=workflow_factory(_graph()), input={"orders": value}, actor="x"
    )
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert fragment in run.error["message"]
    assert "items" in run.error["message"]


def test_map_rules() -> None:
    both = _graph(tolerate_failures=1, tolerate_percent=10)
    assert "map_tolerance" in [
        i.code for i in validate_graph(both, actions=ACTIONS).errors
    ]
    assert not validate_graph(_graph(), actions=ACTIONS).errors


def test_test_cases_run_a_map_with_its_mock() -> None:
    result = simulate(
        _graph(), input={"orders": [1, 2]}, mocks={"each": {"output": {"ok": 1}}}
    )
    assert result.state == "succeeded"
    assert result.steps[1].output == [{"ok": 1}, {"ok": 1}]
    failing = simulate(
        _graph(), input={"orders": [1, 2]}, mocks={"each": {"error": "Boom"}}
    )
    assert failing.end == "failed"


def test_the_run_shows_item_counts_and_pages_items(
    api: Any, workflow_factory: Any
) -> None:
    run, _ = run_start(
        workflow=workflow_factory(_graph()), input={"orders": list(range(7))}, actor="x"
    )
    step = run.steps.get(node_id="each")
    detail = api.get(f"/api/v1/runs/{run.pk}/").json()
    (shown,) = [s for s in detail["steps"] if s["node_id"] == "each"]
    assert shown["map"] == {"total": 7, "by_state": {"queued": 3, "pending": 4}}
    page = api.get(
        f"/api/v1/runs/{run.pk}/steps/{step.pk}/items/?state=pending&limit=2"
    ).json()
    assert page["count"] == 4
    assert [i["index"] for i in page["results"]] == [3, 4]
    assert api.get(f"/api/v1/runs/{run.pk}/steps/999999/items/").status_code == 404


def test_a_map_over_a_workflow_runs_a_child_per_item(
    workflow_factory: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from runs.models import Run

    child = echo_child_graph()
    workflow_factory(child, slug="per-item")
    graph = _graph(params={"n": "=item"}, workflow="per-item")
    del graph["nodes"][1]["action"]
    run, _ = run_start(
        workflow=workflow_factory(graph, slug="mapper"),
        input={"orders": [5, 6, 7]},
        actor="x",
    )
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    children = list(Run.objects.filter(parent_run=run).order_by("parent_item__index"))
    assert [c.input for c in children] == [{"n": 5}, {"n": 6}, {"n": 7}]
    output = run.steps.get(node_id="each").output
    assert output == [c.output for c in children]
    # Cancelling the run cancels the children still running.
    slow = {
        **child,
        "nodes": [
            child["nodes"][0],
            {"id": "nap", "type": "wait", "seconds": 3600},
            child["nodes"][2],
        ],
        "edges": [
            {"id": "c1", "source": "start", "target": "nap"},
            {"id": "c2", "source": "nap", "target": "done"},
        ],
    }
    workflow_factory(slow, slug="slow-item")
    graph["nodes"][1]["workflow"] = "slow-item"
    waiting, _ = run_start(
        workflow=workflow_factory(graph, slug="mapper-2"),
        input={"orders": [1, 2]},
        actor="x",
    )
    drive(waiting)
    assert Run.objects.filter(parent_run=waiting, state="running").count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        run_cancel(run=waiting, actor="user:x", reason="stop")
    assert not Run.objects.filter(parent_run=waiting, state="running").exists()


def test_a_map_needs_an_action_or_a_workflow() -> None:
    both = _graph(workflow="other")
    neither = _graph()
    del neither["nodes"][1]["action"]
    for graph in (both, neither):
        codes = [i.code for i in validate_graph(graph, actions=ACTIONS).errors]
        assert "map_target" in codes


def test_every_item_change_leaves_an_event(workflow_factory: Any) -> None:
    from runs.models import Event

    run, _ = run_start(
        workflow=workflow_factory(_graph()), input={"orders": ["a", "b"]}, actor="x"
    )
    drive(run)
    kinds = list(
        Event.objects.filter(run=run, kind__startswith="map_item_").values_list(
            "kind", flat=True
        )
    )
    assert kinds.count("map_item_running") == 2
    assert kinds.count("map_item_succeeded") == 2
    assert Event.objects.filter(run=run, kind="map_started").exists()


def test_outputs_over_the_step_limit_fail_the_map(
    workflow_factory: Any, settings: Any
) -> None:
    settings.SWITCHYARD_MAX_OUTPUT_BYTES = 500
    run, _ = run_start(
        workflow=workflow_factory(_graph()),
        input={"orders": list(range(20))},
        actor="x",
    )
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    step = run.steps.get(node_id="each")
    assert step.error["type"] == "MapOutputTooLarge"


def test_items_whose_message_was_lost_are_published_again(
    workflow_factory: Any, django_capture_on_commit_callbacks: Any
) -> None:
    run, _ = run_start(
        workflow=workflow_factory(_graph()),
        input={"orders": ["a", "b", "c", "d"]},
        actor="system",
    )
    queued = MapItem.objects.filter(run=run, state=ItemState.QUEUED)
    assert queued.count() == 3
    later = timezone.now() + timedelta(seconds=maps.ITEM_REPUBLISH_S + 1)
    # Not yet: a message may simply be waiting for a worker.
    assert maps.map_items_republish() == 0
    with django_capture_on_commit_callbacks() as published:
        assert maps.map_items_republish(now=later) == 3
    assert len(published) == 3
    events = Event.objects.filter(run=run, kind="map_item_republished")
    assert sorted(e.data["index"] for e in events) == [0, 1, 2]
    # Touched: the next sweep waits again; a duplicate message is harmless.
    assert maps.map_items_republish(now=later) == 0
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
