"""The graph's shape and size limits: JSON Schema of format v1 and its issues."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from engine.graph.issues import Issue
from engine.nodes import generation, node_types
from engine.nodes.base import with_article
from engine.nodes.fields import (
    MAX_DURATION_S,
    MAX_TIMEOUT_S,
    NODE_ID_PATTERN,
    QUEUE_PATTERN,
)
from engine.retry import JITTERS

FORMAT = 1
# Size limits (defaults; Django settings SWITCHYARD_MAX_GRAPH_* pass their own).
MAX_NODES = 2000
MAX_EDGES = 5000
MAX_GRAPH_BYTES = 2 * 1024 * 1024
MAX_SCHEMA_ERRORS = 100
DEFAULT_QUEUE = "default"
DEFAULT_PRIORITY = 5
# Looser than node ids: editors generate edge ids like "xy-edge__a-b".
EDGE_ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$"
# Upper bounds on every duration and count a graph gives (the client checks the same).
MAX_BACKOFF = 100
MAX_CONCURRENT_RUNS = 100_000
MAX_LAYOUT_COORDINATE = 10_000_000

_COMMON_FIELDS: dict[str, Any] = {
    "id": {"type": "string", "pattern": NODE_ID_PATTERN},
    "label": {"type": "string", "maxLength": 200},
    "description": {"type": "string", "maxLength": 5000},
    "owner": {"type": "string", "maxLength": 200},
    "max_visits": {"type": "integer", "minimum": 1, "maximum": 1000},
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
    "maximum": MAX_TIMEOUT_S,
}
_COORDINATE_SCHEMA: dict[str, Any] = {
    "type": "number",
    "minimum": -MAX_LAYOUT_COORDINATE,
    "maximum": MAX_LAYOUT_COORDINATE,
}


def _node_schema() -> dict[str, Any]:
    """The node schema: the common fields, then each registered type's own, each type
    allowing the common fields plus its own and requiring its essentials."""
    types = node_types()
    properties: dict[str, Any] = {
        **_COMMON_FIELDS,
        "type": {"enum": list(types)},
    }
    for kind in types.values():
        for field, schema in kind.fields.items():
            if properties.setdefault(field, schema) != schema:
                raise ValueError(
                    f"node type {kind.name!r} redefines field {field!r} differently"
                )
    return {
        "type": "object",
        "required": ["id", "type"],
        "properties": properties,
        "allOf": [
            {
                "if": {"required": ["type"], "properties": {"type": {"const": name}}},
                "then": {
                    "required": list(kind.required),
                    "propertyNames": {"enum": [*_COMMON_FIELDS, "type", *kind.fields]},
                },
            }
            for name, kind in types.items()
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
        "on": {"enum": ["failure", "timeout"]},
        "label": {"type": "string", "maxLength": 200},
    },
}


def _build_graph_schema() -> dict[str, Any]:
    return {
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
            # The whole run's deadline, from its start: past it the run fails
            # (RunTimeout) and compensates.
            "timeout_s": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": MAX_DURATION_S,
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
            "node": _node_schema(),
            "edge": _EDGE_SCHEMA,
            "retry": _RETRY_SCHEMA,
            "timeout": _TIMEOUT_SCHEMA,
            "assignee": ASSIGNEE_SCHEMA,
        },
    }


# (registry generation, schema, jsonschema validator, fastjsonschema check)
_Cached = tuple[int, dict[str, Any], Any, Callable[[Any], Any] | None]
_SCHEMA_CACHE: _Cached | None = None


def _cached() -> _Cached:
    global _SCHEMA_CACHE
    if _SCHEMA_CACHE is None or _SCHEMA_CACHE[0] != generation():
        schema = _build_graph_schema()
        _SCHEMA_CACHE = (generation(), schema, Draft202012Validator(schema), None)
    return _SCHEMA_CACHE


def graph_schema() -> dict[str, Any]:
    """Return the JSON Schema of graph format v1 with the registered node types."""
    return _cached()[1]


def graph_validator() -> Draft202012Validator:
    """Return a jsonschema validator of graph_schema() (reports every error)."""
    validator: Draft202012Validator = _cached()[2]
    return validator


def _shape_ok(graph: Any) -> bool:
    """Say quickly whether a graph matches the schema (the common case on save).

    fastjsonschema compiles the schema to Python once: about 15x faster than
    jsonschema on a 500-node graph. It only answers yes or no; on no, jsonschema
    reports every error with its path. The schema uses no keyword whose meaning
    differs between its draft (2020-12) and fastjsonschema's (07): no $ref siblings,
    no format assertions; tests/engine/test_graph_fast_schema.py checks they agree.
    """
    global _SCHEMA_CACHE
    generation_, schema, validator, check = _cached()
    if check is None:
        check = fastjsonschema.compile(schema)
        _SCHEMA_CACHE = (generation_, schema, validator, check)
    try:
        check(graph)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


@dataclass(frozen=True)
class GraphLimits:
    """How large a graph may be: its nodes, its edges, its compact JSON in bytes."""

    nodes: int = MAX_NODES
    edges: int = MAX_EDGES
    bytes: int = MAX_GRAPH_BYTES


# -- size --------------------------------------------------------------------------


def size_issues(graph: dict[str, Any], limits: GraphLimits) -> list[Issue]:
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


def schema_issues(graph: dict[str, Any]) -> list[Issue]:
    if _shape_ok(graph):
        return []
    errors = sorted(graph_validator().iter_errors(graph), key=error_order)
    issues = [_schema_issue(graph, error) for error in errors[:MAX_SCHEMA_ERRORS]]
    if len(errors) > MAX_SCHEMA_ERRORS:
        hidden = len(errors) - MAX_SCHEMA_ERRORS
        issues.append(Issue("schema", f"graph: {hidden} more schema errors not shown"))
    return issues


def error_order(error: ValidationError) -> tuple[Any, ...]:
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
        message = (
            f"field {error.instance!r} is not allowed on {with_article(str(kind))} node"
        )
    elif error.validator == "oneOf" and path and path[-1] == "to":
        message = 'must be {"group": name} or {"user": name}'
    return Issue(
        "schema",
        shorten(f"{format_path(path) if path else 'graph'}: {message}"),
        node_id=node_id,
        edge_id=edge_id,
    )


def _at(document: Any, path: Iterable[Any]) -> Any:
    for part in path:
        document = document[part]
    return document


def format_path(path: Iterable[Any], *, root: str = "") -> str:
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


def shorten(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
