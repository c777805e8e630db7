"""Notifications: matching rules, one message per rule and subject, team defaults,
the rate limit, delivery to a local server with retries and redacted errors, the
sweeper's jobs, and the API's permissions and refusals."""

import json
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.test import APIClient

from designer import connections
from designer import services as designer_services
from designer.models import Connection
from runs import notification_delivery, notification_rules, notifications, releases
from runs.events import EventLog
from runs.handoffs import handoffs_expire_due
from runs.models import (
    Event,
    Notification,
    NotificationRule,
    NotificationState,
    Run,
    RunState,
)
from runs.services.controls import run_retry
from runs.services.starting import run_start
from tests.servers import http_server
from tests.support import drive, free_port, grant, linear_graph

pytestmark = pytest.mark.django_db

TOKEN = "hook-token-5f1c9a77"
SLACK_URL_SECRET = "/services/T000/B000/slack-secret-9d2e"


def failing_graph() -> dict[str, Any]:
    return linear_graph(1, action="builtin.fail", params={"error": "CardDeclined"})


def webhook_connection(
    name: str = "ops-hook", url: str = "https://hooks.example/x", team: Any = None
) -> Any:
    return connections.connection_create(
        name=name,
        kind="webhook",
        fields={"url": url, "header": "Authorization"},
        secrets={"token": TOKEN},
        owner_group=team,
    )


def rule(
    workflow: Any = None,
    *,
    events: list[str] | None = None,
    connection: str = "ops-hook",
    team: Any = None,
    **fields: Any,
) -> NotificationRule:
    return notification_rules.notification_rule_create(
        workflow=workflow,
        owner_group=team,
        fields={"events": events or ["run_failed"], "connection": connection, **fields},
    )


def fail_a_run(workflow: Any) -> Run:
    run, _ = run_start(workflow=workflow, input={}, actor="test")
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    return run


# ------------------------------------------------------------------ matching


