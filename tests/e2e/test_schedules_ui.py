"""Schedules in the editor: the next fire times show as a cron expression is typed, a
bad one says why, a saved schedule is listed, paused and resumed; a run a schedule
started says so on the board and on its page, and links back to the schedule."""

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from runs import schedules
from runs.models import Run, Schedule
from tests.e2e.accounts import log_in
from tests.support import linear_graph

pytestmark = pytest.mark.e2e
SCREENSHOT = "/tmp/schedules.png"


def _open_schedules(page: Any, base: str, slug: str) -> Any:
    page.goto(f"{base}/workflows/{slug}/edit/")
    page.wait_for_selector("[data-testid=editor][data-loaded=true]")
    page.get_by_test_id("schedules-toggle").click()
    return page.get_by_test_id("schedules-panel")


def test_schedule_is_previewed_as_typed_then_saved_paused_and_resumed(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    page = logged_in
    page.set_viewport_size({"width": 1024, "height": 768})
    workflow_factory(linear_graph(1), slug="reports")
    panel = _open_schedules(page, asgi_server, "reports")
    expect(panel.get_by_test_id("schedules-empty")).to_contain_text(
        "No schedules yet: runs start only when someone starts them."
    )

    panel.get_by_test_id("schedule-new").click()
    panel.get_by_test_id("schedule-name").fill("Weekday report")
    panel.get_by_test_id("schedule-timezone").fill("Europe/Paris")
    panel.get_by_test_id("schedule-cron").fill("30 7 * * 1-5")
    expect(panel.get_by_test_id("schedule-words")).to_have_text(
        "Fires at 07:30 on weekdays, Europe/Paris time."
    )
    times = panel.locator(
        "[data-testid=schedule-preview]:not([aria-busy=true]) "
        "[data-testid=schedule-preview-time]"
    )
    expect(times).to_have_count(5)
    expect(times.first).to_contain_text("07:30")
    paris = ZoneInfo("Europe/Paris")
    for at in [times.nth(i).get_attribute("data-at") for i in range(5)]:
        local = datetime.fromisoformat(at or "").astimezone(paris)
        assert (local.hour, local.minute, local.weekday() < 5) == (7, 30, True), at
    page.screenshot(path=SCREENSHOT)

    # A minute that does not exist: the server's reason shows where the times were.
    panel.get_by_test_id("schedule-cron").fill("61 * * * *")
    error = panel.get_by_test_id("schedule-preview-error")
    expect(error).to_contain_text("cron")
    expect(panel.get_by_test_id("schedule-preview-time")).to_have_count(0)
    panel.get_by_test_id("schedule-cron").fill("30 7 * * 1-5")
    expect(times).to_have_count(5)
    expect(error).to_have_count(0)

    # The input must be a JSON object before anything is sent.
    panel.get_by_test_id("schedule-input").fill("[1, 2]")
    panel.get_by_test_id("schedule-save").click()
    expect(panel.get_by_text("The input must be a JSON object")).to_be_visible()
    assert not Schedule.objects.exists()
    panel.get_by_test_id("schedule-input").fill('{"report": "weekday"}')
    panel.get_by_test_id("schedule-overlap").select_option("queue")
    panel.get_by_test_id("schedule-save").scroll_into_view_if_needed()
    panel.get_by_test_id("schedule-save").click()

    item = panel.locator("[data-testid^=schedule-][data-name='Weekday report']")
    expect(item).to_be_visible()
    schedule = Schedule.objects.get(workflow__slug="reports")
    assert (schedule.cron, schedule.timezone, schedule.input, schedule.overlap) == (
        "30 7 * * 1-5",
        "Europe/Paris",
        {"report": "weekday"},
        "queue",
    )
    sid = schedule.pk
    expect(panel.get_by_test_id(f"schedule-words-{sid}")).to_have_text(
        "at 07:30 on weekdays"
    )
    expect(panel.get_by_test_id(f"schedule-next-{sid}")).to_contain_text("07:30")
    expect(item).to_contain_text("Overlap: queue it")

    panel.get_by_test_id(f"schedule-pause-{sid}").click()
    expect(panel.get_by_test_id(f"schedule-state-{sid}")).to_have_text("paused")
    expect(panel.get_by_test_id(f"schedule-next-{sid}")).to_contain_text("Paused")
    schedule.refresh_from_db()
    assert schedule.state == "paused"

    panel.get_by_test_id(f"schedule-resume-{sid}").click()
    expect(panel.get_by_test_id(f"schedule-state-{sid}")).to_have_text("active")
    schedule.refresh_from_db()
    assert schedule.state == "active"

    # The fires list is empty until a slot comes; a backfill answers how many it queued.
    panel.get_by_test_id(f"schedule-toggle-fires-{sid}").click()
    expect(panel.get_by_test_id(f"schedule-fires-empty-{sid}")).to_be_visible()
    # Sunday noon to Saturday noon (the browser's time): Monday to Friday, whatever
    # the browser's zone.
    panel.get_by_test_id("backfill-start").fill("2025-01-05T12:00")
    panel.get_by_test_id("backfill-end").fill("2025-01-11T12:00")
    panel.get_by_test_id("backfill-submit").click()
    expect(panel.get_by_test_id("backfill-answer")).to_have_text(
        re.compile(r"^Queued 5 slots; they start oldest first, \d+ per second\.$")
    )
    # The fires list shows them at once (backfill, then started as they run).
    expect(panel.locator("[data-testid^=schedule-fire-][data-state]")).to_have_count(5)


def test_run_started_by_a_schedule_shows_its_trigger_and_links_back(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    page = logged_in
    workflow = workflow_factory(linear_graph(1), slug="hourly")
    schedule = schedules.schedule_create(
        workflow=workflow,
        fields={"name": "Hourly sync", "kind": "cron", "cron": "0 * * * *"},
    )
    # The worker's beat fires it too if the hour turns meanwhile: once either way.
    schedules.schedules_fire_due(now=schedule.next_fire_at)
    run = Run.objects.get(trigger=schedule.trigger)

    page.goto(f"{asgi_server}/board/")
    expect(page.get_by_test_id(f"run-trigger-{run.pk}")).to_have_text("schedule")

    page.goto(f"{asgi_server}/runs/{run.pk}/")
    badge = page.get_by_test_id("run-trigger")
    expect(badge).to_have_text("schedule")
    expect(badge).to_have_attribute(
        "title", re.compile(rf"^Started by schedule #{schedule.pk} for its slot of .+")
    )
    expect(page.get_by_test_id("run-trigger-detail")).to_contain_text(
        f"#{schedule.pk} · slot"
    )

    # The badge opens the editor on the schedule's fires, its run among them.
    badge.click()
    page.wait_for_url(f"**/workflows/hourly/edit/#schedules/{schedule.pk}")
    fires = page.get_by_test_id(f"schedule-fires-{schedule.pk}")
    expect(fires.locator(f"a[href='/runs/{run.pk}/']")).to_be_visible()
    expect(fires.locator("[data-state=started]")).to_have_count(1)


def test_viewer_sees_schedules_but_cannot_change_them(
    page: Any,
    asgi_server: str,
    live_db: Any,
    django_user_model: Any,
    workflow_factory: Any,
) -> None:
    workflow = workflow_factory(linear_graph(1), slug="watched")
    schedule = schedules.schedule_create(
        workflow=workflow,
        fields={"name": "Every 5 minutes", "kind": "interval", "interval_s": 300},
    )
    log_in(page, asgi_server, django_user_model, "vera", "viewer")

    panel = _open_schedules(page, asgi_server, "watched")
    sid = schedule.pk
    expect(panel.get_by_test_id(f"schedule-words-{sid}")).to_have_text(
        "every 5 minutes"
    )
    expect(panel.get_by_test_id("schedule-new")).to_be_disabled()
    expect(panel.get_by_test_id(f"schedule-edit-{sid}")).to_be_disabled()
    expect(panel.get_by_test_id(f"schedule-delete-{sid}")).to_be_disabled()
    expect(panel.get_by_test_id(f"schedule-pause-{sid}")).to_be_disabled()
    expect(panel.get_by_test_id("schedules-readonly")).to_contain_text("ask an editor")
