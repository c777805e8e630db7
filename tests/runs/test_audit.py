"""The audit trail: each change to settings, triggers, connections and access is one
event with its actor and a bounded diff; secrets never appear; listed per workflow
(with its team's connections) and in all, newest first, to those allowed."""

import importlib
import json
from typing import Any

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from designer import audit as designer_audit
from designer import connections
from runs import audit, notification_rules, schedules, webhooks
from runs.models import Event
from tests.support import grant, linear_graph

pytestmark = pytest.mark.django_db

SECRET = "tok-audit-never-shown-71c2"


def _audit(api: APIClient, slug: str) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/workflows/{slug}/audit/")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _only(kind: str) -> Event:
    (event,) = Event.objects.filter(kind=kind)
    return event


def test_a_settings_patch_is_one_event_with_the_actor_and_the_diff(
    api: APIClient, workflow_factory: Any
) -> None:
    workflow_factory(linear_graph(1), slug="wf")
    response = api.patch(
        "/api/v1/workflows/wf/settings/",
        {"publish_gate": "block", "coverage_threshold": 80, "business_key": ""},
        format="json",
    )
    assert response.status_code == 200, response.content
    event = _only("settings_changed")
    assert event.actor == "user:alice"
    # business_key did not change: it is not in the diff.
    assert event.data["changes"] == {
        "publish_gate": {"from": "off", "to": "block"},
        "coverage_threshold": {"from": 0, "to": 80},
    }
    (entry,) = _audit(api, "wf")
    assert entry["kind"] == "settings_changed"
    assert entry["actor"] == "user:alice"
    assert entry["workflow"] == "wf"
    assert entry["subject"] == "settings"
    assert entry["changes"]["publish_gate"] == {"from": "off", "to": "block"}


def test_a_patch_that_changes_nothing_records_nothing(
    api: APIClient, workflow_factory: Any
) -> None:
    workflow_factory(linear_graph(1), slug="wf")
    api.patch("/api/v1/workflows/wf/settings/", {"publish_gate": "off"}, "json")
    assert not Event.objects.filter(kind="settings_changed").exists()


def test_rollback_criteria_schema_samples_key_and_retention_are_audited(
    api: APIClient, workflow_factory: Any
) -> None:
    workflow_factory(linear_graph(1), slug="wf")
    big = {
        "type": "object",
        "properties": {f"field_{i}": {"type": "string"} for i in range(200)},
    }
    changes = {
        "rollback_criteria": {"min_success_rate": 0.5, "min_runs": 10},
        "input_schema": big,
        "sample_inputs": [{"name": "small", "input": {"n": 1}}],
        "business_key": "=string(input.n)",
        "retention_days": 30,
    }
    response = api.patch("/api/v1/workflows/wf/settings/", changes, format="json")
    assert response.status_code == 200, response.content
    diff = _only("settings_changed").data["changes"]
    assert set(diff) == set(changes)
    assert diff["retention_days"] == {"from": None, "to": 30}
    assert diff["business_key"] == {"from": "", "to": "=string(input.n)"}
    # A large value is summarised, so an event stays small.
    summary = diff["input_schema"]["to"]
    assert summary["summary"].startswith("an object of 2 keys")
    assert len(json.dumps(diff)) < 4 * designer_audit.MAX_VALUE_BYTES


def test_schedules_leave_their_diff_on_their_events(
    api: APIClient, workflow_factory: Any, user: Any
) -> None:
    workflow = workflow_factory(linear_graph(1), slug="wf")
    schedule = schedules.schedule_create(
        workflow=workflow,
        fields={"name": "tick", "kind": "interval", "interval_s": 60},
        user=user,
    )
    schedules.schedule_update(schedule=schedule, fields={"interval_s": 120}, user=user)
    created = _only("schedule_created")
    assert created.actor == "user:alice"
    assert created.data["changes"]["interval_s"] == {"from": None, "to": 60}
    changed = _only("schedule_changed")
    assert changed.data["changes"] == {"interval_s": {"from": 60, "to": 120}}
    schedules.schedule_pause(schedule=schedule, user=user)
    entries = _audit(api, "wf")
    assert [e["kind"] for e in entries] == [
        "schedule_paused",
        "schedule_changed",
        "schedule_created",
    ]
    assert entries[0]["changes"] == {"state": {"from": "active", "to": "paused"}}
    assert entries[1]["subject"] == "schedule tick"


