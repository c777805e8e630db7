"""People watch runs live on the board: counters, the run table, the retry feed."""

import os
from pathlib import Path
from typing import Any

import pytest

from runs.demo import demo_load
from runs.models import Run
from runs.services.starting import run_start
from tests.support import linear_graph, wait_for

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
# README images are refreshed only on request (SWITCHYARD_DOC_SCREENSHOTS=1), so a
# test run leaves the checkout clean.
DOC_IMAGES = Path(__file__).resolve().parents[2] / (
    "docs/images" if os.environ.get("SWITCHYARD_DOC_SCREENSHOTS") else "var/screenshots"
)


def _open_board(page: Any, base: str) -> Any:
    board = page.context.new_page()
    board.goto(f"{base}/board/")
    board.wait_for_selector("[data-testid=connection-status][data-status=live]")
    board.wait_for_selector("[data-testid=counters][data-loaded=true]")
    return board


def _count(board: Any, slug: str, state: str) -> int:
    cell = board.get_by_test_id(f"counter-{slug}-{state}")
    if cell.count() == 0:
        return 0
    return int(cell.get_attribute("data-count"))


def test_started_demo_run_turns_succeeded_on_the_board_without_reload(
    logged_in: Any, asgi_server: str
) -> None:
    demo_load()
    page = logged_in
    board = _open_board(page, asgi_server)
    navigations: list[str] = []
    board.on("framenavigated", lambda frame: navigations.append(frame.url))

    page.goto(f"{asgi_server}/")
    page.get_by_test_id("start-order-fulfilment").click()
    page.get_by_test_id("start-submit-order-fulfilment").click()
    page.get_by_test_id("start-result-order-fulfilment").wait_for()
    run = Run.objects.order_by("-id").first()
    assert run is not None

    row = board.get_by_test_id(f"run-row-{run.pk}")
    row.wait_for()
    board.wait_for_selector(
        f"[data-testid=run-row-{run.pk}][data-state=succeeded]", timeout=60_000
    )
    assert (
        board.get_by_test_id(f"run-state-{run.pk}").inner_text().lower() == "succeeded"
    )
    assert navigations == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "workflows.png"), full_page=True)


def test_board_shows_a_run_appear_and_move_through_states_live(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    """A new run appears in the table and the counters, then runs and succeeds."""
    slow = workflow_factory(
        linear_graph(2, action="builtin.sleep", params={"seconds": 1.0}), slug="slow"
    )
    board = _open_board(logged_in, asgi_server)
    navigations: list[str] = []
    board.on("framenavigated", lambda frame: navigations.append(frame.url))
    assert _count(board, "slow", "succeeded") == 0

    run, _ = run_start(workflow=slow, input={}, actor="test")

    board.wait_for_selector(f"[data-testid=run-row-{run.pk}]")
    board.wait_for_selector(f"[data-testid=run-row-{run.pk}][data-state=running]")
    board.wait_for_selector("[data-testid=counter-slow-running][data-count='1']")
    board.wait_for_selector(
        f"[data-testid=run-row-{run.pk}][data-state=succeeded]", timeout=30_000
    )
    board.wait_for_selector("[data-testid=counter-slow-succeeded][data-count='1']")
    assert _count(board, "slow", "running") == 0
    assert _count(board, "slow", "pending") == 0
    board.get_by_test_id("count-succeeded").get_by_text("1").wait_for()
    assert navigations == []


def test_board_feeds_retries_and_filters_runs(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    """Failed attempts and their retries stream into the feed; filters narrow the
    table; the handoff feed says it is empty."""
    flaky = workflow_factory(
        {
            "format": 1,
            "defaults": {
                "retry": {
                    "max_attempts": 3,
                    "initial_interval_s": 0.2,
                    "jitter": "none",
                }
            },
            "nodes": [
                {"id": "start", "type": "start"},
                {
                    "id": "charge",
                    "type": "task",
                    "label": "Charge card",
                    "action": "builtin.fail",
                    "params": {"until_attempt": 3, "error": "HttpError"},
                },
                {"id": "done", "type": "end"},
            ],
            "edges": [
                {"id": "e1", "source": "start", "target": "charge"},
                {"id": "e2", "source": "charge", "target": "done"},
            ],
        },
        slug="flaky",
    )
    held = workflow_factory(
        {
            "format": 1,
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "hold", "type": "wait", "seconds": 600},
                {"id": "done", "type": "end"},
            ],
            "edges": [
                {"id": "e1", "source": "start", "target": "hold"},
                {"id": "e2", "source": "hold", "target": "done"},
            ],
        },
        slug="held",
    )
    board = _open_board(logged_in, asgi_server)
    board.get_by_test_id("feed-handoff-empty").wait_for()
    board.get_by_test_id("feed-retry-empty").wait_for()

    flaky_run, _ = run_start(workflow=flaky, input={}, actor="test")
    held_run, _ = run_start(workflow=held, input={}, actor="test")

    board.wait_for_selector(
        f"[data-testid=run-row-{flaky_run.pk}][data-state=succeeded]", timeout=30_000
    )
    failed = board.locator("[data-testid^=feed-retry-][data-kind=attempt_failed]")
    wait_for(lambda: failed.count() == 2, timeout=10, what="two failed attempts")
    assert "failed" in failed.first.inner_text()
    assert board.locator("[data-kind=step_retry_wait]").count() == 2
    board.get_by_test_id("feed-handoff-empty").wait_for()

    board.get_by_test_id("filter-workflow").select_option("held")
    board.wait_for_selector(f"[data-testid=run-row-{held_run.pk}][data-state=running]")
    wait_for(
        lambda: board.get_by_test_id(f"run-row-{flaky_run.pk}").count() == 0,
        timeout=10,
        what="the flaky run to leave the filtered table",
    )
    board.get_by_test_id("filter-clear").click()
    board.get_by_test_id("filter-state").select_option("succeeded")
    board.wait_for_selector(f"[data-testid=run-row-{flaky_run.pk}]")
    wait_for(
        lambda: board.get_by_test_id(f"run-row-{held_run.pk}").count() == 0,
        timeout=10,
        what="the running run to leave the succeeded-only table",
    )
    board.get_by_test_id("filter-clear").click()
    board.wait_for_selector(f"[data-testid=run-row-{held_run.pk}]")

    DOC_IMAGES.mkdir(parents=True, exist_ok=True)
    board.screenshot(path=str(DOC_IMAGES / "board.png"), full_page=True)


