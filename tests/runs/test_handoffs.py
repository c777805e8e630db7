"""Handoffs in-process: opening, routing on the outcome, permissions, SLA, agents."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from engine.actions import action
from runs import handoffs, metrics
from runs.models import (
    Event,
    Handoff,
    HandoffState,
    Run,
    RunState,
    StepState,
)
from runs.services.controls import run_cancel, run_pause
from runs.services.starting import run_start
from tests.support import drive, grant

pytestmark = pytest.mark.django_db


def review_graph(**handoff: Any) -> dict[str, Any]:
    """start → review (risk: approve | reject) → approved / rejected ends."""
    node = {
        "id": "review",
        "type": "handoff",
        "label": "Review order",
        "to": {"group": "risk"},
        "outcomes": ["approve", "reject"],
        "sla_s": 3600,
        "instructions": "Check the order.",
        "context": ["input.order", "input.order.amount * 2", "steps.nope.output"],
        **handoff,
    }
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 1}},
        "nodes": [
            {"id": "start", "type": "start"},
            node,
            {"id": "ship", "type": "task", "action": "builtin.noop"},
            {"id": "approved", "type": "end"},
            {"id": "rejected", "type": "end", "status": "failed"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "review"},
            {
                "id": "e2",
                "source": "review",
                "target": "ship",
                "when": "outcome == 'approve'",
            },
            {"id": "e3", "source": "review", "target": "rejected", "default": True},
            {"id": "e4", "source": "ship", "target": "approved"},
        ],
    }


@pytest.fixture
def risk(django_user_model: Any) -> Any:
    """A member of group `risk`."""
    user = grant(
        django_user_model.objects.create_user("rita", password="pw-rita-12345"),
        "operator",
    )
    user.groups.add(Group.objects.get_or_create(name="risk")[0])
    return user


@pytest.fixture
def outsider(django_user_model: Any) -> Any:
    return grant(
        django_user_model.objects.create_user("otto", password="pw-otto-12345"),
        "operator",
    )


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _start(workflow_factory: Any, graph: dict[str, Any], order: Any = None) -> Run:
    run, _ = run_start(
        workflow=workflow_factory(graph),
        input={"order": order or {"id": 7, "amount": 1200}},
        actor="system",
    )
    return run


def test_handoff_node_waits_with_its_context_snapshot(workflow_factory: Any) -> None:
    run = _start(workflow_factory, review_graph())
    step = run.steps.get(node_id="review")
    assert step.state == StepState.WAITING
    handoff = Handoff.objects.get(step=step)
    assert handoff.state == HandoffState.OPEN
    assert (handoff.assignee_kind, handoff.assignee) == ("group", "risk")
    assert handoff.context["input.order"] == {"id": 7, "amount": 1200}
    assert handoff.context["input.order.amount * 2"] == 2400
    assert "steps.nope.output" in handoff.context_errors
    assert handoff.due_at is not None
    assert Event.objects.filter(handoff=handoff, kind="handoff_opened").exists()
    # No attempt, no worker: the step only waits.
    assert not run.attempts.filter(step=step).exists()


@pytest.mark.parametrize(
    ("outcome", "ends_at", "run_state"),
    [("approve", "approved", "succeeded"), ("reject", "rejected", "failed")],
)
def test_outcome_takes_the_matching_edge(
    workflow_factory: Any, risk: Any, outcome: str, ends_at: str, run_state: str
) -> None:
    run = _start(workflow_factory, review_graph())
    handoff = Handoff.objects.get(run=run)
    response = _client(risk).post(
        f"/api/v1/handoffs/{handoff.pk}/complete/",
        {"outcome": outcome, "note": "looks fine"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "completed"
    assert body["outcome"] == outcome
    assert body["completed_by"] == "rita"
    drive(run)
    run.refresh_from_db()
    assert run.state == run_state
    states = {s.node_id: s.state for s in run.steps.all()}
    assert states[ends_at] == StepState.SUCCEEDED
    review = run.steps.get(node_id="review")
    assert review.output == {"outcome": outcome, "note": "looks fine", "by": "rita"}
    kinds = list(Event.objects.filter(handoff=handoff).values_list("kind", flat=True))
    assert kinds == ["handoff_opened", "handoff_claimed", "handoff_completed"]


def test_outcome_not_offered_is_400_and_nothing_changes(
    workflow_factory: Any, risk: Any
) -> None:
    run = _start(workflow_factory, review_graph())
    handoff = Handoff.objects.get(run=run)
    response = _client(risk).post(
        f"/api/v1/handoffs/{handoff.pk}/complete/", {"outcome": "maybe"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "bad_outcome"
    handoff.refresh_from_db()
    assert handoff.state == HandoffState.OPEN
    response = _client(risk).post(
        f"/api/v1/handoffs/{handoff.pk}/complete/", {}, format="json"
    )
    assert response.status_code == 400


def test_only_members_of_the_group_claim(
    workflow_factory: Any, risk: Any, outsider: Any
) -> None:
    run = _start(workflow_factory, review_graph())
    handoff = Handoff.objects.get(run=run)
    response = _client(outsider).post(f"/api/v1/handoffs/{handoff.pk}/claim/")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "not_assignee"
    response = _client(outsider).post(
        f"/api/v1/handoffs/{handoff.pk}/complete/",
        {"outcome": "approve"},
        format="json",
    )
    assert response.status_code == 403
    response = _client(risk).post(f"/api/v1/handoffs/{handoff.pk}/claim/")
    assert response.status_code == 200
    assert response.json()["claimed_by"] == "rita"
    assert response.json()["can"] == {
        "claim": False,
        "release": True,
        "complete": True,
        "reassign": True,
    }
    # A second claim is a conflict, not a silent success.
    assert _client(risk).post(f"/api/v1/handoffs/{handoff.pk}/claim/").status_code == (
        409
    )
    assert _client(outsider).get("/api/v1/handoffs/?mine=1").json()["count"] == 0
    assert _client(risk).get("/api/v1/handoffs/?mine=1").json()["count"] == 1


def test_release_and_reassign_to_a_user(
    workflow_factory: Any, risk: Any, outsider: Any
) -> None:
    run = _start(workflow_factory, review_graph())
    handoff = Handoff.objects.get(run=run)
    rita = _client(risk)
    assert rita.post(f"/api/v1/handoffs/{handoff.pk}/claim/").status_code == 200
    assert (
        _client(outsider).post(f"/api/v1/handoffs/{handoff.pk}/release/").status_code
        == 403
    )
    response = rita.post(f"/api/v1/handoffs/{handoff.pk}/release/")
    assert response.json()["state"] == "open"
    response = rita.post(
        f"/api/v1/handoffs/{handoff.pk}/reassign/",
        {"to": {"user": "nobody-here"}},
        format="json",
    )
    assert response.status_code == 400
    response = rita.post(
        f"/api/v1/handoffs/{handoff.pk}/reassign/",
        {"to": {"user": "otto"}, "note": "Otto knows this customer"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["to"] == {"kind": "user", "name": "otto"}
    # Rita is no longer an assignee; Otto is.
    assert rita.post(f"/api/v1/handoffs/{handoff.pk}/claim/").status_code == 403
    otto = _client(outsider)
    response = otto.post(
        f"/api/v1/handoffs/{handoff.pk}/complete/",
        {"outcome": "approve"},
        format="json",
    )
    assert response.status_code == 200
    event = Event.objects.get(handoff=handoff, kind="handoff_reassigned")
    assert event.data["to"] == {"kind": "user", "name": "otto"}
    assert event.actor == "user:rita"


def test_sla_expiry_escalates_without_sleeping(
    workflow_factory: Any, risk: Any, django_user_model: Any
) -> None:
    run = _start(
        workflow_factory,
        review_graph(sla_s=60, escalate_to={"group": "risk-leads"}),
    )
    handoff = Handoff.objects.get(run=run)
    assert handoff.due_at is not None
    before = handoff.due_at - timedelta(seconds=1)
    assert handoffs.handoffs_expire_due(now=before) == 0
    assert handoffs.handoffs_expire_due(now=handoff.due_at + timedelta(seconds=1)) == 1
    handoff.refresh_from_db()
    assert handoff.state == HandoffState.ESCALATED
    assert (handoff.assignee_kind, handoff.assignee) == ("group", "risk-leads")
    kinds = list(Event.objects.filter(handoff=handoff).values_list("kind", flat=True))
    assert kinds[-2:] == ["handoff_expired", "handoff_escalated"]
    # Escalated once: a later sweep does nothing more.
    assert handoffs.handoffs_expire_due(now=handoff.due_at + timedelta(hours=1)) == 0
    # The escalation group works it; the original group no longer can.
    lead = grant(
        django_user_model.objects.create_user("lea", password="pw-lea-123456"),
        "operator",
    )
    lead.groups.add(Group.objects.get(name="risk-leads"))
    assert _client(risk).post(f"/api/v1/handoffs/{handoff.pk}/claim/").status_code == (
        403
    )
    response = _client(lead).post(
        f"/api/v1/handoffs/{handoff.pk}/complete/",
        {"outcome": "approve"},
        format="json",
    )
    assert response.status_code == 200
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED


def test_default_escalation_group_and_overdue_flag(
    workflow_factory: Any, risk: Any
) -> None:
    run = _start(workflow_factory, review_graph(sla_s=5))
    handoff = Handoff.objects.get(run=run)
    Handoff.objects.filter(pk=handoff.pk).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )  # test setup: an SLA already past, without sleeping
    body = _client(risk).get("/api/v1/handoffs/?status=active").json()
    assert body["results"][0]["overdue"] is True
    assert handoffs.handoffs_expire_due() == 1
    handoff.refresh_from_db()
    assert (handoff.assignee_kind, handoff.assignee) == ("group", "escalations")


@pytest.mark.django_db(transaction=True)
def test_two_people_claiming_at_once_one_wins(
    workflow_factory: Any, django_user_model: Any
) -> None:
    run = _start(workflow_factory, review_graph())
    handoff = Handoff.objects.get(run=run)
    group = Group.objects.get_or_create(name="risk")[0]
    people = []
    for name in ("ann", "bob"):
        person = grant(
            django_user_model.objects.create_user(name, password="pw-123456789"),
            "operator",
        )
        person.groups.add(group)
        people.append(person)
    barrier = threading.Barrier(2)
    codes: dict[str, int] = {}

    def claim(person: Any) -> None:
        try:
            client = _client(person)
            barrier.wait(timeout=10)
            response = client.post(f"/api/v1/handoffs/{handoff.pk}/claim/")
            codes[person.username] = response.status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(codes.values()) == [200, 409]
    handoff.refresh_from_db()
    winner = next(name for name, code in codes.items() if code == 200)
    assert handoff.claimed_by.username == winner
    assert Event.objects.filter(handoff=handoff, kind="handoff_claimed").count() == 1


def test_cancelling_the_run_cancels_its_handoff(workflow_factory: Any) -> None:
    run = _start(workflow_factory, review_graph())
    run_cancel(run=run, actor="user:x")
    handoff = Handoff.objects.get(run=run)
    assert handoff.state == HandoffState.CANCELLED
    assert Event.objects.filter(handoff=handoff, kind="handoff_cancelled").exists()


def test_paused_run_refuses_completion_with_409(
    workflow_factory: Any, risk: Any
) -> None:
    run = _start(workflow_factory, review_graph())
    run_pause(run=run, actor="user:x")
    handoff = Handoff.objects.get(run=run)
    response = _client(risk).post(
        f"/api/v1/handoffs/{handoff.pk}/complete/",
        {"outcome": "approve"},
        format="json",
    )
    assert response.status_code == 409
    handoff.refresh_from_db()
    assert handoff.state == HandoffState.OPEN
    assert (
        _client(risk).get(f"/api/v1/handoffs/{handoff.pk}/").json()["can"]["complete"]
        is False
    )


@action("tests.ask_agent", params_schema={"type": "object"})
def ask_agent(params: dict[str, Any], context: Any) -> dict[str, Any]:
    """Ask the triage agent to classify the ticket."""
    return {
        "handoff": {
            "to": {"agent": "triage-bot"},
            "outcomes": ["bug", "question"],
            "instructions": "Classify the ticket",
            "context": {"ticket": params.get("ticket", 1)},
            "sla_s": 600,
        }
    }


@action("tests.bad_handoff", params_schema={"type": "object"})
def bad_handoff(params: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"handoff": {"to": {"team": "x"}, "outcomes": []}}


def _agent_graph(action_name: str) -> dict[str, Any]:
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 1}},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "triage", "type": "task", "action": action_name},
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "triage"},
            {"id": "e2", "source": "triage", "target": "done"},
        ],
    }


def test_agent_completes_a_task_handoff_with_its_token(
    workflow_factory: Any, django_user_model: Any
) -> None:
    bot = grant(django_user_model.objects.create_user("triage-bot"), "operator")
    token = Token.objects.create(user=bot)
    run = _start(workflow_factory, _agent_graph("tests.ask_agent"))
    drive(run)
    step = run.steps.get(node_id="triage")
    assert step.state == StepState.WAITING
    handoff = Handoff.objects.get(step=step)
    assert (handoff.assignee_kind, handoff.assignee) == ("agent", "triage-bot")
    assert handoff.context == {"ticket": 1}
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.post(
        f"/api/v1/handoffs/{handoff.pk}/complete/",
        {"outcome": "bug", "note": "stack trace attached"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    step.refresh_from_db()
    assert step.output["outcome"] == "bug"
    actors = set(
        Event.objects.filter(handoff=handoff)
        .exclude(kind="handoff_opened")
        .values_list("actor", flat=True)
    )
    assert actors == {"agent:triage-bot"}


def test_a_malformed_handoff_request_fails_the_step(workflow_factory: Any) -> None:
    run = _start(workflow_factory, _agent_graph("tests.bad_handoff"))
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert run.error["type"] == "BadHandoff"
    assert not Handoff.objects.filter(run=run).exists()


def test_handoff_metrics_from_reviews(
    workflow_factory: Any, risk: Any, admin_user: Any
) -> None:
    window = metrics.Window(
        since=timezone.now() - timedelta(days=1),
        until=timezone.now() + timedelta(days=1),
    )
    empty = metrics.scorecard(window=window)["handoff_accuracy"]
    assert empty["value"] is None and empty["reviewed"] == 0
    workflow = workflow_factory(review_graph())
    ids = []
    for _ in range(3):
        run, _ = run_start(
            workflow=workflow, input={"order": {"amount": 1}}, actor="system"
        )
        handoff = Handoff.objects.get(run=run)
        handoffs.handoff_complete(handoff_id=handoff.pk, user=risk, outcome="approve")
        ids.append(handoff.pk)
    card = metrics.scorecard(window=window, workflow=workflow)["handoff_accuracy"]
    assert (card["completed"], card["reviewed"], card["value"]) == (3, 0, None)
    assert card["wait_to_claim"]["p50"] is not None
    handoffs.handoff_review(
        handoff_id=ids[0], verdict="correct", comment="", user=admin_user
    )
    handoffs.handoff_review(
        handoff_id=ids[1], verdict="incorrect", comment="wrong", user=admin_user
    )
    card = metrics.scorecard(window=window, workflow=workflow)["handoff_accuracy"]
    assert (card["reviewed"], card["correct"], card["value"]) == (2, 1, 0.5)
    assert "switchyard_handoffs{" in metrics.prometheus_text()