def test_webhooks_are_audited_and_their_secret_never_appears(
    api: APIClient, workflow_factory: Any, user: Any
) -> None:
    workflow = workflow_factory(linear_graph(1), slug="wf")
    webhook, secret = webhooks.webhook_create(
        workflow=workflow, fields={"name": "orders"}, user=user
    )
    webhooks.webhook_update(
        webhook=webhook, fields={"name": "orders", "input_mapping": "input"}, user=user
    )
    _, rotated = webhooks.webhook_rotate(webhook=webhook, user=user)
    assert _only("webhook_changed").data["changes"] == {
        "input_mapping": {"from": "", "to": "input"}
    }
    entries = _audit(api, "wf")
    assert entries[0]["kind"] == "webhook_secret_rotated"
    assert entries[0]["changes"] == {"secret": {"changed": True}}
    dumped = json.dumps(entries) + json.dumps(list(Event.objects.values("data")))
    assert secret not in dumped and rotated not in dumped


def test_notification_rules_are_audited(
    api: APIClient, workflow_factory: Any, user: Any
) -> None:
    workflow = workflow_factory(linear_graph(1), slug="wf")
    connections.connection_create(
        name="ops-hook",
        kind="webhook",
        fields={"url": "https://hooks.example/x", "header": "Authorization"},
        secrets={"token": SECRET},
    )
    rule = notification_rules.notification_rule_create(
        workflow=workflow,
        fields={"name": "failures", "events": ["run_failed"], "connection": "ops-hook"},
        user=user,
    )
    notification_rules.notification_rule_update(
        rule=rule, fields={"max_per_hour": 3}, user=user
    )
    changed = _only("notification_rule_changed")
    assert changed.actor == "user:alice"
    assert changed.data["changes"] == {"max_per_hour": {"from": 10, "to": 3}}
    assert "notification_rule_changed" in [e["kind"] for e in _audit(api, "wf")]


def test_a_teams_default_rule_is_listed_under_that_teams_workflows(
    api: APIClient, workflow_factory: Any, user: Any
) -> None:
    from designer.models import Workflow

    team = Group.objects.create(name="payments")
    workflow_factory(linear_graph(1), slug="pay")
    workflow_factory(linear_graph(1), slug="free")
    Workflow.objects.filter(slug="pay").update(owner_group=team)
    connections.connection_create(
        name="ops-hook",
        kind="webhook",
        fields={"url": "https://hooks.example/x", "header": "Authorization"},
        secrets={"token": SECRET},
    )
    notification_rules.notification_rule_create(
        owner_group=team,
        fields={"name": "team", "events": ["run_failed"], "connection": "ops-hook"},
        user=user,
    )
    assert "notification_rule_created" in [e["kind"] for e in _audit(api, "pay")]
    assert "notification_rule_created" not in [e["kind"] for e in _audit(api, "free")]


