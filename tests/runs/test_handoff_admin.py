"""Handoff review in the Django admin: list, detail, single and bulk review, access."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from runs import handoffs, metrics
from runs.models import Event, Handoff, HandoffState, HandoffVerdict
from runs.services.starting import run_start

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/runs/handoff/"


def review_graph() -> dict[str, Any]:
    """start → review (risk: approve | reject) → done."""
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "review",
                "type": "handoff",
                "label": "Review order",
                "to": {"group": "risk"},
                "outcomes": ["approve", "reject"],
                "sla_s": 3600,
                "instructions": "Check the order.",
                "context": ["input.order", "input.order.amount * 2"],
            },
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "review"},
            {"id": "e2", "source": "review", "target": "done", "default": True},
        ],
    }


@pytest.fixture
def risk(django_user_model: Any) -> Any:
    """A member of group `risk`, who completes handoffs."""
    user = django_user_model.objects.create_user("rita", password="pw-rita-12345")
    user.groups.add(Group.objects.get_or_create(name="risk")[0])
    return user


def _staff(django_user_model: Any, name: str, *codenames: str) -> Any:
    user = django_user_model.objects.create_user(
        name, password=f"pw-{name}-12345", is_staff=True
    )
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="runs", codename__in=codenames
        )
    )
    return user


@pytest.fixture
def reviewer(django_user_model: Any) -> Any:
    """Staff who may view and review handoffs."""
    return _staff(django_user_model, "rev", "view_handoff", "review_handoff")


@pytest.fixture
def viewer(django_user_model: Any) -> Any:
    """Staff who may view handoffs but not review them."""
    return _staff(django_user_model, "vic", "view_handoff")


@pytest.fixture
def workflow(workflow_factory: Any) -> Any:
    return workflow_factory(review_graph(), slug="refunds")


@pytest.fixture
def handoff_rows(workflow: Any, risk: Any) -> dict[str, Handoff]:
    """Three completed handoffs, one open and overdue, one open and on time."""
    rows = {}
    for name in ("done1", "done2", "done3", "late", "open"):
        run, _ = run_start(
            workflow=workflow,
            input={"order": {"id": name, "amount": 10, "memo": "<script>x</script>"}},
            actor="system",
        )
        rows[name] = Handoff.objects.get(run=run)
    for name in ("done1", "done2", "done3"):
        handoffs.handoff_complete(
            handoff_id=rows[name].pk, user=risk, outcome="approve", note=f"ok {name}"
        )
    Handoff.objects.filter(pk=rows["late"].pk).update(
        due_at=timezone.now() - timedelta(minutes=5)
    )
    for handoff in rows.values():
        handoff.refresh_from_db()
    return rows


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _accuracy(workflow: Any) -> float | None:
    now = timezone.now()
    window = metrics.Window(
        since=now - timedelta(days=1), until=now + timedelta(days=1)
    )
    card = metrics.scorecard(window=window, workflow=workflow)
    return card["handoff_accuracy"]["value"]


def _listed(response: Any) -> set[int]:
    assert response.status_code == 200
    return {h.pk for h in response.context["cl"].result_list}


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("who", ["reviewer", "admin_user"])
def test_changelist_filters_and_searches_handoffs(
    request: pytest.FixtureRequest, who: str, handoff_rows: dict[str, Handoff]
) -> None:
    client = _client(request.getfixturevalue(who))
    rows = handoff_rows
    done = {rows[n].pk for n in ("done1", "done2", "done3")}
    every = {h.pk for h in rows.values()}
    late = rows["late"]
    version = late.version_id
    cases = {
        "": every,
        "state=completed": done,
        "state=open": {late.pk, rows["open"].pk},
        "group=risk": every,
        "group=nobody": set(),
        f"workflow__id__exact={late.workflow_id}": every,
        f"version={version}": every,
        f"workflow__id__exact={late.workflow_id}&version={version}": every,
        "verdict=unreviewed": every,
        "verdict=correct": set(),
        "overdue=yes": {late.pk},
        "overdue=no": every - {late.pk},
        "q=check+the+order": every,
        "q=ok+done2": {rows["done2"].pk},
        "q=rita": done,
        "q=approve": done,
        f"q={late.run_id}": {late.pk},
        f"q=%23{late.pk}": {late.pk},
        f"created_at__year={timezone.now().year}": every,
    }
    for query, expected in cases.items():
        response = client.get(f"{CHANGELIST}?{query}")
        assert _listed(response) == expected, query
    page = client.get(CHANGELIST).content.decode()
    for text in (
        "Review order",
        "group risk",
        "refunds",
        "v1",
        "Mark correct…",
        '<td class="field-overdue">overdue</td>',
    ):
        assert text in page, text
    assert page.count(">overdue</td>") == 1


def test_changelist_queries_do_not_grow_with_rows(
    reviewer: Any,
    handoff_rows: dict[str, Handoff],
    django_assert_max_num_queries: Any,
) -> None:
    client = _client(reviewer)
    with django_assert_max_num_queries(12):
        assert len(_listed(client.get(CHANGELIST))) == 5


def test_change_page_shows_context_snapshot_and_event_history(
    reviewer: Any, handoff_rows: dict[str, Handoff]
) -> None:
    handoff = handoff_rows["done1"]
    response = _client(reviewer).get(f"{CHANGELIST}{handoff.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    # The snapshot, pretty-printed and escaped.
    assert '<pre class="handoff-json">' in page
    assert "&quot;input.order.amount * 2&quot;: 20" in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert "<script>x</script>" not in page
    assert "Check the order." in page
    assert f'href="/runs/{handoff.run_id}/"' in page
    # Event history: kind, from → to, actor.
    for text in (
        "handoff_opened",
        "handoff_claimed",
        "handoff_completed",
        "open → claimed",
        "claimed → completed",
        "user:rita",
    ):
        assert text in page, text
    assert 'name="verdict" value="correct"' in page
    assert f"/admin/runs/handoff/{handoff.pk}/review/" in page


def test_reviews_change_the_accuracy_single_then_bulk(
    reviewer: Any, workflow: Any, handoff_rows: dict[str, Handoff]
) -> None:
    """Acceptance: one review from the change page, then a bulk one with a comment."""
    client = _client(reviewer)
    rows = handoff_rows
    assert _accuracy(workflow) is None

    single = rows["done1"]
    response = client.post(
        f"{CHANGELIST}{single.pk}/review/",
        {"verdict": "correct", "comment": "right call"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{CHANGELIST}{single.pk}/change/"
    single.refresh_from_db()
    assert single.verdict == HandoffVerdict.CORRECT
    assert (single.reviewed_by, single.review_comment) == (reviewer, "right call")
    assert single.reviewed_at is not None
    event = Event.objects.get(run_id=single.run_id, kind="handoff_reviewed")
    assert (event.from_state, event.to_state, event.actor) == (
        "unreviewed",
        "correct",
        "user:rev",
    )
    assert _accuracy(workflow) == 1.0
    page = client.get(f"{CHANGELIST}{single.pk}/change/").content.decode()
    assert "right call" in page and "Marked correct by" in page

    # Bulk: two completed and one open handoff selected; the open one is skipped.
    selected = [rows["done2"].pk, rows["done3"].pk, rows["open"].pk]
    form = {"action": "mark_incorrect", ACTION_CHECKBOX_NAME: selected}
    confirm = client.post(CHANGELIST, {**form, "index": 0})
    assert confirm.status_code == 200
    assert "admin/runs/handoff/review_selected.html" in [
        t.name for t in confirm.templates
    ]
    page = confirm.content.decode()
    assert "Mark 2 completed handoffs" in page
    assert "1 selected handoff is not" in page
    assert _accuracy(workflow) == 1.0  # nothing reviewed before `apply`

    done = client.post(CHANGELIST, {**form, "apply": "1", "comment": "wrong refund"})
    assert done.status_code == 302
    assert _messages(done) == ["Marked 2 handoffs incorrect. Skipped 1 not completed."]
    for name in ("done2", "done3"):
        rows[name].refresh_from_db()
        assert rows[name].verdict == HandoffVerdict.INCORRECT
        assert rows[name].review_comment == "wrong refund"
        assert rows[name].reviewed_by == reviewer
    rows["open"].refresh_from_db()
    assert rows["open"].verdict == HandoffVerdict.UNREVIEWED
    assert _accuracy(workflow) == pytest.approx(1 / 3)

    # Marking one back correct through the other action: 2 of 3.
    client.post(
        CHANGELIST,
        {
            "action": "mark_correct",
            ACTION_CHECKBOX_NAME: [rows["done2"].pk],
            "apply": "1",
            "comment": "",
        },
    )
    assert _accuracy(workflow) == pytest.approx(2 / 3)
    assert Event.objects.filter(kind="handoff_reviewed").count() == 4


def test_superuser_reviews_in_bulk(
    admin_user: Any, workflow: Any, handoff_rows: dict[str, Handoff]
) -> None:
    client = _client(admin_user)
    ids = [handoff_rows["done1"].pk, handoff_rows["done2"].pk]
    response = client.post(
        CHANGELIST,
        {
            "action": "mark_correct",
            ACTION_CHECKBOX_NAME: ids,
            "apply": "1",
            "comment": "fine",
        },
    )
    assert response.status_code == 302
    assert _messages(response) == ["Marked 2 handoffs correct."]
    handoffs.handoff_review(
        handoff_id=handoff_rows["done3"].pk,
        verdict="incorrect",
        comment="",
        user=admin_user,
    )
    assert _accuracy(workflow) == pytest.approx(2 / 3)


def test_bulk_review_of_only_unfinished_handoffs_reviews_nothing(
    reviewer: Any, handoff_rows: dict[str, Handoff]
) -> None:
    response = _client(reviewer).post(
        CHANGELIST,
        {
            "action": "mark_correct",
            ACTION_CHECKBOX_NAME: [handoff_rows["open"].pk],
            "index": 0,
        },
    )
    assert response.status_code == 302
    assert "None of the selected handoffs is completed" in _messages(response)[0]
    assert not Handoff.objects.exclude(verdict=HandoffVerdict.UNREVIEWED).exists()


def test_open_handoff_cannot_be_reviewed(
    reviewer: Any, handoff_rows: dict[str, Handoff]
) -> None:
    client = _client(reviewer)
    handoff = handoff_rows["open"]
    page = client.get(f"{CHANGELIST}{handoff.pk}/change/").content.decode()
    assert "Only completed handoffs can be reviewed; this one is" in page
    assert 'name="verdict"' not in page
    response = client.post(
        f"{CHANGELIST}{handoff.pk}/review/", {"verdict": "correct", "comment": ""}
    )
    assert response.status_code == 302
    assert "only completed handoffs are reviewed" in _messages(response)[0]
    handoff.refresh_from_db()
    assert handoff.verdict == HandoffVerdict.UNREVIEWED
    assert handoff.state == HandoffState.OPEN


def test_review_form_rejects_a_bad_verdict(
    reviewer: Any, handoff_rows: dict[str, Handoff]
) -> None:
    handoff = handoff_rows["done1"]
    response = _client(reviewer).post(
        f"{CHANGELIST}{handoff.pk}/review/", {"verdict": "unreviewed"}
    )
    assert response.status_code == 302
    assert _messages(response)[0].startswith("verdict: ")
    handoff.refresh_from_db()
    assert handoff.verdict == HandoffVerdict.UNREVIEWED


def test_non_staff_user_is_sent_to_the_admin_login(
    risk: Any, handoff_rows: dict[str, Handoff]
) -> None:
    client = _client(risk)
    handoff = handoff_rows["done1"]
    for url in (CHANGELIST, f"{CHANGELIST}{handoff.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/?next=")
    response = client.post(
        f"{CHANGELIST}{handoff.pk}/review/", {"verdict": "correct", "comment": ""}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    response = client.post(
        CHANGELIST,
        {"action": "mark_correct", ACTION_CHECKBOX_NAME: [handoff.pk], "apply": "1"},
    )
    assert response["Location"].startswith("/admin/login/")
    assert not Handoff.objects.exclude(verdict=HandoffVerdict.UNREVIEWED).exists()


def test_staff_without_review_permission_views_but_cannot_review(
    viewer: Any, handoff_rows: dict[str, Handoff]
) -> None:
    client = _client(viewer)
    handoff = handoff_rows["done1"]
    response = client.get(CHANGELIST)
    assert len(_listed(response)) == 5
    assert response.context["action_form"] is None or not any(
        name.startswith("mark_")
        for name, _ in response.context["action_form"].fields["action"].choices
    )
    assert "Mark correct" not in response.content.decode()
    page = client.get(f"{CHANGELIST}{handoff.pk}/change/").content.decode()
    assert "You can view this handoff but not review it" in page
    assert 'name="verdict"' not in page

    refused = client.post(
        f"{CHANGELIST}{handoff.pk}/review/", {"verdict": "correct", "comment": ""}
    )
    assert refused.status_code == 403
    client.post(
        CHANGELIST,
        {"action": "mark_correct", ACTION_CHECKBOX_NAME: [handoff.pk], "apply": "1"},
    )
    client.post(
        CHANGELIST,
        {"action": "mark_correct", ACTION_CHECKBOX_NAME: [handoff.pk], "index": 0},
    )
    assert not Handoff.objects.exclude(verdict=HandoffVerdict.UNREVIEWED).exists()
    assert not Event.objects.filter(kind="handoff_reviewed").exists()


def test_staff_without_view_permission_is_refused(
    django_user_model: Any, handoff_rows: dict[str, Handoff]
) -> None:
    client = _client(_staff(django_user_model, "sam"))
    assert client.get(CHANGELIST).status_code == 403
    handoff = handoff_rows["done1"]
    response = client.post(
        f"{CHANGELIST}{handoff.pk}/review/", {"verdict": "correct", "comment": ""}
    )
    assert response.status_code == 403


def test_admin_cannot_add_change_or_delete_handoffs(
    admin_user: Any, handoff_rows: dict[str, Handoff]
) -> None:
    """Even a superuser only reviews: state changes go through the services."""
    client = _client(admin_user)
    handoff = handoff_rows["done1"]
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.get(f"{CHANGELIST}{handoff.pk}/delete/").status_code == 403
    response = client.post(
        f"{CHANGELIST}{handoff.pk}/change/",
        {"state": "open", "verdict": "correct", "outcome": "reject"},
    )
    assert response.status_code == 403
    page = client.get(f"{CHANGELIST}{handoff.pk}/change/").content.decode()
    assert 'name="_save"' not in page
    assert "delete_selected" not in client.get(CHANGELIST).content.decode()
    handoff.refresh_from_db()
    assert (handoff.state, handoff.outcome) == (HandoffState.COMPLETED, "approve")
    assert handoff.verdict == HandoffVerdict.UNREVIEWED
