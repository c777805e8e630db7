"""Notifications in the editor: a rule is added (a bad limit refused as typed),
listed with its connection, its message shows up with state, attempts and error after
a run fails, and the rule is disabled and deleted."""

from typing import Any

import pytest
from playwright.sync_api import expect

from designer import connections
from runs.models import Notification, NotificationRule
from runs.services.starting import run_start
from tests.support import linear_graph, wait_for

pytestmark = pytest.mark.e2e
SCREENSHOT = "/tmp/notifications.png"


def test_a_rule_is_added_its_message_shown_then_disabled_and_deleted(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    page = logged_in
    workflow = workflow_factory(
        linear_graph(1, action="builtin.fail", params={"error": "CardDeclined"}),
        slug="alerts",
    )
    # Loopback: the workers' egress policy refuses it, so the message fails visibly.
    connections.connection_create(
        name="e2e-hook", kind="webhook", fields={"url": "http://127.0.0.1:9/hook"}
    )
    page.goto(f"{asgi_server}/workflows/alerts/edit/")
    page.wait_for_selector("[data-testid=editor][data-loaded=true]")
    page.get_by_test_id("notifications-toggle").click()
    panel = page.get_by_test_id("notifications-panel")
    expect(panel.get_by_test_id("notifications-empty")).to_contain_text("No rules yet.")
    expect(panel.get_by_test_id("notification-deliveries-empty")).to_be_visible()

    panel.get_by_test_id("notification-new").click()
    panel.get_by_test_id("notification-name").fill("On call")
    panel.get_by_test_id("notification-event-run_stuck").check()
    panel.get_by_test_id("notification-connection").select_option("e2e-hook")
    panel.get_by_test_id("notification-rate").fill("0")
    panel.get_by_test_id("notification-save").click()
    expect(panel.locator(".ifield.has-error .field-error")).to_contain_text(
        "A whole number from 1 to 1000."
    )
    assert not NotificationRule.objects.exists()
    panel.get_by_test_id("notification-rate").fill("5")
    panel.get_by_test_id("notification-save").click()

    rule = wait_for(lambda: NotificationRule.objects.filter(workflow=workflow).first())
    assert (rule.name, rule.events, rule.max_per_hour) == (
        "On call",
        ["run_failed", "run_stuck"],
        5,
    )
    item = panel.get_by_test_id(f"notification-rule-{rule.pk}")
    expect(item).to_contain_text("On Run failed, Run stuck")
    expect(item.get_by_test_id(f"notification-rule-connection-{rule.pk}")).to_have_text(
        "e2e-hook (webhook)"
    )

    run, _ = run_start(workflow=workflow, input={}, actor="test")
    note = wait_for(
        lambda: (
            Notification.objects.filter(run=run, attempts__gte=1)
            .exclude(last_error="")
            .first()
        ),
        timeout=60,
        what="the first delivery attempt to fail",
    )
    panel.get_by_test_id("notification-deliveries-refresh").click()
    delivery = panel.get_by_test_id(f"notification-delivery-{note.pk}")
    expect(delivery).to_contain_text(f"Alerts: run {run.pk} failed")
    expect(delivery).to_contain_text("1 attempt")
    expect(
        delivery.get_by_test_id(f"notification-delivery-error-{note.pk}")
    ).not_to_be_empty()
    expect(
        delivery.get_by_test_id(f"notification-delivery-link-{note.pk}")
    ).to_have_attribute("href", f"/runs/{run.pk}/")
    page.screenshot(path=SCREENSHOT)

    item.get_by_test_id(f"notification-rule-toggle-{rule.pk}").click()
    expect(item).to_have_attribute("data-enabled", "false")
    item.get_by_test_id(f"notification-rule-delete-{rule.pk}").click()
    item.get_by_test_id(f"notification-rule-delete-yes-{rule.pk}").click()
    expect(panel.get_by_test_id("notifications-empty")).to_be_visible()
    assert not NotificationRule.objects.exists()
