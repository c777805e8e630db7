"""The Runs page: search (errors inline), select, cancel in bulk, watch the job."""

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from runs.models import BulkJob, Event, Run, RunState
from runs.services.starting import run_start
from tests.runs.test_sweeper_isolation import wait_graph
from tests.support import drive, linear_graph

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_search_select_and_cancel_in_bulk_with_live_progress(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    page = logged_in
    SHOTS.mkdir(parents=True, exist_ok=True)
    napping = workflow_factory(wait_graph(3600), slug="napping")
    quick = workflow_factory(linear_graph(1), slug="quick")
    waiting = [
        run_start(workflow=napping, input={"n": i}, actor="test")[0].pk
        for i in range(6)
    ]
    done = run_start(workflow=quick, input={}, actor="test")[0]
    drive(done)

    page.goto(f"{asgi_server}/runs/")
    expect(page.get_by_test_id("run-row")).to_have_count(7)
    expect(page.get_by_test_id("bulk-jobs-empty")).to_be_visible()
    # Nothing selected: the bulk buttons wait.
    expect(page.get_by_test_id("bulk-cancel")).to_be_disabled()

    # A bad value comes back as the server's 400, next to its field.
    page.get_by_test_id("search-version").fill("abc")
    page.get_by_test_id("search-submit").click()
    expect(page.get_by_test_id("search-version-error")).to_contain_text("version")

    # Search: the filters go to the address bar.
    page.get_by_test_id("search-version").fill("")
    page.get_by_test_id("search-workflow").fill("napping")
    page.get_by_test_id("search-state").select_option("running")
    page.get_by_test_id("search-submit").click()
    expect(page.get_by_test_id("run-row")).to_have_count(6)
    assert "workflow=napping" in page.url and "state=running" in page.url
    expect(page.get_by_test_id("search-version-error")).to_have_count(0)

    # Pick two by hand, then every run matching the search.
    page.get_by_test_id("select-run").nth(0).check()
    page.get_by_test_id("select-run").nth(1).check()
    expect(page.get_by_test_id("selected-count")).to_have_attribute("data-count", "2")
    page.get_by_test_id("select-matching").click()
    expect(page.get_by_test_id("selected-count")).to_contain_text("All 6 runs")
    page.set_viewport_size({"width": 1024, "height": 768})
    page.screenshot(path=str(SHOTS / "runs-1024.png"), full_page=True)

    page.get_by_test_id("bulk-cancel").click()
    expect(page.get_by_test_id("bulk-dialog-title")).to_have_text("Cancel 6 runs?")
    page.get_by_test_id("bulk-reason").fill("maintenance window")
    page.screenshot(path=str(SHOTS / "runs-confirm-1024.png"))
    page.get_by_test_id("bulk-confirm").click()
    expect(page.get_by_test_id("bulk-dialog")).to_have_count(0)

    # The job shows up and its progress runs to the end on the worker.
    job = page.get_by_test_id("bulk-job").first
    expect(job).to_be_visible()
    expect(job).to_have_attribute("data-state", "succeeded", timeout=60_000)
    expect(job.get_by_test_id("bulk-job-processed")).to_contain_text("6 / 6")
    expect(job.get_by_test_id("bulk-job-progress")).to_have_attribute(
        "aria-valuenow", "6"
    )
    # The finished job reloads the runs: none of them is running any more.
    expect(page.get_by_test_id("runlist-empty")).to_contain_text("No runs match")
    assert set(Run.objects.filter(pk__in=waiting).values_list("state", flat=True)) == {
        RunState.CANCELLED
    }
    assert (
        Event.objects.filter(
            run_id__in=waiting,
            kind="run_cancelled",
            reason__endswith="maintenance window",
        ).count()
        == 6
    )
    assert BulkJob.objects.get().done == 6

    page.get_by_test_id("clear-search").click()
    expect(page.get_by_test_id("run-row")).to_have_count(7)
    page.screenshot(path=str(SHOTS / "runs-done-1024.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 812})
    page.screenshot(path=str(SHOTS / "runs-375.png"), full_page=True)
    # The page's own content fits (the table scrolls inside its card); the top bar
    # is templates/base.html's.
    width = page.evaluate("document.querySelector('main').scrollWidth")
    assert width <= 375, f"the Runs page is wider than a phone ({width}px)"


def test_an_empty_installation_says_where_runs_come_from(
    logged_in: Any, asgi_server: str
) -> None:
    page = logged_in
    page.goto(f"{asgi_server}/runs/")
    expect(page.get_by_test_id("runlist-empty")).to_contain_text("No runs yet")
    expect(page.get_by_test_id("bulk-jobs-empty")).to_be_visible()
