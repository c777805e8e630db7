"""Tests for workflow graphs: schema, semantic rules, routing, checksum and diff."""

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import engine.expressions
import engine.graph.validate
from engine.expressions import ExpressionError
from engine.graph.compiled import CompiledGraph
from engine.graph.diff import diff_graphs, graph_checksum
from engine.graph.issues import Issue, ValidationResult
from engine.graph.schema import graph_schema
from engine.graph.validate import validate_graph

Graph = dict[str, Any]

ACTIONS: dict[str, dict[str, Any]] = {
    "builtin.noop": {"type": "object", "properties": {}},
    "builtin.echo": {"type": "object"},
    "builtin.http": {
        "type": "object",
        "properties": {
            "method": {"type": "string", "enum": ["GET", "POST", "PUT", "DELETE"]},
            "url": {"type": "string", "pattern": "^https?://"},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "json": {},
            "timeout_s": {"type": "number", "exclusiveMinimum": 0},
        },
        "required": ["method", "url"],
    },
}


def example_graph() -> Graph:
    """Return the DESIGN.md example, wired so that every node is on a path."""
    return {
        "format": 1,
        "defaults": {
            "queue": "default",
            "retry": {
                "max_attempts": 3,
                "initial_interval_s": 1,
                "backoff": 2.0,
                "max_interval_s": 60,
                "jitter": "full",
                "non_retryable": [],
            },
            "timeout_s": 300,
        },
        "max_concurrent_runs": 50,
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "charge",
                "type": "task",
                "label": "Charge card",
                "owner": "payments",
                "action": "builtin.http",
                "params": {
                    "method": "POST",
                    "url": "https://payments.example/charges",
                    "json": "=input.order",
                    "headers": {"X-Run": "=string(run.id)", "X-Note": "==raw"},
                },
                "retry": {"max_attempts": 5},
                "queue": "payments",
                "priority": 7,
                "timeout_s": 30,
                "compensate_with": "refund",
            },
            {
                "id": "refund",
                "type": "task",
                "action": "builtin.http",
                "params": {
                    "method": "POST",
                    "url": "https://payments.example/refunds",
                    "json": "=steps.charge.output",
                },
            },
            {"id": "big", "type": "choice"},
            {
                "id": "review",
                "type": "handoff",
                "to": {"group": "risk"},
                "outcomes": ["approve", "reject"],
                "sla_s": 3600,
                "context": ["input.order", "steps.charge.output"],
            },
            {"id": "fanout", "type": "parallel"},
            {"id": "notify", "type": "task", "action": "builtin.noop"},
            {"id": "wait", "type": "wait", "seconds": 30},
            {"id": "join", "type": "join", "mode": "all"},
            {"id": "done", "type": "end"},
            {"id": "stop", "type": "end", "status": "failed"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "charge"},
            {"id": "e2", "source": "charge", "target": "big"},
            {"id": "e3", "source": "charge", "target": "stop", "on": "failure"},
            {
                "id": "e4",
                "source": "big",
                "target": "review",
                "when": "input.order.amount > 1000",
            },
            {"id": "e5", "source": "big", "target": "fanout", "default": True},
            {
                "id": "e6",
                "source": "review",
                "target": "fanout",
                "when": "outcome == 'approve'",
            },
            {"id": "e7", "source": "review", "target": "stop", "default": True},
            {"id": "e8", "source": "fanout", "target": "notify"},
            {"id": "e9", "source": "fanout", "target": "wait"},
            {"id": "e10", "source": "notify", "target": "join"},
            {"id": "e11", "source": "notify", "target": "stop", "on": "failure"},
            {"id": "e12", "source": "wait", "target": "join"},
            {"id": "e13", "source": "join", "target": "done"},
        ],
        "layout": {"charge": {"x": 120, "y": 40}},
    }


def linear_graph() -> Graph:
    """Return start → work (a task) → done, with a failure route to stop."""
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "work", "type": "task", "action": "builtin.noop"},
            {"id": "done", "type": "end"},
            {"id": "stop", "type": "end", "status": "failed"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "work"},
            {"id": "e2", "source": "work", "target": "done"},
            {"id": "e3", "source": "work", "target": "stop", "on": "failure"},
        ],
    }


def graph_of(nodes: list[dict[str, Any]], edges: list[tuple[str, ...]]) -> Graph:
    """Build a graph from nodes and (id, source, target[, when|default|failure])."""
    built = []
    for edge_id, source, target, *extra in edges:
        edge: dict[str, Any] = {"id": edge_id, "source": source, "target": target}
        for flag in extra:
            if flag == "default":
                edge["default"] = True
            elif flag == "failure":
                edge["on"] = "failure"
            else:
                edge["when"] = flag
        built.append(edge)
    return {"format": 1, "nodes": nodes, "edges": built}


def start() -> dict[str, Any]:
    return {"id": "start", "type": "start"}


def end(node_id: str = "done") -> dict[str, Any]:
    return {"id": node_id, "type": "end"}


def task(node_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "task", "action": "builtin.noop", **fields}


