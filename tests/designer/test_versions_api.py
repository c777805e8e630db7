"""Designer API: validation errors, size limits, publishing and immutability."""

import copy
import json
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from designer.models import ImmutableVersionError, Workflow, WorkflowVersion
from runs.models import Event
from tests.support import choice_graph, linear_graph

pytestmark = pytest.mark.django_db


def _valid() -> dict[str, Any]:
    return choice_graph()


def _mutate(change: Any) -> dict[str, Any]:
    graph = _valid()
    change(graph)
    return graph


def _node(graph: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(n for n in graph["nodes"] if n["id"] == node_id)


def _edge(graph: dict[str, Any], edge_id: str) -> dict[str, Any]:
    return next(e for e in graph["edges"] if e["id"] == edge_id)


INVALID_GRAPHS = [
    (
        "no_start",
        lambda g: (
            g["nodes"].remove(_node(g, "start")),
            g["edges"].remove(_edge(g, "e1")),
        ),
        {},
    ),
    (
        "multiple_starts",
        lambda g: g["nodes"].append({"id": "start2", "type": "start"}),
        {"node_id": "start2"},
    ),
    (
        "unreachable",
        lambda g: (
            g["nodes"].append(
                {"id": "orphan", "type": "task", "action": "builtin.noop"}
            ),
            g["edges"].append({"id": "o1", "source": "orphan", "target": "done"}),
        ),
        {"node_id": "orphan"},
    ),
    (
        "dangling_edge",
        lambda g: g["edges"].append(
            {"id": "bad", "source": "big", "target": "nowhere"}
        ),
        {"edge_id": "bad"},
    ),
    (
        "choice_default",
        lambda g: _edge(g, "to_small").pop("default"),
        {"node_id": "pick"},
    ),
    (
        "bad_expression",
        lambda g: _edge(g, "to_big").update(when="input.amount >"),
        {"edge_id": "to_big"},
    ),
    (
        "unknown_action",
        lambda g: _node(g, "big").update(action="builtin.nope"),
        {"node_id": "big"},
    ),
    (
        "duplicate_id",
        lambda g: g["nodes"].append(
            {"id": "big", "type": "task", "action": "builtin.noop"}
        ),
        {"node_id": "big"},
    ),
    (
        "dead_end",
        lambda g: g["edges"].remove(_edge(g, "e5")),
        {"node_id": "big"},
    ),
    (
        "no_end",
        lambda g: (
            g["nodes"].remove(_node(g, "done")),
            g["edges"].remove(_edge(g, "e5")),
            g["edges"].remove(_edge(g, "e6")),
        ),
        {},
    ),
    (
        "choice_condition",
        lambda g: _edge(g, "to_big").pop("when"),
        {"edge_id": "to_big"},
    ),
    (
        "cycle",
        lambda g: g["edges"].append(
            {"id": "back", "source": "after_small", "target": "small"}
        ),
        {},
    ),
    (
        "task_edges",
        lambda g: g["edges"].append(
            {"id": "extra", "source": "big", "target": "small"}
        ),
        {"node_id": "big"},
    ),
    (
        "bad_params",
        lambda g: _node(g, "big").update(
            action="builtin.sleep", params={"seconds": "x"}
        ),
        {"node_id": "big"},
    ),
    (
        "schema",
        lambda g: _node(g, "big").update(type="teleport"),
        {},
    ),
    (
        "end_outgoing",
        lambda g: g["edges"].append(
            {"id": "after_end", "source": "done", "target": "big"}
        ),
        {"edge_id": "after_end"},
    ),
]


def test_valid_graph_creates_a_draft(api: Any) -> None:
    api.post("/api/v1/workflows/", {"slug": "wf", "name": "WF"}, format="json")
    response = api.post(
        "/api/v1/workflows/wf/versions/",
        {"graph": _valid(), "note": "first"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["number"] == 1
    assert len(body["checksum"]) == 64


@pytest.mark.parametrize(
    ("code", "change", "ids"), INVALID_GRAPHS, ids=[c[0] for c in INVALID_GRAPHS]
)
def test_invalid_graph_is_refused_with_its_code_and_nothing_is_stored(
    api: Any, code: str, change: Any, ids: dict[str, str]
) -> None:
    api.post("/api/v1/workflows/", {"slug": "wf", "name": "WF"}, format="json")
    graph = _mutate(change)
    response = api.post(
        "/api/v1/workflows/wf/versions/", {"graph": graph}, format="json"
    )
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    matching = [e for e in errors if e["code"] == code]
    assert matching, errors
    for key, value in ids.items():
        assert any(e.get(key) == value for e in matching), matching
    assert WorkflowVersion.objects.count() == 0


def test_validate_endpoint_reports_errors_and_warnings_without_storing(
    api: Any,
) -> None:
    api.post("/api/v1/workflows/", {"slug": "wf", "name": "WF"}, format="json")
    graph = _mutate(lambda g: _node(g, "big").update(action="builtin.nope"))
    response = api.post(
        "/api/v1/workflows/wf/validate/", {"graph": graph}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert [e["code"] for e in body["errors"]] == ["unknown_action"]
    assert any(w["code"] == "no_failure_handling" for w in body["warnings"])
    assert WorkflowVersion.objects.count() == 0


def test_five_megabyte_graph_gets_413_and_nothing_is_stored(api: Any) -> None:
    api.post("/api/v1/workflows/", {"slug": "wf", "name": "WF"}, format="json")
    graph = _valid()
    graph["nodes"][2]["description"] = "x" * (5 * 1024 * 1024)
    body = json.dumps({"graph": graph})
    response = api.generic(
        "POST", "/api/v1/workflows/wf/versions/", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "too_large"
    assert WorkflowVersion.objects.count() == 0


def test_malformed_json_gets_400(api: Any) -> None:
    response = api.generic(
        "POST", "/api/v1/workflows/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "parse_error"


def test_unknown_workflow_gets_404_in_error_format(api: Any) -> None:
    response = api.get("/api/v1/workflows/missing/")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_duplicate_slug_gets_409(api: Any) -> None:
    api.post("/api/v1/workflows/", {"slug": "wf", "name": "WF"}, format="json")
    response = api.post(
        "/api/v1/workflows/", {"slug": "wf", "name": "Again"}, format="json"
    )
    assert response.status_code == 409


def _published(api: Any) -> dict[str, Any]:
    api.post("/api/v1/workflows/", {"slug": "wf", "name": "WF"}, format="json")
    api.post("/api/v1/workflows/wf/versions/", {"graph": _valid()}, format="json")
    response = api.post("/api/v1/workflows/wf/versions/1/publish/")
    assert response.status_code == 200, response.json()
    return response.json()


def test_publish_makes_the_version_live_and_records_an_event(api: Any) -> None:
    body = _published(api)
    assert body["status"] == "published"
    assert body["is_live"] is True
    assert Workflow.objects.get(slug="wf").live_version.number == 1
    event = Event.objects.get(kind="version_published")
    assert (event.from_state, event.to_state) == ("draft", "published")


def test_publishing_twice_gets_409(api: Any) -> None:
    _published(api)
    response = api.post("/api/v1/workflows/wf/versions/1/publish/")
    assert response.status_code == 409


def test_put_on_published_version_gets_409_and_changes_nothing(api: Any) -> None:
    _published(api)
    before = WorkflowVersion.objects.get(number=1).graph
    response = api.put(
        "/api/v1/workflows/wf/versions/1/", {"graph": linear_graph(2)}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "version_immutable"
    assert WorkflowVersion.objects.get(number=1).graph == before


def test_model_refuses_to_save_a_changed_published_version(api: Any) -> None:
    _published(api)
    version = WorkflowVersion.objects.get(number=1)
    version.graph = linear_graph(1)
    with pytest.raises(ImmutableVersionError):
        version.save()


def test_database_refuses_to_change_a_published_version(api: Any) -> None:
    _published(api)
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkflowVersion.objects.filter(number=1).update(graph=linear_graph(1))
    assert WorkflowVersion.objects.get(number=1).graph == _valid()


def test_draft_can_be_edited_then_published_as_next_number(api: Any) -> None:
    _published(api)
    response = api.post(
        "/api/v1/workflows/wf/versions/", {"graph": linear_graph(2)}, format="json"
    )
    assert response.json()["number"] == 2
    changed = linear_graph(3)
    response = api.put(
        "/api/v1/workflows/wf/versions/2/", {"graph": changed}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["graph"] == changed
    assert api.post("/api/v1/workflows/wf/versions/2/publish/").status_code == 200
    assert Workflow.objects.get(slug="wf").live_version.number == 2


def test_rollback_moves_live_version_back(api: Any) -> None:
    _published(api)
    api.post(
        "/api/v1/workflows/wf/versions/", {"graph": linear_graph(2)}, format="json"
    )
    api.post("/api/v1/workflows/wf/versions/2/publish/")
    response = api.post("/api/v1/workflows/wf/rollback/", {"version": 1}, format="json")
    assert response.status_code == 200
    assert response.json()["live_version"] == 1
    assert Event.objects.filter(kind="live_version_changed").count() == 1


def test_rollback_to_a_draft_gets_409(api: Any) -> None:
    _published(api)
    api.post(
        "/api/v1/workflows/wf/versions/", {"graph": linear_graph(2)}, format="json"
    )
    response = api.post("/api/v1/workflows/wf/rollback/", {"version": 2}, format="json")
    assert response.status_code == 409


def test_diff_lists_changed_nodes(api: Any) -> None:
    _published(api)
    changed = copy.deepcopy(_valid())
    _node(changed, "big")["label"] = "Big order"
    api.post("/api/v1/workflows/wf/versions/", {"graph": changed}, format="json")
    response = api.get("/api/v1/workflows/wf/versions/2/diff/?against=1")
    assert response.status_code == 200
    changed_ids = [c["id"] for c in response.json()["nodes"]["changed"]]
    assert changed_ids == ["big"]


def test_api_requires_authentication(client: Any) -> None:
    response = client.get("/api/v1/workflows/")
    assert response.status_code in (401, 403)
    assert "errors" in response.json()


def test_actions_endpoint_lists_builtins_with_schemas(api: Any) -> None:
    names = {a["name"]: a for a in api.get("/api/v1/actions/").json()["results"]}
    assert {"builtin.noop", "builtin.echo", "builtin.sleep", "builtin.fail"} <= set(
        names
    )
    assert names["builtin.sleep"]["params_schema"]["required"] == ["seconds"]


def test_handoff_context_expressions_are_compiled_at_save(api: Any) -> None:
    api.post("/api/v1/workflows/", {"slug": "wf", "name": "WF"}, format="json")
    graph = linear_graph(1)
    graph["nodes"].append(
        {
            "id": "review",
            "type": "handoff",
            "to": {"agent": "triage-bot"},
            "escalate_to": {"group": "leads"},
            "outcomes": ["ok"],
            "sla_s": 60,
            "context": ["input.order", "input.("],
        }
    )
    graph["edges"] = [e for e in graph["edges"] if e["id"] != "e_end"]
    graph["edges"] += [
        {"id": "to_review", "source": "s1", "target": "review"},
        {"id": "from_review", "source": "review", "target": "done", "default": True},
    ]
    response = api.post(
        "/api/v1/workflows/wf/versions/", {"graph": graph}, format="json"
    )
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    assert [(e["code"], e.get("node_id")) for e in errors] == [
        ("bad_expression", "review")
    ]
    graph["nodes"][-1]["context"] = ["input.order"]
    response = api.post(
        "/api/v1/workflows/wf/versions/", {"graph": graph}, format="json"
    )
    assert response.status_code == 201, response.json()


def test_workflow_list_query_count_does_not_grow_with_workflows(
    api: Any, workflow_factory: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(8):
        workflow_factory(linear_graph(1), slug=f"wf-{i}")
    with django_assert_max_num_queries(4):
        response = api.get("/api/v1/workflows/")
    assert response.json()["count"] == 8


def test_run_list_query_count_does_not_grow_with_runs(
    api: Any, workflow_factory: Any, django_assert_max_num_queries: Any
) -> None:
    workflow_factory(linear_graph(1), slug="many")
    for _ in range(10):
        api.post("/api/v1/workflows/many/runs/", {"input": {}}, format="json")
    with django_assert_max_num_queries(4):
        response = api.get("/api/v1/runs/")
    assert response.json()["count"] == 10
    assert response.json()["last_event_id"] > 0
