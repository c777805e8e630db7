"""Run from here: fix a draft, then run it from the failed node with the run's data."""

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from designer import services
from runs.models import Event, Run
from runs.services.starting import run_start
from tests.e2e.canvas import open_editor
from tests.runs.test_test_runs import order_graph
from tests.support import wait_for

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / (
    "docs/images" if os.environ.get("SWITCHYARD_DOC_SCREENSHOTS") else "var/screenshots"
)


@pytest.fixture
def failed(workflow_factory: Any) -> Run:
    workflow = workflow_factory(order_graph(), slug="orders")
    run, _ = run_start(
        workflow=workflow, input={"order": {"id": 7, "total": 42}}, actor="system"
    )
    wait_for(  # the live worker runs it
        lambda: Run.objects.get(pk=run.pk).is_finished,
        timeout=60,
        what="the run to fail",
    )
    # The author fixes charge in a draft: v2.
    services.version_create(workflow=workflow, graph=order_graph("builtin.echo"))
    return Run.objects.get(pk=run.pk)


def test_run_a_fixed_draft_from_the_failed_node(
    logged_in: Any, asgi_server: str, failed: Run
) -> None:
    page = logged_in
    page.set_viewport_size({"width": 1024, "height": 768})
    open_editor(page, asgi_server, "orders")
    page.get_by_test_id("execution-summary").get_by_text(f"Run #{failed.pk}").wait_for()
    page.wait_for_selector("[data-testid=node-charge][data-run-state=failed]")

    page.get_by_test_id("node-charge").click()
    button = page.get_by_test_id("run-from-here")
    expect(button).to_be_enabled()
    button.click()

    # The canvas follows the test run live: fetch keeps the failed run's data,
    # charge runs on the draft and succeeds.
    summary = page.get_by_test_id("execution-summary")
    expect(summary.get_by_test_id("execution-test-run")).to_have_text(
        " test of draft v2", timeout=15_000
    )
    test_run = Run.objects.get(trigger="test")
    summary.get_by_text(f"Run #{test_run.pk}").wait_for()
    page.wait_for_selector(
        "[data-testid=node-charge][data-run-state=succeeded]", timeout=60_000
    )
    assert (
        page.get_by_test_id("node-fetch").get_attribute("data-run-state") == "succeeded"
    )
    data = page.get_by_test_id("step-data")
    expect(data.get_by_test_id("step-data-state")).to_have_attribute(
        "data-state", "succeeded"
    )
    expect(data.get_by_test_id("step-data-output")).to_contain_text("amount")
    expect(summary.locator(".badge")).to_have_text("succeeded", timeout=30_000)
    page.screenshot(path=str(SHOTS / "editor-run-from-here.png"))

    # fetch was copied from the failed run, not run again, and says so.
    page.get_by_test_id("node-fetch").click()
    expect(page.get_by_test_id("step-data-seeded")).to_contain_text(f"run #{failed.pk}")

    test_run.refresh_from_db()
    assert test_run.state == "succeeded", test_run.error
    assert Event.objects.filter(
        run=test_run, kind="step_seeded", step__node_id="fetch"
    ).exists()
    assert test_run.steps.get(node_id="charge").output["params"] == {"amount": 42}

    # The run page says what it is, and which steps were copied rather than run.
    page.goto(f"{asgi_server}/runs/{test_run.pk}/")
    page.wait_for_selector(f"[data-testid=run-page][data-run-id='{test_run.pk}']")
    badge = page.get_by_test_id("run-trigger")
    expect(badge).to_have_text("test")
    expect(page.get_by_test_id("run-version")).to_contain_text("test of the draft")
    assert "test run of a draft" in (badge.get_attribute("title") or "")
    expect(page.get_by_text("step_seeded").first).to_be_visible()
    expect(page.get_by_test_id("step-seeded").first).to_contain_text(
        f"copied from run #{failed.pk}"
    )
    page.screenshot(path=str(SHOTS / "run-page-test-run.png"), full_page=True)
