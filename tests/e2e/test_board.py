"""A person starts a demo workflow and watches it succeed on the board, live."""

from pathlib import Path
from typing import Any

import pytest

from designer.demo import demo_load
from runs.models import Run

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_started_demo_run_turns_succeeded_on_the_board_without_reload(
    logged_in: Any, asgi_server: str
) -> None:
    demo_load()
    page = logged_in
    board = page.context.new_page()
    board.goto(f"{asgi_server}/board/")
    board.wait_for_selector("text=live")
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
    board.screenshot(path=str(SHOTS / "board.png"), full_page=True)
    page.screenshot(path=str(SHOTS / "workflows.png"), full_page=True)


def test_pages_require_login(page: Any, asgi_server: str, live_db: Any) -> None:
    page.goto(f"{asgi_server}/board/")
    assert "/login/" in page.url
