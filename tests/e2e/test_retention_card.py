"""The board's Retention card: how long each workflow keeps runs, what was pruned."""

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from runs.models import PruneTally
from tests.support import linear_graph

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_board_shows_retention_per_workflow(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    kept = workflow_factory(linear_graph(1), slug="orders")
    kept.retention_days = 30
    kept.retention_archive = True
    kept.save(update_fields=["retention_days", "retention_archive"])
    PruneTally.objects.create(
        workflow=kept, pruned_total=1234, archived_total=1234,
        last_pruned_at=timezone.now(),
    )  # fmt: skip
    workflow_factory(linear_graph(1), slug="forever")

    page = logged_in
    page.goto(f"{asgi_server}/board/")
    card = page.get_by_test_id("retention-card")
    card.get_by_test_id("retention-orders").wait_for()
    assert "30 days, archived" in card.get_by_test_id("retention-orders").inner_text()
    assert card.get_by_test_id("retention-orders-pruned").inner_text() == "1,234 pruned"
    assert card.get_by_test_id("retention-orders-due").inner_text() == "0 due"
    # A workflow that keeps its runs forever and never pruned is not listed.
    assert card.get_by_test_id("retention-forever").count() == 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1024, 768), (375, 812)):
        page.set_viewport_size({"width": width, "height": height})
        card.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"board-retention-{width}.png"))
