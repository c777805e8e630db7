"""Every list bounds `limit` and `offset`: absurd or non-numeric ones get 400."""

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from config.pagination import MAX_LIMIT, MAX_OFFSET, BoundedLimitOffsetPagination
from runs.services.starting import run_start

pytestmark = pytest.mark.django_db

# Paginated lists (DRF pages: count, next, previous, results).
PAGED = [
    "/api/v1/workflows/",
    "/api/v1/workflows/wf/versions/",
    "/api/v1/workflows/wf/runs/",
    "/api/v1/runs/",
    "/api/v1/handoffs/",
    "/api/v1/bulk/",
    "/api/v1/workflows/wf/audit/",
    "/api/v1/audit/",
]
# A run's events: `limit` only, 1 to 1000.
EVENTS = "/api/v1/runs/{run}/events/"
# The newest events of some kinds (the board's feeds): `limit` only, 1 to 200.
FEED = "/api/v1/events/"
# A map step's items (tested below with a map run).
MAP_ITEMS = "/api/v1/runs/{run_id}/steps/{step_id}/items/"

BAD_LIMITS = [
    "99999999999999999999999",
    "9" * 5000,
    "abc",
    "-1",
    "0",
    "1.5",
    "+5",
    " 5",
    "²",
    "0x10",
]
BAD_OFFSETS = ["99999999999999999999999", "abc", "-1", "1e3", "²", str(MAX_OFFSET + 1)]


def _review_graph() -> dict[str, Any]:
    """start → review (a handoff) → done: each run waits with an open handoff."""
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "review",
                "type": "handoff",
                "to": {"group": "admin"},
                "outcomes": ["ok"],
                "sla_s": 600,
            },
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "review"},
            {"id": "e2", "source": "review", "target": "done", "default": True},
        ],
    }


@pytest.fixture
def world(api: APIClient, workflow_factory: Any) -> dict[str, Any]:
    """Two runs of `wf`, each waiting on a handoff; every list has two rows or more."""
    workflow = workflow_factory(_review_graph())
    runs = [run_start(workflow=workflow, input={}, actor="test")[0] for _ in range(2)]
    for _ in range(2):  # two bulk jobs (queued; no worker runs here)
        body = {"action": "cancel", "ids": [runs[0].pk]}
        assert api.post("/api/v1/bulk/", body, format="json").status_code == 201
    for threshold in (10, 20):  # two audited changes
        body = {"coverage_threshold": threshold}
        response = api.patch("/api/v1/workflows/wf/settings/", body, format="json")
        assert response.status_code == 200
    return {"run": runs[0].pk}


