"""People follow one run on its page: the graph colored live, controls, retries."""

import os
from pathlib import Path
from typing import Any

import pytest

from runs.models import Run
from runs.services.controls import run_cancel
from runs.services.starting import run_start
from tests.support import linear_graph

pytestmark = pytest.mark.e2e
# README images are refreshed only on request (SWITCHYARD_DOC_SCREENSHOTS=1), so a
# test run leaves the checkout clean.
DOC_IMAGES = Path(__file__).resolve().parents[2] / (
    "docs/images" if os.environ.get("SWITCHYARD_DOC_SCREENSHOTS") else "var/screenshots"
)


def _wait_graph() -> dict[str, Any]:
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "prepare", "type": "task", "action": "builtin.noop"},
            {"id": "hold", "type": "wait", "seconds": 600},
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "prepare"},
            {"id": "e2", "source": "prepare", "target": "hold"},
            {"id": "e3", "source": "hold", "target": "done"},
        ],
    }


def _node(page: Any, node_id: str, state: str, timeout: float = 30_000) -> None:
    page.wait_for_selector(
        f"[data-testid=run-node-{node_id}][data-state={state}]", timeout=timeout
    )


def test_run_page_colors_nodes_as_steps_finish(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    """Each node turns running, then succeeded, without a reload."""
    graph = linear_graph(3, action="builtin.sleep", params={"seconds": 0.6})
    graph["nodes"][1]["params"] = {"seconds": 1.5}  # Time to open the page.
    graph["nodes"][1]["label"] = "Warm up"
    # A flaky task between s2 and s3: its first attempt fails, the retry succeeds.
    graph["nodes"].insert(
        3,
        {
            "id": "charge",
            "type": "task",
            "label": "Charge card",
            "action": "builtin.fail",
            "params": {"until_attempt": 2, "error": "HttpError", "message": "503"},
            "retry": {"max_attempts": 2, "initial_interval_s": 0.2},
        },
    )
    graph["edges"][2] = {"id": "e3", "source": "s2", "target": "charge"}
    graph["edges"].insert(3, {"id": "e3b", "source": "charge", "target": "s3"})
    workflow = workflow_factory(graph, slug="sleepy")
    run, _ = run_start(workflow=workflow, input={"order": {"id": 7}}, actor="test")

    page = logged_in
    page.goto(f"{asgi_server}/runs/{run.pk}/")
    page.wait_for_selector("[data-testid=run-graph] [data-testid=run-node-s1]")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    # Nodes not reached yet are drawn as such; each one runs, then succeeds.
    for node in ("s2", "s3"):
        _node(page, node, "running")
        assert page.get_by_test_id(f"run-card-node-{node}").is_visible()
    _node(page, "s3", "succeeded")
    for node in ("s1", "s2", "charge", "s3"):
        _node(page, node, "succeeded")
    page.wait_for_selector("[data-testid=run-state][data-state=succeeded]")
    assert page.get_by_test_id("run-node-done").get_attribute("data-state") in (
        "succeeded",
        "unvisited",
    )
    assert navigations == []

    # Steps list their attempts with a queue delay; the timeline has every event.
    page.wait_for_selector("[data-testid=step-s2-1][data-state=succeeded]")
    attempt = run.steps.get(node_id="s2").attempts.get()
    page.wait_for_selector(f"[data-testid=attempt-{attempt.pk}][data-state=succeeded]")
    assert page.get_by_test_id(f"attempt-delay-{attempt.pk}").inner_text() != "—"
    events = run.events.count()
    page.wait_for_selector(f"[data-testid=timeline][data-count='{events}']")
    page.get_by_test_id("run-input-json").get_by_text('"order"').wait_for()
    first, second = run.steps.get(node_id="charge").attempts.order_by("number")
    page.wait_for_selector(f"[data-testid=attempt-{first.pk}][data-state=failed]")
    assert "HttpError" in page.get_by_test_id(f"attempt-{first.pk}").inner_text()
    page.wait_for_selector(f"[data-testid=attempt-{second.pk}][data-state=succeeded]")
    # Finished: no control but retry is offered, and retry is refused for success.
    for action in ("cancel", "pause", "resume", "retry"):
        assert page.get_by_test_id(f"run-action-{action}").is_disabled()
    page.get_by_test_id("reruns-empty").wait_for()
    DOC_IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOC_IMAGES / "run.png"), full_page=True)


