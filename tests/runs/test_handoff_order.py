"""The handoff list: active ones by urgency, finished ones newest finished first."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from runs.models import Handoff
from tests.runs.test_handoffs import _client, _start, review_graph
from tests.runs.test_handoffs import risk as risk  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def _complete(user: Any, handoff: Handoff) -> None:
    response = _client(user).post(
        f"/api/v1/handoffs/{handoff.pk}/complete/",
        {"outcome": "approve"},
        format="json",
    )
    assert response.status_code == 200, response.json()


def test_completed_lists_the_latest_completion_first(
    workflow_factory: Any, risk: Any
) -> None:
    graph = review_graph()
    workflow = workflow_factory(graph)
    runs = [_start(lambda _g: workflow, graph) for _ in range(3)]
    handoffs = [Handoff.objects.get(run=run) for run in runs]
    # Completed out of creation order: the last completed is the one to see first.
    for handoff in (handoffs[1], handoffs[2], handoffs[0]):
        _complete(risk, handoff)

    body = _client(risk).get("/api/v1/handoffs/?status=completed&limit=2").json()

    assert body["count"] == 3
    assert [h["id"] for h in body["results"]] == [handoffs[0].pk, handoffs[2].pk]
    second = _client(risk).get("/api/v1/handoffs/?status=completed&offset=2").json()
    assert [h["id"] for h in second["results"]] == [handoffs[1].pk]


def test_active_overdue_first_then_due_then_finished_newest_first(
    workflow_factory: Any, risk: Any
) -> None:
    graph = review_graph()
    workflow = workflow_factory(graph)
    late, soon, later, done = (
        Handoff.objects.get(run=_start(lambda _g: workflow, graph)) for _ in range(4)
    )
    now = timezone.now()
    # Due times set directly: the SLA clock is not what is under test.
    Handoff.objects.filter(pk=late.pk).update(due_at=now - timedelta(minutes=5))
    Handoff.objects.filter(pk=soon.pk).update(due_at=now + timedelta(minutes=5))
    Handoff.objects.filter(pk=later.pk).update(due_at=now + timedelta(hours=5))
    _complete(risk, done)

    body = _client(risk).get("/api/v1/handoffs/").json()

    assert [h["id"] for h in body["results"]] == [late.pk, soon.pk, later.pk, done.pk]