def test_a_failing_run_makes_one_notification_per_matching_rule(
    workflow_factory: Any, django_capture_on_commit_callbacks: Any
) -> None:
    workflow = workflow_factory(failing_graph(), slug="charge")
    webhook_connection()
    first = rule(workflow, name="ops")
    second = rule(workflow, name="also", events=["run_failed", "run_stuck"])
    rule(workflow, name="elsewhere", events=["handoff_overdue"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = fail_a_run(workflow)
    made = Notification.objects.order_by("rule_id")
    assert [(n.rule_id, n.run_id, n.state) for n in made] == [
        (first.pk, run.pk, "pending"),
        (second.pk, run.pk, "pending"),
    ]
    note = made[0]
    assert note.key == f"run_failed:run:{run.pk}"
    assert note.subject == f"Charge: run {run.pk} failed"
    assert "CardDeclined" in note.text
    assert note.link == f"http://127.0.0.1:8000/runs/{run.pk}/"
    assert note.data["run_id"] == run.pk and note.data["event"] == "run_failed"
    # Published after the commit, one message per notification, on their queue.
    published = [
        c for c in callbacks if getattr(c, "func", None) is notifications.publish
    ]
    assert sorted(c.args[0] for c in published) == [n.pk for n in made]
    created = Event.objects.filter(kind="notification_created")
    assert sorted(e.data["notification"] for e in created) == [n.pk for n in made]
    assert all(e.workflow_id == workflow.pk and e.run_id is None for e in created)


def test_a_retried_run_that_fails_again_is_not_notified_twice(
    workflow_factory: Any,
) -> None:
    workflow = workflow_factory(failing_graph(), slug="again")
    webhook_connection()
    rule(workflow)
    run = fail_a_run(workflow)
    run_retry(run=run, actor="user:alice")
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert Event.objects.filter(run=run, kind="run_failed").count() == 2
    assert Notification.objects.count() == 1


def test_an_event_written_again_is_deduplicated(workflow_factory: Any) -> None:
    workflow = workflow_factory(failing_graph(), slug="twice")
    webhook_connection()
    rule(workflow)
    run = fail_a_run(workflow)
    event = Event.objects.get(run=run, kind="run_failed")
    log = EventLog()
    log.add("run_failed", run=run, from_state="running", to_state="failed")
    log.flush()
    assert notifications.notify([notifications.occurrence_of(event)]) == []
    assert Notification.objects.count() == 1


def test_a_team_default_applies_unless_the_workflow_has_its_own_rule(
    workflow_factory: Any,
) -> None:
    team = Group.objects.create(name="payments-team")
    webhook_connection(team=team)
    webhook_connection(name="own-hook")
    default = rule(team=team)
    covered = workflow_factory(failing_graph(), slug="covered")
    covered.owner_group = team
    covered.save()
    own = workflow_factory(failing_graph(), slug="own")
    own.owner_group = team
    own.save()
    own_rule = rule(own, connection="own-hook")
    silenced = workflow_factory(failing_graph(), slug="silenced")
    silenced.owner_group = team
    silenced.save()
    rule(silenced, connection="own-hook", enabled=False)
    other = workflow_factory(failing_graph(), slug="no-team")

    runs = {wf.slug: fail_a_run(wf) for wf in (covered, own, silenced, other)}

    made = {(n.workflow.slug, n.rule_id) for n in Notification.objects.all()}
    assert made == {("covered", default.pk), ("own", own_rule.pk)}
    assert Notification.objects.get(rule=default).run_id == runs["covered"].pk


def test_past_the_rate_limit_messages_are_suppressed_and_listed(
    workflow_factory: Any,
) -> None:
    workflow = workflow_factory(failing_graph(), slug="noisy")
    webhook_connection()
    limited = rule(workflow, max_per_hour=2)
    for _ in range(3):
        fail_a_run(workflow)
    states = list(Notification.objects.order_by("id").values_list("state", flat=True))
    assert states == ["pending", "pending", "suppressed"]
    last_sent = Notification.objects.filter(rule=limited).order_by("id")[1]
    assert "more are suppressed" in last_sent.text
    suppressed = Event.objects.get(kind="notification_suppressed")
    assert suppressed.to_state == "suppressed"
    assert "rate limit of 2" in suppressed.reason
    # An hour later the rule may send again.
    later = timezone.now() + timedelta(hours=1, seconds=1)
    run = fail_a_run(workflow)
    Notification.objects.filter(run=run).delete()
    occurrence = notifications.occurrence_of(
        Event.objects.get(run=run, kind="run_failed")
    )
    assert occurrence is not None
    (again,) = notifications.notify([occurrence], now=later)
    assert again.state == NotificationState.PENDING


def test_a_broken_matcher_never_breaks_the_run(
    workflow_factory: Any, monkeypatch: Any
) -> None:
    workflow = workflow_factory(failing_graph(), slug="robust")
    webhook_connection()
    rule(workflow)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("matcher bug")

    monkeypatch.setattr(notifications, "notify", broken)
    run = fail_a_run(workflow)
    assert run.error["type"] == "CardDeclined"
    assert not Notification.objects.exists()


def test_an_overdue_handoff_is_one_message_for_expiry_and_escalation(
    workflow_factory: Any,
) -> None:
    graph = {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "review",
                "type": "handoff",
                "label": "Check the refund",
                "to": {"group": "risk"},
                "outcomes": ["ok"],
                "sla_s": 60,
            },
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "review"},
            {"id": "e2", "source": "review", "target": "done", "default": True},
        ],
    }
    workflow = workflow_factory(graph, slug="refunds")
    webhook_connection()
    rule(workflow, events=["handoff_overdue"])
    run, _ = run_start(workflow=workflow, input={}, actor="test")
    assert handoffs_expire_due(now=timezone.now() + timedelta(seconds=61)) == 1
    (note,) = Notification.objects.all()
    assert note.event == "handoff_overdue" and note.run_id == run.pk
    assert note.subject == "Refunds: handoff Check the refund is overdue"
    assert note.link.endswith(f"/runs/{run.pk}/")