def _checkout_v2() -> dict[str, Any]:
    """Return a version whose runs fail when their input says so."""
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 1}},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "pick", "type": "choice"},
            {"id": "boom", "type": "task", "action": "builtin.fail"},
            {"id": "ok", "type": "task", "action": "builtin.noop"},
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "pick"},
            {"id": "bad", "source": "pick", "target": "boom", "when": "input.fail"},
            {"id": "good", "source": "pick", "target": "ok", "default": True},
            {"id": "e4", "source": "boom", "target": "done"},
            {"id": "e5", "source": "ok", "target": "done"},
        ],
    }


def test_scorecard_compares_two_versions_side_by_side(
    logged_in: Any, asgi_server: str, workflow_factory: Any, user: Any
) -> None:
    """v1 always succeeds, v2 fails half its runs: the scorecard shows 100 % against
    50 % and marks v2 worse."""
    from designer import services as designer_services
    from runs import releases

    checkout = workflow_factory(linear_graph(1), slug="checkout")
    v1 = checkout.live_version
    draft, _ = designer_services.version_create(
        workflow=checkout, graph=_checkout_v2(), created_by=user
    )
    v2 = releases.version_publish(version=draft)
    checkout.refresh_from_db()
    runs = [
        run_start(workflow=checkout, version=v1, input={}, actor="test")[0],
        run_start(workflow=checkout, version=v1, input={}, actor="test")[0],
    ]
    for fail in (True, False, True, False):
        runs.append(
            run_start(
                workflow=checkout, version=v2, input={"fail": fail}, actor="test"
            )[0]
        )

    def finished() -> bool:
        states = set(
            Run.objects.filter(pk__in=[r.pk for r in runs]).values_list(
                "state", flat=True
            )
        )
        return states <= {"succeeded", "failed"}

    wait_for(finished, timeout=60, what="all checkout runs to finish")

    page = logged_in
    page.goto(f"{asgi_server}/board/")
    page.get_by_test_id("tab-scorecard").click()
    page.get_by_test_id("scorecard-workflow").select_option("checkout")
    page.wait_for_selector("[data-testid=diff-success_rate]")
    assert page.get_by_test_id("scorecard-version-a").input_value() == str(v1.number)
    assert page.get_by_test_id("scorecard-version-b").input_value() == str(v2.number)
    assert page.get_by_test_id("scorecard-a-success").inner_text() == "100 %"
    assert page.get_by_test_id("scorecard-b-success").inner_text() == "50 %"
    diff = page.get_by_test_id("diff-success_rate")
    assert diff.get_attribute("data-verdict") == "worse"
    assert "−50 pts" in diff.inner_text()
    assert page.get_by_test_id("scorecard-a-handoff").inner_text() == "no data"
    assert "tab=scorecard" in page.url and "workflow=checkout" in page.url
    page.get_by_test_id("trend-success").wait_for()

    # The choice survives a reload (it lives in the address bar).
    page.reload()
    page.wait_for_selector("[data-testid=scorecard-b-success]")
    assert page.get_by_test_id("scorecard-b-success").inner_text() == "50 %"
    DOC_IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOC_IMAGES / "scorecard.png"), full_page=True)


def test_pages_require_login(page: Any, asgi_server: str, live_db: Any) -> None:
    page.goto(f"{asgi_server}/board/")
    assert "/login/" in page.url
