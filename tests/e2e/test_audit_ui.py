"""The editor's Audit panel: a change to the publish gate made in the Release panel
shows at once as an entry with its author and the diff, at desktop and phone size."""

from pathlib import Path
from typing import Any

import pytest

from designer import services
from runs import releases
from tests.e2e.canvas import open_editor
from tests.support import linear_graph

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_a_publish_gate_change_shows_in_the_audit_panel(
    logged_in: Any, asgi_server: str
) -> None:
    page = logged_in
    workflow = services.workflow_create(slug="audited", name="Audited")
    version, _ = services.version_create(workflow=workflow, graph=linear_graph(1))
    releases.version_publish(version=version)
    open_editor(page, asgi_server, "audited")

    # Nothing changed yet.
    page.get_by_test_id("audit-toggle").click()
    page.get_by_test_id("audit-empty").wait_for()
    page.get_by_test_id("audit-toggle").click()

    page.get_by_test_id("release-settings-toggle").click()
    page.get_by_test_id("release-gate").select_option("block")
    page.get_by_test_id("release-save").click()
    page.get_by_test_id("release-saved").wait_for()

    page.get_by_test_id("audit-toggle").click()
    item = page.get_by_test_id("audit-item").first
    item.wait_for()
    assert item.get_attribute("data-kind") == "settings_changed"
    text = item.inner_text()
    assert "settings changed" in text
    assert "by operator" in text
    row = item.locator("[data-testid=audit-change][data-field=publish_gate]")
    assert row.locator(".audit-from").inner_text() == "off"
    assert row.locator(".audit-to").inner_text() == "block"

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1024, "height": 768})
    page.screenshot(path=str(SHOTS / "editor-audit-1024.png"))
    page.set_viewport_size({"width": 375, "height": 812})
    page.get_by_test_id("audit-panel").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "editor-audit-375.png"))
