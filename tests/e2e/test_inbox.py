"""People do handed-off work in the inbox: it shows up live; they claim, finish it."""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from runs.handoffs import handoff_claim, handoffs_expire_due
from runs.models import Handoff, HandoffState, Run
from runs.services.starting import run_start
from tests.support import grant, wait_for

pytestmark = pytest.mark.e2e
# README images are refreshed only on request (SWITCHYARD_DOC_SCREENSHOTS=1), so a
# test run leaves the checkout clean.
DOC_IMAGES = Path(__file__).resolve().parents[2] / (
    "docs/images" if os.environ.get("SWITCHYARD_DOC_SCREENSHOTS") else "var/screenshots"
)
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def review_graph(node_id: str = "review", **handoff: Any) -> dict[str, Any]:
    """start → review (approve | reject) → ship → end; anything but approve fails."""
    node = {
        "id": node_id,
        "type": "handoff",
        "label": "Review order",
        "to": {"group": "reviewers"},
        "outcomes": ["approve", "reject"],
        "sla_s": 3600,
        "instructions": "Check the order against the customer's history.",
        "context": ["input.order"],
        **handoff,
    }
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 1}},
        "nodes": [
            {"id": "start", "type": "start"},
            node,
            {"id": "ship", "type": "task", "action": "builtin.noop"},
            {"id": "shipped", "type": "end"},
            {"id": "rejected", "type": "end", "status": "failed"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": node_id},
            {
                "id": "approved",
                "source": node_id,
                "target": "ship",
                "when": "outcome == 'approve'",
            },
            {"id": "other", "source": node_id, "target": "rejected", "default": True},
            {"id": "e4", "source": "ship", "target": "shipped"},
        ],
    }


def _join(user: Any, group: str) -> None:
    user.groups.add(Group.objects.get_or_create(name=group)[0])


def _operator(django_user_model: Any) -> Any:
    return django_user_model.objects.get(username="operator")


def _start(workflow: Any, order: dict[str, Any]) -> tuple[Run, Handoff]:
    run, _ = run_start(workflow=workflow, input={"order": order}, actor="test")
    handoff = wait_for(
        lambda: Handoff.objects.filter(run=run).first(), what="the handoff to open"
    )
    return run, handoff


def _open_inbox(page: Any, base: str, query: str = "") -> None:
    page.goto(f"{base}/handoffs/{query}")
    page.wait_for_selector("[data-testid=inbox-list][data-loaded=true]")
    expect(page.get_by_test_id("connection-status")).to_have_attribute(
        "data-status", "live"
    )


def test_handoff_appears_live_and_completing_it_routes_the_run(
    logged_in: Any, asgi_server: str, workflow_factory: Any, django_user_model: Any
) -> None:
    """A handoff for my group shows up without reload; approving it ships the order."""
    _join(_operator(django_user_model), "reviewers")
    workflow = workflow_factory(review_graph(), slug="orders")
    page = logged_in
    _open_inbox(page, asgi_server)
    expect(page.get_by_test_id("inbox-empty")).to_contain_text(
        "Nothing waiting for you"
    )
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    run, handoff = _start(workflow, {"id": 7, "amount": 1200})

    card = page.get_by_test_id(f"handoff-{handoff.pk}")
    expect(card).to_be_visible()
    expect(page.get_by_test_id(f"handoff-title-{handoff.pk}")).to_have_text(
        "Review order"
    )
    expect(page.get_by_test_id(f"handoff-to-{handoff.pk}")).to_have_text(
        "group reviewers"
    )
    expect(page.get_by_test_id(f"handoff-state-{handoff.pk}")).to_have_attribute(
        "data-state", "open"
    )
    expect(page.get_by_test_id(f"handoff-due-{handoff.pk}")).to_contain_text("due in")
    expect(page.get_by_test_id(f"handoff-instructions-{handoff.pk}")).to_contain_text(
        "customer's history"
    )
    expect(page.get_by_test_id(f"handoff-context-{handoff.pk}")).to_contain_text("1200")
    expect(page.get_by_test_id(f"handoff-run-{handoff.pk}")).to_have_attribute(
        "href", f"/runs/{run.pk}/"
    )
    expect(page.get_by_test_id("mine-count")).to_have_text("1")
    assert page.get_by_test_id(f"handoff-overdue-{handoff.pk}").count() == 0

    # Complete it with an outcome and a note: an outcome must be chosen first.
    page.get_by_test_id(f"handoff-action-complete-{handoff.pk}").click()
    page.get_by_test_id(f"complete-submit-{handoff.pk}").click()
    expect(page.get_by_test_id(f"complete-problem-{handoff.pk}")).to_have_text(
        "Choose an outcome."
    )
    page.get_by_test_id(f"outcome-{handoff.pk}-approve").check()
    page.get_by_test_id(f"complete-note-{handoff.pk}").fill(
        "Customer verified by phone."
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "inbox-complete-form.png"), full_page=True)
    page.get_by_test_id(f"complete-submit-{handoff.pk}").click()
    expect(page.get_by_test_id("inbox-notice")).to_contain_text("as approve")
    # Done: it leaves my list, live.
    expect(card).to_have_count(0)
    expect(page.get_by_test_id("inbox-empty")).to_be_visible()
    expect(page.get_by_test_id("mine-count")).to_have_text("0")
    assert navigations == []
    handoff.refresh_from_db()
    assert handoff.state == HandoffState.COMPLETED
    assert (handoff.outcome, handoff.note) == ("approve", "Customer verified by phone.")
    assert handoff.completed_by == _operator(django_user_model)

    # The completed tab keeps the decision.
    page.get_by_test_id("tab-completed").click()
    expect(page.get_by_test_id(f"handoff-outcome-{handoff.pk}")).to_have_text("approve")
    expect(page.get_by_test_id(f"handoff-note-{handoff.pk}")).to_have_text(
        "Customer verified by phone."
    )
    expect(page.get_by_test_id(f"handoff-completed-by-{handoff.pk}")).to_contain_text(
        "you"
    )
    assert "tab=completed" in page.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "inbox-completed.png"), full_page=True)

    # The outcome routed the run through `ship` to success.
    page.get_by_test_id(f"handoff-run-{handoff.pk}").click()
    page.wait_for_url(f"{asgi_server}/runs/{run.pk}/")
    expect(page.get_by_test_id("run-state")).to_have_attribute(
        "data-state", "succeeded", timeout=30_000
    )
    run.refresh_from_db()
    assert run.steps.get(node_id="ship").state == "succeeded"


