"""A viewer cannot burn the web process's CPU: simulations share a request budget."""

import uuid
from typing import Any

import pytest
from django.core.cache import cache

from designer import testing
from designer.limits import SimulationThrottle
from designer.models import WorkflowTestCase
from engine.evaluation_budget import BudgetExceeded, EvaluationBudget, spending
from engine.expressions import compile_expression
from tests.support import grant

pytestmark = pytest.mark.django_db

# Each evaluation of this costs len(items)² steps: far past the 100,000 steps one
# expression may take, so each attempt of each task of each case costs the most one
# expression may; twenty tasks a case, several cases, were minutes of CPU a request.
NESTED = "=input.items.all(x, input.items.all(y, x == y || x != y))"
ITEMS = list(range(3000))


def heavy_graph(tasks: int = 20, param: str = NESTED) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "start"}]
    edges = []
    previous = "start"
    for i in range(tasks):
        nodes.append(
            {
                "id": f"t{i}",
                "type": "task",
                "action": "builtin.echo",
                "params": {"v": param},
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
            input={"items": ITEMS},
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


def _budget_error(response: Any) -> str:
    assert response.status_code == 422, response.content[:500]
    (error,) = response.json()["errors"]
    assert error["code"] == "budget_exceeded"
    assert "evaluation steps" in error["message"] or "s of work" in error["message"]
    return str(error["message"])


# -- the budget itself (pure Python) ----------------------------------------------


def test_a_budget_refuses_steps_past_its_limit_and_stays_spent() -> None:
    budget = EvaluationBudget(steps=10, seconds=60)
    budget.spend(10)
    with pytest.raises(BudgetExceeded, match="more than 10 evaluation steps"):
        budget.spend()
    with pytest.raises(BudgetExceeded):
        budget.check()


def test_a_budget_refuses_steps_past_its_deadline() -> None:
    budget = EvaluationBudget(steps=10**9, seconds=0)
    with pytest.raises(BudgetExceeded, match="more than 0 s of work"):
        for _ in range(10_000):
            budget.spend()


def test_comprehension_iterations_inside_one_evaluation_are_charged() -> None:
    """One evaluate call of a nested .all() spends the request's budget as it goes."""
    expression = compile_expression(NESTED[1:])
    with spending(EvaluationBudget(steps=1_000, seconds=60)):
        with pytest.raises(BudgetExceeded):
            expression.evaluate({"input": {"items": ITEMS}})


def test_converting_a_large_context_is_charged() -> None:
    """A cheap expression over a large input still pays for reading the input."""
    expression = compile_expression("input.n > 0")
    context = {"input": {"n": 1, "items": ITEMS}}
    with spending(EvaluationBudget(steps=10_000, seconds=60)) as budget:
        expression.evaluate(context)
        assert budget.steps < 10_000 - len(ITEMS)
        with pytest.raises(BudgetExceeded):
            for _ in range(4):
                expression.evaluate(context)


def test_compiling_is_charged() -> None:
    source = " && ".join(f"input.c{uuid.uuid4().hex} > {i}" for i in range(20))
    with spending(EvaluationBudget(steps=len(source), seconds=60)):
        with pytest.raises(BudgetExceeded):
            compile_expression(source)


# -- validate ---------------------------------------------------------------------


def test_validate_with_cases_stops_at_the_request_budget(
    heavy: Any, viewer_api: Any
) -> None:
    """With the default budget: thousands of items, a nested .all(), five cases."""
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


def test_validate_charges_compiling_the_submitted_graph(
    heavy: Any, viewer_api: Any, settings: Any
) -> None:
    """Many long, distinct expressions (a compile each) exhaust the budget too."""
    settings.SWITCHYARD_SIMULATION_BUDGET = {"steps": 50_000, "seconds": 60}
    graph = heavy_graph(tasks=1)
    for i in range(20):
        source = " && ".join(f"input.c{uuid.uuid4().hex} > {k}" for k in range(40))
        graph["nodes"][1]["params"][f"p{i}"] = f"={source}"
    _budget_error(
        viewer_api.post(
            "/api/v1/workflows/heavy/validate/", {"graph": graph}, format="json"
        )
    )


# -- test cases and coverage --------------------------------------------------------


def test_running_test_cases_stops_at_the_request_budget(
    heavy: Any, viewer_api: Any, settings: Any
) -> None:
    settings.SWITCHYARD_SIMULATION_BUDGET = {"steps": 200_000, "seconds": 3}
    message = _budget_error(
        viewer_api.post("/api/v1/workflows/heavy/versions/1/test/", {}, format="json")
    )
    assert "test case 'case " in message


def test_coverage_stops_at_the_request_budget(
    heavy: Any, viewer_api: Any, settings: Any
) -> None:
    settings.SWITCHYARD_SIMULATION_BUDGET = {"steps": 200_000, "seconds": 3}
    _budget_error(viewer_api.get("/api/v1/workflows/heavy/versions/1/coverage/"))


def test_a_small_budget_is_shared_by_every_case_of_a_request(
    workflow_factory: Any, api: Any, settings: Any
) -> None:
    """Each case alone fits; together they do not; the message names the case."""
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
    message = _budget_error(
        api.post("/api/v1/workflows/light/versions/1/test/", {}, format="json")
    )
    assert "of 10)" in message


def test_a_large_input_read_by_cheap_expressions_is_bounded(
    workflow_factory: Any, api: Any, settings: Any
) -> None:
    """Every evaluation converts the whole context: that counts, not just the
    expression's own steps."""
    settings.SWITCHYARD_SIMULATION_BUDGET = {"steps": 100_000, "seconds": 60}
    workflow_factory(heavy_graph(tasks=20, param="=input.n"), slug="wide")
    response = api.post(
        "/api/v1/workflows/wide/versions/1/test/",
        {"cases": [{"name": "wide", "input": {"n": 1, "items": ITEMS * 3}}]},
        format="json",
    )
    _budget_error(response)


def test_the_publish_gate_stops_at_the_request_budget(
    heavy: Any, api: Any, settings: Any
) -> None:
    settings.SWITCHYARD_SIMULATION_BUDGET = {"steps": 200_000, "seconds": 3}
    api.patch(
        "/api/v1/workflows/heavy/settings/", {"publish_gate": "block"}, format="json"
    )
    draft = api.post(
        "/api/v1/workflows/heavy/versions/", {"graph": heavy_graph()}, format="json"
    ).json()
    _budget_error(
        api.post(f"/api/v1/workflows/heavy/versions/{draft['number']}/publish/")
    )
    heavy.refresh_from_db()
    assert heavy.live_version.number == 1


def test_simulating_outside_a_request_is_not_held_to_its_budget(
    workflow_factory: Any, settings: Any
) -> None:
    """manage.py test_workflows (CI) runs every case; each expression is still
    bounded on its own."""
    settings.SWITCHYARD_SIMULATION_BUDGET = {"steps": 10, "seconds": 0}
    workflow = workflow_factory(heavy_graph(tasks=2, param="=input.n"), slug="cli")
    case = WorkflowTestCase.objects.create(
        workflow=workflow, name="one", input={"n": 1}, expect={"state": "succeeded"}
    )
    report = testing.run_cases(workflow.live_version, [case])
    assert report["passed"] == 1


# -- throttle -----------------------------------------------------------------------


def test_simulating_requests_are_throttled_per_user(
    heavy: Any, viewer_api: Any, api: Any, settings: Any
) -> None:
    settings.SWITCHYARD_SIMULATION_RATE = "2/min"
    cache.clear()
    url = "/api/v1/workflows/heavy/validate/"
    body = {"graph": heavy_graph(tasks=1)}
    for _ in range(2):
        assert viewer_api.post(url, body, format="json").status_code == 200
    response = viewer_api.post(url, body, format="json")
    assert response.status_code == 429
    (error,) = response.json()["errors"]
    assert error["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
    # The other simulating endpoints count against the same rate; other users not.
    assert viewer_api.get(
        "/api/v1/workflows/heavy/versions/1/coverage/"
    ).status_code == (429)
    assert api.post(url, body, format="json").status_code == 200
    cache.clear()


def test_a_users_simulations_share_seconds_a_minute(
    heavy: Any, viewer_api: Any, api: Any, settings: Any, monkeypatch: Any
) -> None:
    """Each request reserves its budget's seconds and gives back what it did not
    use: cheap requests pass; once the user's requests took their seconds, 429."""
    settings.SWITCHYARD_SIMULATION_BUDGET = {
        "seconds": 0.5,
        "user_seconds_per_minute": 0.6,
    }
    # The middle of one minute: the allowance is counted per minute.
    monkeypatch.setattr(
        SimulationThrottle, "timer", staticmethod(lambda: 1_800_000_030.0)
    )
    cache.clear()
    url = "/api/v1/workflows/heavy/validate/"
    cheap = {"graph": heavy_graph(tasks=1)}
    for _ in range(3):
        assert viewer_api.post(url, cheap, format="json").status_code == 200
    # Each heavy request takes its 0.5 s: the first is let in, the third is not.
    answers = [
        viewer_api.post(url, {"graph": heavy_graph(), "cases": True}, format="json")
        for _ in range(3)
    ]
    statuses = [a.status_code for a in answers]
    assert statuses[0] == 422 and 429 in statuses, statuses
    assert statuses[: statuses.index(429)] == [422] * statuses.index(429)
    refused = answers[statuses.index(429)]
    assert refused.json()["errors"][0]["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    assert viewer_api.post(url, cheap, format="json").status_code == 429
    assert api.post(url, cheap, format="json").status_code == 200
    cache.clear()