def node(node_id: str, kind: str, **fields: Any) -> dict[str, Any]:
    return {"id": node_id, "type": kind, **fields}


def handoff(node_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "handoff",
        "to": {"group": "ops"},
        "outcomes": ["approve", "reject"],
        "sla_s": 60,
        **fields,
    }


def issues(result: ValidationResult) -> list[tuple[str, str | None, str | None]]:
    return [(i.code, i.node_id, i.edge_id) for i in result.errors]


def validate(graph: Any) -> ValidationResult:
    return validate_graph(graph, actions=ACTIONS)


# -- valid graphs --------------------------------------------------------------------


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(graph_schema())


def test_the_design_example_is_valid() -> None:
    result = validate(example_graph())
    assert result.ok, result.to_dict()
    assert result.errors == []
    assert result.warnings == []
    assert result.to_dict() == {"errors": [], "warnings": []}


def test_a_linear_graph_is_valid() -> None:
    assert validate(linear_graph()).to_dict() == {"errors": [], "warnings": []}


def test_a_bounded_loop_through_a_wait_is_valid() -> None:
    graph = graph_of(
        [
            start(),
            task("poll", max_visits=5),
            node("pause", "wait", seconds=10),
            node("ready", "choice"),
            end(),
        ],
        [
            ("e1", "start", "poll"),
            ("e2", "poll", "pause"),
            ("e3", "pause", "ready"),
            ("e4", "ready", "poll", "steps.poll.output.state != 'ready'"),
            ("e5", "ready", "done", "default"),
        ],
    )
    graph["nodes"][1]["compensate_with"] = "poll2"
    graph["nodes"].append(task("poll2"))
    result = validate(graph)
    assert result.ok, result.to_dict()


def test_a_rework_loop_through_a_handoff_is_valid() -> None:
    graph = graph_of(
        [start(), task("draft", max_visits=3), handoff("check"), end()],
        [
            ("e1", "start", "draft"),
            ("e2", "draft", "check"),
            ("e3", "check", "draft", "outcome == 'reject'"),
            ("e4", "check", "done", "outcome == 'approve'"),
        ],
    )
    assert validate(graph).ok


def test_a_compensation_task_needs_no_edges() -> None:
    graph = linear_graph()
    graph["nodes"][1]["compensate_with"] = "undo"
    graph["nodes"].append(task("undo"))
    assert validate(graph).to_dict() == {"errors": [], "warnings": []}


def test_expression_params_are_not_checked_against_the_action_schema() -> None:
    graph = linear_graph()
    graph["nodes"][1] = task(
        "work",
        action="builtin.http",
        params={
            "method": "=input.method",
            "url": "=input.url",
            "headers": "=input.headers",
            "timeout_s": "=input.timeout",
        },
    )
    assert validate(graph).ok


def test_an_expression_satisfies_any_branch_of_an_any_of() -> None:
    actions = {
        "custom.pick": {
            "type": "object",
            "properties": {"n": {"anyOf": [{"type": "integer"}, {"type": "null"}]}},
            "anyOf": [{"required": ["n"]}, {"required": ["m"]}],
        }
    }
    graph = linear_graph()
    graph["nodes"][1] = task("work", action="custom.pick", params={"n": "=input.n"})
    assert validate_graph(graph, actions=actions).ok
    graph["nodes"][1]["params"] = {"n": "text"}
    result = validate_graph(graph, actions=actions)
    assert [issue.code for issue in result.errors] == ["bad_params"]


def test_escaped_params_are_checked_as_their_literal_value() -> None:
    graph = linear_graph()
    graph["nodes"][1] = task(
        "work",
        action="builtin.http",
        params={"method": "POST", "url": "==https://x.example"},
    )
    result = validate(graph)
    assert ("bad_params", "work", None) in issues(result)
    assert "params.url" in result.errors[0].message


# -- errors --------------------------------------------------------------------------


def _mutate(change: Callable[[Graph], None]) -> Graph:
    graph = linear_graph()
    change(graph)
    return graph


def _add_node(**fields: Any) -> Callable[[Graph], None]:
    return lambda graph: graph["nodes"].append(fields)


def _add_edge(**fields: Any) -> Callable[[Graph], None]:
    return lambda graph: graph["edges"].append(fields)


def _set_node(index: int, **fields: Any) -> Callable[[Graph], None]:
    return lambda graph: graph["nodes"][index].update(fields)


def _drop_start(graph: Graph) -> None:
    graph["nodes"] = graph["nodes"][1:]
    graph["edges"] = graph["edges"][1:]


def _drop_ends(graph: Graph) -> None:
    graph["nodes"] = graph["nodes"][:2]
    graph["edges"] = graph["edges"][:1]


