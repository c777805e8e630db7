"""Run search: business keys at start, and the search parameters of the run list."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from runs.models import Event, Run
from runs.run_filters import RunFilter, input_values
from runs.services.starting import RunRequest, run_start, runs_start_batch
from tests.support import linear_graph

pytestmark = pytest.mark.django_db


def _keyed(workflow_factory: Any, expression: str = "=input.order_id") -> Any:
    workflow = workflow_factory(linear_graph(1))
    workflow.business_key = expression
    workflow.save(update_fields=["business_key"])
    return workflow


def _ids(api: Any, **params: Any) -> list[int]:
    response = api.get("/api/v1/runs/", params)
    assert response.status_code == 200, response.json()
    return sorted(r["id"] for r in response.json()["results"])


def test_business_key_is_stored_at_start_single_and_batch(api, workflow_factory):
    workflow = _keyed(workflow_factory)
    single, _ = run_start(workflow=workflow, input={"order_id": "ORD-1"}, actor="t")
    batch = runs_start_batch(
        workflow=workflow,
        requests=[RunRequest(input={"order_id": 42}), RunRequest(input={})],
        actor="t",
    )
    keys = [
        Run.objects.get(pk=r.pk).business_key for r in [single] + [b for b, _ in batch]
    ]
    assert keys == ["ORD-1", "42", ""]
    created = Event.objects.get(run=batch[1][0], kind="run_created")
    assert "business_key_error" in created.data
    assert (
        "business_key_error"
        not in Event.objects.get(run=single, kind="run_created").data
    )
    body = api.get("/api/v1/runs/", {"key": "ORD-1"}).json()
    assert [r["business_key"] for r in body["results"]] == ["ORD-1"]


@pytest.mark.parametrize(
    ("run_input", "why"),
    [
        ({"order_id": {"a": 1}}, "an object"),
        ({"order_id": [1, 2]}, "a list"),
        ({"order_id": True}, "not a string or number"),
        ({"order_id": None}, "not a string or number"),
        ({"order_id": "x" * 201}, "longer than 200"),
        ({"order_id": ""}, "empty string"),
        ({}, "not evaluated"),
    ],
)
def test_hostile_key_values_leave_the_key_empty_and_say_why(
    workflow_factory, run_input, why
):
    workflow = _keyed(workflow_factory)
    run, created = run_start(workflow=workflow, input=run_input, actor="t")
    assert created
    run.refresh_from_db()
    assert run.business_key == ""
    assert (
        why in Event.objects.get(run=run, kind="run_created").data["business_key_error"]
    )


def test_costly_key_expression_stops_at_its_budget(workflow_factory):
    workflow = _keyed(
        workflow_factory, "=input.items.map(x, input.items.map(y, x + y))"
    )
    run, _ = run_start(workflow=workflow, input={"items": list(range(2000))}, actor="t")
    run.refresh_from_db()
    assert run.business_key == ""
    error = Event.objects.get(run=run, kind="run_created").data["business_key_error"]
    assert error.startswith("business key not evaluated")


def test_search_parameters_select_the_runs(api, workflow_factory):
    workflow = _keyed(workflow_factory)
    inputs = [
        {"order_id": "ORD-100", "customer": {"country": "DE"}, "amount": 42},
        {"order_id": "ORD-101", "customer": {"country": "FR"}, "amount": "42"},
        {"order_id": "ORD-200", "customer": {"country": "DE"}, "vip": True},
        {"order_id": "ZZ-1", "code": "007"},
    ]
    runs = [run_start(workflow=workflow, input=i, actor="t")[0] for i in inputs]
    a, b, c, d = (r.pk for r in runs)
    assert _ids(api, key="ORD-100") == [a]
    assert _ids(api, key="ORD-1") == []
    assert _ids(api, q="ORD-1") == [a, b]
    assert _ids(api, q=str(d)) == [d]
    assert _ids(api, q=f"#{c}") == [c]
    assert _ids(api, **{"input.customer.country": "DE"}) == [a, c]
    assert _ids(api, **{"input.amount": "42"}) == [a, b]
    assert _ids(api, **{"input.amount": '"42"'}) == [b]
    assert _ids(api, **{"input.vip": "true"}) == [c]
    assert _ids(api, **{"input.code": "007"}) == [d]
    assert _ids(api, **{"input.customer.country": "DE", "input.vip": "true"}) == [c]
    assert _ids(api, trigger="api") == [a, b, c, d]
    assert _ids(api, trigger="schedule") == []
    Run.objects.filter(pk=b).update(trigger="schedule:7")
    assert _ids(api, trigger="schedule") == [b]
    assert _ids(api, trigger="schedule:7") == [b]
    assert _ids(api, trigger="schedule:8") == []
    old = timezone.now() - timedelta(days=3)
    Run.objects.filter(pk=a).update(created_at=old)
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert _ids(api, started_after=since) == [b, c, d]
    assert _ids(api, started_before=since) == [a]
    assert _ids(api, started_before=old.date().isoformat()) == []
    # A time range lists newest first (by creation, walking the run_created index).
    listed = api.get("/api/v1/runs/", {"started_after": since}).json()["results"]
    assert [r["id"] for r in listed] == [d, c, b]
    Run.objects.filter(pk=d).update(error={"type": "Timeout", "message": "slow"})
    assert _ids(api, error_type="Timeout") == [d]
    assert _ids(api, error_type="HTTPError") == []


@pytest.mark.parametrize(
    "query",
    [
        "started_after=yesterday",
        "started_before=2026-13-01",
        "trigger=Schedule!",
        "key=" + "k" * 201,
        "q=" + "q" * 201,
        "input.a.b.c.d.e.f=1",
        "input.=1",
        "input.items.0=1",
        "input.a%20b=1",
        "input.a=" + "v" * 201,
        "&".join(f"input.k{i}=1" for i in range(6)),
        "error_type=" + "e" * 201,
    ],
)
def test_bad_search_parameters_are_400_naming_them(api, query):
    response = api.get(f"/api/v1/runs/?{query}")
    assert response.status_code == 400, query
    error = response.json()["errors"][0]
    assert error["code"] == "bad_filter"
    name = query.split("=", 1)[0]
    assert name.split(".")[0] in error["message"]


def test_filter_round_trips_through_its_query():
    params = {
        "key": "K-1",
        "q": "ORD",
        "input.customer.country": "DE",
        "input.amount": "42",
        "trigger": "webhook",
        "started_after": "2026-01-02T03:04:05+00:00",
        "started_before": "2026-02-01",
        "error_type": "Timeout",
    }
    run_filter = RunFilter.from_query(params)
    assert RunFilter.from_query(run_filter.to_query()) == run_filter
    assert run_filter.inputs == (("amount", "42"), ("customer.country", "DE"))


def test_input_values_are_typed_as_documented():
    assert input_values("42") == [42, "42"]
    assert input_values("-1.5e3") == [-1500.0, "-1.5e3"]
    assert input_values("true") == [True, "true"]
    assert input_values("null") == [None, "null"]
    assert input_values('"42"') == ["42"]
    assert input_values("DE") == ["DE"]
    assert input_values("007") == ["007"]


def test_a_broad_search_counts_only_so_far(api, workflow_factory, monkeypatch):
    from config.pagination import CappedCountPagination

    monkeypatch.setattr(CappedCountPagination, "count_cap", 5)
    workflow = workflow_factory(linear_graph(1), slug="capped")
    for _ in range(8):
        run_start(workflow=workflow, input={}, actor="test")
    page = api.get("/api/v1/runs/", {"workflow": "capped", "limit": 2}).json()
    assert page["count_capped"] is True
    assert page["count"] == 6  # a lower bound: more than the 5 counted
    assert page["next"] is not None
    deep = api.get("/api/v1/runs/", {"workflow": "capped", "limit": 2, "offset": 6})
    assert [len(deep.json()["results"]), deep.json()["count_capped"]] == [2, False]
    assert deep.json()["count"] == 8
    whole = api.get("/api/v1/runs/", {"workflow": "capped", "limit": 50}).json()
    assert [whole["count"], whole["count_capped"]] == [8, False]
    exact = api.get("/api/v1/runs/", {"ids": page["results"][0]["id"]}).json()
    assert [exact["count"], exact["count_capped"]] == [1, False]


@pytest.mark.parametrize(
    "value",
    [
        "0346-01-20T10:12:40-22:32",
        "0001-01-01T00:00:00+10:00",
        "9999-12-31T23:00:00-05:00",
    ],
)
def test_a_time_the_database_cannot_hold_is_refused_or_taken_in_utc(api, value):
    response = api.get("/api/v1/runs/", {"started_after": value})
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert response.json()["errors"][0]["code"] == "bad_filter"