def test_cancel_button_cancels_and_is_disabled_afterwards(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    """Pause, resume and cancel follow the state machine; retry then needs a node."""
    workflow = workflow_factory(_wait_graph(), slug="waiting")
    run, _ = run_start(workflow=workflow, input={}, actor="test")

    page = logged_in
    page.goto(f"{asgi_server}/runs/{run.pk}/")
    _node(page, "hold", "waiting")
    _node(page, "prepare", "succeeded")
    page.wait_for_selector("[data-testid=run-state][data-state=running]")
    assert page.get_by_test_id("run-action-resume").is_disabled()
    assert page.get_by_test_id("run-action-retry").is_disabled()

    page.get_by_test_id("run-action-pause").click()
    page.wait_for_selector("[data-testid=run-state][data-state=paused]")
    assert page.get_by_test_id("run-action-pause").is_disabled()
    page.get_by_test_id("run-action-resume").click()
    page.wait_for_selector("[data-testid=run-state][data-state=running]")

    page.get_by_test_id("run-action-cancel").click()
    page.get_by_test_id("run-action-cancel-confirm").click()
    page.wait_for_selector("[data-testid=run-state][data-state=cancelled]")
    page.wait_for_selector("[data-testid=run-action-cancel]:disabled")
    assert page.get_by_test_id("run-action-pause").is_disabled()
    run.refresh_from_db()
    assert run.state == "cancelled"
    _node(page, "hold", "cancelled")

    # The run has no failed task: the server refuses a retry without a node, and the
    # page says why; retrying from the wait node runs it again.
    page.get_by_test_id("run-action-retry").click()
    page.get_by_test_id("retry-submit").click()
    errors = page.get_by_test_id("retry-errors")
    errors.wait_for()
    assert "no failed step" in errors.inner_text()
    page.get_by_test_id("retry-input").fill("[1]")
    page.get_by_test_id("retry-input-error").wait_for()
    assert page.get_by_test_id("retry-submit").is_disabled()
    page.get_by_test_id("retry-input").fill('{"note": "again"}')
    page.get_by_test_id("retry-from-node").select_option("hold")
    page.get_by_test_id("retry-submit").click()
    page.wait_for_selector("[data-testid=run-state][data-state=running]")
    page.get_by_test_id("rerun-1").get_by_text("hold").wait_for()
    _node(page, "hold", "waiting")
    assert page.get_by_test_id("run-action-cancel").is_enabled()
    assert Run.objects.get(pk=run.pk).input == {"note": "again"}


def test_run_page_shows_the_servers_refusal(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    """When the run moved on behind the page, the 409 message is shown and the page
    catches up."""
    workflow = workflow_factory(_wait_graph(), slug="raced")
    run, _ = run_start(workflow=workflow, input={}, actor="test")
    page = logged_in
    # A silent stand-in for the run's WebSocket: the page hears of no change.
    page.route_web_socket("**/ws/runs/*/", lambda ws: None)
    page.goto(f"{asgi_server}/runs/{run.pk}/")
    page.wait_for_selector("[data-testid=run-state][data-state=running]")
    assert page.get_by_test_id("run-action-pause").is_enabled()

    run_cancel(run=Run.objects.get(pk=run.pk), actor="test", reason="elsewhere")
    page.get_by_test_id("run-action-pause").click()
    errors = page.get_by_test_id("run-action-errors")
    errors.wait_for()
    assert "cancelled" in errors.inner_text() or "pause" in errors.inner_text()
    page.wait_for_selector("[data-testid=run-state][data-state=cancelled]")
    assert page.get_by_test_id("run-action-pause").is_disabled()