ERROR_CASES: list[tuple[str, Graph, tuple[str, str | None, str | None]]] = [
    (
        "schema",
        _mutate(_set_node(1, type="robot")),
        ("schema", "work", None),
    ),
    (
        "schema_edge",
        _mutate(lambda g: g["edges"][0].update(colour="red")),
        ("schema", None, "e1"),
    ),
    (
        "duplicate_node",
        _mutate(_add_node(id="work", type="end")),
        ("duplicate_id", "work", None),
    ),
    (
        "duplicate_edge",
        _mutate(_add_edge(id="e2", source="start", target="done")),
        ("duplicate_id", None, "e2"),
    ),
    ("no_start", _mutate(_drop_start), ("no_start", None, None)),
    (
        "multiple_starts",
        _mutate(_add_node(id="again", type="start")),
        ("multiple_starts", "again", None),
    ),
    ("no_end", _mutate(_drop_ends), ("no_end", None, None)),
    (
        "dangling_edge",
        _mutate(_add_edge(id="e9", source="work", target="ghost", on="failure")),
        ("dangling_edge", None, "e9"),
    ),
    (
        "start_incoming",
        _mutate(_add_edge(id="e9", source="stop", target="start")),
        ("start_incoming", "start", "e9"),
    ),
    (
        "end_outgoing",
        _mutate(_add_edge(id="e9", source="stop", target="done")),
        ("end_outgoing", "stop", "e9"),
    ),
    (
        "unreachable",
        _mutate(_add_node(id="island", type="end")),
        ("unreachable", "island", None),
    ),
    (
        "dead_end",
        graph_of(
            [start(), node("pick", "choice"), node("limbo", "wait", seconds=1), end()],
            [
                ("e1", "start", "pick"),
                ("e2", "pick", "limbo", "input.go"),
                ("e3", "pick", "done", "default"),
            ],
        ),
        ("dead_end", "limbo", None),
    ),
    (
        "choice_without_default",
        graph_of(
            [start(), node("pick", "choice"), end(), end("other")],
            [
                ("e1", "start", "pick"),
                ("e2", "pick", "done", "input.a"),
                ("e3", "pick", "other", "input.b"),
            ],
        ),
        ("choice_default", "pick", None),
    ),
    (
        "choice_with_two_defaults",
        graph_of(
            [start(), node("pick", "choice"), end(), end("other")],
            [
                ("e1", "start", "pick"),
                ("e2", "pick", "done", "default"),
                ("e3", "pick", "other", "default"),
            ],
        ),
        ("choice_default", "pick", None),
    ),
    (
        "choice_condition",
        graph_of(
            [start(), node("pick", "choice"), end(), end("other")],
            [
                ("e1", "start", "pick"),
                ("e2", "pick", "done", "default"),
                ("e3", "pick", "other"),
            ],
        ),
        ("choice_condition", None, "e3"),
    ),
    (
        "choice_default_with_condition",
        graph_of(
            [start(), node("pick", "choice"), end()],
            [("e1", "start", "pick"), ("e2", "pick", "done", "default", "input.a")],
        ),
        ("choice_condition", None, "e2"),
    ),
    (
        "when_not_allowed",
        _mutate(lambda g: g["edges"][0].update(when="input.go")),
        ("when_not_allowed", None, "e1"),
    ),
    (
        "default_not_allowed",
        _mutate(lambda g: g["edges"][0].update(default=True)),
        ("default_not_allowed", None, "e1"),
    ),
    (
        "task_edges_two_normal",
        _mutate(_add_edge(id="e9", source="work", target="stop")),
        ("task_edges", "work", None),
    ),
    (
        "task_edges_two_failure",
        _mutate(_add_edge(id="e9", source="work", target="done", on="failure")),
        ("task_edges", "work", None),
    ),
    (
        "task_edges_none",
        _mutate(lambda g: g["edges"].pop(1)),
        ("task_edges", "work", None),
    ),
    (
        "failure_edge_source",
        _mutate(lambda g: g["edges"][0].update(on="failure")),
        ("failure_edge_source", None, "e1"),
    ),
    (
        "bad_expression_edge",
        graph_of(
            [start(), node("pick", "choice"), end(), end("other")],
            [
                ("e1", "start", "pick"),
                ("e2", "pick", "done", "input.amount >"),
                ("e3", "pick", "other", "default"),
            ],
        ),
        ("bad_expression", None, "e2"),
    ),
    (
        "bad_expression_unknown_name",
        graph_of(
            [start(), node("pick", "choice"), end(), end("other")],
            [
                ("e1", "start", "pick"),
                ("e2", "pick", "done", "inptu.amount > 1"),
                ("e3", "pick", "other", "default"),
            ],
        ),
        ("bad_expression", None, "e2"),
    ),
    (
        "bad_expression_param",
        _mutate(_set_node(1, action="builtin.echo", params={"x": ["=input.a +"]})),
        ("bad_expression", "work", None),
    ),
    (
        "unknown_action",
        _mutate(_set_node(1, action="builtin.teleport")),
        ("unknown_action", "work", None),
    ),
    (
        "bad_params",
        _mutate(_set_node(1, action="builtin.http", params={"method": "POST"})),
        ("bad_params", "work", None),
    ),
    (
        "bad_compensation_missing",
        _mutate(_set_node(1, compensate_with="ghost")),
        ("bad_compensation", "work", None),
    ),
    (
        "bad_compensation_self",
        _mutate(_set_node(1, compensate_with="work")),
        ("bad_compensation", "work", None),
    ),
    (
        "bad_compensation_not_a_task",
        _mutate(_set_node(1, compensate_with="done")),
        ("bad_compensation", "work", None),
    ),
    (
        "cycle_without_wait",
        graph_of(
            [start(), task("again", max_visits=3), node("more", "choice"), end()],
            [
                ("e1", "start", "again"),
                ("e2", "again", "more"),
                ("e3", "more", "again", "input.more"),
                ("e4", "more", "done", "default"),
            ],
        ),
        ("cycle", "again", "e3"),
    ),
    (
        "cycle_without_max_visits",
        graph_of(
            [start(), node("pause", "wait", seconds=1), node("more", "choice"), end()],
            [
                ("e1", "start", "pause"),
                ("e2", "pause", "more"),
                ("e3", "more", "pause", "input.more"),
                ("e4", "more", "done", "default"),
            ],
        ),
        ("cycle", "pause", "e3"),
    ),
    (
        "cycle_without_condition",
        graph_of(
            [
                start(),
                node("pause", "wait", seconds=1, max_visits=3),
                node("more", "choice"),
                end(),
            ],
            [
                ("e1", "start", "pause"),
                ("e2", "pause", "more"),
                ("e3", "more", "pause", "default"),
                ("e4", "more", "done", "input.done"),
            ],
        ),
        ("cycle", "pause", "e3"),
    ),
    (
        "cycle_self_loop",
        graph_of(
            [start(), task("spin"), end()],
            [("e1", "start", "spin"), ("e2", "spin", "spin"), ("e3", "spin", "done")],
        ),
        ("cycle", "spin", "e2"),
    ),
    (
        "join_without_parallel",
        graph_of(
            [start(), node("merge", "join"), end()],
            [("e1", "start", "merge"), ("e2", "merge", "done")],
        ),
        ("join_without_parallel", "merge", None),
    ),
    (
        "parallel_edges",
        graph_of(
            [start(), node("split", "parallel"), node("merge", "join"), end()],
            [
                ("e1", "start", "split"),
                ("e2", "split", "merge"),
                ("e3", "merge", "done"),
            ],
        ),
        ("parallel_edges", "split", None),
    ),
    (
        "outcome_unknown",
        graph_of(
            [start(), handoff("ask"), end()],
            [
                ("e1", "start", "ask"),
                ("e2", "ask", "done", "outcome == 'maybe'"),
                ("e3", "ask", "done", "default"),
            ],
        ),
        ("outcome_unknown", None, "e2"),
    ),
    (
        "outcome_unknown_in_list",
        graph_of(
            [start(), handoff("ask"), end()],
            [
                ("e1", "start", "ask"),
                ("e2", "ask", "done", "outcome in ['approve', \"later\"]"),
                ("e3", "ask", "done", "default"),
            ],
        ),
        ("outcome_unknown", None, "e2"),
    ),
    (
        "handoff_default_missing",
        graph_of(
            [start(), handoff("ask"), end()],
            [("e1", "start", "ask"), ("e2", "ask", "done")],
        ),
        ("handoff_default", "ask", None),
    ),
    (
        "handoff_two_defaults",
        graph_of(
            [start(), handoff("ask"), end(), end("other")],
            [
                ("e1", "start", "ask"),
                ("e2", "ask", "done", "default"),
                ("e3", "ask", "other", "default"),
            ],
        ),
        ("handoff_default", "ask", None),
    ),
]


