"""Validate, compile, route, checksum and diff workflow graphs in format v1."""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError
from jsonschema.validators import validator_for

from engine.expressions import (
    Expression,
    ExpressionError,
    compile_expression,
    evaluate_params,
    is_expression,
    param_expressions,
)
from engine.retry import JITTERS, MAX_DELAY_S, RetryPolicy

FORMAT = 1
# Size limits (defaults; Django settings SWITCHYARD_MAX_GRAPH_* pass their own).
MAX_NODES = 2000
MAX_EDGES = 5000
MAX_GRAPH_BYTES = 2 * 1024 * 1024
MAX_SCHEMA_ERRORS = 100
DEFAULT_QUEUE = "default"
DEFAULT_PRIORITY = 5
NODE_ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"
# Looser than node ids: editors generate edge ids like "xy-edge__a-b".
EDGE_ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$"
QUEUE_PATTERN = r"^[a-z0-9_.-]{1,64}$"
# Upper bounds on every duration and count a graph gives, so date arithmetic never
# overflows and no timer outlives a year (the client checks the same).
MAX_DURATION_S = int(MAX_DELAY_S)
MAX_BACKOFF = 100
MAX_CONCURRENT_RUNS = 100_000
MAX_LAYOUT_COORDINATE = 10_000_000
NODE_TYPES: tuple[str, ...] = (
    "start",
    "end",
    "task",
    "choice",
    "parallel",
    "join",
    "handoff",
    "wait",
)
# Node types whose outgoing edges may carry a `when` condition.
ROUTING_TYPES = frozenset({"choice", "handoff"})
# A loop must pass one of these, so it waits for time or a person between rounds.
LOOP_BREAKING_TYPES = frozenset({"wait", "handoff"})

_COMMON_FIELDS = ("id", "type", "label", "description", "owner", "max_visits")
_TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    "start": (),
    "end": ("status",),
    "task": (
        "action",
        "params",
        "retry",
        "queue",
        "priority",
        "timeout_s",
        "compensate_with",
        "side_effects_reason",
    ),
    "choice": (),
    "parallel": (),
    "join": ("mode",),
    "handoff": ("to", "outcomes", "sla_s", "context", "instructions", "escalate_to"),
    "wait": ("seconds",),
}
_TYPE_REQUIRED: dict[str, tuple[str, ...]] = {
    "task": ("action",),
    "handoff": ("to", "outcomes"),
    "wait": ("seconds",),
}


def _assignee(kind: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [kind],
        "additionalProperties": False,
        "properties": {kind: {"type": "string", "minLength": 1, "maxLength": 150}},
    }


# Who a handoff goes to, always by name: a group (any member claims), a user (by
# username; never by id, so "7" cannot mean both), or an agent (a service account,
# by username, that completes it through the API with its token).
ASSIGNEE_SCHEMA: dict[str, Any] = {
    "oneOf": [_assignee("group"), _assignee("user"), _assignee("agent")]
}

_RETRY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "max_attempts": {"type": "integer", "minimum": 1, "maximum": 100},
        "initial_interval_s": {
            "type": "number",
            "minimum": 0,
            "maximum": MAX_DURATION_S,
        },
        "backoff": {"type": "number", "minimum": 1, "maximum": MAX_BACKOFF},
        "max_interval_s": {"type": "number", "minimum": 0, "maximum": MAX_DURATION_S},
        "jitter": {"enum": list(JITTERS)},
        "non_retryable": {
            "type": "array",
            "maxItems": 100,
            "items": {"type": "string", "minLength": 1, "maxLength": 200},
        },
    },
}
_TIMEOUT_SCHEMA: dict[str, Any] = {
    "type": "number",
    "exclusiveMinimum": 0,
    "maximum": 86400,
}
_COORDINATE_SCHEMA: dict[str, Any] = {
    "type": "number",
    "minimum": -MAX_LAYOUT_COORDINATE,
    "maximum": MAX_LAYOUT_COORDINATE,
}
_NODE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "type"],
    "properties": {
        "id": {"type": "string", "pattern": NODE_ID_PATTERN},
        "type": {"enum": list(NODE_TYPES)},
        "label": {"type": "string", "maxLength": 200},
        "description": {"type": "string", "maxLength": 5000},
        "owner": {"type": "string", "maxLength": 200},
        "max_visits": {"type": "integer", "minimum": 1, "maximum": 1000},
        # end
        "status": {"enum": ["succeeded", "failed"]},
        # task
        "action": {"type": "string", "minLength": 1, "maxLength": 200},
        "params": {"type": "object"},
        "retry": {"$ref": "#/$defs/retry"},
        "queue": {"type": "string", "pattern": QUEUE_PATTERN},
        "priority": {"type": "integer", "minimum": 0, "maximum": 9},
        "timeout_s": {"$ref": "#/$defs/timeout"},
        "compensate_with": {"type": "string", "pattern": NODE_ID_PATTERN},
        # Why a task with side effects needs no compensation (silences the lint).
        "side_effects_reason": {"type": "string", "minLength": 1, "maxLength": 500},
        # join
        "mode": {"enum": ["all", "any"]},
        # handoff
        "to": {"$ref": "#/$defs/assignee"},
        "escalate_to": {"$ref": "#/$defs/assignee"},
        "outcomes": {
            "type": "array",
            "minItems": 1,
            "maxItems": 50,
            "uniqueItems": True,
            "items": {"type": "string", "minLength": 1, "maxLength": 100},
        },
        "sla_s": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_DURATION_S},
        "context": {
            "type": "array",
            "maxItems": 50,
            "items": {"type": "string", "minLength": 1, "maxLength": 500},
        },
        "instructions": {"type": "string", "maxLength": 10000},
        # wait
        "seconds": {"type": "number", "minimum": 0, "maximum": MAX_DURATION_S},
    },
    # Each type allows the common fields plus its own and requires its essentials.
    "allOf": [
        {
            "if": {"required": ["type"], "properties": {"type": {"const": kind}}},
            "then": {
                "required": list(_TYPE_REQUIRED.get(kind, ())),
                "propertyNames": {"enum": [*_COMMON_FIELDS, *_TYPE_FIELDS[kind]]},
            },
        }
        for kind in NODE_TYPES
    ],
}
_EDGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "source", "target"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": EDGE_ID_PATTERN},
        "source": {"type": "string", "minLength": 1, "maxLength": 200},
        "target": {"type": "string", "minLength": 1, "maxLength": 200},
        "when": {"type": "string", "maxLength": 5000},
        "default": {"type": "boolean"},
        "on": {"enum": ["failure"]},
        "label": {"type": "string", "maxLength": 200},
    },
}

