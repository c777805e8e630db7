"""The editor's expression help and run data: check, preview, a step's params."""

import json
from typing import Any

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from engine.expressions import MAX_SOURCE_LENGTH
from runs.services.starting import run_start
from tests.support import drive, grant

pytestmark = pytest.mark.django_db

CHECK = "/api/v1/expressions/check/"
PREVIEW = "/api/v1/expressions/preview/"


def _graph() -> dict[str, Any]:
    """start → greet (echo of a param built from the input) → shout (echo) → done."""
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 1}},
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "greet",
                "type": "task",
                "action": "builtin.echo",
                "params": {"text": "='hi ' + input.name", "fixed": 3},
            },
            {
                "id": "shout",
                "type": "task",
                "action": "builtin.echo",
                "params": {"loud": "=steps.greet.output.params.text + '!'"},
            },
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "greet"},
            {"id": "e2", "source": "greet", "target": "shout"},
            {"id": "e3", "source": "shout", "target": "done"},
        ],
    }


@pytest.fixture
def finished_run(workflow_factory: Any) -> Any:
    run, _ = run_start(
        workflow=workflow_factory(_graph()), input={"name": "Ada"}, actor="system"
    )
    drive(run)
    run.refresh_from_db()
    assert run.state == "succeeded", run.error
    return run


def _post(client: APIClient, path: str, body: Any) -> Any:
    return client.generic(
        "POST", path, json.dumps(body), content_type="application/json"
    )


def test_check_accepts_a_good_expression_with_or_without_the_equals(
    api: APIClient,
) -> None:
    assert _post(api, CHECK, {"expression": "input.a + 1"}).json() == {"ok": True}
    assert _post(api, CHECK, {"expression": "=size(input.items) > 2"}).json() == {
        "ok": True
    }


def test_check_names_a_syntax_error_with_its_position(api: APIClient) -> None:
    body = _post(api, CHECK, {"expression": "input.a +\n  * 2"}).json()
    assert body["ok"] is False
    (error,) = body["errors"]
    assert error["code"] == "bad_expression"
    assert (error["line"], error["column"]) == (2, 3)
    assert error["offset"] == len("input.a +\n  ")


def test_check_points_at_an_unknown_name_or_function(api: APIClient) -> None:
    body = _post(api, CHECK, {"expression": "input.a + secrets.x"}).json()
    assert "secrets" in body["errors"][0]["message"]
    assert body["errors"][0]["offset"] == len("input.a + ")
    body = _post(api, CHECK, {"expression": "input.a == nope(1)"}).json()
    assert body["errors"][0]["column"] == len("input.a == ") + 1


