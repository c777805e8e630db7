"""Draw, check, save, publish, compare and run workflows in the editor, by mouse."""

import json
from pathlib import Path
from typing import Any

import pytest

from designer import services
from designer.models import Workflow
from runs.demo import demo_load
from runs.models import Run
from runs.releases import version_publish
from runs.selectors import version_coverage
from runs.services.starting import run_start
from tests.e2e.canvas import (
    center,
    click_edge,
    connect,
    drop,
    edge_between,
    issue,
    open_editor,
)
from tests.support import linear_graph, wait_for

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_draw_validate_save_publish_and_run_a_workflow_with_the_mouse(
    logged_in: Any, asgi_server: str
) -> None:
    page = logged_in
    page.on("dialog", lambda dialog: dialog.accept())
    services.workflow_create(slug="drawn", name="Drawn by hand")
    open_editor(page, asgi_server, "drawn")

    page.get_by_test_id("canvas-empty-hint").wait_for()
    assert page.get_by_test_id("version-status").get_attribute("data-status") == "new"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "editor-empty.png"))

    # The new graph is start → done; take that edge out to put steps in between.
    click_edge(page, "e1")
    page.keyboard.press("Delete")
    page.get_by_test_id("edge-e1").wait_for(state="detached")

    # One row above start → done, clear of the canvas edges (where dragging a
    # connection pans) and of the problems list below (it grows as issues appear).
    check = drop(page, "task", 120, 120)
    route = drop(page, "choice", 345, 120)
    notify = drop(page, "task", 570, 120)
    assert (check, route, notify) == ("task_1", "choice_1", "task_2")

    connect(page, "start", check)
    connect(page, check, route)
    connect(page, route, notify)
    connect(page, route, "done")
    connect(page, notify, "done")
    page.get_by_test_id("auto-layout").click()
    page.wait_for_timeout(400)  # the fit-view animation (200 ms)
    edges = page.locator("[data-testid^=edge-]").evaluate_all(
        "gs => gs.map(g => g.dataset.testid)"
    )
    assert len(edges) == 5, edges

    # A choice without a default branch: the error is pinned on the node.
    issue(page, "choice_default", route).wait_for()
    choice_node = page.get_by_test_id(f"node-{route}")
    assert choice_node.get_attribute("data-issues") == "error"
    page.get_by_test_id(f"node-{route}-issues").wait_for()
    assert page.get_by_test_id("publish").is_disabled()

    # Clicking the issue selects the node; its inspector lists the branches.
    issue(page, "choice_default", route).click()
    page.get_by_test_id("inspector-node").wait_for()
    assert page.get_by_test_id("inspector-id").inner_text() == route
    page.get_by_test_id("inspector-label").fill("Big order?")
    assert "Big order?" in choice_node.inner_text()

    # Set the condition on one edge and the default on the other, from the edges.
    page.locator(".react-flow__controls-fitview").click()
    page.wait_for_timeout(300)  # the fit-view animation
    to_notify = edge_between(page, route, notify)
    to_done = edge_between(page, route, "done")
    click_edge(page, to_notify)
    page.get_by_test_id("edge-when").fill("input.amount > 100")
    click_edge(page, to_done)
    page.get_by_test_id("edge-default").check()

    issue(page, "choice_default", route).wait_for(state="detached")
    page.wait_for_function(
        "id => !document.querySelector(`[data-testid=node-${id}]`).dataset.issues",
        arg=route,
    )
    page.wait_for_selector("[data-testid=validation-state]:not([data-state=errors])")

    # Save a draft (v1), then publish it.
    page.get_by_test_id("save-draft").click()
    page.wait_for_selector("[data-testid=version-status][data-status=draft]")
    assert page.get_by_test_id("dirty-indicator").count() == 0
    page.get_by_test_id("publish").click()
    page.wait_for_selector("[data-testid=version-status][data-status=published]")
    workflow = Workflow.objects.get(slug="drawn")
    assert workflow.live_version is not None
    assert workflow.live_version.number == 1
    graph = workflow.live_version.graph
    assert {n["id"] for n in graph["nodes"]} == {"start", check, route, notify, "done"}
    by_id = {e["id"]: e for e in graph["edges"]}
    assert by_id[to_notify]["when"] == "input.amount > 100"
    assert by_id[to_done]["default"] is True

    # Start a run of v1 and see it succeed.
    page.get_by_test_id("run-open").click()
    page.get_by_test_id("run-input").fill("{not json")
    page.get_by_test_id("start-run").click()
    page.get_by_test_id("run-input-error").wait_for()
    page.get_by_test_id("run-input").fill(json.dumps({"amount": 500}))
    page.get_by_test_id("start-run").click()
    link = page.get_by_test_id("run-link")
    link.wait_for()
    run_id = int(link.get_attribute("data-run-id"))

    def finished() -> str | None:
        state = str(Run.objects.get(pk=run_id).state)
        return state if state in ("succeeded", "failed", "cancelled") else None

    assert wait_for(finished, timeout=60, what="the run to finish") == "succeeded"
    run = Run.objects.get(pk=run_id)
    visited = set(run.steps.values_list("node_id", flat=True))
    assert notify in visited
    link.click()
    page.wait_for_url(f"**/runs/{run_id}/")