GRAPH_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Switchyard workflow graph, format v1",
    "type": "object",
    "required": ["format", "nodes", "edges"],
    "additionalProperties": False,
    "properties": {
        "format": {"const": FORMAT},
        "defaults": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "queue": {"type": "string", "pattern": QUEUE_PATTERN},
                "retry": {"$ref": "#/$defs/retry"},
                "timeout_s": {"$ref": "#/$defs/timeout"},
            },
        },
        "max_concurrent_runs": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_CONCURRENT_RUNS,
        },
        # How many: GraphLimits, checked before the schema.
        "nodes": {"type": "array", "items": {"$ref": "#/$defs/node"}},
        "edges": {"type": "array", "items": {"$ref": "#/$defs/edge"}},
        # {node_id: {"x": 120, "y": 40}}: editor positions, ignored by the engine.
        "layout": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["x", "y"],
                "properties": {"x": _COORDINATE_SCHEMA, "y": _COORDINATE_SCHEMA},
            },
        },
    },
    "$defs": {
        "node": _NODE_SCHEMA,
        "edge": _EDGE_SCHEMA,
        "retry": _RETRY_SCHEMA,
        "timeout": _TIMEOUT_SCHEMA,
        "assignee": ASSIGNEE_SCHEMA,
    },
}

_GRAPH_VALIDATOR = Draft202012Validator(GRAPH_SCHEMA)
_FAST_GRAPH_CHECK: Callable[[Any], Any] | None = None


def _shape_ok(graph: Any) -> bool:
    """Say quickly whether a graph matches the schema (the common case on save).

    fastjsonschema compiles the schema to Python once: about 15x faster than
    jsonschema on a 500-node graph. It only answers yes or no; on no, jsonschema
    reports every error with its path. The schema uses no keyword whose meaning
    differs between its draft (2020-12) and fastjsonschema's (07): no $ref siblings,
    no format assertions; tests/engine/test_graph_fast_schema.py checks they agree.
    """
    global _FAST_GRAPH_CHECK
    if _FAST_GRAPH_CHECK is None:
        _FAST_GRAPH_CHECK = fastjsonschema.compile(GRAPH_SCHEMA)
    try:
        _FAST_GRAPH_CHECK(graph)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


@dataclass(frozen=True)
class Issue:
    """One validation error or warning, pointing at a node or an edge if it can."""

    code: str
    message: str
    node_id: str | None = None
    edge_id: str | None = None

    def to_dict(self) -> dict[str, str]:
        """Return the issue as JSON, leaving out ids that are not set."""
        data = {"code": self.code, "message": self.message}
        if self.node_id is not None:
            data["node_id"] = self.node_id
        if self.edge_id is not None:
            data["edge_id"] = self.edge_id
        return data