@pytest.mark.parametrize(
    ("graph", "expected"),
    [pytest.param(graph, expected, id=name) for name, graph, expected in ERROR_CASES],
)
def test_reports_each_rule_with_its_code_and_ids(
    graph: Graph, expected: tuple[str, str | None, str | None]
) -> None:
    result = validate(graph)
    assert not result.ok
    assert expected in issues(result), result.to_dict()
    for issue in result.errors:
        assert issue.message
        assert issue.message[0] != " "


def test_every_error_code_is_covered() -> None:
    covered = {expected[0] for _, _, expected in ERROR_CASES}
    documented = {
        "schema",
        "duplicate_id",
        "no_start",
        "multiple_starts",
        "no_end",
        "dangling_edge",
        "start_incoming",
        "end_outgoing",
        "unreachable",
        "dead_end",
        "choice_default",
        "choice_condition",
        "when_not_allowed",
        "default_not_allowed",
        "task_edges",
        "failure_edge_source",
        "bad_expression",
        "unknown_action",
        "bad_params",
        "bad_compensation",
        "cycle",
        "join_without_parallel",
        "parallel_edges",
        "outcome_unknown",
        "handoff_default",
    }
    assert covered == documented


def test_collects_every_error_not_just_the_first() -> None:
    graph = linear_graph()
    graph["nodes"][1]["action"] = "builtin.teleport"
    graph["nodes"].append({"id": "island", "type": "end"})
    graph["edges"].append({"id": "e9", "source": "work", "target": "ghost"})
    codes = {issue.code for issue in validate(graph).errors}
    assert {"unknown_action", "unreachable", "dangling_edge"} <= codes