def test_connection_changes_name_secrets_but_never_their_values(
    api: APIClient, workflow_factory: Any, user: Any, django_user_model: Any
) -> None:
    team = Group.objects.create(name="payments")
    other = Group.objects.create(name="growth")
    workflow_factory(linear_graph(1), slug="pay")
    workflow_factory(linear_graph(1), slug="grow")
    from designer.models import Workflow

    Workflow.objects.filter(slug="pay").update(owner_group=team)
    Workflow.objects.filter(slug="grow").update(owner_group=other)
    connection = connections.connection_create(
        name="crm",
        kind="http",
        fields={"base_url": "https://crm.example", "auth": "bearer"},
        secrets={"token": SECRET},
        owner_group=team,
        actor=user,
    )
    connections.connection_update(
        connection=connection,
        fields={"base_url": "https://crm2.example", "auth": "bearer"},
        secrets={"token": SECRET + "-2"},
        actor=user,
    )
    updated = _only("connection_updated")
    assert updated.actor == "user:alice"
    assert updated.data["team"] == "payments"
    assert updated.data["changes"] == {
        "fields.base_url": {
            "from": "https://crm.example",
            "to": "https://crm2.example",
        },
        "secret token": {"changed": True},
    }
    assert "secret token" in _only("connection_created").data["changes"]
    # Listed under the team's workflows, not another team's; and globally.
    assert [e["kind"] for e in _audit(api, "pay")] == [
        "connection_updated",
        "connection_created",
    ]
    assert _audit(api, "grow") == []
    everything = api.get("/api/v1/audit/").json()["results"]
    assert {e["kind"] for e in everything} >= {"connection_updated"}
    dumped = json.dumps(everything) + json.dumps(list(Event.objects.values("data")))
    assert SECRET not in dumped


def test_role_and_team_membership_changes_are_audited(
    api: APIClient, django_user_model: Any
) -> None:
    bob = django_user_model.objects.create_user("bob", password="bob-password-1")
    team = Group.objects.create(name="risk")
    grant(bob, "editor")
    team.user_set.add(bob)
    bob.groups.remove(team)
    events = list(
        Event.objects.filter(kind="membership_changed", data__user="bob").order_by("id")
    )
    assert [e.data["changes"] for e in events] == [
        {"group editor": {"from": False, "to": True}},
        {"group risk": {"from": False, "to": True}},
        {"group risk": {"from": True, "to": False}},
    ]
    assert all(e.data["user"] == "bob" for e in events)
    entries = api.get("/api/v1/audit/").json()["results"]
    assert entries[0]["subject"] == "user bob"
    assert entries[0]["changes"] == {"group risk": {"from": True, "to": False}}


def test_the_admin_who_changes_a_membership_is_its_actor(
    client: Any, django_user_model: Any
) -> None:
    root = django_user_model.objects.create_superuser("root", password="root-pw-1")
    bob = django_user_model.objects.create_user("bob", password="bob-password-1")
    team = Group.objects.create(name="risk")
    client.force_login(root)
    response = client.post(
        f"/admin/auth/user/{bob.pk}/change/",
        {
            "username": "bob",
            "password": bob.password,
            "is_active": "on",
            "groups": [team.pk],
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code in (200, 302)
    event = _only("membership_changed")
    assert event.actor == "user:root"


def test_audit_lists_are_newest_first_paginated_and_guarded(
    api: APIClient,
    workflow_factory: Any,
    django_user_model: Any,
    django_assert_max_num_queries: Any,
) -> None:
    workflow_factory(linear_graph(1), slug="wf")
    for threshold in (10, 20, 30):
        api.patch(
            "/api/v1/workflows/wf/settings/",
            {"coverage_threshold": threshold},
            format="json",
        )
    # The workflow, the user's permissions, the count, the page, the slugs: not
    # one query per entry.
    with django_assert_max_num_queries(8):
        page = api.get("/api/v1/workflows/wf/audit/?limit=2").json()
    assert page["count"] == 3
    assert [e["changes"]["coverage_threshold"]["to"] for e in page["results"]] == [
        30,
        20,
    ]
    assert api.get("/api/v1/workflows/wf/audit/?limit=0").status_code == 400

    viewer = grant(django_user_model.objects.create_user("vic", password="x"), "viewer")
    as_viewer = APIClient()
    as_viewer.force_authenticate(viewer)
    assert as_viewer.get("/api/v1/workflows/wf/audit/").status_code == 200
    assert as_viewer.get("/api/v1/audit/").status_code == 403
    assert as_viewer.get("/api/v1/workflows/nope/audit/").status_code == 404
    assert APIClient().get("/api/v1/audit/").status_code in (401, 403)


def test_the_audit_index_migration_names_every_audited_kind() -> None:
    migration = importlib.import_module("runs.migrations.0025_audit_indexes")
    assert set(migration.KINDS) == set(audit.AUDIT_KINDS)
