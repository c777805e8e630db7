"""Composed workflows in the browser: the palette offers receive, call and map nodes;
a workflow with all three opens in the editor with no problems, is published, gets a
schedule, and its run page shows the map step's items as counts and a grid of
squares, a state's count listing that state's items."""

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from designer import services
from runs import messages
from runs.models import MapItem, Run, StepRun
from tests.support import wait_for

pytestmark = pytest.mark.e2e
SCREENSHOT = "/tmp/mapgrid.png"
LINES = 40
FAILING = {7, 19, 23, 31}  # items whose action fails (no retry), within tolerance


def _open_editor(page: Any, base: str, slug: str) -> None:
    page.goto(f"{base}/workflows/{slug}/edit/")
    page.wait_for_selector("[data-testid=editor][data-loaded=true]")


def _drop(page: Any, node_type: str, x: float, y: float) -> None:
    """Drag a node type from the palette onto the canvas and wait for it to render."""
    before = page.locator(f"[data-node-type={node_type}]").count()
    page.get_by_test_id(f"palette-{node_type}").drag_to(
        page.get_by_test_id("canvas"), target_position={"x": x, "y": y}
    )
    expect(page.locator(f"[data-node-type={node_type}]")).to_have_count(before + 1)


def _child() -> dict[str, Any]:
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "echo", "type": "task", "action": "builtin.echo"},
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "c1", "source": "start", "target": "echo"},
            {"id": "c2", "source": "echo", "target": "done"},
        ],
    }


def _batch() -> dict[str, Any]:
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "ready",
                "type": "receive",
                "label": "Batch ready",
                "message": "batch.ready",
                "key": "input.batch",
                "wait_s": 600,
            },
            {
                "id": "lines",
                "type": "map",
                "label": "Bill each line",
                "items": "input.lines",
                "action": "builtin.fail",
                "params": {"until_attempt": "=item", "message": "line refused"},
                "retry": {"max_attempts": 1},
                "max_concurrency": 10,
                "tolerate_failures": len(FAILING),
            },
            {
                "id": "receipt",
                "type": "call",
                "label": "Send receipt",
                "workflow": "receipt",
                "params": {"batch": "=input.batch"},
            },
            {"id": "done", "type": "end"},
            {"id": "late", "type": "end", "status": "failed"},
            {"id": "failed", "type": "end", "status": "failed"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "ready"},
            {"id": "e2", "source": "ready", "target": "lines"},
            {"id": "e3", "source": "lines", "target": "receipt"},
            {"id": "e4", "source": "receipt", "target": "done"},
            {"id": "e5", "source": "ready", "target": "late", "on": "timeout"},
            {"id": "e6", "source": "lines", "target": "failed", "on": "failure"},
            {"id": "e7", "source": "receipt", "target": "failed", "on": "failure"},
        ],
    }


def test_palette_offers_receive_call_and_map_nodes(
    logged_in: Any, asgi_server: str
) -> None:
    page = logged_in
    services.workflow_create(slug="palette", name="Palette")
    _open_editor(page, asgi_server, "palette")
    page.get_by_test_id("canvas-empty-hint").wait_for()
    _drop(page, "receive", 120, 120)
    _drop(page, "call", 345, 120)
    _drop(page, "map", 570, 120)
    for node_type in ("receive", "call", "map"):
        expect(page.locator(f"[data-node-type={node_type}]")).to_be_visible()