def _error(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert len(errors) == 1
    return dict(errors[0])


@pytest.mark.parametrize("path", PAGED)
@pytest.mark.parametrize("value", BAD_LIMITS)
def test_an_absurd_limit_gets_400_invalid_limit(
    api: APIClient, world: dict[str, Any], path: str, value: str
) -> None:
    error = _error(api.get(path, {"limit": value}))
    assert error["code"] == "invalid_limit"
    assert error["field"] == "limit"
    assert f"from 1 to {MAX_LIMIT}" in error["message"]


@pytest.mark.parametrize("path", PAGED)
@pytest.mark.parametrize("value", BAD_OFFSETS)
def test_an_absurd_offset_gets_400_invalid_offset(
    api: APIClient, world: dict[str, Any], path: str, value: str
) -> None:
    error = _error(api.get(path, {"offset": value}))
    assert error["code"] == "invalid_offset"
    assert error["field"] == "offset"


@pytest.mark.parametrize("path", PAGED)
def test_a_limit_above_the_maximum_is_refused_not_clamped(
    api: APIClient, world: dict[str, Any], path: str
) -> None:
    assert _error(api.get(path, {"limit": MAX_LIMIT + 1}))["code"] == "invalid_limit"


@pytest.mark.parametrize("path", PAGED)
def test_limits_within_bounds_page_as_before(
    api: APIClient, world: dict[str, Any], path: str
) -> None:
    whole = api.get(path, {"limit": MAX_LIMIT, "offset": 0})
    assert whole.status_code == 200
    assert len(whole.json()["results"]) == whole.json()["count"] >= 1
    # Empty values are absent values: the defaults.
    assert api.get(path, {"limit": "", "offset": ""}).status_code == 200
    assert api.get(path, {"offset": MAX_OFFSET}).json()["results"] == []
    first = api.get(path, {"limit": 1})
    assert first.status_code == 200
    assert len(first.json()["results"]) == 1


def test_the_second_page_holds_the_next_rows(
    api: APIClient, world: dict[str, Any]
) -> None:
    ids = [r["id"] for r in api.get("/api/v1/runs/").json()["results"]]
    second = api.get("/api/v1/runs/", {"limit": 1, "offset": 1}).json()
    assert [r["id"] for r in second["results"]] == ids[1:2]
    assert "limit=1" in second["previous"] or second["previous"].endswith("runs/")


@pytest.mark.parametrize("value", [*BAD_LIMITS, "1001"])
def test_an_absurd_events_limit_gets_400(
    api: APIClient, world: dict[str, Any], value: str
) -> None:
    path = EVENTS.format(run=world["run"])
    error = _error(api.get(path, {"limit": value}))
    assert error["code"] == "invalid_limit"
    assert "from 1 to 1000" in error["message"]


def test_events_within_the_limit_answer(api: APIClient, world: dict[str, Any]) -> None:
    path = EVENTS.format(run=world["run"])
    assert len(api.get(path, {"limit": 1}).json()["results"]) == 1
    assert api.get(path, {"limit": 1000}).status_code == 200
    assert api.get(path).status_code == 200


@pytest.mark.parametrize("value", [*BAD_LIMITS, "201"])
def test_an_absurd_feed_limit_gets_400(
    api: APIClient, world: dict[str, Any], value: str
) -> None:
    error = _error(api.get(FEED, {"type": "run_created", "limit": value}))
    assert error["code"] == "invalid_limit"


def test_the_feed_within_its_limit_answers(
    api: APIClient, world: dict[str, Any]
) -> None:
    one = api.get(FEED, {"type": "run_created", "limit": 1})
    assert one.status_code == 200
    assert len(one.json()["results"]) == 1
    assert api.get(FEED, {"type": "run_created", "limit": 200}).status_code == 200


def test_bounded_pagination_is_the_default() -> None:
    assert api_settings.DEFAULT_PAGINATION_CLASS is BoundedLimitOffsetPagination


def test_every_list_with_a_limit_is_covered_here() -> None:
    """A new paginated endpoint must join PAGED (or EVENTS) above."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    with_limit = {
        path
        for path, operations in schema["paths"].items()
        for operation in operations.values()
        if any(p["name"] == "limit" for p in operation.get("parameters", []))
    }
    covered = {p.replace("/wf/", "/{slug}/") for p in PAGED} | {
        EVENTS.replace("{run}", "{run_id}"),
        FEED,
        MAP_ITEMS,
    }
    assert with_limit == covered


def test_map_items_page_within_bounds(api: APIClient, workflow_factory: Any) -> None:
    graph = {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "each",
                "type": "map",
                "items": "input.items",
                "action": "builtin.noop",
            },
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "each"},
            {"id": "e2", "source": "each", "target": "done"},
        ],
    }
    run, _ = run_start(
        workflow=workflow_factory(graph, slug="mapped"),
        input={"items": [1, 2, 3]},
        actor="test",
    )
    step = run.steps.get(node_id="each")
    path = MAP_ITEMS.format(run_id=run.pk, step_id=step.pk)
    for value in BAD_LIMITS:
        assert _error(api.get(path, {"limit": value}))["code"] == "invalid_limit"
    page = api.get(path, {"limit": 2, "offset": 1}).json()
    assert (page["count"], [i["index"] for i in page["results"]]) == (3, [1, 2])
