"""Editing a workflow on the canvas by mouse: open the editor, drop nodes from the
palette, connect handles, click edges. Shared by the browser tests."""

from typing import Any


def open_editor(page: Any, base: str, slug: str) -> None:
    page.goto(f"{base}/workflows/{slug}/edit/")
    page.wait_for_selector("[data-testid=editor][data-loaded=true]")


def center(page: Any, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not visible"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def connect(page: Any, source: str, target: str) -> None:
    """Drag from the source node's right handle to the target node's left handle."""
    sx, sy = center(page, f"[data-testid=node-{source}] .react-flow__handle-right")
    tx, ty = center(page, f"[data-testid=node-{target}] .react-flow__handle-left")
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move((sx + tx) / 2, (sy + ty) / 2, steps=5)
    page.mouse.move(tx, ty, steps=5)
    page.mouse.up()


def settle(page: Any) -> None:
    """Wait until the viewport stops moving (a fit animates for 200 ms)."""
    page.wait_for_function(
        """() => new Promise(resolve => {
            const el = document.querySelector(
                '[data-testid=canvas] .react-flow__viewport');
            const before = el.style.transform;
            setTimeout(() => resolve(el.style.transform === before), 300);
        })"""
    )


def click_edge(page: Any, edge_id: str) -> None:
    """Click a visible point of an edge's path (its box may be flat or cross nodes).

    The opening fit animates: wait until the canvas stands still, so the click
    lands where the edge ends up.
    """
    settle(page)
    point = page.evaluate(
        """id => {
            const edge = document.querySelector(`[data-testid=edge-${id}]`);
            const path = edge.querySelector('path.react-flow__edge-path');
            const length = path.getTotalLength();
            for (const t of [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8]) {
                const p = path.getPointAtLength(length * t)
                    .matrixTransform(path.getScreenCTM());
                const hit = document.elementFromPoint(p.x, p.y);
                if (edge.contains(hit)) return [p.x, p.y];
            }
            return null;
        }""",
        edge_id,
    )
    assert point, f"edge {edge_id} is hidden"
    page.mouse.click(point[0], point[1])
    page.locator(f"[data-testid=inspector-edge][data-edge-id={edge_id}]").wait_for()


def drop(page: Any, node_type: str, x: float, y: float) -> str:
    """Drag a node type from the palette onto the canvas at (x, y); return its id."""
    before = set(
        page.locator(f"[data-node-type={node_type}]").evaluate_all(
            "nodes => nodes.map(n => n.dataset.nodeId)"
        )
    )
    item = page.get_by_test_id(f"palette-{node_type}")
    # Scrolled into view first: a drag that starts while the palette scrolls is a
    # click, which adds the node at the first free spot instead of (x, y).
    item.scroll_into_view_if_needed()
    item.drag_to(page.get_by_test_id("canvas"), target_position={"x": x, "y": y})
    page.wait_for_function(
        "([t, n]) => document.querySelectorAll(`[data-node-type=${t}]`).length > n",
        arg=[node_type, len(before)],
    )
    after = page.locator(f"[data-node-type={node_type}]").evaluate_all(
        "nodes => nodes.map(n => n.dataset.nodeId)"
    )
    (new_id,) = set(after) - before
    return str(new_id)


def issue(page: Any, code: str, target: str) -> Any:
    return page.get_by_test_id(f"issue-{code}-{target}")


def edge_between(page: Any, source: str, target: str) -> str:
    edge = page.evaluate(
        """([s, t]) => {
            const g = [...document.querySelectorAll('[data-testid^=edge-]')].find(
                (el) => el.getAttribute('aria-label') === `Edge from ${s} to ${t}`);
            return g ? g.dataset.testid.slice('edge-'.length) : null;
        }""",
        [source, target],
    )
    assert edge, f"no edge {source} → {target}"
    return str(edge)