def test_claim_release_reassign_and_refusals(
    logged_in: Any, asgi_server: str, workflow_factory: Any, django_user_model: Any
) -> None:
    """Claim and release round trip; others' claims show live; refusals explained."""
    operator = _operator(django_user_model)
    _join(operator, "reviewers")
    bob = grant(
        django_user_model.objects.create_user("bob", password="bob-password-1"),
        "operator",
    )
    _join(bob, "reviewers")
    orders = workflow_factory(review_graph(), slug="orders")
    finance = workflow_factory(
        review_graph(label="Finance check", to={"group": "finance"}), slug="finance"
    )
    _, first = _start(orders, {"id": 1})
    _, second = _start(orders, {"id": 2})
    _, theirs = _start(finance, {"id": 3})
    page = logged_in
    _open_inbox(page, asgi_server)
    expect(page.get_by_test_id("inbox-count")).to_have_attribute("data-count", "2")

    # Claim, then release.
    page.get_by_test_id(f"handoff-action-claim-{first.pk}").click()
    expect(page.get_by_test_id(f"handoff-state-{first.pk}")).to_have_attribute(
        "data-state", "claimed"
    )
    expect(page.get_by_test_id(f"handoff-claimed-by-{first.pk}")).to_contain_text("you")
    expect(page.get_by_test_id(f"handoff-{first.pk}")).to_have_attribute(
        "data-group", "yours"
    )
    first.refresh_from_db()
    assert first.claimed_by == operator
    page.get_by_test_id(f"handoff-action-release-{first.pk}").click()
    expect(page.get_by_test_id(f"handoff-state-{first.pk}")).to_have_attribute(
        "data-state", "open"
    )
    expect(page.get_by_test_id(f"handoff-action-claim-{first.pk}")).to_be_enabled()
    first.refresh_from_db()
    assert (first.state, first.claimed_by) == (HandoffState.OPEN, None)

    # Bob claims the second one elsewhere: the card follows, and says why I cannot act.
    handoff_claim(handoff_id=second.pk, user=bob)
    expect(page.get_by_test_id(f"handoff-claimed-by-{second.pk}")).to_contain_text(
        "bob"
    )
    release = page.get_by_test_id(f"handoff-action-release-{second.pk}")
    expect(release).to_be_disabled()
    expect(release).to_have_attribute("title", "Only bob (or staff) can release it.")
    expect(page.get_by_test_id(f"handoff-action-complete-{second.pk}")).to_be_disabled()
    expect(page.get_by_test_id(f"handoff-{second.pk}")).to_have_attribute(
        "data-group", "others"
    )

    # The server's refusal shows inline: there is no such user to hand it to.
    page.get_by_test_id(f"handoff-action-reassign-{first.pk}").click()
    page.get_by_test_id(f"reassign-name-{first.pk}").fill("nobody-here")
    page.get_by_test_id(f"reassign-submit-{first.pk}").click()
    expect(page.get_by_test_id(f"handoff-errors-{first.pk}")).to_contain_text(
        "nobody-here"
    )
    # Handed to bob, it is not mine any more.
    page.get_by_test_id(f"reassign-name-{first.pk}").fill("bob")
    page.get_by_test_id(f"reassign-submit-{first.pk}").click()
    expect(page.get_by_test_id(f"handoff-{first.pk}")).to_have_count(0)
    first.refresh_from_db()
    assert (first.assignee_kind, first.assignee) == ("user", "bob")

    # All active: the finance group's handoff is listed, but not for me to claim.
    page.get_by_test_id("tab-active").click()
    claim = page.get_by_test_id(f"handoff-action-claim-{theirs.pk}")
    expect(claim).to_be_disabled()
    expect(claim).to_have_attribute(
        "title", "Only members of group finance can claim it."
    )
    expect(page.get_by_test_id(f"handoff-why-not-{theirs.pk}")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "inbox-active.png"), full_page=True)


