"""Hostile input: every size limit answers 413 `too_large` and stores nothing; input
PostgreSQL cannot hold is refused with 400, never a 500."""

import io
import json
from typing import Any

import pytest
from django.core.exceptions import RequestDataTooBig
from django.test import override_settings
from rest_framework.exceptions import ParseError
from rest_framework.test import APIClient

from config.parsers import LimitedJSONParser
from designer.models import WorkflowVersion
from engine.actions import action
from runs import handoffs
from runs.models import Attempt, AttemptState, Run, RunState, StepRun, StepState
from tests.support import drive, linear_graph

pytestmark = pytest.mark.django_db


def _post(api: APIClient, path: str, body: Any) -> Any:
    return api.generic("POST", path, json.dumps(body), content_type="application/json")


def _too_large(response: Any) -> str:
    assert response.status_code == 413, response.content
    errors = response.json()["errors"]
    assert errors[0]["code"] == "too_large"
    return str(errors[0]["message"])


@pytest.fixture
def workflow(api: APIClient) -> str:
    response = _post(api, "/api/v1/workflows/", {"slug": "wf", "name": "WF"})
    assert response.status_code == 201
    return "/api/v1/workflows/wf"


# -- request bodies ----------------------------------------------------------------


@override_settings(SWITCHYARD_MAX_REQUEST_BYTES=10_000)
def test_body_over_the_request_limit_gets_413(api: APIClient, workflow: str) -> None:
    graph = linear_graph(1)
    graph["nodes"][1]["description"] = "x" * 20_000
    message = _too_large(_post(api, f"{workflow}/versions/", {"graph": graph}))
    assert "10000" in message
    assert not WorkflowVersion.objects.exists()


def test_parser_refuses_a_body_past_the_limit_without_content_length() -> None:
    """DRF reads the stream itself, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE check;
    the parser counts what it reads (RequestDataTooBig → 413)."""
    parser = LimitedJSONParser()
    with override_settings(SWITCHYARD_MAX_REQUEST_BYTES=100):
        with pytest.raises(RequestDataTooBig):
            parser.parse(io.BytesIO(json.dumps({"a": "x" * 200}).encode()))
        assert parser.parse(io.BytesIO(b'{"a": 1}')) == {"a": 1}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("[" * 50_000 + "]" * 50_000, "nested too deeply"),
        ('{"graph": ' + "[" * 200 + "]" * 200 + "}", "nested deeper than 100"),
        ('{"name": "a\\u0000b"}', "NUL"),
        ('{"input": {"k\\u0000": 1}}', "NUL"),
        ('{"name": "\\ud800"}', "lone surrogates"),
    ],
)
def test_json_postgresql_cannot_store_gets_400(
    api: APIClient, workflow: str, body: str, problem: str
) -> None:
    response = api.generic(
        "POST", f"{workflow}/runs/", body, content_type="application/json"
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "parse_error"
    assert problem in error["message"]
    with pytest.raises(ParseError):
        LimitedJSONParser().parse(io.BytesIO(body.encode()))


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/runs/?state=%00",
        "/api/v1/workflows/?search=a%00b",
        "/api/v1/handoffs/?workflow=%00",
    ],
)
def test_nul_in_a_query_parameter_gets_400(api: APIClient, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "bad_query"


@pytest.mark.parametrize(
    "query",
    ["after=²", "after=99999999999999999999999", "limit=²", "limit=" + "9" * 5000],
)
def test_odd_numbers_in_event_queries_are_not_a_500(
    api: APIClient, workflow_factory: Any, query: str
) -> None:
    run = _start(api, workflow_factory)
    response = api.get(f"/api/v1/runs/{run.pk}/events/?{query}")
    assert response.status_code in (200, 400)


@pytest.mark.parametrize("query", ["version=²", "version=" + "9" * 30])
def test_odd_numbers_in_run_filters_are_not_a_500(api: APIClient, query: str) -> None:
    assert api.get(f"/api/v1/runs/?{query}").status_code in (200, 400)


@pytest.mark.parametrize("against", ["²", "9" * 30])
def test_odd_numbers_in_a_diff_are_not_a_500(
    api: APIClient, workflow_factory: Any, against: str
) -> None:
    workflow_factory(linear_graph(1))
    response = api.get(f"/api/v1/workflows/wf/versions/1/diff/?against={against}")
    assert response.status_code in (400, 404)


# -- graphs ------------------------------------------------------------------------


@override_settings(SWITCHYARD_MAX_GRAPH_NODES=5)
def test_graph_with_too_many_nodes_gets_413(api: APIClient, workflow: str) -> None:
    message = _too_large(
        _post(api, f"{workflow}/versions/", {"graph": linear_graph(4)})
    )
    assert message == "nodes: a graph may have at most 5 nodes; this one has 6"
    assert not WorkflowVersion.objects.exists()


@override_settings(SWITCHYARD_MAX_GRAPH_EDGES=3)
def test_graph_with_too_many_edges_gets_413(api: APIClient, workflow: str) -> None:
    message = _too_large(
        _post(api, f"{workflow}/versions/", {"graph": linear_graph(3)})
    )
    assert message.startswith("edges: a graph may have at most 3 edges")
    assert not WorkflowVersion.objects.exists()


def test_graph_over_its_byte_limit_gets_413_on_create_and_update(
    api: APIClient, workflow: str
) -> None:
    small = linear_graph(1)
    assert _post(api, f"{workflow}/versions/", {"graph": small}).status_code == 201
    big = linear_graph(1)
    big["nodes"][1]["description"] = "é" * 600
    with override_settings(SWITCHYARD_MAX_GRAPH_BYTES=1000):
        # 600 two-byte characters: the limit counts UTF-8 bytes, not characters.
        message = _too_large(_post(api, f"{workflow}/versions/", {"graph": big}))
        assert "the limit is 1000 bytes" in message
        response = api.put(f"{workflow}/versions/1/", {"graph": big}, format="json")
        _too_large(response)
    assert WorkflowVersion.objects.count() == 1
    assert WorkflowVersion.objects.get().graph == small


@override_settings(SWITCHYARD_MAX_GRAPH_NODES=5)
def test_validate_reports_a_graph_too_large_as_an_error(
    api: APIClient, workflow: str
) -> None:
    """Validation answers what is wrong (200); only saving refuses with 413."""
    response = _post(api, f"{workflow}/validate/", {"graph": linear_graph(4)})
    assert response.status_code == 200
    assert [e["code"] for e in response.json()["errors"]] == ["too_large"]


# -- runs and handoffs -------------------------------------------------------------


def _start(api: APIClient, workflow_factory: Any, **graph: Any) -> Run:
    workflow_factory(graph.pop("graph", None) or linear_graph(1))
    response = _post(api, "/api/v1/workflows/wf/runs/", {"input": {}})
    assert response.status_code == 201
    return Run.objects.get(pk=response.json()["id"])


def test_run_input_over_256_kb_gets_413_and_no_run(
    api: APIClient, workflow_factory: Any
) -> None:
    workflow_factory(linear_graph(1))
    body = {"input": {"blob": "x" * (256 * 1024)}}
    _too_large(_post(api, "/api/v1/workflows/wf/runs/", body))
    assert not Run.objects.exists()


def test_retry_input_over_256_kb_gets_413(
    api: APIClient, workflow_factory: Any
) -> None:
    run = _start(api, workflow_factory, graph=linear_graph(1, action="builtin.fail"))
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    body = {"input": {"blob": "x" * (256 * 1024)}}
    _too_large(_post(api, f"/api/v1/runs/{run.pk}/retry/", body))
    run.refresh_from_db()
    assert run.state == RunState.FAILED


def test_handoff_note_over_its_limit_gets_413(
    api: APIClient, workflow_factory: Any
) -> None:
    graph = {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "ask",
                "type": "handoff",
                "to": {"group": "admin"},
                "outcomes": ["ok", "no"],
                "sla_s": 60,
            },
            {"id": "done", "type": "end"},
            {"id": "stop", "type": "end", "status": "failed"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "ask"},
            {"id": "e2", "source": "ask", "target": "done", "when": "outcome == 'ok'"},
            {"id": "e3", "source": "ask", "target": "stop", "default": True},
        ],
    }
    run = _start(api, workflow_factory, graph=graph)
    handoff = run.handoffs.get()
    note = "x" * (handoffs.MAX_NOTE + 1)
    path = f"/api/v1/handoffs/{handoff.pk}"
    _too_large(_post(api, f"{path}/complete/", {"outcome": "ok", "note": note}))
    _too_large(_post(api, f"{path}/release/", {"note": note}))
    handoff.refresh_from_db()
    assert handoff.state == "open"
    assert handoff.note == ""