def test_schema_errors_name_the_json_path_and_stop_validation() -> None:
    graph = linear_graph()
    graph["nodes"][1]["retry"] = {"max_attempts": 0}
    graph["nodes"][1]["status"] = "failed"
    graph["nodes"].append({"id": "island", "type": "end"})  # would be unreachable
    result = validate(graph)
    messages = [issue.message for issue in result.errors]
    assert {issue.code for issue in result.errors} == {"schema"}
    assert any(m.startswith("nodes[1].retry.max_attempts:") for m in messages)
    assert "nodes[1]: field 'status' is not allowed on a task node" in messages
    assert all(issue.node_id == "work" for issue in result.errors)


@pytest.mark.parametrize("graph", [None, [], "graph", 3, {}, {"format": 2}])
def test_a_graph_of_the_wrong_shape_is_a_schema_error(graph: Any) -> None:
    result = validate(graph)
    assert result.errors
    assert {issue.code for issue in result.errors} == {"schema"}


def test_the_cycle_message_names_the_loop_and_what_it_lacks() -> None:
    graph = next(g for name, g, _ in ERROR_CASES if name == "cycle_without_wait")
    (issue,) = [i for i in validate(graph).errors if i.code == "cycle"]
    assert "again → more → again" in issue.message
    assert "wait, receive or handoff" in issue.message
    assert "max_visits" not in issue.message


def test_bad_expression_messages_include_the_compiler_message() -> None:
    graph = next(g for name, g, _ in ERROR_CASES if name == "bad_expression_param")
    (issue,) = [i for i in validate(graph).errors if i.code == "bad_expression"]
    assert "param x[0]" in issue.message
    assert "syntax error" in issue.message


def test_an_invalid_action_schema_is_reported_not_raised() -> None:
    result = validate_graph(linear_graph(), actions={"builtin.noop": {"type": 12}})
    assert ("bad_params", "work", None) in issues(result)


# -- warnings ------------------------------------------------------------------------


def test_warns_about_tasks_without_failure_handling_and_handoffs_without_sla() -> None:
    graph = graph_of(
        [start(), task("work"), handoff("ask"), end()],
        [
            ("e1", "start", "work"),
            ("e2", "work", "ask"),
            ("e3", "ask", "done", "default"),
        ],
    )
    del graph["nodes"][2]["sla_s"]
    result = validate(graph)
    assert result.ok
    assert [(w.code, w.node_id) for w in result.warnings] == [
        ("no_failure_handling", "work"),
        ("handoff_no_sla", "ask"),
    ]
    assert result.to_dict()["warnings"][0] == {
        "code": "no_failure_handling",
        "message": result.warnings[0].message,
        "node_id": "work",
    }


def test_issue_to_dict_drops_unset_ids() -> None:
    assert Issue("no_start", "x").to_dict() == {"code": "no_start", "message": "x"}
    assert Issue("cycle", "x", node_id="a", edge_id="e").to_dict() == {
        "code": "cycle",
        "message": "x",
        "node_id": "a",
        "edge_id": "e",
    }


# -- compiled graphs and routing -----------------------------------------------------


def run_context(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "input": {"order": {"id": "o-1", "amount": 1500}},
        "steps": {"charge": {"output": {"status": "ok"}}},
        "outcome": None,
        "run": {"id": 42},
        "attempt": 1,
    }
    return {**base, **overrides}


def test_compiled_graph_indexes_nodes_and_edges() -> None:
    graph = CompiledGraph(example_graph())
    assert graph.start_id == "start"
    assert graph.node("charge")["label"] == "Charge card"
    assert [e["id"] for e in graph.outgoing("charge")] == ["e2", "e3"]
    assert [e["id"] for e in graph.normal_outgoing("charge")] == ["e2"]
    assert [e["id"] for e in graph.failure_outgoing("charge")] == ["e3"]
    assert [e["id"] for e in graph.incoming("stop")] == ["e3", "e7", "e11"]
    assert graph.outgoing("refund") == []
    assert graph.defaults["queue"] == "default"
    assert set(graph.edges) == {f"e{n}" for n in range(1, 14)}


def test_compiled_graph_settings_fall_back_to_defaults() -> None:
    graph = CompiledGraph(example_graph())
    assert graph.queue("charge") == "payments"
    assert graph.queue("notify") == "default"
    assert graph.priority("charge") == 7
    assert graph.priority("notify") == 5
    assert graph.retry_policy("charge").max_attempts == 5
    assert graph.retry_policy("charge").timeout_s == 30
    assert graph.retry_policy("notify").max_attempts == 3
    assert graph.retry_policy("notify").timeout_s == 300
    assert graph.max_visits("charge") is None
    bare = CompiledGraph(linear_graph())
    assert bare.queue("work") == "default"
    assert bare.retry_policy("work").timeout_s == 300