def test_check_refuses_hostile_input(api: APIClient) -> None:
    deep = "(" * 400 + "1" + ")" * 400
    body = _post(api, CHECK, {"expression": deep}).json()
    assert body["ok"] is False
    long = "1+" * (MAX_SOURCE_LENGTH // 2 + 1) + "1"
    assert _post(api, CHECK, {"expression": long}).status_code == 413
    exact = "1" * MAX_SOURCE_LENGTH + "1"
    assert _post(api, CHECK, {"expression": exact}).json()["ok"] is False
    response = _post(api, CHECK, {"expression": {"a": 1}})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "expression"
    assert _post(api, CHECK, {}).status_code == 400


def test_check_and_preview_need_a_login() -> None:
    client = APIClient()
    assert _post(client, CHECK, {"expression": "1"}).status_code in (401, 403)
    body = {"expression": "1", "run_id": 1}
    assert _post(client, PREVIEW, body).status_code in (401, 403)


def test_preview_evaluates_against_the_runs_data(
    api: APIClient, finished_run: Any
) -> None:
    body = {"expression": "=steps.greet.output.params.text", "run_id": finished_run.pk}
    assert _post(api, PREVIEW, body).json() == {"ok": True, "value": "hi Ada"}
    body = {"expression": "input", "run_id": finished_run.pk}
    assert _post(api, PREVIEW, body).json()["value"] == {"name": "Ada"}
    body = {"expression": "outcome", "run_id": finished_run.pk, "node_id": "shout"}
    assert _post(api, PREVIEW, body).json()["value"]["params"] == {"loud": "hi Ada!"}


def test_preview_reports_evaluation_errors_and_bounds_work(
    api: APIClient, finished_run: Any
) -> None:
    body = {"expression": "steps.nope.output", "run_id": finished_run.pk}
    answer = _post(api, PREVIEW, body).json()
    assert answer["ok"] is False
    assert answer["errors"][0]["code"] == "bad_expression"
    # A value too large to answer is left out, its size said.
    big, _ = run_start(
        workflow=finished_run.workflow, input={"blob": "x" * 70_000}, actor="system"
    )
    answer = _post(api, PREVIEW, {"expression": "input.blob", "run_id": big.pk}).json()
    assert answer == {"ok": True, "value": None, "too_large": 70_002}
    # Work past the engine's bounds is an error, not a hang.
    body = {
        "expression": "[1,2,3,4,5,6,7,8,9,10].map(a, [1,2,3,4,5,6,7,8,9,10].map("
        "b, [1,2,3,4,5,6,7,8,9,10].map(c, [1,2,3,4,5,6,7,8,9,10].map(d, [1,2,3,4,"
        "5,6,7,8,9,10].map(e, [1,2,3,4,5,6,7,8,9,10].map(f, 'x' + string(a)))))))",
        "run_id": finished_run.pk,
    }
    response = _post(api, PREVIEW, body)
    assert response.status_code in (200, 422), response.json()
    if response.status_code == 200:
        assert response.json()["ok"] is False
    else:
        assert response.json()["errors"][0]["code"] == "budget_exceeded"
    deep = {"expression": "(" * 400 + "1" + ")" * 400, "run_id": finished_run.pk}
    assert _post(api, PREVIEW, deep).json()["ok"] is False
    too_long = {"expression": "1+" * 1100 + "1", "run_id": finished_run.pk}
    assert _post(api, PREVIEW, too_long).status_code == 413
    bad_id = {"expression": "1", "run_id": "x"}
    assert _post(api, PREVIEW, bad_id).status_code == 400


def test_preview_of_a_run_the_user_cannot_see_is_404(
    finished_run: Any, django_user_model: Any
) -> None:
    red = Group.objects.create(name="red")
    workflow = finished_run.workflow
    workflow.owner_group = red
    workflow.save()
    outsider = APIClient()
    outsider.force_authenticate(
        grant(django_user_model.objects.create_user("olga"), "editor")
    )
    body = {"expression": "input", "run_id": finished_run.pk}
    assert _post(outsider, PREVIEW, body).status_code == 404
    step = finished_run.steps.get(node_id="greet")
    url = f"/api/v1/runs/{finished_run.pk}/steps/{step.pk}/params/"
    assert outsider.get(url).status_code == 404
    body = {"expression": "input", "run_id": 999999}
    assert _post(outsider, PREVIEW, body).status_code == 404


def test_step_params_are_evaluated_again_from_the_run(
    api: APIClient, finished_run: Any
) -> None:
    greet = finished_run.steps.get(node_id="greet")
    shout = finished_run.steps.get(node_id="shout")
    answer = api.get(f"/api/v1/runs/{finished_run.pk}/steps/{greet.pk}/params/")
    assert answer.status_code == 200
    assert answer.json() == {
        "step_id": greet.pk,
        "node_id": "greet",
        "expressions": ["text"],
        "attempts": [{"number": 1, "value": {"text": "hi Ada", "fixed": 3}}],
    }
    answer = api.get(f"/api/v1/runs/{finished_run.pk}/steps/{shout.pk}/params/")
    assert answer.json()["attempts"][0]["value"] == {"loud": "hi Ada!"}
    # As given to the action: the same as what echo stored as its output.
    assert answer.json()["attempts"][0]["value"] == shout.output["params"]
    missing = api.get(f"/api/v1/runs/{finished_run.pk}/steps/999999/params/")
    assert missing.status_code == 404


def test_expression_help_has_its_own_rate_and_never_throttles_validation(
    api: APIClient, workflow_factory: Any, settings: Any
) -> None:
    settings.SWITCHYARD_EXPRESSION_RATE = "2/min"
    settings.SWITCHYARD_SIMULATION_RATE = "2/min"
    workflow_factory(_graph())
    assert _post(api, CHECK, {"expression": "1"}).status_code == 200
    assert _post(api, CHECK, {"expression": "2"}).status_code == 200
    throttled = _post(api, CHECK, {"expression": "3"})
    assert throttled.status_code == 429
    assert throttled.json()["errors"][0]["code"] == "throttled"
    validate = _post(api, "/api/v1/workflows/wf/validate/", {"graph": _graph()})
    assert validate.status_code == 200, validate.json()