def test_a_stale_card_is_refreshed_after_a_conflict(
    logged_in: Any, asgi_server: str, workflow_factory: Any, django_user_model: Any
) -> None:
    """Without live events, claiming what someone else claimed says so and refreshes."""
    _join(_operator(django_user_model), "reviewers")
    bob = grant(
        django_user_model.objects.create_user("bob", password="bob-password-1"),
        "operator",
    )
    _join(bob, "reviewers")
    _, handoff = _start(workflow_factory(review_graph(), slug="orders"), {"id": 1})
    page = logged_in
    # A socket that opens but never delivers: the page cannot hear of bob's claim.
    page.route_web_socket("**/ws/board/", lambda ws: None)
    _open_inbox(page, asgi_server)
    claim = page.get_by_test_id(f"handoff-action-claim-{handoff.pk}")
    expect(claim).to_be_enabled()

    handoff_claim(handoff_id=handoff.pk, user=bob)
    claim.click()

    expect(page.get_by_test_id(f"handoff-errors-{handoff.pk}")).to_contain_text(
        "already claimed"
    )
    expect(page.get_by_test_id(f"handoff-claimed-by-{handoff.pk}")).to_contain_text(
        "bob"
    )
    # Refreshed into another group, the card still says what went wrong.
    expect(page.get_by_test_id(f"handoff-{handoff.pk}")).to_have_attribute(
        "data-group", "others"
    )
    expect(page.get_by_test_id(f"handoff-errors-{handoff.pk}")).to_be_visible()


def test_overdue_handoffs_stand_out_first(
    logged_in: Any, asgi_server: str, workflow_factory: Any, django_user_model: Any
) -> None:
    """Past their SLA, handoffs get the overdue badge and lead the list; screenshot."""
    operator = _operator(django_user_model)
    _join(operator, "reviewers")
    orders = workflow_factory(review_graph(), slug="orders")
    refunds = workflow_factory(
        review_graph(
            "approve_refund",
            label="Approve refund",
            instructions="Refunds over 500 need a second look.\n"
            "Check the payment was captured before approving.",
            context=["input.order", "input.order.amount * 2", "steps.charge.output"],
            sla_s=1800,
            escalate_to={"group": "reviewers"},
        ),
        slug="refunds",
    )
    _, waiting = _start(orders, {"id": 31, "amount": 80, "customer": "ACME"})
    _, mine = _start(orders, {"id": 32, "amount": 240, "customer": "Initech"})
    handoff_claim(handoff_id=mine.pk, user=operator)
    _, late = _start(refunds, {"id": 33, "amount": 950, "customer": "Globex"})
    # It was opened 42 min ago with a 30 min SLA (test setup: move its times back);
    # the SLA check expires it and escalates it back to reviewers.
    now = timezone.now()
    Handoff.objects.filter(pk=late.pk).update(
        created_at=now - timedelta(minutes=42), due_at=now - timedelta(minutes=12)
    )
    handoffs_expire_due()
    late.refresh_from_db()
    assert late.state == HandoffState.ESCALATED

    page = logged_in
    _open_inbox(page, asgi_server)
    expect(page.get_by_test_id(f"handoff-overdue-{late.pk}")).to_be_visible()
    expect(page.get_by_test_id(f"handoff-{late.pk}")).to_have_attribute(
        "data-overdue", "true"
    )
    expect(page.get_by_test_id(f"handoff-state-{late.pk}")).to_have_attribute(
        "data-state", "escalated"
    )
    expect(page.get_by_test_id(f"handoff-due-{late.pk}")).to_contain_text("overdue by")
    expect(page.get_by_test_id(f"handoff-context-errors-{late.pk}")).to_contain_text(
        "steps.charge.output"
    )
    for other in (waiting, mine):
        assert page.get_by_test_id(f"handoff-overdue-{other.pk}").count() == 0
    groups = page.locator("[data-testid^=group-]")
    expect(groups).to_have_count(3)
    assert [groups.nth(i).get_attribute("data-testid") for i in range(3)] == [
        "group-overdue",
        "group-yours",
        "group-waiting",
    ]
    DOC_IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOC_IMAGES / "inbox.png"), full_page=True)