@pytest.mark.parametrize(
    ("amount", "taken"), [(1500, ["e4"]), (1000, ["e5"]), (12.5, ["e5"])]
)
def test_a_choice_takes_its_true_edge_or_else_the_default(
    amount: float, taken: list[str]
) -> None:
    graph = CompiledGraph(example_graph())
    context = run_context(input={"order": {"amount": amount}})
    assert graph.route("big", succeeded=True, context=context) == taken


def test_a_choice_takes_the_first_true_edge_in_document_order() -> None:
    graph = CompiledGraph(
        graph_of(
            [start(), node("pick", "choice"), end("a"), end("b"), end("c")],
            [
                ("e1", "start", "pick"),
                ("e2", "pick", "c", "default"),
                ("e3", "pick", "a", "input.n > 1"),
                ("e4", "pick", "b", "input.n > 0"),
            ],
        )
    )
    route = graph.route
    assert route("pick", succeeded=True, context=run_context(input={"n": 5})) == ["e3"]
    assert route("pick", succeeded=True, context=run_context(input={"n": 1})) == ["e4"]
    assert route("pick", succeeded=True, context=run_context(input={"n": 0})) == ["e2"]


def test_a_condition_that_is_not_boolean_raises_expression_error() -> None:
    graph = CompiledGraph(
        graph_of(
            [start(), node("pick", "choice"), end()],
            [
                ("e1", "start", "pick"),
                ("e2", "pick", "done", "input.n"),
                ("e3", "pick", "done", "default"),
            ],
        )
    )
    with pytest.raises(ExpressionError, match="true or false"):
        graph.route("pick", succeeded=True, context=run_context(input={"n": 1}))
    with pytest.raises(ExpressionError, match="no such member"):
        graph.route("pick", succeeded=True, context=run_context(input={}))


@pytest.mark.parametrize(
    ("outcome", "taken"), [("approve", ["e6"]), ("reject", ["e7"]), (None, ["e7"])]
)
def test_a_handoff_routes_on_its_outcome(outcome: str | None, taken: list[str]) -> None:
    graph = CompiledGraph(example_graph())
    context = run_context(outcome=outcome)
    assert graph.route("review", succeeded=True, context=context) == taken


def test_a_handoff_without_a_matching_edge_or_default_takes_nothing() -> None:
    graph = CompiledGraph(
        graph_of(
            [start(), handoff("ask"), end()],
            [("e1", "start", "ask"), ("e2", "ask", "done", "outcome == 'approve'")],
        )
    )
    context = run_context(outcome="reject")
    assert graph.route("ask", succeeded=True, context=context) == []


def test_other_nodes_take_every_normal_edge() -> None:
    graph = CompiledGraph(example_graph())
    context = run_context()
    assert graph.route("start", succeeded=True, context=context) == ["e1"]
    assert graph.route("charge", succeeded=True, context=context) == ["e2"]
    assert graph.route("fanout", succeeded=True, context=context) == ["e8", "e9"]
    assert graph.route("wait", succeeded=True, context=context) == ["e12"]
    assert graph.route("join", succeeded=True, context=context) == ["e13"]
    assert graph.route("done", succeeded=True, context=context) == []


def test_a_failed_task_takes_its_failure_edge_if_it_has_one() -> None:
    graph = CompiledGraph(example_graph())
    context = run_context()
    assert graph.route("charge", succeeded=False, context=context) == ["e3"]
    assert graph.route("refund", succeeded=False, context=context) == []
    bare = CompiledGraph(
        graph_of(
            [start(), task("work"), end()],
            [("e1", "start", "work"), ("e2", "work", "done")],
        )
    )
    assert bare.route("work", succeeded=False, context=context) == []


def test_params_evaluate_expressions_in_the_run_context() -> None:
    graph = CompiledGraph(example_graph())
    assert graph.params("charge", run_context()) == {
        "method": "POST",
        "url": "https://payments.example/charges",
        "json": {"id": "o-1", "amount": 1500},
        "headers": {"X-Run": "42", "X-Note": "=raw"},
    }
    assert graph.params("notify", run_context()) == {}


def test_routing_and_params_never_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    graph = CompiledGraph(example_graph())

    def refuse(source: str) -> None:
        raise AssertionError(f"compiled {source!r} on the hot path")

    monkeypatch.setattr(engine.graph.validate, "compile_expression", refuse)
    monkeypatch.setattr(engine.expressions, "compile_expression", refuse)
    context = run_context(outcome="approve")
    assert graph.route("big", succeeded=True, context=context) == ["e4"]
    assert graph.route("review", succeeded=True, context=context) == ["e6"]
    assert graph.params("charge", context)["json"]["amount"] == 1500


def test_compiling_a_graph_with_a_bad_expression_raises() -> None:
    graph = example_graph()
    graph["edges"][3]["when"] = "input.order.amount >"
    with pytest.raises(ExpressionError):
        CompiledGraph(graph)


# -- checksum and diff ---------------------------------------------------------------


