"""A viewer cannot burn the web process's CPU: simulations share a request budget."""

from typing import Any

import pytest

from designer import testing
from designer.models import WorkflowTestCase
from tests.support import grant

pytestmark = pytest.mark.django_db

# Each evaluation of this costs len(items)² steps: about 100,000 per task here, so
# twenty tasks a case, several cases, would be minutes of CPU without a total bound.
NESTED = "=input.items.all(x, input.items.all(y, x == y || x != y))"


def heavy_graph(tasks: int = 20) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "start"}]
    edges = []
    previous = "start"
    for i in range(tasks):
        nodes.append(
            {
                "id": f"t{i}",
                "type": "task",
                "action": "builtin.echo",
                "params": {"v": NESTED},
                "retry": {"max_attempts": 3, "initial_interval_s": 0},
            }
        )
        edges.append({"id": f"e{i}", "source": previous, "target": f"t{i}"})
        previous = f"t{i}"
    nodes.append({"id": "done", "type": "end"})
    edges.append({"id": "e_end", "source": previous, "target": "done"})
    return {"format": 1, "nodes": nodes, "edges": edges}


@pytest.fixture
def heavy(workflow_factory: Any) -> Any:
    workflow = workflow_factory(heavy_graph(), slug="heavy")
    for n in range(5):
        WorkflowTestCase.objects.create(
            workflow=workflow,
            name=f"case {n}",
            input={"items": list(range(300))},
            expect={"state": "succeeded"},
        )
    return workflow


@pytest.fixture
def viewer_api(django_user_model: Any) -> Any:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(
        grant(
            django_user_model.objects.create_user("vic", password="pw-vic-1"), "viewer"
        )
    )
    return client


def _budget_error(response: Any) -> None:
    assert response.status_code == 422, response.content[:500]
    (error,) = response.json()["errors"]
    assert error["code"] == "budget_exceeded"
    assert "evaluation steps" in error["message"] or "s of work" in error["message"]


def test_validate_with_cases_stops_at_the_request_budget(
    heavy: Any, viewer_api: Any
) -> None:
    response = viewer_api.post(
        "/api/v1/workflows/heavy/validate/",
        {"graph": heavy_graph(), "cases": True},
        format="json",
    )
    _budget_error(response)


def test_validate_without_cases_checks_only_the_graph(
    heavy: Any, viewer_api: Any, monkeypatch: Any
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("validation simulated a test case")

    monkeypatch.setattr(testing, "simulate", refuse)
    response = viewer_api.post(
        "/api/v1/workflows/heavy/validate/", {"graph": heavy_graph()}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["errors"] == []


def test_running_test_cases_stops_at_the_request_budget(
    heavy: Any, viewer_api: Any
) -> None:
    _budget_error(
        viewer_api.post("/api/v1/workflows/heavy/versions/1/test/", {}, format="json")
    )


def test_coverage_stops_at_the_request_budget(heavy: Any, viewer_api: Any) -> None:
    _budget_error(viewer_api.get("/api/v1/workflows/heavy/versions/1/coverage/"))


def test_a_small_budget_is_shared_by_every_case_of_a_request(
    workflow_factory: Any, api: Any, settings: Any
) -> None:
    """Each case alone fits; together they do not."""
    settings.SWITCHYARD_SIMULATION_BUDGET = {"steps": 30_000, "seconds": 30}
    workflow = workflow_factory(heavy_graph(tasks=1), slug="light")
    for n in range(10):
        WorkflowTestCase.objects.create(
            workflow=workflow, name=f"c{n}", input={"items": list(range(30))}
        )
    one = api.post(
        "/api/v1/workflows/light/versions/1/test/",
        {"ids": [workflow.test_cases.first().pk]},
        format="json",
    )
    assert one.status_code == 200, one.content[:300]
    _budget_error(
        api.post("/api/v1/workflows/light/versions/1/test/", {}, format="json")
    )


def test_simulating_requests_are_throttled_per_user(
    heavy: Any, viewer_api: Any, settings: Any
) -> None:
    settings.SWITCHYARD_SIMULATION_RATE = "2/min"
    url = "/api/v1/workflows/heavy/validate/"
    body = {"graph": heavy_graph(tasks=1)}
    for _ in range(2):
        assert viewer_api.post(url, body, format="json").status_code == 200
    response = viewer_api.post(url, body, format="json")
    assert response.status_code == 429
    assert response.json()["errors"][0]["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
