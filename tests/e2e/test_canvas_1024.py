"""The editor canvas at 1024×768: nothing covers the graph, text stays readable, drops
land where they can be seen, edges offer only the fields their source allows; the demos
open clean, with the saga's compensations drawn dashed (editor and run page)."""

import re
from pathlib import Path
from typing import Any

import pytest

from designer import services
from designer.models import Workflow
from runs.demo import DEMOS, demo_load
from runs.services.starting import run_start
from tests.e2e.canvas import click_edge, open_editor, settle
from tests.support import linear_graph

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
# frontend/src/editor/canvasFit.ts READABLE_ZOOM
READABLE_ZOOM = 0.7


def zoom(page: Any) -> float:
    """Return the zoom React Flow renders the canvas at (its viewport's scale)."""
    transform = page.locator("[data-testid=canvas] .react-flow__viewport").evaluate(
        "el => el.style.transform"
    )
    match = re.search(r"scale\(([\d.]+)\)", transform)
    assert match, transform
    return float(match.group(1))


def boxes(page: Any, selector: str) -> list[dict[str, float]]:
    return list(
        page.locator(selector).evaluate_all(
            """els => els.map(el => {
                const r = el.getBoundingClientRect();
                return {id: el.dataset.nodeId || '', x: r.x, y: r.y,
                        width: r.width, height: r.height};
            })"""
        )
    )


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def dashed_length(link: Any) -> float:
    """Return the drawn length of an edge's path, asserting it is dashed (a straight
    drop has a zero-width box, which Playwright calls hidden, so measure the path)."""
    path = link.locator("path.react-flow__edge-path")
    path.wait_for(state="attached")
    dash, length = path.evaluate(
        "p => [getComputedStyle(p).strokeDasharray, p.getTotalLength()]"
    )
    assert dash not in ("", "none"), dash
    return float(length)


def open_checked(page: Any, base: str, slug: str) -> None:
    """Open the editor and wait until the server has validated the graph too."""
    with page.expect_response(
        lambda r: r.url.endswith(f"/workflows/{slug}/validate/") and r.ok
    ) as checked:
        open_editor(page, base, slug)
    body = checked.value.json()
    assert (body["errors"], body["warnings"]) == ([], []), (slug, body)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=issues-panel]')"
        ".textContent.includes('checking')"
    )
    page.get_by_test_id("issues-empty").wait_for()


def fit(page: Any) -> None:
    page.get_by_test_id("fit-view").click()
    settle(page)


def test_canvas_at_1024_keeps_the_graph_readable_and_uncovered(
    logged_in: Any, asgi_server: str
) -> None:
    page = logged_in
    page.set_viewport_size({"width": 1024, "height": 768})
    # Eight tasks without failure routes: eight warnings fill the problems panel.
    services.workflow_create(slug="long", name="Long")
    workflow = Workflow.objects.get(slug="long")
    services.version_create(workflow=workflow, graph=linear_graph(8), note="")
    open_editor(page, asgi_server, "long")
    page.get_by_test_id("issues-list").wait_for()
    assert page.get_by_test_id("issues-warning-count").inner_text() == "8 warnings"

    # Opened, fitted and auto-laid out: never smaller than readable.
    settle(page)
    assert zoom(page) >= READABLE_ZOOM
    fit(page)
    assert zoom(page) >= READABLE_ZOOM
    page.get_by_test_id("auto-layout").click()
    settle(page)
    assert zoom(page) >= READABLE_ZOOM
    # The first node is in view (a wide graph shows from its start).
    canvas = page.get_by_test_id("canvas").bounding_box()
    start = page.get_by_test_id("node-start").bounding_box()
    assert canvas["x"] <= start["x"] and start["x"] + start["width"] <= (
        canvas["x"] + canvas["width"]
    )

    # With the minimap shown, a fit keeps every node clear of it and of the problems.
    page.get_by_test_id("minimap-toggle").click()
    page.locator(".react-flow__minimap").wait_for()
    fit(page)
    nodes = boxes(page, "[data-testid=canvas] .react-flow__node")
    assert len(nodes) == 10
    covers = boxes(page, ".react-flow__minimap, [data-testid=issues-panel]")
    covers += boxes(page, ".react-flow__controls, [data-testid=minimap-toggle]")
    for node in nodes:
        for cover in covers:
            assert not overlap(node, cover), (node, cover)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "editor-1024.png"))

    # A node dropped on the minimap lands in the middle of the free canvas instead.
    before = page.locator("[data-node-type=wait]").count()
    item = page.get_by_test_id("palette-wait")
    item.scroll_into_view_if_needed()
    item.drag_to(page.locator(".react-flow__minimap"))
    page.wait_for_function(
        "n => document.querySelectorAll('[data-node-type=wait]').length > n",
        arg=before,
    )
    (dropped,) = boxes(page, "[data-testid=canvas] .react-flow__node-wait")
    canvas = page.get_by_test_id("canvas").bounding_box()
    middle = (dropped["x"] + dropped["width"] / 2, dropped["y"] + dropped["height"] / 2)
    assert canvas["x"] < middle[0] < canvas["x"] + canvas["width"]
    assert canvas["y"] < middle[1] < canvas["y"] + canvas["height"]
    (minimap,) = boxes(page, ".react-flow__minimap")
    assert not overlap(dropped, minimap)


