"""Pages offer only what the user's role allows, and say why the rest is disabled."""

from pathlib import Path
from typing import Any

import pytest

from runs.models import Run, RunState
from runs.services.starting import run_start
from tests.e2e.accounts import log_in
from tests.e2e.canvas import open_editor

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _held_graph() -> dict[str, Any]:
    """Return a graph whose run waits ten minutes: it stays cancellable."""
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


def _open_run(page: Any, base: str, run: Run) -> None:
    page.goto(f"{base}/runs/{run.pk}/")
    page.wait_for_selector(f"[data-testid=run-page][data-run-id='{run.pk}']")


def test_viewer_reads_the_editor_and_cannot_control_runs(
    page: Any,
    asgi_server: str,
    live_db: Any,
    django_user_model: Any,
    workflow_factory: Any,
) -> None:
    """A viewer sees the graph read-only, and every create, edit or run control off."""
    workflow = workflow_factory(_held_graph(), slug="held")
    run, _ = run_start(workflow=workflow, input={}, actor="test")
    log_in(page, asgi_server, django_user_model, "vera", "viewer")

    # The list: nothing to create or start, with the reason on hover.
    page.wait_for_selector("[data-testid=workflow-held]")
    new = page.get_by_test_id("new-workflow")
    start = page.get_by_test_id("start-held")
    page.wait_for_function(
        "() => (document.querySelector('[data-testid=start-held]')?.title ?? '')"
        ".includes('viewer')"
    )
    assert new.is_disabled() and "viewer" in (new.get_attribute("title") or "")
    assert start.is_disabled()

    open_editor(page, asgi_server, "held")
    editor = page.get_by_test_id("editor")
    assert editor.get_attribute("data-readonly") == "true"
    banner = page.get_by_test_id("role-readonly-banner")
    assert banner.is_visible()
    assert banner.inner_text().startswith("Read only — your role (viewer) cannot edit")
    for control in ("save-draft", "publish", "run-open", "auto-layout", "palette-task"):
        button = page.get_by_test_id(control)
        assert button.is_disabled(), f"{control} is enabled for a viewer"
        assert "viewer" in (button.get_attribute("title") or ""), control
    assert page.get_by_test_id("readonly-banner").count() == 0

    # A node can be read in the inspector, not changed, moved or deleted.
    node = page.get_by_test_id("node-prepare")
    node.click()
    page.wait_for_selector("[data-testid=inspector-node][data-node-id=prepare]")
    assert page.get_by_test_id("inspector-label").is_disabled()
    assert page.get_by_test_id("inspector-delete").is_disabled()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "roles-editor-readonly.png"))
    page.keyboard.press("Delete")
    box = node.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 200, box["y"] + 120, steps=6)
    page.mouse.up()
    assert node.is_visible()
    assert page.get_by_test_id("dirty-indicator").count() == 0
    assert page.get_by_test_id("undo").is_disabled()

    _open_run(page, asgi_server, run)
    cancel = page.get_by_test_id("run-action-cancel")
    page.wait_for_function(
        "() => (document.querySelector('[data-testid=run-action-cancel]')?.title ?? '')"
        ".includes('viewer')"
    )
    assert cancel.is_disabled()
    assert page.get_by_test_id("run-action-pause").is_disabled()
    run.refresh_from_db()
    assert run.state in (RunState.PENDING, RunState.RUNNING)


def test_operator_may_cancel_a_run_but_not_edit(
    page: Any,
    asgi_server: str,
    live_db: Any,
    django_user_model: Any,
    workflow_factory: Any,
) -> None:
    """An operator cancels a run from its page; the editor is read-only but runs."""
    workflow = workflow_factory(_held_graph(), slug="held")
    run, _ = run_start(workflow=workflow, input={}, actor="test")
    log_in(page, asgi_server, django_user_model, "otto", "operator")

    open_editor(page, asgi_server, "held")
    assert page.get_by_test_id("role-readonly-banner").is_visible()
    assert page.get_by_test_id("save-draft").is_disabled()
    assert page.get_by_test_id("run-open").is_enabled()

    _open_run(page, asgi_server, run)
    cancel = page.get_by_test_id("run-action-cancel")
    page.wait_for_selector("[data-testid=run-action-cancel]:enabled")
    assert cancel.get_attribute("title") is None
    cancel.click()
    page.get_by_test_id("run-action-cancel-confirm").click()
    page.wait_for_selector("[data-testid=run-page][data-state=cancelled]")
    run.refresh_from_db()
    assert run.state == RunState.CANCELLED