@dataclass
class ValidationResult:
    """The errors (which block saving) and warnings found in a graph."""

    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return whether the graph has no errors (warnings allowed)."""
        return not self.errors

    def to_dict(self) -> dict[str, list[dict[str, str]]]:
        """Return {"errors": [...], "warnings": [...]} as JSON."""
        return {
            "errors": [issue.to_dict() for issue in self.errors],
            "warnings": [issue.to_dict() for issue in self.warnings],
        }


@dataclass(frozen=True)
class GraphLimits:
    """How large a graph may be: its nodes, its edges, its compact JSON in bytes."""

    nodes: int = MAX_NODES
    edges: int = MAX_EDGES
    bytes: int = MAX_GRAPH_BYTES


def validate_graph(
    graph: Any,
    *,
    actions: Mapping[str, Mapping[str, Any]],
    limits: GraphLimits = GraphLimits(),  # noqa: B008 - frozen, so shared safely
) -> ValidationResult:
    """Check a graph's size, its shape, then every semantic rule; collect all issues.

    `actions` maps each registered action name to the JSON Schema of its params.
    A graph over its limits gets only `too_large` errors (nothing else is checked);
    semantic rules run only once the shape is right.
    """
    result = ValidationResult()
    if not isinstance(graph, dict):
        result.errors.append(Issue("schema", "graph: must be a JSON object"))
        return result
    result.errors.extend(_size_issues(graph, limits))
    if result.errors:
        return result
    result.errors.extend(_schema_issues(graph))
    if result.errors:
        return result
    checker = _SemanticChecker(graph, actions)
    checker.check()
    result.errors.extend(checker.errors)
    result.warnings.extend(checker.warnings)
    return result


# -- size --------------------------------------------------------------------------


def _size_issues(graph: dict[str, Any], limits: GraphLimits) -> list[Issue]:
    issues = []
    for key, limit in (("nodes", limits.nodes), ("edges", limits.edges)):
        items = graph.get(key)
        if isinstance(items, list) and len(items) > limit:
            issues.append(
                Issue(
                    "too_large",
                    f"{key}: a graph may have at most {limit} {key}; this one has "
                    f"{len(items)}",
                )
            )
    try:
        text = json.dumps(graph, separators=(",", ":"), ensure_ascii=False, default=str)
        size = len(text.encode("utf-8", "surrogatepass"))
    except (RecursionError, ValueError):
        issues.append(Issue("too_large", "graph: nested too deeply to store"))
        return issues
    if size > limits.bytes:
        issues.append(
            Issue(
                "too_large",
                f"graph: {size} bytes as JSON; the limit is {limits.bytes} bytes",
            )
        )
    return issues


# -- shape -------------------------------------------------------------------------


def _schema_issues(graph: dict[str, Any]) -> list[Issue]:
    if _shape_ok(graph):
        return []
    errors = sorted(_GRAPH_VALIDATOR.iter_errors(graph), key=_error_order)
    issues = [_schema_issue(graph, error) for error in errors[:MAX_SCHEMA_ERRORS]]
    if len(errors) > MAX_SCHEMA_ERRORS:
        hidden = len(errors) - MAX_SCHEMA_ERRORS
        issues.append(Issue("schema", f"graph: {hidden} more schema errors not shown"))
    return issues


def _error_order(error: ValidationError) -> tuple[Any, ...]:
    path = tuple(
        (0, part, "") if isinstance(part, int) else (1, 0, str(part))
        for part in error.absolute_path
    )
    return (path, error.message)


def _schema_issue(graph: dict[str, Any], error: ValidationError) -> Issue:
    path = list(error.absolute_path)
    node_id = edge_id = None
    if len(path) >= 2 and path[0] in ("nodes", "edges") and isinstance(path[1], int):
        item = graph[path[0]][path[1]]
        item_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(item_id, str):
            if path[0] == "nodes":
                node_id = item_id
            else:
                edge_id = item_id
    elif len(path) >= 2 and path[0] == "layout":
        node_id = str(path[1])
    message = error.message
    if "propertyNames" in error.schema_path:
        owner = _at(graph, path)
        kind = owner.get("type") if isinstance(owner, dict) else None
        message = f"field {error.instance!r} is not allowed on {_a(str(kind))} node"
    elif error.validator == "oneOf" and path and path[-1] == "to":
        message = 'must be {"group": name} or {"user": name}'
    return Issue(
        "schema",
        _shorten(f"{_format_path(path) if path else 'graph'}: {message}"),
        node_id=node_id,
        edge_id=edge_id,
    )


def _at(document: Any, path: Iterable[Any]) -> Any:
    for part in path:
        document = document[part]
    return document


def _format_path(path: Iterable[Any], *, root: str = "") -> str:
    """Return a JSON path like `nodes[3].retry.max_attempts`."""
    text = root
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", str(part)):
            text += f".{part}" if text else str(part)
        else:
            text += f"[{json.dumps(str(part))}]"
    return text or "(root)"


def _a(kind: str) -> str:
    """Return the node type with its article: "a task", "an end"."""
    return f"an {kind}" if kind[:1] in ("a", "e", "i", "o", "u") else f"a {kind}"


def _shorten(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- semantics ---------------------------------------------------------------------

# Finds string literals compared with the handoff outcome: outcome == 'approve',
# 'approve' != outcome, outcome in ['a', 'b']. Best effort; escapes are skipped.
_OUTCOME_NAME = r"(?<![\w.])outcome(?!\w)"
_STRING_LITERAL = r"""(?:'([^'\\\n]*)'|"([^"\\\n]*)")"""
_OUTCOME_COMPARISONS = (
    re.compile(_OUTCOME_NAME + r"\s*[!=]=\s*" + _STRING_LITERAL),
    re.compile(_STRING_LITERAL + r"\s*[!=]=\s*" + _OUTCOME_NAME),
)
_OUTCOME_IN = re.compile(_OUTCOME_NAME + r"\s+in\s+\[([^\]]*)\]")
_STRING_LITERALS = re.compile(_STRING_LITERAL)


def _outcome_literals(source: str) -> list[str]:
    literals: list[str] = []
    for pattern in _OUTCOME_COMPARISONS:
        for match in pattern.finditer(source):
            literals.append(
                next(group for group in match.groups() if group is not None)
            )
    for match in _OUTCOME_IN.finditer(source):
        for literal in _STRING_LITERALS.finditer(match.group(1)):
            literals.append(next(g for g in literal.groups() if g is not None))
    return literals


class _ExpressionValue:
    """Stand in for an "=" param while checking params against an action schema."""

    def __repr__(self) -> str:
        return "<expression>"


_EXPRESSION_VALUE = _ExpressionValue()


def _params_as_checked(value: Any) -> Any:
    """Return params with expressions replaced by a stand-in and "==" unescaped."""
    if isinstance(value, dict):
        return {key: _params_as_checked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_params_as_checked(item) for item in value]
    if is_expression(value):
        return _EXPRESSION_VALUE
    if isinstance(value, str) and value.startswith("=="):
        return value[1:]
    return value


