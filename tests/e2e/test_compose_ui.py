"""Composed workflows in the browser: a workflow with a receive, a map and a call is
drawn by mouse in the editor, its fields set in the inspector, published, scheduled,
run and watched to its end on the run page; a workflow with all three opens with no
problems, and its run page shows the map step's items as counts and a grid of
squares, a state's count listing that state's items."""

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from designer import services
from designer.models import Workflow
from runs import messages
from runs.models import MapItem, Run, StepRun
from tests.e2e.canvas import (
    click_edge,
    connect,
    drop,
    edge_between,
    open_editor,
)
from tests.support import echo_child_graph, wait_for

pytestmark = pytest.mark.e2e
SCREENSHOT = "/tmp/mapgrid.png"
LINES = 40
FAILING = {7, 19, 23, 31}  # items whose action fails (no retry), within tolerance


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


def _inspect(page: Any, node_id: str) -> Any:
    """Select a node on the canvas; return its inspector."""
    page.get_by_test_id(f"node-{node_id}").click()
    inspector = page.locator(f"[data-testid=inspector-node][data-node-id='{node_id}']")
    inspector.wait_for()
    return inspector


def test_workflow_drawn_with_receive_map_and_call_is_published_scheduled_and_run(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    page = logged_in
    workflow_factory(echo_child_graph(), slug="receipt")
    services.workflow_create(slug="drawn-batch", name="Drawn batch")
    open_editor(page, asgi_server, "drawn-batch")
    page.get_by_test_id("canvas-empty-hint").wait_for()

    # start → receive → map → call → done, dropped from the palette and wired by hand.
    click_edge(page, "e1")
    page.keyboard.press("Delete")
    page.get_by_test_id("edge-e1").wait_for(state="detached")
    ready = drop(page, "receive", 120, 120)
    lines = drop(page, "map", 345, 120)
    receipt = drop(page, "call", 570, 120)
    late = drop(page, "end", 460, 260)
    connect(page, "start", ready)
    connect(page, ready, lines)
    connect(page, lines, receipt)
    connect(page, receipt, "done")
    connect(page, ready, late)
    expect(page.locator("[data-testid^=edge-]")).to_have_count(5)
    page.get_by_test_id("auto-layout").click()

    # Each node's fields in the inspector.
    inspector = _inspect(page, ready)
    inspector.get_by_test_id("inspector-message").fill("batch.ready")
    inspector.get_by_test_id("inspector-key").fill("input.batch")
    # Its wait has a timeout: the edge to the other end becomes its timeout route.
    click_edge(page, edge_between(page, ready, late))
    page.get_by_test_id("edge-timeout").check()
    _inspect(page, late).get_by_test_id("inspector-status").select_option("failed")
    inspector = _inspect(page, lines)
    inspector.get_by_test_id("inspector-items").fill("input.lines")
    inspector.get_by_test_id("inspector-action").select_option("builtin.echo")
    inspector.get_by_test_id("param-json").fill('{"line": "=item", "at": "=index"}')
    inspector.get_by_test_id("inspector-max_concurrency").fill("2")
    inspector = _inspect(page, receipt)
    inspector.get_by_test_id("inspector-workflow").fill("receipt")
    inspector.get_by_test_id("inspector-params-json").fill(
        '{"batch": "=input.batch", "lines": "=steps.' + lines + '.output"}'
    )
    expect(page.get_by_test_id("issues-error-count")).to_have_text("0 errors")

    page.get_by_test_id("save-draft").click()
    page.wait_for_selector("[data-testid=version-status][data-status=draft]")
    page.get_by_test_id("publish").click()
    page.wait_for_selector("[data-testid=version-status][data-status=published]")
    live = Workflow.objects.get(slug="drawn-batch").live_version
    assert live is not None
    nodes = {n["id"]: n for n in live.graph["nodes"]}
    assert nodes[ready]["message"] == "batch.ready"
    assert nodes[late]["status"] == "failed"
    timeouts = [e for e in live.graph["edges"] if e.get("on") == "timeout"]
    assert [(e["source"], e["target"]) for e in timeouts] == [(ready, late)]
    assert nodes[lines]["params"] == {"line": "=item", "at": "=index"}
    assert nodes[receipt]["params"]["batch"] == "=input.batch"

    # A nightly schedule, its next fire times shown before it is saved.
    page.get_by_test_id("schedules-toggle").click()
    panel = page.get_by_test_id("schedules-panel")
    panel.get_by_test_id("schedule-new").click()
    panel.get_by_test_id("schedule-name").fill("Nightly")
    panel.get_by_test_id("schedule-cron").fill("0 3 * * *")
    panel.get_by_test_id("schedule-input").fill(
        json.dumps({"batch": "nightly", "lines": [1, 2]})
    )
    panel.get_by_test_id("schedule-save").scroll_into_view_if_needed()
    panel.get_by_test_id("schedule-save").click()
    expect(panel.locator("[data-testid^=schedule-][data-name=Nightly]")).to_be_visible()
    page.get_by_test_id("schedules-toggle").click()

    # A run by hand, watched on its run page: it waits for its message, maps, calls.
    page.get_by_test_id("run-open").click()
    page.get_by_test_id("run-input").fill(
        json.dumps({"batch": "b9", "lines": ["a", "b", "c", "d", "e"]})
    )
    page.get_by_test_id("start-run").click()
    link = page.get_by_test_id("run-link")
    link.wait_for()
    run = Run.objects.get(pk=int(link.get_attribute("data-run-id") or 0))
    link.click()
    page.wait_for_url(f"**/runs/{run.pk}/")
    waiting = wait_for(
        lambda: StepRun.objects.filter(run=run, node_id=ready, state="waiting").first(),
        what="the receive step to wait",
    )
    form = page.get_by_test_id(f"message-form-{waiting.pk}")
    expect(form.get_by_test_id("message-key")).to_have_value("b9")
    form.get_by_test_id("message-payload").fill('{"ok": true}')
    form.get_by_test_id("message-send").click()
    # The answer shows until the run moves on, when the form goes with its waiting
    # step (under load that can come first): either proves the delivery.
    answer = form.get_by_test_id("message-answer")

    def delivered() -> list[str]:
        texts = answer.all_text_contents()
        if texts:
            return texts
        moved = StepRun.objects.filter(pk=waiting.pk).exclude(state="waiting")
        return ["moved on"] if moved.exists() else []

    outcome = wait_for(delivered, what="the message to be delivered")
    assert outcome in ([f"Delivered to run #{run.pk}."], ["moved on"])
    expect(page.get_by_test_id("run-state")).to_have_attribute(
        "data-state", "succeeded", timeout=60_000
    )
    mapped = StepRun.objects.get(run=run, node_id=lines)
    expect(page.get_by_test_id(f"map-progress-{mapped.pk}")).to_have_text(
        "5 of 5 finished"
    )
    child = Run.objects.get(parent_run=run)
    expect(page.get_by_test_id(f"child-run-state-{child.pk}")).to_have_text("succeeded")
    params = [item["params"] for item in mapped.output]
    assert params == [{"line": line, "at": i} for i, line in enumerate("abcde")]
    assert child.input == {"batch": "b9", "lines": mapped.output}
    page.screenshot(path="/tmp/drawn-batch.png", full_page=True)


def test_composed_workflow_is_published_scheduled_and_its_map_shows_items(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    page = logged_in
    page.set_viewport_size({"width": 1024, "height": 768})
    workflow_factory(echo_child_graph(), slug="receipt")
    workflow_factory(_batch(), slug="batch", publish=False)

    # The three node types render, and the editor finds nothing wrong.
    open_editor(page, asgi_server, "batch")
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
