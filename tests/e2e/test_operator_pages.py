"""Operator pages: histories newest first, feeds from history, live lists, shareable
board links, the API docs page, dark mode and a top bar that fits a phone."""

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from runs.handoffs import handoff_complete
from runs.models import Handoff, Run
from runs.services.starting import run_start
from tests.e2e.test_inbox import review_graph
from tests.support import wait_for

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _operator(django_user_model: Any) -> Any:
    return django_user_model.objects.get(username="operator")


def _flaky_graph() -> dict[str, Any]:
    """start → charge (fails its first attempt, then succeeds) → done."""
    return {
        "format": 1,
        "defaults": {
            "retry": {"max_attempts": 2, "initial_interval_s": 0.1, "jitter": "none"}
        },
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "charge",
                "type": "task",
                "action": "builtin.fail",
                "params": {"until_attempt": 2, "error": "HttpError"},
            },
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "charge"},
            {"id": "e2", "source": "charge", "target": "done"},
        ],
    }


def test_the_handoff_just_completed_is_first_in_completed(
    logged_in: Any, asgi_server: str, workflow_factory: Any, django_user_model: Any
) -> None:
    """With more completed handoffs than a page holds, the newest completion leads."""
    operator = _operator(django_user_model)
    operator.groups.add(Group.objects.get_or_create(name="reviewers")[0])
    workflow = workflow_factory(review_graph(), slug="orders")
    runs = [
        run_start(workflow=workflow, input={"order": {"id": i}}, actor="test")[0]
        for i in range(21)
    ]
    wait_for(
        lambda: Handoff.objects.filter(run__in=runs).count() == 21,
        timeout=60,
        what="21 handoffs to open",
    )
    # The 20 oldest were completed earlier; the newest is completed in the page.
    handoffs = list(Handoff.objects.filter(run__in=runs).order_by("id"))
    for handoff in handoffs[:-1]:
        handoff_complete(handoff_id=handoff.pk, user=operator, outcome="approve")
    newest = handoffs[-1]
    page = logged_in
    page.goto(f"{asgi_server}/handoffs/")
    page.wait_for_selector("[data-testid=inbox-list][data-loaded=true]")
    page.get_by_test_id(f"handoff-action-complete-{newest.pk}").click()
    page.get_by_test_id(f"outcome-{newest.pk}-reject").check()
    page.get_by_test_id(f"complete-submit-{newest.pk}").click()
    expect(page.get_by_test_id("inbox-notice")).to_contain_text("as reject")

    page.get_by_test_id("tab-completed").click()
    expect(page.get_by_test_id("inbox-count")).to_have_attribute("data-count", "21")
    first = page.locator(".handoff-list > [data-testid^=handoff-]").first
    expect(first).to_have_attribute("data-testid", f"handoff-{newest.pk}")
    expect(page.get_by_test_id(f"handoff-outcome-{newest.pk}")).to_have_text("reject")
    expect(page.get_by_test_id("pager-info").first).to_contain_text("1–20 of 21")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "inbox-completed-newest.png"))


def test_board_feeds_show_releases_and_retries_from_before_it_opened(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    """A release and a retry that happened earlier are shown; live ones add to them."""
    flaky = workflow_factory(_flaky_graph(), slug="flaky")  # publishing is a release
    run, _ = run_start(workflow=flaky, input={}, actor="test")
    wait_for(
        lambda: Run.objects.get(pk=run.pk).state == "succeeded",
        timeout=30,
        what="the flaky run to succeed after a retry",
    )

    board = logged_in
    board.goto(f"{asgi_server}/board/")
    board.wait_for_selector("[data-testid=connection-status][data-status=live]")
    release = board.locator("[data-testid^=feed-release-][data-kind=version_published]")
    expect(release).to_have_count(1)
    expect(release).to_contain_text("flaky")
    failed = board.locator("[data-testid^=feed-retry-][data-kind=attempt_failed]")
    expect(failed).to_have_count(1)
    expect(failed.first).to_contain_text(f"run #{run.pk}")
    expect(board.get_by_test_id("feed-release-empty")).to_have_count(0)

    # Then live: a second run's failed attempt joins the first, each shown once.
    again, _ = run_start(workflow=flaky, input={}, actor="test")
    expect(failed).to_have_count(2, timeout=30_000)
    expect(failed.first).to_contain_text(f"run #{again.pk}")
    expect(release).to_have_count(1)
    SHOTS.mkdir(parents=True, exist_ok=True)
    board.screenshot(path=str(SHOTS / "board-feeds-history.png"), full_page=True)
