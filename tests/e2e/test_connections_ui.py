"""Connections in the browser: the page creates, edits and deletes them with write-only
secrets; a viewer only reads them; the inspector picks one for a task (of the kinds its
action takes, of the workflow's team); the palette's search finds actions."""

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from designer import connections
from designer.models import Connection, Workflow, WorkflowVersion
from tests.e2e.canvas import issue, open_editor
from tests.support import grant, wait_for

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
SECRET = "tok_e2e_Zq8vX1-never-shown"
DESKTOP = {"width": 1024, "height": 768}
PHONE = {"width": 375, "height": 812}


def _shoot(page: Any, name: str) -> None:
    """Save the page at 1024×768 and 375×812 (var/screenshots/connections-<name>-*)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        page.screenshot(
            path=str(SHOTS / f"connections-{name}-{size['width']}.png"),
            full_page=True,
        )
    page.set_viewport_size(DESKTOP)


def _keep_body(response: Any, bodies: dict[str, bytes]) -> None:
    kind = response.request.resource_type
    if kind in ("document", "fetch", "xhr") and not 300 <= response.status < 400:
        bodies[f"{response.request.method} {response.url} #{len(bodies)}"] = (
            response.body()
        )


def _join(username: str, *teams: str) -> list[Group]:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=username)
    groups = [Group.objects.get_or_create(name=team)[0] for team in teams]
    user.groups.add(*groups)
    return groups


def test_a_connection_is_created_edited_and_deleted_its_secret_never_shown(
    logged_in: Any, asgi_server: str
) -> None:
    page = logged_in
    _join("operator", "payments")
    # {url: body} of every page and API answer, read as it arrives.
    bodies: dict[str, bytes] = {}
    page.on("response", lambda response: _keep_body(response, bodies))
    page.set_viewport_size(DESKTOP)

    page.goto(f"{asgi_server}/connections/")
    expect(page.get_by_test_id("connections-empty")).to_contain_text(
        "A connection is a named way into another system"
    )
    _shoot(page, "empty")
    page.get_by_test_id("empty-new-connection").click()
    form = page.get_by_test_id("connection-form")
    form.get_by_test_id("connection-name").fill("billing-api")
    expect(form.get_by_test_id("connection-kind")).to_have_value("http")
    form.get_by_test_id("connection-team").select_option("payments")
    form.get_by_test_id("connection-field-base_url").fill("https://billing.example")
    form.get_by_test_id("connection-field-auth").select_option("bearer")
    form.get_by_test_id("connection-secret-token").fill(SECRET)
    _shoot(page, "form")
    form.get_by_test_id("connection-submit").click()

    row = page.get_by_test_id("connection-billing-api")
    expect(row.get_by_test_id("connection-billing-api-secret-token")).to_have_text(
        "token set"
    )
    expect(row.get_by_test_id("connection-billing-api-secret-password")).to_have_text(
        "password not set"
    )
    expect(row.get_by_test_id("connection-billing-api-team")).to_have_text("payments")
    created = Connection.objects.get(name="billing-api")
    assert connections.StoredSecrets().read(created) == {"token": SECRET}
    assert created.fields == {"base_url": "https://billing.example", "auth": "bearer"}

    # A second connection of the same name: the server's 409 shows under the name.
    page.get_by_test_id("new-connection").click()
    form.get_by_test_id("connection-name").fill("billing-api")
    form.get_by_test_id("connection-field-base_url").fill("https://other.example")
    form.get_by_test_id("connection-submit").click()
    expect(form.locator(".field.has-error .field-error")).to_contain_text(
        "a connection 'billing-api' exists; pick another name."
    )
    form.get_by_role("button", name="Cancel").click()
    _shoot(page, "list")

    # An edit that does not retype the secret keeps it; the input stays empty.
    page.get_by_test_id("edit-connection-billing-api").click()
    expect(form.get_by_test_id("connection-secret-status-token")).to_have_text("set")
    token = form.get_by_test_id("connection-secret-token")
    expect(token).to_have_value("")
    expect(token).to_have_attribute("placeholder", "set — type to replace")
    _shoot(page, "edit")
    form.get_by_test_id("connection-description").fill("The billing service")
    form.get_by_test_id("connection-field-base_url").fill("https://billing.example/v2")
    form.get_by_test_id("connection-submit").click()
    expect(page.get_by_test_id("connections-notice")).to_have_text(
        "Saved “billing-api”."
    )
    expect(row).to_contain_text("The billing service")
    edited = Connection.objects.get(name="billing-api")
    assert edited.fields["base_url"] == "https://billing.example/v2"
    assert connections.StoredSecrets().read(edited) == {"token": SECRET}

    # Remove, then keep: nothing changes; remove and save: the secret is gone.
    page.get_by_test_id("edit-connection-billing-api").click()
    remove = form.get_by_test_id("connection-secret-remove-token")
    remove.click()
    expect(form.get_by_test_id("connection-secret-status-token")).to_have_text(
        "will be removed"
    )
    expect(token).to_be_disabled()
    remove.click()
    expect(form.get_by_test_id("connection-secret-status-token")).to_have_text("set")
    remove.click()
    form.get_by_test_id("connection-submit").click()
    expect(row.get_by_test_id("connection-billing-api-secret-token")).to_have_text(
        "token not set"
    )
    assert connections.StoredSecrets().read(Connection.objects.get()) == {}

    # Deleting asks first.
    page.get_by_test_id("delete-connection-billing-api").click()
    page.get_by_test_id("confirm-delete-billing-api").get_by_role(
        "button", name="Cancel"
    ).click()
    expect(row).to_be_visible()
    page.get_by_test_id("delete-connection-billing-api").click()
    page.get_by_test_id("confirm-delete").click()
    expect(page.get_by_test_id("connections-empty")).to_be_visible()
    assert not Connection.objects.exists()

    # Not one answer the browser got, nor the page, holds the secret's bytes.
    page.reload()
    expect(page.get_by_test_id("connections-empty")).to_be_visible()
    assert SECRET not in page.content()
    api = [url for url in bodies if "/api/v1/connections/" in url]
    assert len(api) >= 6, api
    for url, body in bodies.items():
        assert SECRET.encode() not in body, url


def test_a_viewer_reads_the_connections_without_changing_them(
    page: Any, asgi_server: str, live_db: Any, django_user_model: Any
) -> None:
    grant(
        django_user_model.objects.create_user("vera", password="vera-pass-1"), "viewer"
    )
    connections.connection_create(
        name="alerts",
        kind="slack",
        secrets={"webhook_url": "https://hooks.slack.example/T0/B0/x"},
    )
    connections.connection_create(
        name="warehouse",
        kind="postgres",
        fields={"host": "db.internal", "dbname": "dw", "user": "reader"},
        secret_source="env",
    )
    page.goto(f"{asgi_server}/login/")
    page.fill("input[name=username]", "vera")
    page.fill("input[name=password]", "vera-pass-1")
    page.click("button[type=submit]")
    page.wait_for_url(f"{asgi_server}/")

    page.goto(f"{asgi_server}/connections/")
    expect(page.get_by_test_id("connection-alerts-secret-webhook_url")).to_have_text(
        "webhook_url set"
    )
    expect(page.get_by_test_id("connection-warehouse-secret-password")).to_have_text(
        "password from env"
    )
    expect(page.get_by_test_id("connections-read-only")).to_contain_text(
        "cannot change connections"
    )
    expect(page.get_by_test_id("new-connection")).to_be_disabled()
    expect(page.get_by_test_id("edit-connection-alerts")).to_have_count(0)
    expect(page.get_by_test_id("delete-connection-alerts")).to_have_count(0)
    assert "hooks.slack.example" not in page.content()


def _sync_graph() -> dict[str, Any]:
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "fetch",
                "type": "task",
                "action": "http.request",
                "params": {
                    "connection": "moved-api",
                    "method": "GET",
                    "path": "/orders",
                },
                "retry": {"max_attempts": 1},
            },
            {"id": "done", "type": "end"},
            {"id": "stop", "type": "end", "status": "failed"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "fetch"},
            {"id": "e2", "source": "fetch", "target": "done"},
            {"id": "e3", "source": "fetch", "target": "stop", "on": "failure"},
        ],
    }


def test_the_inspector_offers_the_teams_connections_and_the_palette_finds_actions(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    page = logged_in
    payments, risk = _join("operator", "payments", "risk")
    http = {"base_url": "https://api.example"}
    connections.connection_create(
        name="billing-api", kind="http", fields=http, owner_group=payments
    )
    connections.connection_create(name="shared-api", kind="http", fields=http)
    connections.connection_create(
        name="risk-api", kind="http", fields=http, owner_group=risk
    )
    connections.connection_create(
        name="alerts",
        kind="slack",
        secrets={"webhook_url": "https://hooks.slack.example/T0/B0/x"},
        owner_group=payments,
    )
    # The task names a connection of no team, which then moves to another team.
    connections.connection_create(name="moved-api", kind="http", fields=http)
    workflow = workflow_factory(_sync_graph(), slug="sync")
    Workflow.objects.filter(pk=workflow.pk).update(owner_group=payments)
    Connection.objects.filter(name="moved-api").update(owner_group=risk)

    open_editor(page, asgi_server, "sync")
    page.get_by_test_id("node-fetch").click()
    picker = page.get_by_test_id("param-connection")
    expect(picker).to_have_attribute("data-status", "ready")
    expect(picker).to_have_value("moved-api")
    # The workflow's team's and no team's http connections: not risk's, not slack.
    assert picker.locator("option").all_inner_texts() == [
        "— choose a connection —",
        "moved-api (missing)",
        "billing-api (payments)",
        "shared-api",
    ]
    expect(page.get_by_test_id("param-connection-manage")).to_have_attribute(
        "href", "/connections/"
    )

    page.get_by_test_id("param-path").fill("/orders/open")
    page.get_by_test_id("save-draft").click()
    expect(issue(page, "connection_not_allowed", "fetch")).to_contain_text(
        "belongs to another team"
    )
    assert WorkflowVersion.objects.filter(workflow=workflow).count() == 1

    picker.select_option("billing-api")
    issue(page, "connection_not_allowed", "fetch").wait_for(state="detached")
    page.get_by_test_id("save-draft").click()
    saved = wait_for(
        lambda: WorkflowVersion.objects.filter(workflow=workflow, number=2).first(),
        what="the draft with the picked connection",
    )
    fetch = next(n for n in saved.graph["nodes"] if n["id"] == "fetch")
    assert fetch["params"] == {
        "connection": "billing-api",
        "method": "GET",
        "path": "/orders/open",
    }

    # An =expression stays possible, as for any text param.
    page.get_by_role("button", name="use an expression").click()
    expression = page.get_by_test_id("param-connection")
    expect(expression).to_have_value("=")
    expression.fill("=input.api")
    expect(expression).to_have_value("=input.api")
    expression.fill("")
    expect(page.get_by_test_id("param-connection")).to_have_value("")

    # The palette's search finds an action by a word of its description.
    search = page.get_by_test_id("palette-search")
    search.fill("channel")
    entry = page.get_by_test_id("palette-action-slack.post")
    expect(entry).to_contain_text("Post a message to a Slack channel")
    expect(page.get_by_test_id("palette-task")).to_have_count(0)
    before = set(
        page.locator("[data-node-type=task]").evaluate_all(
            "nodes => nodes.map(n => n.dataset.nodeId)"
        )
    )
    entry.drag_to(page.get_by_test_id("canvas"), target_position={"x": 420, "y": 320})
    page.wait_for_function(
        "n => document.querySelectorAll('[data-node-type=task]').length > n",
        arg=len(before),
    )
    after = page.locator("[data-node-type=task]").evaluate_all(
        "nodes => nodes.map(n => n.dataset.nodeId)"
    )
    (posted,) = set(after) - before
    expect(page.get_by_test_id(f"node-{posted}")).to_contain_text("slack.post")
    expect(page.get_by_test_id("inspector-action")).to_have_value("slack.post")
    slack_picker = page.get_by_test_id("param-connection")
    assert slack_picker.locator("option").all_inner_texts() == [
        "— choose a connection —",
        "alerts (payments)",
    ]
    slack_picker.select_option("alerts")
    expect(slack_picker).to_have_value("alerts")
    search.fill("post")
    expect(page.get_by_test_id("palette-action-webhook.post")).to_be_visible()
    page.screenshot(path=str(SHOTS / "connections-editor-1280.png"))

    # Keyboard: Enter adds the first match, here an action.
    search.fill("smtp")
    expect(page.get_by_test_id("palette-action-email.send")).to_be_visible()
    search.press("Enter")
    expect(page.get_by_test_id("inspector-action")).to_have_value("email.send")
    search.fill("")
    expect(page.get_by_test_id("palette-task")).to_be_visible()
    expect(page.get_by_test_id("palette-actions")).to_have_count(0)