def _order_graph(charge_label: str, charge_attempts: int = 4) -> dict[str, Any]:
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 2}},
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "reserve",
                "type": "task",
                "label": "Reserve",
                "action": "builtin.noop",
            },
            {
                "id": "charge",
                "type": "task",
                "label": charge_label,
                "action": "builtin.echo",
                "params": {"order": "=input"},
                "retry": {"max_attempts": charge_attempts},
            },
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "reserve"},
            {"id": "e2", "source": "reserve", "target": "charge"},
            {"id": "e3", "source": "charge", "target": "done"},
        ],
        "layout": {
            "start": {"x": 0, "y": 0},
            "reserve": {"x": 260, "y": 0},
            "charge": {"x": 520, "y": 0},
            "done": {"x": 780, "y": 0},
        },
    }


def test_diff_of_two_published_versions_highlights_the_changed_node(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    page = logged_in
    workflow = workflow_factory(_order_graph("Charge card"), slug="orders")
    v2, _ = services.version_create(
        workflow=workflow, graph=_order_graph("Charge the card", charge_attempts=6)
    )
    version_publish(version=v2)

    page.set_viewport_size({"width": 1440, "height": 900})
    open_editor(page, asgi_server, "orders")
    assert (
        page.get_by_test_id("version-status").get_attribute("data-status")
        == "published"
    )
    page.get_by_test_id("diff-open").click()
    page.get_by_test_id("diff-view").wait_for()
    changed = page.locator("[data-testid=diff-node-charge][data-diff=changed]")
    changed.wait_for()
    assert page.get_by_test_id("diff-node-reserve").get_attribute("data-diff") is None
    change = page.get_by_test_id("diff-node-changed-charge")
    assert "Charge card" in change.inner_text()
    assert "Charge the card" in change.inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "editor-diff.png"))

    # Make v1 live again from the history, then close the diff.
    page.get_by_test_id("diff-close").click()
    page.get_by_test_id("history-toggle").click()
    page.get_by_test_id("make-live-1").click()
    page.wait_for_selector("[data-testid=version-row-1] .vbadge-live")
    workflow.refresh_from_db()
    assert workflow.live_version is not None
    assert workflow.live_version.number == 1


