"""Open and save a 500-node, 600-edge workflow in the editor in headless Chromium.

Prints the time to first render (from navigation start to the editor's
`editor:first-render` mark) and the time to save (the `editor:save` measure: PUT of the
draft through the API, validation and storage included), median and max over R runs.
Targets: first render < 1 s, save < 300 ms. Usage: python bench/editor.py [R]
"""

import os
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))
from common import ROOT, setup_django, stop  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def big_graph(tasks: int = 497, edges: int = 600) -> dict[str, Any]:
    """Return start → 497 tasks → end, plus failure edges to a failing end: 500/600."""
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "start"}]
    links: list[dict[str, Any]] = []
    layout = {"start": {"x": 0, "y": 0}}
    previous = "start"
    for i in range(tasks):
        node_id = f"t{i}"
        nodes.append(
            {
                "id": node_id,
                "type": "task",
                "label": f"Step {i}",
                "action": "builtin.noop",
            }
        )
        links.append({"id": f"n{i}", "source": previous, "target": node_id})
        row, col = divmod(i, 25)
        layout[node_id] = {"x": 240 * (col + 1), "y": 120 * row}
        previous = node_id
    nodes += [
        {"id": "done", "type": "end"},
        {"id": "failed", "type": "end", "status": "failed"},
    ]
    links.append({"id": "n_end", "source": previous, "target": "done"})
    for i in range(edges - len(links)):
        links.append(
            {"id": f"f{i}", "source": f"t{i * 4}", "target": "failed", "on": "failure"}
        )
    return {"format": 1, "nodes": nodes, "edges": links, "layout": layout}


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    setup_django()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from designer import services
    from designer.models import VersionStatus, Workflow

    user_model = get_user_model()
    user = user_model.objects.filter(username="bench").first()
    if user is None:
        user = user_model.objects.create_user("bench", password="bench-password-1")
    # The editor opens editable for an editor (a viewer would get it read-only).
    user.groups.add(Group.objects.get(name="editor"))
    workflow = Workflow.objects.filter(slug="bench-editor").first()
    if workflow is None:
        workflow = services.workflow_create(slug="bench-editor", name="Bench editor")
    draft = workflow.versions.filter(status=VersionStatus.DRAFT).first()
    if draft is None:
        services.version_create(workflow=workflow, graph=big_graph(), created_by=user)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    from config.processes import web_command

    log = ROOT / "var" / "bench-editor-web.log"
    web = subprocess.Popen(
        web_command(host="127.0.0.1", port=port),
        cwd=ROOT,
        env=dict(os.environ),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if web.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"web server did not start:\n{log.read_text()}")
            time.sleep(0.1)
        renders, saves = measure(base, repeats)
    finally:
        stop(web)

    def line(name: str, values: list[float], target: float) -> str:
        verdict = "PASS" if statistics.median(values) < target else "FAIL"
        return (
            f"{name}: median {statistics.median(values):.0f} ms, "
            f"max {max(values):.0f} ms (target < {target:.0f} ms) {verdict}"
        )

    print(f"editor 500 nodes / 600 edges, {repeats} runs")  # noqa: T201
    print(line("first render", renders, 1000))  # noqa: T201
    print(line("save        ", saves, 300))  # noqa: T201


def measure(base: str, repeats: int) -> tuple[list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    renders: list[float] = []
    saves: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.goto(f"{base}/login/")
        page.fill("input[name=username]", "bench")
        page.fill("input[name=password]", "bench-password-1")
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_url(f"{base}/")
        for _ in range(repeats + 1):  # the first load warms caches; not counted
            page.goto(f"{base}/workflows/bench-editor/edit/")
            page.wait_for_selector("[data-testid=editor][data-loaded=true]")
            page.wait_for_function(
                "() => performance.getEntriesByName('editor:first-render').length"
            )
            render = page.evaluate(
                "() => performance.getEntriesByName('editor:first-render')[0].startTime"
            )
            # An edit, so Save has something to send: nudge a task in view.
            box = page.locator(".react-flow__node-task").first.bounding_box()
            assert box is not None
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.move(x + 20, y + 10, steps=3)
            page.mouse.up()
            page.get_by_test_id("dirty-indicator").wait_for()
            page.get_by_test_id("save-draft").click()
            page.get_by_test_id("dirty-indicator").wait_for(state="detached")
            save = page.evaluate(
                "() => performance.getEntriesByName('editor:save').at(-1).duration"
            )
            renders.append(render)
            saves.append(save)
        browser.close()
    return renders[1:], saves[1:]


if __name__ == "__main__":
    main()