def _caused_by_expression(error: ValidationError) -> bool:
    """Return whether a params error would vanish if expressions fit the schema."""
    if error.instance is _EXPRESSION_VALUE:
        return True
    if not error.context:
        return False
    # anyOf/oneOf: forgive the error if some branch failed only on expressions.
    branches: dict[Any, list[ValidationError]] = defaultdict(list)
    for sub_error in error.context:
        branches[sub_error.relative_schema_path[0]].append(sub_error)
    return any(
        all(_caused_by_expression(sub_error) for sub_error in sub_errors)
        for sub_errors in branches.values()
    )


class _SemanticChecker:
    """Apply the semantic rules to a graph that already matches GRAPH_SCHEMA."""

    def __init__(self, graph: dict[str, Any], actions: Mapping[str, Any]) -> None:
        self.graph = graph
        self.actions = actions
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []
        # First node with each id; later duplicates are reported and ignored.
        self.nodes: dict[str, dict[str, Any]] = {}
        # Edges whose both ends exist, in document order.
        self.edges: list[dict[str, Any]] = []
        self.outgoing: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.incoming: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.compensation_only: set[str] = set()
        # {action name: params validator, or why its schema cannot be used}
        self.validators: dict[str, Any] = {}

    def error(
        self,
        code: str,
        message: str,
        *,
        node_id: str | None = None,
        edge_id: str | None = None,
    ) -> None:
        self.errors.append(Issue(code, message, node_id=node_id, edge_id=edge_id))

    def warn(self, code: str, message: str, *, node_id: str) -> None:
        self.warnings.append(Issue(code, message, node_id=node_id))

    def check(self) -> None:
        self.check_ids()
        self.check_edge_ends()
        self.find_compensation_only()
        starts = [n for n in self.nodes.values() if n["type"] == "start"]
        ends = [n for n in self.nodes.values() if n["type"] == "end"]
        self.check_start_and_end(starts, ends)
        self.check_edges()
        for node in self.nodes.values():
            self.check_node(node)
        if starts:
            reachable = self.check_reachability([start["id"] for start in starts])
            if ends:
                self.check_dead_ends(reachable, ends)
        self.check_cycles()
        self.check_joins()

    # ids and ends

    def check_ids(self) -> None:
        for node in self.graph["nodes"]:
            if node["id"] in self.nodes:
                self.error(
                    "duplicate_id",
                    f"node id {node['id']!r} is used by more than one node",
                    node_id=node["id"],
                )
            else:
                self.nodes[node["id"]] = node
        seen: set[str] = set()
        for edge in self.graph["edges"]:
            if edge["id"] in seen:
                self.error(
                    "duplicate_id",
                    f"edge id {edge['id']!r} is used by more than one edge",
                    edge_id=edge["id"],
                )
            seen.add(edge["id"])

    def check_edge_ends(self) -> None:
        for edge in self.graph["edges"]:
            missing = [
                end for end in (edge["source"], edge["target"]) if end not in self.nodes
            ]
            if missing:
                names = " and ".join(repr(name) for name in dict.fromkeys(missing))
                self.error(
                    "dangling_edge",
                    f"edge {edge['id']!r} connects to {names}, which is not a node",
                    edge_id=edge["id"],
                )
                continue
            self.edges.append(edge)
            self.outgoing[edge["source"]].append(edge)
            self.incoming[edge["target"]].append(edge)

    def find_compensation_only(self) -> None:
        # A task named by compensate_with and wired to nothing runs only as a
        # compensation, so reachability and edge rules do not apply to it.
        for node in self.nodes.values():
            target = self.nodes.get(node.get("compensate_with", ""))
            if (
                target is not None
                and target["type"] == "task"
                and not self.outgoing[target["id"]]
                and not self.incoming[target["id"]]
            ):
                self.compensation_only.add(target["id"])

    def check_start_and_end(
        self, starts: list[dict[str, Any]], ends: list[dict[str, Any]]
    ) -> None:
        if not starts:
            self.error("no_start", "the graph has no start node")
        for extra in starts[1:]:
            self.error(
                "multiple_starts",
                f"node {extra['id']!r} is a second start node; "
                f"a graph has exactly one (the first is {starts[0]['id']!r})",
                node_id=extra["id"],
            )
        if not ends:
            self.error("no_end", "the graph has no end node")

    # edges

    def check_edges(self) -> None:
        for edge in self.graph["edges"]:
            if "when" in edge:
                self.check_expression(edge)
        for edge in self.edges:
            source = self.nodes[edge["source"]]
            target = self.nodes[edge["target"]]
            if target["type"] == "start":
                self.error(
                    "start_incoming",
                    f"edge {edge['id']!r} leads into the start node {target['id']!r}",
                    node_id=target["id"],
                    edge_id=edge["id"],
                )
            if source["type"] == "end":
                self.error(
                    "end_outgoing",
                    f"edge {edge['id']!r} leaves the end node {source['id']!r}",
                    node_id=source["id"],
                    edge_id=edge["id"],
                )
            if "when" in edge and source["type"] not in ROUTING_TYPES:
                self.error(
                    "when_not_allowed",
                    f"edge {edge['id']!r} has a `when` condition, but {source['id']!r}"
                    f" is {_a(source['type'])}; only edges out of a choice or a handoff"
                    " take conditions",
                    edge_id=edge["id"],
                )
            if edge.get("on") == "failure" and source["type"] != "task":
                self.error(
                    "failure_edge_source",
                    f"edge {edge['id']!r} is an on: failure edge, but "
                    f"{source['id']!r} is {_a(source['type'])}; only tasks fail",
                    edge_id=edge["id"],
                )

    def check_expression(self, edge: dict[str, Any]) -> None:
        try:
            compile_expression(edge["when"])
        except ExpressionError as exc:
            self.error(
                "bad_expression",
                f"edge {edge['id']!r}: `when` is not a valid expression: {exc.message}",
                edge_id=edge["id"],
            )

    # nodes

    def check_node(self, node: dict[str, Any]) -> None:
        kind = node["type"]
        if kind == "task":
            self.check_task(node)
        elif kind == "choice":
            self.check_choice(node)
        elif kind == "handoff":
            self.check_handoff(node)
        elif kind == "parallel":
            count = len(self.outgoing[node["id"]])
            if count < 2:
                self.error(
                    "parallel_edges",
                    f"parallel {node['id']!r} needs at least two outgoing edges "
                    f"(it has {count})",
                    node_id=node["id"],
                )

    def check_task(self, node: dict[str, Any]) -> None:
        node_id = node["id"]
        outgoing = self.outgoing[node_id]
        normal = [edge for edge in outgoing if edge.get("on") != "failure"]
        failure = [edge for edge in outgoing if edge.get("on") == "failure"]
        if node_id not in self.compensation_only:
            if len(normal) != 1:
                self.error(
                    "task_edges",
                    f"task {node_id!r} needs exactly one outgoing edge for success "
                    f"(it has {len(normal)})",
                    node_id=node_id,
                )
            if len(failure) > 1:
                self.error(
                    "task_edges",
                    f"task {node_id!r} may have at most one on: failure edge "
                    f"(it has {len(failure)})",
                    node_id=node_id,
                )
            if not failure and "compensate_with" not in node:
                self.warn(
                    "no_failure_handling",
                    f"task {node_id!r} has no on: failure edge and no "
                    "compensate_with; if it fails, the run fails",
                    node_id=node_id,
                )
        self.check_action(node)
        compensation = node.get("compensate_with")
        if compensation is not None:
            target = self.nodes.get(compensation)
            if compensation == node_id:
                problem = "names the task itself"
            elif target is None:
                problem = "names no node"
            elif target["type"] != "task":
                problem = f"names {_a(target['type'])} node, not a task"
            else:
                problem = ""
            if problem:
                self.error(
                    "bad_compensation",
                    f"task {node_id!r}: compensate_with {compensation!r} {problem}",
                    node_id=node_id,
                )

    def check_action(self, node: dict[str, Any]) -> None:
        node_id = node["id"]
        params = node.get("params", {})
        for path, source in param_expressions(params):
            try:
                compile_expression(source)
            except ExpressionError as exc:
                self.error(
                    "bad_expression",
                    f"task {node_id!r}: param {path or '(params)'} is not a valid "
                    f"expression: {exc.message}",
                    node_id=node_id,
                )
        action = node["action"]
        if action not in self.actions:
            self.error(
                "unknown_action",
                f"task {node_id!r} uses action {action!r}, which is not registered",
                node_id=node_id,
            )
            return
        validator = self.params_validator(action)
        if isinstance(validator, str):
            self.error("bad_params", f"task {node_id!r}: {validator}", node_id=node_id)
            return
        for message in _params_problems(validator, params):
            self.error("bad_params", f"task {node_id!r}: {message}", node_id=node_id)

    def params_validator(self, action: str) -> Any:
        """Return the action's params validator, or a message if its schema is bad."""
        if action not in self.validators:
            try:
                self.validators[action] = _params_validator(self.actions[action])
            except (SchemaError, TypeError, ValueError, re.error) as exc:
                self.validators[action] = _shorten(
                    f"cannot check params: the schema of action {action!r} is "
                    f"invalid: {exc}"
                )
        return self.validators[action]

    def check_choice(self, node: dict[str, Any]) -> None:
        node_id = node["id"]
        outgoing = self.outgoing[node_id]
        defaults = [edge for edge in outgoing if edge.get("default") is True]
        if len(defaults) != 1:
            self.error(
                "choice_default",
                f"choice {node_id!r} needs exactly one edge with default: true "
                f"(it has {len(defaults)})",
                node_id=node_id,
            )
        self.check_conditions(node, outgoing)

    def check_handoff(self, node: dict[str, Any]) -> None:
        node_id = node["id"]
        outgoing = self.outgoing[node_id]
        defaults = [edge for edge in outgoing if edge.get("default") is True]
        conditional = [
            edge
            for edge in outgoing
            if "when" in edge and edge.get("default") is not True
        ]
        if len(defaults) > 1:
            self.error(
                "handoff_default",
                f"handoff {node_id!r} may have at most one default edge "
                f"(it has {len(defaults)})",
                node_id=node_id,
            )
        elif not defaults and not conditional:
            self.error(
                "handoff_default",
                f"handoff {node_id!r} needs a default edge or edges with `when` "
                "conditions on the outcome",
                node_id=node_id,
            )
        self.check_conditions(node, outgoing)
        outcomes = node["outcomes"]
        for edge in conditional:
            for literal in _outcome_literals(edge["when"]):
                if literal not in outcomes:
                    self.error(
                        "outcome_unknown",
                        f"edge {edge['id']!r} tests outcome {literal!r}, which is "
                        f"not an outcome of handoff {node_id!r} "
                        f"({', '.join(outcomes)})",
                        edge_id=edge["id"],
                    )
        for source in node.get("context", []):
            try:
                compile_expression(source)
            except ExpressionError as exc:
                self.error(
                    "bad_expression",
                    f"handoff {node_id!r}: context {source!r} is not a valid "
                    f"expression: {exc.message}",
                    node_id=node_id,
                )
        if "sla_s" not in node:
            self.warn(
                "handoff_no_sla",
                f"handoff {node_id!r} has no sla_s; it may wait forever unnoticed",
                node_id=node_id,
            )

    def check_conditions(
        self, node: dict[str, Any], outgoing: list[dict[str, Any]]
    ) -> None:
        """Require `when` on every non-default edge, and none on the default."""
        for edge in outgoing:
            if edge.get("on") == "failure":
                continue  # reported as failure_edge_source
            if edge.get("default") is True and "when" in edge:
                self.error(
                    "choice_condition",
                    f"edge {edge['id']!r} is the default out of {node['type']} "
                    f"{node['id']!r}, so it must not have a `when` condition",
                    edge_id=edge["id"],
                )
            elif edge.get("default") is not True and "when" not in edge:
                self.error(
                    "choice_condition",
                    f"edge {edge['id']!r} leaves {node['type']} {node['id']!r} "
                    "without a `when` condition and is not the default edge",
                    edge_id=edge["id"],
                )

    # graph-wide

    def successors(self, node_id: str) -> Iterator[str]:
        for edge in self.outgoing[node_id]:
            yield edge["target"]

    def predecessors(self, node_id: str) -> Iterator[str]:
        for edge in self.incoming[node_id]:
            yield edge["source"]

    def check_reachability(self, start_ids: list[str]) -> set[str]:
        reachable = _closure(start_ids, self.successors)
        for node_id in self.nodes:
            if node_id not in reachable and node_id not in self.compensation_only:
                self.error(
                    "unreachable",
                    f"node {node_id!r} cannot be reached from the start node",
                    node_id=node_id,
                )
        return reachable

    def check_dead_ends(self, reachable: set[str], ends: list[dict[str, Any]]) -> None:
        finishing = _closure([end["id"] for end in ends], self.predecessors)
        for node_id in self.nodes:
            if node_id in reachable and node_id not in finishing:
                self.error(
                    "dead_end",
                    f"no end node can be reached from node {node_id!r}",
                    node_id=node_id,
                )

    def check_joins(self) -> None:
        parallels = [n["id"] for n in self.nodes.values() if n["type"] == "parallel"]
        downstream = _closure(
            [target for p in parallels for target in self.successors(p)],
            self.successors,
        )
        for node in self.nodes.values():
            if node["type"] == "join" and node["id"] not in downstream:
                self.error(
                    "join_without_parallel",
                    f"join {node['id']!r} is not downstream of any parallel node, "
                    "so it has nothing to join",
                    node_id=node["id"],
                )

    def check_cycles(self) -> None:
        """Allow a loop only through a wait or handoff, with an exit and a bound.

        Every cycle must have all three, so each is checked on its own: a cycle
        that survives removing every wait/handoff node lacks the first, and so on.
        """
        requirements = (
            (
                "a wait or handoff node",
                lambda node_id: self.nodes[node_id]["type"] in LOOP_BREAKING_TYPES,
                lambda edge: False,
            ),
            (
                "an edge with a `when` condition to leave it",
                lambda node_id: False,
                lambda edge: "when" in edge,
            ),
            (
                "a node with max_visits to bound it",
                lambda node_id: "max_visits" in self.nodes[node_id],
                lambda edge: False,
            ),
        )
        # {back edge id: (edge, cycle path, [missing requirement, ...])}
        found: dict[str, tuple[dict[str, Any], list[str], list[str]]] = {}
        for requirement, drop_node, drop_edge in requirements:
            for edge, path in _back_edges(
                self.nodes, self.outgoing, drop_node, drop_edge
            ):
                entry = found.setdefault(edge["id"], (edge, path, []))
                entry[2].append(requirement)
        for edge, path, missing in found.values():
            shown = path if len(path) <= 8 else [*path[:7], "…"]
            loop = " → ".join([*shown, path[0]])
            self.error(
                "cycle",
                f"loop {loop} is not allowed: a loop needs " + "; ".join(missing),
                node_id=edge["target"],
                edge_id=edge["id"],
            )