def test_a_label_with_markup_shows_as_text(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    page = logged_in
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    label = "<img src=x onerror=alert(1)>"
    graph = _order_graph(label)
    workflow_factory(graph, slug="markup")

    open_editor(page, asgi_server, "markup")
    node = page.get_by_test_id("node-charge")
    node.wait_for()
    assert label in node.inner_text()
    node.click()
    assert page.get_by_test_id("inspector-label").input_value() == label
    assert page.locator("img").count() == 0
    assert (
        page.locator("[data-testid=editor] img, [data-testid=canvas] img").count() == 0
    )
    page.get_by_test_id("help-toggle").click()  # any later render: still no dialog
    assert dialogs == []


def test_coverage_overlay_colors_the_edges_runs_took(
    logged_in: Any, asgi_server: str
) -> None:
    page = logged_in
    demo_load()
    workflow = Workflow.objects.get(slug="order-fulfilment")
    run, _ = run_start(workflow=workflow, input={"amount": 20}, actor="test")
    wait_for(
        lambda: Run.objects.get(pk=run.pk).state == "succeeded",
        timeout=60,
        what="the demo run to succeed",
    )

    page.set_viewport_size({"width": 1440, "height": 900})
    open_editor(page, asgi_server, "order-fulfilment")
    page.get_by_test_id("coverage-toggle").click()
    percent = page.get_by_test_id("coverage-percent")
    percent.wait_for()
    assert workflow.live_version is not None
    expected = version_coverage(version=workflow.live_version)
    assert 0 < expected["covered"] < expected["total"]  # the small order skips review
    assert percent.inner_text().strip() == f"{expected['percent']} %"
    for edge in expected["edges"]:
        taken = page.get_by_test_id(f"edge-{edge['id']}").get_attribute("data-taken")
        assert taken == str(edge["taken"]), edge

    page.get_by_test_id("auto-layout").click()
    page.wait_for_timeout(400)  # the fit-view animation
    # The demo has no problem to list (tests/runs/test_demo_graphs.py): select a node.
    page.get_by_test_id("node-charge").click()
    page.locator("[data-testid=inspector-node][data-node-id=charge]").wait_for()
    page.get_by_test_id("issues-toggle").click()  # fold the problems: a taller canvas
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "editor-workflow.png"))


def test_shortcuts_import_export_and_server_errors(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    page = logged_in
    workflow_factory(linear_graph(1), slug="keys", publish=False)
    open_editor(page, asgi_server, "keys")
    nodes = page.locator(".react-flow__node")
    assert nodes.count() == 3

    # Copy, paste, undo, redo and delete with the keyboard.
    page.get_by_test_id("node-s1").click()
    page.keyboard.press("ControlOrMeta+c")
    page.keyboard.press("ControlOrMeta+v")
    page.get_by_test_id("node-s1_1").wait_for()
    assert page.get_by_test_id("inspector-id").inner_text() == "s1_1"
    page.keyboard.press("ControlOrMeta+z")
    page.get_by_test_id("node-s1_1").wait_for(state="detached")
    page.keyboard.press("ControlOrMeta+Shift+z")
    page.get_by_test_id("node-s1_1").wait_for()
    page.get_by_test_id("node-s1_1").click()
    page.keyboard.press("Delete")
    page.get_by_test_id("node-s1_1").wait_for(state="detached")
    assert nodes.count() == 3
    page.keyboard.press("?")
    page.get_by_test_id("help-panel").wait_for()
    page.keyboard.press("Escape")
    page.get_by_test_id("help-panel").wait_for(state="detached")

    # Export downloads the graph as JSON.
    with page.expect_download() as download:
        page.get_by_test_id("export-json").click()
    exported = json.loads(Path(download.value.path()).read_text())
    assert {n["id"] for n in exported["nodes"]} == {"start", "s1", "done"}

    # Import a graph with a bad context expression: only the server compiles
    # expressions, and says so on save.
    handoff = {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "review",
                "type": "handoff",
                "to": {"group": "risk"},
                "outcomes": ["approve", "reject"],
                "sla_s": 600,
                "context": ["input.order.("],
            },
            {"id": "done", "type": "end"},
            {"id": "stop", "type": "end", "status": "failed"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "review"},
            {
                "id": "e2",
                "source": "review",
                "target": "done",
                "when": "outcome == 'approve'",
            },
            {
                "id": "e3",
                "source": "review",
                "target": "stop",
                "when": "outcome == 'reject'",
            },
        ],
    }
    page.get_by_test_id("import-file").set_input_files(
        files=[
            {
                "name": "handoff.json",
                "mimeType": "application/json",
                "buffer": json.dumps(handoff).encode(),
            }
        ]
    )
    page.get_by_test_id("node-review").wait_for()
    page.get_by_test_id("save-draft").click()
    problem = issue(page, "bad_expression", "review")
    problem.wait_for()
    assert problem.get_attribute("data-source") == "server"
    assert page.get_by_test_id("node-review").get_attribute("data-issues") == "error"
    page.get_by_test_id("editor-notice").wait_for()
    assert "Not saved" in page.get_by_test_id("editor-notice").inner_text()
    # Undo the import: the server's objection goes once it agrees again.
    page.keyboard.press("ControlOrMeta+z")
    page.get_by_test_id("node-s1").wait_for()
    problem.wait_for(state="detached")