def test_checksum_ignores_layout_and_key_order() -> None:
    graph = example_graph()
    moved = copy.deepcopy(graph)
    moved["layout"] = {"charge": {"x": 999, "y": -5}, "done": {"x": 1, "y": 2}}
    reordered = dict(reversed(list(graph.items())))
    without_layout = {k: v for k, v in graph.items() if k != "layout"}
    checksum = graph_checksum(graph)
    assert len(checksum) == 64
    assert graph_checksum(moved) == checksum
    assert graph_checksum(reordered) == checksum
    assert graph_checksum(without_layout) == checksum


def test_checksum_changes_with_the_workflow() -> None:
    graph = example_graph()
    changed = copy.deepcopy(graph)
    changed["nodes"][1]["retry"]["max_attempts"] = 6
    assert graph_checksum(changed) != graph_checksum(graph)


def test_diff_lists_added_removed_and_changed_nodes_and_edges() -> None:
    old = example_graph()
    new = copy.deepcopy(old)
    new["nodes"] = [n for n in new["nodes"] if n["id"] != "wait"]
    new["nodes"].append(task("audit"))
    new["nodes"][1]["retry"] = {"max_attempts": 9}
    del new["nodes"][1]["owner"]
    new["edges"] = [e for e in new["edges"] if e["id"] not in ("e9", "e12")]
    new["edges"].append({"id": "e20", "source": "fanout", "target": "audit"})
    new["edges"][3]["when"] = "input.order.amount > 5000"
    new["max_concurrent_runs"] = 10
    new["defaults"]["queue"] = "bulk"
    new["layout"] = {"audit": {"x": 1, "y": 1}}
    assert diff_graphs(old, new) == {
        "nodes": {
            "added": ["audit"],
            "removed": ["wait"],
            "changed": [
                {
                    "id": "charge",
                    "fields": {
                        "owner": {"old": "payments", "new": None},
                        "retry": {
                            "old": {"max_attempts": 5},
                            "new": {"max_attempts": 9},
                        },
                    },
                }
            ],
        },
        "edges": {
            "added": ["e20"],
            "removed": ["e9", "e12"],
            "changed": [
                {
                    "id": "e4",
                    "fields": {
                        "when": {
                            "old": "input.order.amount > 1000",
                            "new": "input.order.amount > 5000",
                        }
                    },
                }
            ],
        },
        "settings": {
            "max_concurrent_runs": {"old": 50, "new": 10},
            "defaults.queue": {"old": "default", "new": "bulk"},
        },
    }


def test_diff_of_identical_graphs_is_empty_even_if_boxes_moved() -> None:
    old = example_graph()
    new = copy.deepcopy(old)
    new["layout"] = {}
    empty: dict[str, list[Any]] = {"added": [], "removed": [], "changed": []}
    assert diff_graphs(old, new) == {"nodes": empty, "edges": empty, "settings": {}}


# -- properties ----------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=10)
    | st.sampled_from(["start", "end", "task", "choice", "=input.x", "id", "nodes"]),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                ["format", "nodes", "edges", "id", "type", "source", "target", "when"]
            )
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_validation_never_raises_on_arbitrary_json(graph: Any) -> None:
    result = validate(graph)
    assert isinstance(result, ValidationResult)
    if isinstance(graph, dict) and not result.ok:
        assert all(isinstance(issue.message, str) for issue in result.errors)


NODE_FIELDS: dict[str, dict[str, Any]] = {
    "start": {},
    "end": {"status": "failed"},
    "task": {"action": "builtin.noop", "max_visits": 2},
    "choice": {},
    "parallel": {},
    "join": {"mode": "any"},
    "handoff": {"to": {"user": "ann"}, "outcomes": ["ok", "no"]},
    "wait": {"seconds": 1},
}


@st.composite
def random_graphs(draw: st.DrawFn) -> Graph:
    """Draw schema-valid graphs with random wiring, to exercise every rule."""
    count = draw(st.integers(min_value=1, max_value=8))
    kinds = draw(
        st.lists(st.sampled_from(sorted(NODE_FIELDS)), min_size=count, max_size=count)
    )
    nodes = [
        {"id": f"n{i}", "type": kind, **NODE_FIELDS[kind]}
        for i, kind in enumerate(kinds)
    ]
    ids = [n["id"] for n in nodes] + ["ghost"]
    edges = []
    for index in range(draw(st.integers(min_value=0, max_value=14))):
        edge: dict[str, Any] = {
            "id": f"e{index}",
            "source": draw(st.sampled_from(ids)),
            "target": draw(st.sampled_from(ids)),
        }
        flavour = draw(st.sampled_from(["plain", "when", "default", "failure", "bad"]))
        if flavour == "when":
            edge["when"] = draw(
                st.sampled_from(["outcome == 'ok'", "outcome == 'x'", "input.n > 1"])
            )
        elif flavour == "default":
            edge["default"] = True
        elif flavour == "failure":
            edge["on"] = "failure"
        elif flavour == "bad":
            edge["when"] = "input.n >"
        edges.append(edge)
    return {"format": 1, "nodes": nodes, "edges": edges}