def test_an_aborted_canary_and_a_rollback_are_notified(
    workflow_factory: Any, user: Any
) -> None:
    workflow = workflow_factory(linear_graph(1), slug="release")
    webhook_connection()
    watched = rule(workflow, events=["canary_aborted", "rolled_back"])
    version, _ = designer_services.version_create(
        workflow=workflow, graph=linear_graph(2), created_by=user
    )
    releases.version_publish(version=version, canary_percent=10)
    workflow.refresh_from_db()
    releases.canary_abort(workflow=workflow, actor=user, reason="too many errors")
    releases.workflow_rollback(workflow=workflow, number=1, actor=user)
    made = list(Notification.objects.filter(rule=watched).order_by("id"))
    assert [n.event for n in made] == ["canary_aborted", "rolled_back"]
    assert made[0].subject == "Release: canary v2 aborted"
    assert "too many errors" in made[0].text
    assert made[0].link == "http://127.0.0.1:8000/workflows/release/edit/"
    assert made[1].data["to"] == 1


def test_a_spent_retry_budget_is_one_message_per_queue_and_hour(
    workflow_factory: Any,
) -> None:
    workflow = workflow_factory(linear_graph(1), slug="budget")
    webhook_connection()
    rule(workflow, events=["retry_budget_exhausted"])
    for _ in range(3):
        run, _ = run_start(workflow=workflow, input={}, actor="test")
        attempt = run.attempts.get()
        log = EventLog()
        log.add(
            "retry_deferred",
            run=run,
            attempt=attempt,
            reason="retry budget of queue 'default' is spent",
        )
        log.flush()
    (note,) = Notification.objects.all()
    assert note.event == "retry_budget_exhausted"
    assert note.key.startswith("retry_budget_exhausted:queue:default:")
    assert note.subject == "Retry budget of queue default is spent"


# ------------------------------------------------------------------ delivery