def test_edges_offer_only_what_their_source_allows(
    logged_in: Any, asgi_server: str
) -> None:
    page = logged_in
    page.set_viewport_size({"width": 1024, "height": 768})
    demo_load()
    graph = {
        "format": 1,
        "nodes": [{"id": "start", "type": "start"}, {"id": "done", "type": "end"}],
        "edges": [{"id": "e1", "source": "start", "target": "done"}],
    }
    workflow = services.workflow_create(slug="bare", name="Bare")
    services.version_create(workflow=workflow, graph=graph, note="")
    open_editor(page, asgi_server, "bare")
    settle(page)  # the opening fit animates: click where the edge ends up
    click_edge(page, "e1")
    page.get_by_test_id("edge-always").wait_for()
    for field in ("edge-when", "edge-failure", "edge-default", "edge-timeout"):
        assert page.get_by_test_id(field).count() == 0, field

    open_editor(page, asgi_server, "order-fulfilment")
    settle(page)
    # Out of the choice: a condition and the default. Its label (drawn over the
    # line's middle) selects it.
    page.get_by_test_id("edge-label-e3").click()
    page.locator("[data-testid=inspector-edge][data-edge-id=e3]").wait_for()
    page.get_by_test_id("edge-when").wait_for()
    assert page.get_by_test_id("edge-default").count() == 1
    assert page.get_by_test_id("edge-failure").count() == 0
    click_edge(page, "e1")  # start → reserve: always taken
    page.get_by_test_id("edge-always").wait_for()
    assert page.get_by_test_id("edge-when").count() == 0

    # Edge labels are drawn above the nodes: the topmost element at a label is it.
    label = page.get_by_test_id("edge-label-e3")
    on_top = label.evaluate(
        """el => {
            const r = el.getBoundingClientRect();
            const hit = document.elementFromPoint(
                r.x + r.width / 2, r.y + r.height / 2);
            return el === hit || el.contains(hit);
        }"""
    )
    assert on_top
    assert label.evaluate("el => getComputedStyle(el.parentElement).zIndex") == "1001"
    # Inspector placeholders are not cut off: each fits its field.
    page.keyboard.press("Escape")
    page.get_by_test_id("inspector-settings").wait_for()
    cut = page.locator("[data-testid=inspector] input[placeholder]").evaluate_all(
        """inputs => inputs.filter(input => {
            const style = getComputedStyle(input);
            const ctx = document.createElement('canvas').getContext('2d');
            ctx.font = `${style.fontSize} ${style.fontFamily}`;
            const room = input.clientWidth - parseFloat(style.paddingLeft)
                - parseFloat(style.paddingRight);
            return input.offsetParent !== null
                && ctx.measureText(input.placeholder).width > room;
        }).map(input => input.placeholder)"""
    )
    assert cut == []


def test_saga_demo_draws_its_compensations_dashed_with_no_problems(
    logged_in: Any, asgi_server: str
) -> None:
    page = logged_in
    page.set_viewport_size({"width": 1024, "height": 768})
    demo_load()
    open_checked(page, asgi_server, "payment-saga")
    for task, undo in (("hold", "release"), ("charge", "refund")):
        link = page.get_by_test_id(f"compensation-{task}")
        assert dashed_length(link) > 50
        assert link.get_attribute("aria-label") == f"{undo} compensates {task}"
    # Client and server both checked: the list is empty.
    assert page.get_by_test_id("issues-error-count").inner_text() == "0 errors"
    assert page.get_by_test_id("issues-warning-count").inner_text() == "0 warnings"
    assert page.locator("[data-testid^=issue-]").count() == 0
    page.screenshot(path=str(SHOTS / "editor-saga-1024.png"))
    page.set_viewport_size({"width": 375, "height": 812})
    page.screenshot(path=str(SHOTS / "editor-saga-375.png"))

    # Every other demo opens clean too, in the editor's own check and the server's.
    for slug in [d["slug"] for d in DEMOS if d["slug"] != "payment-saga"]:
        open_checked(page, asgi_server, slug)
        counts = [
            page.get_by_test_id(f"issues-{level}-count").inner_text()
            for level in ("error", "warning")
        ]
        assert counts == ["0 errors", "0 warnings"], slug

    # The run page draws them too.
    page.set_viewport_size({"width": 1024, "height": 768})
    saga = Workflow.objects.get(slug="payment-saga")
    run, _ = run_start(workflow=saga, input={"charge_succeeds_on": 1}, actor="test")
    page.goto(f"{asgi_server}/runs/{run.pk}/")
    link = page.locator("[data-testid=run-graph] [data-testid=run-compensation-hold]")
    assert dashed_length(link) > 20
    page.screenshot(path=str(SHOTS / "run-saga-1024.png"))