def _big_graph(nodes: int = 500, edges: int = 600) -> dict[str, Any]:
    """Return start → a chain of tasks → done, plus failure edges to a failed end."""
    tasks = nodes - 3
    graph_nodes: list[dict[str, Any]] = [{"id": "start", "type": "start"}]
    graph_edges: list[dict[str, Any]] = []
    layout: dict[str, dict[str, float]] = {}
    columns = 25
    previous = "start"
    for i in range(tasks):
        node_id = f"t{i}"
        graph_nodes.append(
            {
                "id": node_id,
                "type": "task",
                "label": f"Step {i}",
                "action": "builtin.noop",
            }
        )
        graph_edges.append({"id": f"n{i}", "source": previous, "target": node_id})
        row, col = divmod(i, columns)
        layout[node_id] = {"x": 240 * (col + 1), "y": 120 * row}
        previous = node_id
    graph_nodes += [
        {"id": "done", "type": "end"},
        {"id": "failed", "type": "end", "status": "failed"},
    ]
    graph_edges.append({"id": "n_end", "source": previous, "target": "done"})
    for i in range(edges - len(graph_edges)):
        graph_edges.append(
            {"id": f"f{i}", "source": f"t{i * 4}", "target": "failed", "on": "failure"}
        )
    layout["start"] = {"x": 0, "y": 0}
    layout["done"] = {"x": 240 * (columns + 1), "y": 120 * (tasks // columns)}
    layout["failed"] = {"x": 240 * (columns + 2), "y": 0}
    assert len(graph_nodes) == nodes and len(graph_edges) == edges
    return {"format": 1, "nodes": graph_nodes, "edges": graph_edges, "layout": layout}


def test_a_500_node_graph_opens_pans_and_saves(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    page = logged_in
    workflow_factory(_big_graph(), slug="big", publish=False)

    open_editor(page, asgi_server, "big")
    page.wait_for_function(
        "() => performance.getEntriesByName('editor:first-render').length > 0",
        timeout=60_000,
    )
    first_render = page.evaluate(
        "() => performance.getEntriesByName('editor:first-render')[0].startTime"
    )
    assert page.get_by_test_id("version-status").get_attribute("data-status") == "draft"

    # Pan: drag on an empty spot of the pane and see the viewport move.
    viewport = page.locator(".react-flow__viewport")
    before = viewport.get_attribute("style")
    spot = page.evaluate(
        """() => {
            const pane = document.querySelector('.react-flow__pane')
                .getBoundingClientRect();
            for (let y = pane.top + 20; y < pane.bottom - 20; y += 15) {
                for (let x = pane.left + 20; x < pane.right - 220; x += 15) {
                    const hit = document.elementFromPoint(x, y);
                    if (hit?.classList.contains('react-flow__pane')) return [x, y];
                }
            }
            return null;
        }"""
    )
    assert spot, "no empty spot on the pane"
    page.mouse.move(spot[0], spot[1])
    page.mouse.down()
    page.mouse.move(spot[0] + 150, spot[1] + 80, steps=8)
    page.mouse.up()
    assert viewport.get_attribute("style") != before
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "editor-500.png"))

    # Move one node a little (an edit), then save: the draft is PUT back.
    sx, sy = center(page, ".react-flow__node[data-id=t0]")
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move(sx + 30, sy + 40, steps=5)
    page.mouse.up()
    page.get_by_test_id("dirty-indicator").wait_for()
    with page.expect_response(
        lambda r: r.request.method == "PUT" and "/workflows/big/versions/1/" in r.url,
        timeout=60_000,
    ) as response:
        page.get_by_test_id("save-draft").click()
    assert response.value.status == 200
    page.get_by_test_id("dirty-indicator").wait_for(state="detached")
    save_ms = page.evaluate(
        "() => performance.getEntriesByName('editor:save').at(-1).duration"
    )
    print(
        f"\neditor with 500 nodes / 600 edges: first render {first_render:.0f} ms "
        f"after navigation, save {save_ms:.0f} ms"
    )