def _check_compiles_and_routes(graph: Graph) -> None:
    compiled = CompiledGraph(graph)
    for node_id in compiled.nodes:
        for succeeded in (True, False):
            for outcome in ("ok", "no"):
                context = run_context(outcome=outcome, input={"n": 2})
                taken = compiled.route(node_id, succeeded=succeeded, context=context)
                assert set(taken) <= set(compiled.edges)
        compiled.params(node_id, run_context())


@settings(max_examples=300, deadline=None)
@given(random_graphs())
def test_validation_never_raises_on_randomly_wired_graphs(graph: Graph) -> None:
    result = validate(graph)
    if result.ok:
        _check_compiles_and_routes(graph)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_validation_never_raises_on_mutated_valid_graphs(data: st.DataObject) -> None:
    graph = example_graph()
    for key in ("nodes", "edges"):
        items = graph[key]
        keep = data.draw(
            st.lists(st.booleans(), min_size=len(items), max_size=len(items))
        )
        graph[key] = [item for item, kept in zip(items, keep, strict=True) if kept]
    for item in graph["nodes"] + graph["edges"]:
        for name in sorted(item):
            if data.draw(st.integers(min_value=0, max_value=9)) == 0:
                del item[name]
    for name in ("defaults", "layout", "max_concurrent_runs", "format"):
        if data.draw(st.integers(min_value=0, max_value=9)) == 0:
            graph.pop(name, None)
    result = validate(graph)
    assert isinstance(result, ValidationResult)
    if result.ok:
        _check_compiles_and_routes(graph)


# -- bounds on durations and counts -------------------------------------------------


def _node(graph: Graph, node_id: str) -> dict[str, Any]:
    return next(node for node in graph["nodes"] if node["id"] == node_id)


# {field: (the node its error names, how to set it)}
DURATION_FIELDS: dict[str, tuple[str, Callable[[Graph, float], None]]] = {
    "wait seconds": ("wait", lambda g, v: _node(g, "wait").update(seconds=v)),
    "handoff sla_s": ("review", lambda g, v: _node(g, "review").update(sla_s=v)),
    "retry initial_interval_s": (
        "charge",
        lambda g, v: _node(g, "charge")["retry"].update(initial_interval_s=v),
    ),
    "retry max_interval_s": (
        "charge",
        lambda g, v: _node(g, "charge")["retry"].update(max_interval_s=v),
    ),
    "retry backoff": (
        "charge",
        lambda g, v: _node(g, "charge")["retry"].update(backoff=v),
    ),
    "timeout_s": ("charge", lambda g, v: _node(g, "charge").update(timeout_s=v)),
    "layout x": ("charge", lambda g, v: g["layout"]["charge"].update(x=v)),
    "layout y": ("charge", lambda g, v: g["layout"]["charge"].update(y=-v)),
}


@pytest.mark.parametrize("huge", [1e12, 1e308])
@pytest.mark.parametrize("field", list(DURATION_FIELDS))
def test_a_huge_duration_is_a_schema_error_naming_its_node(
    field: str, huge: float
) -> None:
    node_id, change = DURATION_FIELDS[field]
    graph = example_graph()
    change(graph, huge)
    result = validate(graph)
    assert [(i.code, i.node_id) for i in result.errors] == [("schema", node_id)]
    assert "imum of" in result.errors[0].message  # "maximum of", or "minimum of"


@pytest.mark.parametrize(
    "change",
    [
        lambda g: g["defaults"]["retry"].update(initial_interval_s=1e308),
        lambda g: g["defaults"]["retry"].update(max_interval_s=1e12),
        lambda g: g["defaults"]["retry"].update(backoff=101),
        lambda g: g.update(max_concurrent_runs=100_001),
    ],
)
def test_huge_graph_wide_settings_are_schema_errors(
    change: Callable[[Graph], None],
) -> None:
    graph = example_graph()
    change(graph)
    result = validate(graph)
    assert [i.code for i in result.errors] == ["schema"]
    assert "maximum" in result.errors[0].message


def test_the_largest_allowed_values_are_valid() -> None:
    from engine.graph.schema import (
        MAX_BACKOFF,
        MAX_CONCURRENT_RUNS,
        MAX_DURATION_S,
        MAX_LAYOUT_COORDINATE,
    )

    graph = example_graph()
    _node(graph, "wait")["seconds"] = MAX_DURATION_S
    _node(graph, "review")["sla_s"] = MAX_DURATION_S
    graph["defaults"]["retry"].update(
        initial_interval_s=MAX_DURATION_S,
        max_interval_s=MAX_DURATION_S,
        backoff=MAX_BACKOFF,
    )
    graph["max_concurrent_runs"] = MAX_CONCURRENT_RUNS
    graph["layout"]["charge"] = {
        "x": MAX_LAYOUT_COORDINATE,
        "y": -MAX_LAYOUT_COORDINATE,
    }
    assert validate(graph).errors == []