def _params_validator(schema: Any) -> Any:
    """Return a validator for an action's params schema; raise SchemaError if bad."""
    if isinstance(schema, Mapping):
        schema = dict(schema)
    validator_class = validator_for(schema, default=Draft202012Validator)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _params_problems(validator: Any, params: Any) -> list[str]:
    """Return messages for params that fail the action's schema, sparing "=" ones."""
    try:
        errors = [
            error
            for error in validator.iter_errors(_params_as_checked(params))
            if not _caused_by_expression(error)
        ]
    except (SchemaError, TypeError, ValueError, re.error) as exc:
        return [_shorten(f"cannot check params against the action's schema: {exc}")]
    errors.sort(key=_error_order)
    return [
        _shorten(f"{_format_path(error.absolute_path, root='params')}: {error.message}")
        for error in errors[:MAX_SCHEMA_ERRORS]
    ]


def _closure(
    seeds: Iterable[str], neighbours: Callable[[str], Iterable[str]]
) -> set[str]:
    """Return the seeds and every node reachable from them through `neighbours`."""
    seen = set(seeds)
    queue = deque(seen)
    while queue:
        for other in neighbours(queue.popleft()):
            if other not in seen:
                seen.add(other)
                queue.append(other)
    return seen


def _back_edges(
    nodes: Mapping[str, Any],
    outgoing: Mapping[str, list[dict[str, Any]]],
    drop_node: Callable[[str], bool],
    drop_edge: Callable[[dict[str, Any]], bool],
) -> list[tuple[dict[str, Any], list[str]]]:
    """Return (edge, cycle path) for each back edge of a depth-first search.

    Nodes and edges for which `drop_node`/`drop_edge` return true are left out;
    the graph without them is acyclic exactly when this returns nothing.
    """
    found: list[tuple[dict[str, Any], list[str]]] = []
    done: set[str] = set()
    for root in nodes:
        if root in done or drop_node(root):
            continue
        # Iterative DFS: (node, its outgoing edges iterator); `on_stack` holds the
        # current path so a back edge can name the cycle it closes.
        stack: list[tuple[str, Iterator[dict[str, Any]]]] = [
            (root, iter(outgoing.get(root, ())))
        ]
        on_stack: dict[str, int] = {root: 0}
        path = [root]
        while stack:
            node_id, edges = stack[-1]
            edge = next(edges, None)
            if edge is None:
                stack.pop()
                path.pop()
                del on_stack[node_id]
                done.add(node_id)
                continue
            target = edge["target"]
            if drop_edge(edge) or target in done or drop_node(target):
                continue
            if target in on_stack:
                found.append((edge, path[on_stack[target] :]))
                continue
            on_stack[target] = len(path)
            path.append(target)
            stack.append((target, iter(outgoing.get(target, ()))))
    return found


