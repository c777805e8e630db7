"""Recent events across workflows (GET /api/v1/events/): the board's feed history."""

from typing import Any

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from designer import services as designer
from runs.models import Event
from tests.support import grant

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"


def _event(kind: str, workflow: Any, **fields: Any) -> Event:
    return Event.objects.create(kind=kind, workflow=workflow, **fields)


@pytest.fixture
def workflows() -> tuple[Any, Any]:
    red = Group.objects.create(name="red")
    public = designer.workflow_create(slug="public", name="Public")
    secret = designer.workflow_create(slug="secret", name="Secret", owner_group=red)
    return public, secret


def test_lists_the_newest_events_of_the_given_types_first(
    api: APIClient, workflows: tuple[Any, Any]
) -> None:
    public, secret = workflows
    old = _event("version_published", public)
    _event("run_created", public)
    retry = _event("attempt_failed", secret)
    new = _event("canary_started", public)

    body = api.get(f"{URL}?type=version_published,attempt_failed,canary_started").json()

    assert [e["id"] for e in body["results"]] == [new.pk, retry.pk, old.pk]
    assert body["results"][0]["workflow"] == "public"
    assert body["last_event_id"] >= new.pk
    assert "last_event_tx" in body
    limited = api.get(f"{URL}?type=version_published,canary_started&limit=1").json()
    assert [e["id"] for e in limited["results"]] == [new.pk]


def test_only_events_of_workflows_the_user_sees(
    workflows: tuple[Any, Any], django_user_model: Any
) -> None:
    public, secret = workflows
    seen = _event("attempt_failed", public)
    _event("attempt_failed", secret)
    _event("attempt_failed", None)  # of no workflow: for those who see all
    viewer = APIClient()
    viewer.force_authenticate(
        grant(django_user_model.objects.create_user("vera"), "viewer")
    )

    body = viewer.get(f"{URL}?type=attempt_failed").json()

    assert [e["id"] for e in body["results"]] == [seen.pk]
    assert APIClient().get(URL).status_code in (401, 403)


@pytest.mark.parametrize(
    "query",
    [
        "type=Robert');DROP",
        "type=" + ",".join(f"k{i}" for i in range(31)),
        "limit=0",
        "limit=201",
        "limit=-1",
        "limit=abc",
    ],
)
def test_bad_parameters_are_400(api: APIClient, query: str) -> None:
    response = api.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert response.json()["errors"]


def test_query_count_does_not_grow_with_events(
    api: APIClient,
    workflows: tuple[Any, Any],
    django_assert_max_num_queries: Any,
) -> None:
    public, _ = workflows
    for _ in range(30):
        _event("attempt_failed", public)
    with django_assert_max_num_queries(6):
        body = api.get(f"{URL}?type=attempt_failed,step_retry_wait").json()
    assert len(body["results"]) == 30