class _Target(BaseHTTPRequestHandler):
    """A local webhook target: records each POST and answers `status`."""

    status = 200
    seen: list[tuple[str, dict[str, Any], dict[str, str]]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        _Target.seen.append((self.path, body, dict(self.headers)))
        self.send_response(_Target.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def target(settings: Any) -> Iterator[str]:
    settings.SWITCHYARD_EGRESS_ALLOW = ["127.0.0.1/32"]
    _Target.seen = []
    _Target.status = 200
    with http_server(_Target) as url:
        yield url


def _one_failed_run_notified(workflow_factory: Any, url: str, **fields: Any) -> Any:
    workflow = workflow_factory(failing_graph(), slug="delivered")
    webhook_connection(url=url)
    rule(workflow, **fields)
    run = fail_a_run(workflow)
    return Notification.objects.get(run=run)


def test_a_message_reaches_the_webhook_with_the_run_link(
    workflow_factory: Any, target: str
) -> None:
    note = _one_failed_run_notified(workflow_factory, f"{target}/alerts")
    assert notification_delivery.notification_deliver(notification_id=note.pk) == "sent"
    ((path, body, headers),) = _Target.seen
    assert path == "/alerts"
    assert headers["Authorization"] == TOKEN
    assert body["link"] == f"http://127.0.0.1:8000/runs/{note.run_id}/"
    assert body["subject"] == note.subject and body["data"]["event"] == "run_failed"
    assert body["data"]["error"]["type"] == "CardDeclined"
    sent = Notification.objects.get(pk=note.pk)
    assert (sent.state, sent.attempts, sent.last_error) == ("sent", 1, "")
    event = Event.objects.get(kind="notification_sent")
    assert (event.from_state, event.to_state) == ("pending", "sent")
    # A second message for the same row (a redelivered task) sends nothing.
    assert (
        notification_delivery.notification_deliver(notification_id=note.pk) == "skipped"
    )
    assert len(_Target.seen) == 1


def test_a_failing_target_is_retried_with_backoff_then_failed(
    workflow_factory: Any,
    target: str,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.SWITCHYARD_NOTIFICATION_RETRY = {"max_attempts": 3, "initial_s": 10}
    _Target.status = 500
    note = _one_failed_run_notified(workflow_factory, f"{target}/down")
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        outcome = notification_delivery.notification_deliver(
            notification_id=note.pk, now=now
        )
    assert outcome == "retry"
    # The retry is published after the commit, with the backoff as its countdown.
    ((callback),) = callbacks
    assert (callback.args, callback.keywords) == ((note.pk,), {"countdown": 10.0})
    waiting = Notification.objects.get(pk=note.pk)
    assert (waiting.state, waiting.attempts) == ("pending", 1)
    assert waiting.next_attempt_at == now + timedelta(seconds=10)
    assert "500" in waiting.last_error and TOKEN not in waiting.last_error
    # Not due yet: a message arriving early sends nothing.
    assert notification_delivery.notification_deliver(
        notification_id=note.pk, now=now
    ) == ("skipped")
    later = now + timedelta(seconds=10)
    assert notification_delivery.notification_deliver(
        notification_id=note.pk, now=later
    ) == ("retry")
    last = later + timedelta(seconds=40)
    assert notification_delivery.notification_deliver(
        notification_id=note.pk, now=last
    ) == ("failed")
    failed = Notification.objects.get(pk=note.pk)
    assert (failed.state, failed.attempts) == ("failed", 3)
    assert len(_Target.seen) == 3
    kinds = list(
        Event.objects.filter(kind__startswith="notification_")
        .exclude(kind__startswith="notification_rule")
        .values_list("kind", flat=True)
    )
    assert kinds == [
        "notification_created",
        "notification_retry",
        "notification_retry",
        "notification_failed",
    ]
    for event in Event.objects.filter(kind__startswith="notification"):
        assert TOKEN not in event.reason and TOKEN not in json.dumps(event.data)
    # Sent again by hand: a fresh set of attempts.
    resent = notification_delivery.notification_resend(notification=failed, user=None)
    assert (resent.state, resent.attempts) == ("pending", 0)


def test_a_closed_port_is_an_error_on_the_row_and_a_4xx_fails_at_once(
    workflow_factory: Any, target: str
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/gone"
    note = _one_failed_run_notified(workflow_factory, closed)
    assert (
        notification_delivery.notification_deliver(notification_id=note.pk) == "retry"
    )
    assert Notification.objects.get(pk=note.pk).last_error
    # A target that refuses the request (4xx) will not change its mind.
    _Target.status = 404
    hook = Connection.objects.get(name="ops-hook")
    connections.connection_update(
        connection=hook, fields={"url": f"{target}/nope", "header": "Authorization"}
    )
    Notification.objects.filter(pk=note.pk).update(next_attempt_at=timezone.now())
    assert (
        notification_delivery.notification_deliver(notification_id=note.pk) == "failed"
    )
    failed = Notification.objects.get(pk=note.pk)
    assert failed.attempts == 2 and "404" in failed.last_error


def test_a_secret_slack_url_never_shows_in_the_error(
    workflow_factory: Any, target: str
) -> None:
    _Target.status = 503
    secret_url = f"{target}{SLACK_URL_SECRET}"
    connections.connection_create(
        name="team-slack", kind="slack", secrets={"webhook_url": secret_url}
    )
    workflow = workflow_factory(failing_graph(), slug="slacked")
    rule(workflow, connection="team-slack")
    fail_a_run(workflow)
    note = Notification.objects.get()
    assert (
        notification_delivery.notification_deliver(notification_id=note.pk) == "retry"
    )
    ((path, body, _),) = _Target.seen
    assert path == SLACK_URL_SECRET
    assert f"/runs/{note.run_id}/" in body["text"]
    error = Notification.objects.get(pk=note.pk).last_error
    assert error and SLACK_URL_SECRET not in error
    for event in Event.objects.all():
        assert SLACK_URL_SECRET not in event.reason
        assert SLACK_URL_SECRET not in json.dumps(event.data)


def test_a_deleted_connection_fails_the_message_visibly(
    workflow_factory: Any,
) -> None:
    workflow = workflow_factory(failing_graph(), slug="orphan")
    webhook_connection()
    rule(workflow)
    fail_a_run(workflow)
    connections.connection_delete(connection=Connection.objects.get(name="ops-hook"))
    note = Notification.objects.get()
    assert (
        notification_delivery.notification_deliver(notification_id=note.pk) == "failed"
    )
    assert "connection was deleted" in Notification.objects.get(pk=note.pk).last_error


# ------------------------------------------------------------------ the sweeper


def _silence(run: Run, seconds: float) -> None:
    Event.objects.filter(run=run).update(
        created_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_a_silent_running_run_is_notified_as_stuck_once(
    workflow_factory: Any,
) -> None:
    workflow = workflow_factory(linear_graph(1), slug="slow")
    webhook_connection()
    rule(workflow, events=["run_stuck"])
    run, _ = run_start(workflow=workflow, input={}, actor="test")
    assert notification_delivery.notifications_detect_stuck() == 0  # not silent yet
    _silence(run, 3600)
    assert notification_delivery.notifications_detect_stuck() == 1
    assert notification_delivery.notifications_detect_stuck() == 0
    (note,) = Notification.objects.all()
    assert (note.event, note.run_id) == ("run_stuck", run.pk)
    assert "recorded nothing for about 60 min" in note.text
    # Its events do not break the run's silence (they are the workflow's).
    assert not Event.objects.filter(run=run, kind__startswith="notification").exists()


def test_a_run_waiting_for_a_person_is_not_stuck(workflow_factory: Any) -> None:
    graph = {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "ask",
                "type": "handoff",
                "to": {"group": "risk"},
                "outcomes": ["ok"],
                "sla_s": 86400 * 7,
            },
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "ask"},
            {"id": "e2", "source": "ask", "target": "done", "default": True},
        ],
    }
    workflow = workflow_factory(graph, slug="waits")
    webhook_connection()
    rule(workflow, events=["run_stuck"])
    run, _ = run_start(workflow=workflow, input={}, actor="test")
    _silence(run, 86400)
    assert notification_delivery.notifications_detect_stuck() == 0


def test_lost_messages_are_published_again_and_one_bad_row_does_not_stop_it(
    workflow_factory: Any, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    workflow = workflow_factory(failing_graph(), slug="lost")
    webhook_connection()
    rule(workflow)
    rule(workflow, name="second")
    fail_a_run(workflow)
    first, second = Notification.objects.order_by("id")
    now = timezone.now()
    # Just published: nothing to do.
    assert notification_delivery.notifications_requeue_due(now=now) == 0
    later = now + timedelta(seconds=notifications.REQUEUE_AFTER_S + 1)
    original = notifications.publish_on_commit

    def flaky(notification_id: int, **kwargs: Any) -> None:
        if notification_id == first.pk:
            raise RuntimeError("bad row")
        original(notification_id, **kwargs)

    monkeypatch.setattr(notification_delivery, "publish_on_commit", flaky)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert notification_delivery.notifications_requeue_due(now=later) == 1
    assert [c.args[0] for c in callbacks] == [second.pk]
    assert Notification.objects.get(pk=first.pk).state == "failed"
    assert "bad row" in Notification.objects.get(pk=first.pk).last_error
    assert Notification.objects.get(pk=second.pk).queued_at == later


# ------------------------------------------------------------------ the API


def test_rules_are_created_listed_changed_and_deleted(
    api: Any, workflow_factory: Any
) -> None:
    workflow_factory(failing_graph(), slug="api-wf")
    webhook_connection()
    created = api.post(
        "/api/v1/workflows/api-wf/notifications/",
        {
            "name": "ops",
            "events": ["run_failed", "run_stuck"],
            "connection": "ops-hook",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["workflow"] == "api-wf" and body["connection_kind"] == "webhook"
    assert body["max_per_hour"] == 10 and body["enabled"] is True
    listed = api.get("/api/v1/workflows/api-wf/notifications/").json()
    assert [r["id"] for r in listed["results"]] == [body["id"]]
    assert listed["team_defaults"] == []
    changed = api.patch(
        f"/api/v1/notification-rules/{body['id']}/",
        {"enabled": False, "max_per_hour": 3},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["enabled"], changed.json()["max_per_hour"]) == (False, 3)
    assert changed.json()["events"] == ["run_failed", "run_stuck"]
    assert api.delete(f"/api/v1/notification-rules/{body['id']}/").status_code == 204
    kinds = list(
        Event.objects.filter(kind__startswith="notification_rule").values_list(
            "kind", flat=True
        )
    )
    assert kinds == [
        "notification_rule_created",
        "notification_rule_changed",
        "notification_rule_deleted",
    ]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"events": []}, "empty"),
        ({"events": ["run_exploded"]}, "invalid_choice"),
        ({"events": ["run_failed", "run_failed"]}, "bad_events"),
        ({"connection": "nope"}, "connection_missing"),
        ({"connection": "red-hook"}, "connection_not_allowed"),
        ({"connection": "db"}, "connection_kind"),
        ({"connection": "mail"}, "bad_recipients"),
        ({"connection": "mail", "to": ["not an address"]}, "bad_recipients"),
        ({"to": ["ops@example.com"]}, "bad_recipients"),
        ({"max_per_hour": 0}, "min_value"),
        ({"max_per_hour": 5000}, "max_value"),
        ({"events": "run_failed"}, "not_a_list"),
    ],
)
def test_bad_rules_are_refused_with_errors(
    api: Any, workflow_factory: Any, body: dict[str, Any], code: str
) -> None:
    workflow_factory(failing_graph(), slug="strict")
    webhook_connection()
    webhook_connection(name="red-hook", team=Group.objects.create(name="red"))
    connections.connection_create(
        name="db",
        kind="postgres",
        fields={"host": "db.example", "dbname": "x", "user": "u"},
    )
    connections.connection_create(
        name="mail", kind="smtp", fields={"host": "smtp.example", "from_email": "a@b.c"}
    )
    answer = api.post(
        "/api/v1/workflows/strict/notifications/",
        {"events": ["run_failed"], "connection": "ops-hook", **body},
        format="json",
    )
    assert answer.status_code == 400, answer.json()
    assert code in [e["code"] for e in answer.json()["errors"]]
    assert not NotificationRule.objects.exists()


def test_an_smtp_rule_takes_recipients(api: Any, workflow_factory: Any) -> None:
    workflow_factory(failing_graph(), slug="mailed")
    connections.connection_create(
        name="mail", kind="smtp", fields={"host": "smtp.example", "from_email": "a@b.c"}
    )
    answer = api.post(
        "/api/v1/workflows/mailed/notifications/",
        {"events": ["run_failed"], "connection": "mail", "to": ["ops@example.com"]},
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    assert answer.json()["to"] == ["ops@example.com"]


def _client(django_user_model: Any, name: str, *roles: str, team: Any = None) -> Any:
    member = grant(django_user_model.objects.create_user(name), *roles)
    if team is not None:
        member.groups.add(team)
    client = APIClient()
    client.force_authenticate(member)
    return client


def test_viewers_read_editors_write_and_other_teams_see_nothing(
    api: Any, workflow_factory: Any, django_user_model: Any
) -> None:
    red = Group.objects.create(name="red")
    workflow = workflow_factory(failing_graph(), slug="red-wf")
    workflow.owner_group = red
    workflow.save()
    webhook_connection(team=red)
    made = rule(workflow)
    fail_a_run(workflow)
    viewer = _client(django_user_model, "vera", "viewer", team=red)
    editor = _client(django_user_model, "eddie", "editor", team=red)
    outsider = _client(django_user_model, "olga", "editor")

    assert viewer.get("/api/v1/workflows/red-wf/notifications/").status_code == 200
    body = {"events": ["run_failed"], "connection": "ops-hook"}
    url = "/api/v1/workflows/red-wf/notifications/"
    assert viewer.post(url, body, format="json").status_code == 403
    assert editor.post(url, body, format="json").status_code == 201
    assert outsider.get(url).status_code == 404
    assert outsider.post(url, body, format="json").status_code == 404
    detail = f"/api/v1/notification-rules/{made.pk}/"
    assert outsider.get(detail).status_code == 404
    assert outsider.patch(detail, {"enabled": False}, format="json").status_code == 404
    assert viewer.patch(detail, {"enabled": False}, format="json").status_code == 403
    assert viewer.get("/api/v1/notifications/?workflow=red-wf").json()["count"] == 1
    assert outsider.get("/api/v1/notifications/").json()["count"] == 0
    assert outsider.get("/api/v1/notifications/?workflow=red-wf").status_code == 404
    note = Notification.objects.get()
    assert outsider.get(f"/api/v1/notifications/{note.pk}/").status_code == 404
    assert viewer.get(f"/api/v1/notifications/{note.pk}/").status_code == 200


def test_team_defaults_are_set_by_the_team(
    workflow_factory: Any, django_user_model: Any
) -> None:
    red, blue = Group.objects.create(name="red"), Group.objects.create(name="blue")
    webhook_connection(team=red)
    webhook_connection(name="blue-hook", team=blue)
    editor = _client(django_user_model, "eddie", "editor", team=red)
    url = "/api/v1/notification-rules/"
    body = {"events": ["run_failed"], "connection": "ops-hook", "owner_group": "red"}
    created = editor.post(url, body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["owner_group"] == "red"
    assert created.json()["workflow"] is None
    assert (
        editor.post(url, {**body, "owner_group": "blue"}, format="json").status_code
        == 403
    )
    assert (
        editor.post(url, {**body, "owner_group": "nobody"}, format="json").json()[
            "errors"
        ][0]["code"]
        == "unknown_group"
    )
    assert (
        editor.post(url, {**body, "connection": "blue-hook"}, format="json").json()[
            "errors"
        ][0]["code"]
        == "connection_not_allowed"
    )
    assert [r["id"] for r in editor.get(url).json()["results"]] == [
        created.json()["id"]
    ]
    workflow = workflow_factory(failing_graph(), slug="red-two")
    workflow.owner_group = red
    workflow.save()
    listed = editor.get("/api/v1/workflows/red-two/notifications/").json()
    assert [r["id"] for r in listed["team_defaults"]] == [created.json()["id"]]


def test_the_delivery_list_filters_and_refuses_bad_filters(
    api: Any, workflow_factory: Any, django_assert_max_num_queries: Any
) -> None:
    workflow = workflow_factory(failing_graph(), slug="listed")
    webhook_connection()
    rule(workflow)
    for _ in range(3):
        fail_a_run(workflow)
    with django_assert_max_num_queries(6):
        page = api.get("/api/v1/notifications/?workflow=listed&state=pending")
    assert page.status_code == 200 and page.json()["count"] == 3
    item = page.json()["results"][0]
    assert {"state", "attempts", "last_error", "link", "subject"} <= set(item)
    assert api.get("/api/v1/notifications/?state=lost").status_code == 400
    assert api.get("/api/v1/notifications/?rule=x").status_code == 400
    assert api.get("/api/v1/notifications/?workflow=nope").status_code == 404
    note = Notification.objects.order_by("id").first()
    assert note is not None
    answer = api.post(f"/api/v1/notifications/{note.pk}/resend/")
    assert answer.status_code == 409