# -- action outputs ----------------------------------------------------------------


@action("tests.huge_output", params_schema={"type": "object"})
def huge_output(params: dict[str, Any], context: Any) -> dict[str, Any]:
    """Return a megabyte of JSON."""
    return {"blob": "x" * (1024 * 1024)}


UNSTORABLE: dict[str, Any] = {
    "nul": "a\x00b",
    "nan": {"k": float("nan")},
    "surrogate": "\ud800",
}


@action("tests.unstorable_output", params_schema={"type": "object"})
def unstorable_output(params: dict[str, Any], context: Any) -> Any:
    """Return what PostgreSQL's jsonb cannot hold."""
    return UNSTORABLE[params["kind"]]


def _run_action(api: APIClient, workflow_factory: Any, name: str, **params: Any) -> Run:
    graph = linear_graph(1, action=name, params=params)
    graph["defaults"]["retry"] = {"max_attempts": 3, "initial_interval_s": 0}
    run = _start(api, workflow_factory, graph=graph)
    drive(run)
    run.refresh_from_db()
    return run


def test_output_over_the_limit_fails_the_attempt_once_and_is_not_stored(
    api: APIClient, workflow_factory: Any
) -> None:
    run = _run_action(api, workflow_factory, "tests.huge_output")
    assert run.state == RunState.FAILED
    attempt = Attempt.objects.get(run=run)  # not retried: the output would not change
    assert attempt.state == AttemptState.FAILED
    assert attempt.error["type"] == "OutputTooLarge"
    assert attempt.error["retryable"] is False
    assert "the limit is 262144" in attempt.error["message"]
    step = StepRun.objects.get(run=run, node_id="s1")
    assert step.state == StepState.FAILED
    assert step.output is None


@pytest.mark.parametrize("kind", ["nul", "nan", "surrogate"])
def test_output_postgresql_cannot_store_fails_the_attempt(
    api: APIClient, workflow_factory: Any, kind: str
) -> None:
    run = _run_action(api, workflow_factory, "tests.unstorable_output", kind=kind)
    assert run.state == RunState.FAILED
    attempt = Attempt.objects.get(run=run)
    assert attempt.error["type"] == "BadOutput"
    assert attempt.error["retryable"] is False
