"""Webhooks in the editor: a webhook is created and its secret shown once; a delivery
signed with it starts a run that says so on the board and on its page and links back;
rotating shows a new secret and the old one stops working; the signing example shown
works as pasted; a webhook is changed (to a message webhook too), disabled, enabled
and deleted; a viewer cannot change webhooks."""

import json
import re
import shutil
import subprocess
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from runs import webhooks
from runs.models import Run, Webhook
from tests.e2e.accounts import log_in
from tests.support import linear_graph, wait_for

pytestmark = pytest.mark.e2e
SCREENSHOT = "/tmp/webhooks.png"


def _open_webhooks(page: Any, base: str, slug: str) -> Any:
    page.goto(f"{base}/workflows/{slug}/edit/")
    page.wait_for_selector("[data-testid=editor][data-loaded=true]")
    page.get_by_test_id("webhooks-toggle").click()
    return page.get_by_test_id("webhooks-panel")


def _deliver(url: str, secret: str, payload: dict[str, Any]) -> httpx.Response:
    body = json.dumps(payload).encode()
    return httpx.post(
        url,
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Switchyard-Signature": webhooks.sign(secret, body),
        },
        timeout=30,
    )


def test_webhook_secret_is_shown_once_and_a_signed_delivery_starts_a_run(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    page = logged_in
    page.set_viewport_size({"width": 1024, "height": 768})
    workflow_factory(linear_graph(1, action="builtin.echo"), slug="intake")
    panel = _open_webhooks(page, asgi_server, "intake")
    expect(panel.get_by_test_id("webhooks-empty")).to_contain_text(
        "No webhooks yet: no other system can start this workflow."
    )

    panel.get_by_test_id("webhook-new").click()
    panel.get_by_test_id("webhook-name").fill("Shop orders")
    # A mapping that does not compile: the server's reason shows under the field.
    panel.get_by_test_id("webhook-mapping").fill('{"order": input.body.order_id')
    panel.get_by_test_id("webhook-idempotency").fill("delivery.id")
    panel.get_by_test_id("webhook-save").click()
    expect(panel.locator(".ifield.has-error .field-error")).to_be_visible()
    assert not Webhook.objects.exists()
    panel.get_by_test_id("webhook-mapping").fill('{"order": input.body.order_id}')
    panel.get_by_test_id("webhook-save").click()

    box = panel.get_by_test_id("webhook-secret-box")
    expect(box).to_be_visible()
    expect(box.get_by_test_id("webhook-secret-warning")).to_contain_text(
        "Copy it now: it will not be shown again"
    )
    secret = box.get_by_test_id("webhook-secret").inner_text().strip()
    assert re.fullmatch(r"whsec_[A-Za-z0-9_-]{20,}", secret), secret
    hook = Webhook.objects.get(workflow__slug="intake")
    url = f"{asgi_server}/hooks/{hook.token}/"
    assert (hook.name, hook.input_mapping, hook.idempotency_field) == (
        "Shop orders",
        '{"order": input.body.order_id}',
        "delivery.id",
    )
    example = box.get_by_test_id("webhook-example").inner_text()
    assert f"SECRET='{secret}'" in example and f"'{url}'" in example, example
    assert "X-Switchyard-Signature: t=$T,v1=$SIG" in example
    expect(panel.get_by_test_id(f"webhook-url-{hook.pk}")).to_have_text(url)
    expect(panel.get_by_test_id(f"webhook-state-{hook.pk}")).to_have_text("active")
    expect(panel.get_by_test_id(f"webhook-last-{hook.pk}")).to_have_text(
        "No delivery yet."
    )
    page.screenshot(path=SCREENSHOT)

    # Once stored, the secret is gone, and does not come back with the panel.
    box.get_by_test_id("webhook-secret-done").click()
    expect(box).to_have_count(0)
    page.get_by_test_id("webhooks-toggle").click()
    panel = page.get_by_test_id("webhooks-panel")
    expect(panel).to_have_count(0)
    page.get_by_test_id("webhooks-toggle").click()
    expect(panel.get_by_test_id(f"webhook-{hook.pk}")).to_be_visible()
    expect(page.get_by_text(secret)).to_have_count(0)

    # A sender signs a delivery; a retry of it (same delivery.id) starts no second run.
    answer = _deliver(url, secret, {"order_id": 42, "delivery": {"id": "d-1"}})
    assert answer.status_code == 202, answer.text
    run_id = answer.json()["run_id"]
    again = _deliver(url, secret, {"order_id": 42, "delivery": {"id": "d-1"}})
    assert (again.status_code, again.json()["run_id"]) == (202, run_id)
    assert again.json()["created"] is False
    run = wait_for(
        lambda: Run.objects.filter(pk=run_id, state="succeeded").first(),
        what="the delivered run to succeed",
    )
    assert (run.trigger, run.input) == (f"webhook:{hook.pk}", {"order": 42})

    page.goto(f"{asgi_server}/board/")
    expect(page.get_by_test_id(f"run-trigger-{run_id}")).to_have_text("webhook")

    page.goto(f"{asgi_server}/runs/{run_id}/")
    badge = page.get_by_test_id("run-trigger")
    expect(badge).to_have_text("webhook")
    expect(badge).to_have_attribute("title", f"Started by webhook #{hook.pk}")
    expect(page.get_by_test_id("run-trigger-detail")).to_have_text(f"#{hook.pk}")

    # The badge opens the editor's webhooks panel on this webhook, now delivered to.
    badge.click()
    page.wait_for_url(f"**/workflows/intake/edit/#webhooks/{hook.pk}")
    item = page.get_by_test_id(f"webhook-{hook.pk}")
    expect(item).to_have_class(re.compile(r"\bis-highlighted\b"))
    expect(item.get_by_test_id(f"webhook-last-{hook.pk}")).to_contain_text(
        "Last delivery: just now"
    )

    # Rotating asks first, then shows a new secret once; the old one stops working.
    panel = page.get_by_test_id("webhooks-panel")
    panel.get_by_test_id(f"webhook-rotate-{hook.pk}").click()
    expect(panel.get_by_test_id(f"webhook-rotate-confirm-{hook.pk}")).to_contain_text(
        "The old secret stops working at once"
    )
    panel.get_by_test_id(f"webhook-rotate-yes-{hook.pk}").click()
    box = panel.get_by_test_id("webhook-secret-box")
    expect(box).to_contain_text("New signing secret of “Shop orders”")
    expect(box.get_by_test_id("webhook-secret-warning")).to_contain_text(
        "Copy it now: it will not be shown again"
    )
    rotated = box.get_by_test_id("webhook-secret").inner_text().strip()
    assert rotated.startswith("whsec_") and rotated != secret
    refused = _deliver(url, secret, {"order_id": 43})
    assert refused.status_code == 401, refused.text
    accepted = _deliver(url, rotated, {"order_id": 43})
    assert accepted.status_code == 202, accepted.text

    # The example, pasted into a shell as shown, signs and delivers with the new secret.
    if shutil.which("curl") and shutil.which("openssl"):
        pasted = box.get_by_test_id("webhook-example").inner_text()
        out = subprocess.run(
            ["bash", "-c", pasted], capture_output=True, text=True, timeout=30
        )
        assert out.returncode == 0, out.stderr
        pasted_run = json.loads(out.stdout)["run_id"]
        assert Run.objects.get(pk=pasted_run).trigger == f"webhook:{hook.pk}"


def test_webhook_is_changed_disabled_enabled_and_deleted(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    page = logged_in
    workflow = workflow_factory(linear_graph(1), slug="hooked")
    hook, secret = webhooks.webhook_create(
        workflow=workflow, fields={"name": "GitHub pushes"}
    )
    url = f"{asgi_server}/hooks/{hook.token}/"
    panel = _open_webhooks(page, asgi_server, "hooked")
    wid = hook.pk
    expect(panel.get_by_test_id(f"webhook-url-{wid}")).to_have_text(url)
    expect(panel.get_by_test_id(f"webhook-{wid}")).to_contain_text(
        "Input: the JSON body"
    )

    panel.get_by_test_id(f"webhook-edit-{wid}").click()
    expect(panel.get_by_test_id("webhook-name")).to_have_value("GitHub pushes")
    panel.get_by_test_id("webhook-mapping").fill('{"ref": input.body.ref}')
    panel.get_by_test_id("webhook-save").click()
    expect(panel.get_by_test_id(f"webhook-mapping-{wid}")).to_have_text(
        '{"ref": input.body.ref}'
    )
    # Changing a webhook shows no secret: it has not changed.
    expect(panel.get_by_test_id("webhook-secret-box")).to_have_count(0)
    hook.refresh_from_db()
    assert hook.input_mapping == '{"ref": input.body.ref}'

    panel.get_by_test_id(f"webhook-disable-{wid}").click()
    expect(panel.get_by_test_id(f"webhook-state-{wid}")).to_have_text("disabled")
    assert _deliver(url, secret, {"ref": "main"}).status_code == 401
    panel.get_by_test_id(f"webhook-enable-{wid}").click()
    expect(panel.get_by_test_id(f"webhook-state-{wid}")).to_have_text("active")
    assert _deliver(url, secret, {"ref": "main"}).status_code == 202

    # A message webhook: the name is checked as typed, and the list says what it sends.
    panel.get_by_test_id(f"webhook-edit-{wid}").click()
    panel.get_by_test_id("webhook-message").fill("bad name!")
    panel.get_by_test_id("webhook-save").click()
    expect(panel.get_by_text("A message name of 1 to 100")).to_be_visible()
    panel.get_by_test_id("webhook-message").fill("push.received")
    panel.get_by_test_id("webhook-mapping").fill(
        '{"key": input.body.ref, "payload": input.body}'
    )
    panel.get_by_test_id("webhook-save").click()
    expect(panel.get_by_test_id(f"webhook-message-{wid}")).to_contain_text(
        "Sends message push.received to waiting runs"
    )
    hook.refresh_from_db()
    assert hook.message == "push.received"
    answer = _deliver(url, secret, {"ref": "main"})
    assert answer.status_code == 202 and answer.json()["kept"] is True, answer.text

    panel.get_by_test_id(f"webhook-delete-{wid}").click()
    panel.get_by_test_id(f"webhook-delete-yes-{wid}").click()
    expect(panel.get_by_test_id("webhooks-empty")).to_be_visible()
    assert not Webhook.objects.filter(pk=wid).exists()


def test_viewer_sees_webhooks_but_cannot_change_them(
    page: Any,
    asgi_server: str,
    live_db: Any,
    django_user_model: Any,
    workflow_factory: Any,
) -> None:
    workflow = workflow_factory(linear_graph(1), slug="watched")
    hook, _ = webhooks.webhook_create(workflow=workflow, fields={"name": "Stripe"})
    log_in(page, asgi_server, django_user_model, "vera", "viewer")

    panel = _open_webhooks(page, asgi_server, "watched")
    wid = hook.pk
    expect(panel.get_by_test_id(f"webhook-url-{wid}")).to_have_text(
        f"{asgi_server}/hooks/{hook.token}/"
    )
    for control in ("webhook-new", f"webhook-edit-{wid}", f"webhook-disable-{wid}"):
        expect(panel.get_by_test_id(control)).to_be_disabled()
        expect(panel.get_by_test_id(control)).to_have_attribute(
            "title", re.compile("ask an editor")
        )
    expect(panel.get_by_test_id(f"webhook-rotate-{wid}")).to_be_disabled()
    expect(panel.get_by_test_id(f"webhook-delete-{wid}")).to_be_disabled()
    expect(panel.get_by_test_id("webhooks-readonly")).to_contain_text("ask an editor")