def test_composed_workflow_is_published_scheduled_and_its_map_shows_items(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    page = logged_in
    page.set_viewport_size({"width": 1024, "height": 768})
    workflow_factory(_child(), slug="receipt")
    workflow_factory(_batch(), slug="batch", publish=False)

    # The three node types render, and the editor finds nothing wrong.
    _open_editor(page, asgi_server, "batch")
    for node_id in ("ready", "lines", "receipt"):
        expect(page.get_by_test_id(f"node-{node_id}")).to_be_visible()
    for node_type in ("receive", "call", "map"):
        expect(page.locator(f"[data-node-type={node_type}]")).to_have_count(1)
    expect(page.get_by_test_id("issues-error-count")).to_have_text("0 errors")
    expect(page.get_by_test_id("issues-warning-count")).to_have_text("0 warnings")
    page.get_by_test_id("publish").click()
    page.wait_for_selector("[data-testid=version-status][data-status=published]")

    # A nightly schedule from the Schedules panel.
    page.get_by_test_id("schedules-toggle").click()
    panel = page.get_by_test_id("schedules-panel")
    panel.get_by_test_id("schedule-new").click()
    panel.get_by_test_id("schedule-name").fill("Nightly batch")
    panel.get_by_test_id("schedule-cron").fill("0 3 * * *")
    panel.get_by_test_id("schedule-input").fill(
        json.dumps({"batch": "nightly", "lines": [1] * LINES})
    )
    panel.get_by_test_id("schedule-save").scroll_into_view_if_needed()
    panel.get_by_test_id("schedule-save").click()
    expect(
        panel.locator("[data-testid^=schedule-][data-name='Nightly batch']")
    ).to_be_visible()
    page.get_by_test_id("schedules-toggle").click()

    # Start a run by hand; it waits for its batch to be ready.
    lines = [99 if i in FAILING else 1 for i in range(LINES)]
    page.get_by_test_id("run-open").click()
    page.get_by_test_id("run-input").fill(json.dumps({"batch": "b7", "lines": lines}))
    page.get_by_test_id("start-run").click()
    link = page.get_by_test_id("run-link")
    link.wait_for()
    run = Run.objects.get(pk=int(link.get_attribute("data-run-id") or 0))
    link.click()
    page.wait_for_url(f"**/runs/{run.pk}/")
    receive = wait_for(
        lambda: StepRun.objects.filter(
            run=run, node_id="ready", state="waiting"
        ).first(),
        what="the receive step to wait",
    )
    expect(page.get_by_test_id(f"step-receive-{receive.pk}")).to_contain_text(
        "batch.ready"
    )

    answer = messages.messages_send(
        name="batch.ready", key="b7", payload={"ok": True}, sent_by="test"
    )
    assert answer["delivered_to"] == [run.pk]

    # The worker runs the items; the page follows live to the end of the run.
    expect(page.get_by_test_id("run-state")).to_have_attribute(
        "data-state", "succeeded", timeout=60_000
    )
    step = StepRun.objects.get(run=run, node_id="lines")
    assert MapItem.objects.filter(step=step, state="failed").count() == len(FAILING)
    expect(page.get_by_test_id("step-lines-1")).to_be_visible()
    expect(page.get_by_test_id("step-receipt-1")).to_be_visible()
    expect(page.get_by_test_id(f"map-progress-{step.pk}")).to_have_text(
        f"{LINES} of {LINES} finished"
    )
    succeeded = page.get_by_test_id(f"map-count-{step.pk}-succeeded")
    failed = page.get_by_test_id(f"map-count-{step.pk}-failed")
    expect(succeeded).to_have_attribute("data-count", str(LINES - len(FAILING)))
    expect(failed).to_have_attribute("data-count", str(len(FAILING)))

    # The grid loads only when shown: one square per item, every state known.
    grid = page.get_by_test_id(f"map-grid-{step.pk}")
    expect(grid).to_have_count(0)
    page.get_by_test_id(f"map-toggle-{step.pk}").click()
    expect(grid).to_have_attribute("data-loaded", str(LINES))
    box = grid.bounding_box()
    assert box is not None and box["width"] > 0 and box["height"] > 0

    # A state's count lists that state's items, in item order, with their error.
    failed.click()
    listing = page.get_by_test_id(f"map-items-{step.pk}")
    expect(listing).to_have_attribute("data-state", "failed")
    rows = listing.locator("[data-testid^=map-item-]")
    expect(rows).to_have_count(len(FAILING))
    first = min(FAILING)
    expect(page.get_by_test_id(f"map-item-{step.pk}-{first}")).to_contain_text(
        "line refused"
    )
    grid.scroll_into_view_if_needed()
    page.screenshot(path=SCREENSHOT)

    # The board's scorecard counts the finished run under the trigger that started it.
    page.goto(f"{asgi_server}/board/")
    page.get_by_test_id("tab-scorecard").click()
    page.get_by_test_id("scorecard-workflow").select_option("batch")
    expect(page.get_by_test_id("scorecard-title")).to_have_text("Batch v1")
    expect(page.get_by_test_id("scorecard-tab")).to_have_attribute(
        "data-loading", "false"
    )
    by_trigger = page.get_by_test_id("scorecard-by-trigger")
    expect(by_trigger.locator("tbody tr")).to_have_count(1)
    expect(by_trigger.get_by_test_id("by-trigger-a-api-finished")).to_have_text("1")
    expect(by_trigger.get_by_test_id("by-trigger-a-api-rate")).to_have_text("100 %")
    by_trigger.scroll_into_view_if_needed()
    page.screenshot(path="/tmp/bytrigger.png")