# -- running -----------------------------------------------------------------------


class CompiledGraph:
    """A validated graph, indexed and with its expressions compiled, for the engine.

    Build it once per workflow version and reuse it: routing never compiles.
    """

    def __init__(self, graph: Mapping[str, Any]) -> None:
        """Index a valid graph; raise ExpressionError if an expression is bad."""
        self.graph = graph
        self.defaults: dict[str, Any] = dict(graph.get("defaults") or {})
        self.nodes: dict[str, dict[str, Any]] = {}
        for node in graph["nodes"]:
            self.nodes.setdefault(node["id"], node)
        self.edges: dict[str, dict[str, Any]] = {}
        # {node_id: [edge, ...]} in document order
        self._outgoing: dict[str, list[dict[str, Any]]] = {n: [] for n in self.nodes}
        self._incoming: dict[str, list[dict[str, Any]]] = {n: [] for n in self.nodes}
        for edge in graph["edges"]:
            self.edges.setdefault(edge["id"], edge)
            self._outgoing.setdefault(edge["source"], []).append(edge)
            self._incoming.setdefault(edge["target"], []).append(edge)
        starts = [n["id"] for n in self.nodes.values() if n["type"] == "start"]
        if len(starts) != 1:
            raise ValueError(f"a graph needs exactly one start node, not {len(starts)}")
        self.start_id: str = starts[0]
        # {edge_id: compiled `when`}
        self._conditions: dict[str, Expression] = {
            edge["id"]: compile_expression(edge["when"])
            for edge in self.edges.values()
            if "when" in edge
        }
        # {source: compiled expression} for every "=" param
        self._expressions: dict[str, Expression] = {
            source: compile_expression(source)
            for node in self.nodes.values()
            for _, source in param_expressions(node.get("params", {}))
        }
        for node in self.nodes.values():
            if node["type"] == "handoff":
                for source in node.get("context", []):
                    self._expressions[source] = compile_expression(source)
        self._policies: dict[str, RetryPolicy] = {
            node_id: RetryPolicy.from_graph(self.defaults, node)
            for node_id, node in self.nodes.items()
        }

    def __repr__(self) -> str:
        return f"<CompiledGraph {len(self.nodes)} nodes, {len(self.edges)} edges>"

    def node(self, node_id: str) -> dict[str, Any]:
        """Return the node with this id; raise KeyError if there is none."""
        return self.nodes[node_id]

    def outgoing(self, node_id: str) -> list[dict[str, Any]]:
        """Return every edge leaving the node, in document order."""
        return list(self._outgoing.get(node_id, ()))

    def incoming(self, node_id: str) -> list[dict[str, Any]]:
        """Return every edge entering the node, in document order."""
        return list(self._incoming.get(node_id, ()))

    def normal_outgoing(self, node_id: str) -> list[dict[str, Any]]:
        """Return the node's outgoing edges that are not failure routes."""
        return [e for e in self._outgoing.get(node_id, ()) if e.get("on") != "failure"]

    def failure_outgoing(self, node_id: str) -> list[dict[str, Any]]:
        """Return the node's `on: failure` edges."""
        return [e for e in self._outgoing.get(node_id, ()) if e.get("on") == "failure"]

    def retry_policy(self, node_id: str) -> RetryPolicy:
        """Return the node's retry policy merged over the graph defaults."""
        return self._policies[node_id]

    def queue(self, node_id: str) -> str:
        """Return the Celery queue for the node: its own, the default, or "default"."""
        queue = self.nodes[node_id].get("queue") or self.defaults.get("queue")
        return str(queue or DEFAULT_QUEUE)

    def priority(self, node_id: str) -> int:
        """Return the node's message priority, 0-9 (5 unless it sets one)."""
        return int(self.nodes[node_id].get("priority", DEFAULT_PRIORITY))

    def max_visits(self, node_id: str) -> int | None:
        """Return how many times a run may visit the node, or None if unbounded."""
        value = self.nodes[node_id].get("max_visits")
        return None if value is None else int(value)

    def params(self, node_id: str, context: Mapping[str, Any]) -> Any:
        """Return the node's params with "=" expressions evaluated in `context`."""
        return evaluate_params(
            self.nodes[node_id].get("params", {}),
            context,
            expressions=self._expressions,
        )

    def handoff_context(
        self, node_id: str, context: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Snapshot a handoff's `context`: ({source: value}, {source: error}).

        An expression that cannot be evaluated (a step on a branch not taken, say) is
        reported, not fatal: the receiver sees what could not be handed over.
        """
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for source in self.nodes[node_id].get("context", []):
            try:
                values[source] = self._expressions[source].evaluate(context)
            except ExpressionError as exc:
                values[source] = None
                errors[source] = exc.message
        return values, errors

    def route(
        self, node_id: str, *, succeeded: bool, context: Mapping[str, Any]
    ) -> list[str]:
        """Return the ids of the edges taken when the node finishes.

        A failed node takes its `on: failure` edges (none: the run fails). A choice
        takes the first edge whose `when` is true, in document order, else its
        default; a handoff does the same with `outcome` in the context. Other nodes
        take every normal outgoing edge; an end takes none. Raise ExpressionError
        when a condition cannot be evaluated or is not a boolean.
        """
        node = self.nodes[node_id]
        if node["type"] == "end":
            return []
        if not succeeded:
            return [edge["id"] for edge in self.failure_outgoing(node_id)]
        if node["type"] in ROUTING_TYPES:
            default: dict[str, Any] | None = None
            for edge in self.normal_outgoing(node_id):
                if edge.get("default") is True:
                    default = default or edge
                    continue
                condition = self._conditions.get(edge["id"])
                if condition is not None and condition.evaluate_condition(context):
                    return [edge["id"]]
            return [default["id"]] if default is not None else []
        return [edge["id"] for edge in self.normal_outgoing(node_id)]


def entry_decision(node: Mapping[str, Any], edge_states: list[str]) -> str | None:
    """Say what a node not yet visited does, given the states of its incoming edges
    ("taken", "dead" or "open"): "activate", "skip" (dead-path elimination) or None
    (wait). A join `all` waits for every edge; any other node enters on the first
    taken edge. The engine and the test-case simulation share this rule.
    """
    if node["type"] == "join" and node.get("mode", "all") == "all":
        if "open" in edge_states:
            return None
        return "activate" if "taken" in edge_states else "skip"
    if "taken" in edge_states:
        return "activate"
    if all(state == "dead" for state in edge_states):
        return "skip"
    return None


# -- versions ----------------------------------------------------------------------


def graph_checksum(graph: Any) -> str:
    """Return the sha256 hex of the graph's canonical JSON, ignoring its layout."""
    if isinstance(graph, Mapping):
        graph = {key: value for key, value in graph.items() if key != "layout"}
    canonical = json.dumps(
        graph, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def diff_graphs(old: Any, new: Any) -> dict[str, Any]:
    """Return nodes and edges added, removed and changed (field by field), and settings.

    Layout is ignored: moving boxes changes nothing.
    """
    old = old if isinstance(old, Mapping) else {}
    new = new if isinstance(new, Mapping) else {}
    settings: dict[str, dict[str, Any]] = {}
    for key in ("format", "max_concurrent_runs"):
        if old.get(key) != new.get(key):
            settings[key] = {"old": old.get(key), "new": new.get(key)}
    old_defaults = (
        old.get("defaults") if isinstance(old.get("defaults"), Mapping) else {}
    )
    new_defaults = (
        new.get("defaults") if isinstance(new.get("defaults"), Mapping) else {}
    )
    for key in _ordered_union(old_defaults, new_defaults):
        if old_defaults.get(key) != new_defaults.get(key):
            settings[f"defaults.{key}"] = {
                "old": old_defaults.get(key),
                "new": new_defaults.get(key),
            }
    return {
        "nodes": _diff_items(old.get("nodes"), new.get("nodes")),
        "edges": _diff_items(old.get("edges"), new.get("edges")),
        "settings": settings,
    }


def _by_id(items: Any) -> dict[str, Mapping[str, Any]]:
    indexed: dict[str, Mapping[str, Any]] = {}
    if isinstance(items, list):
        for item in items:
            if isinstance(item, Mapping) and isinstance(item.get("id"), str):
                indexed.setdefault(item["id"], item)
    return indexed


def _ordered_union(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    return sorted(set(old) | set(new), key=str)


def _diff_items(old_items: Any, new_items: Any) -> dict[str, Any]:
    old = _by_id(old_items)
    new = _by_id(new_items)
    changed = []
    for item_id, new_item in new.items():
        old_item = old.get(item_id)
        if old_item is None:
            continue
        fields = {
            name: {"old": old_item.get(name), "new": new_item.get(name)}
            for name in _ordered_union(old_item, new_item)
            if old_item.get(name) != new_item.get(name)
        }
        if fields:
            changed.append({"id": item_id, "fields": fields})
    return {
        "added": [item_id for item_id in new if item_id not in old],
        "removed": [item_id for item_id in old if item_id not in new],
        "changed": changed,
    }
