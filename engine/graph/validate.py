"""Validate a graph: size, shape, then the graph-wide semantic rules."""

from __future__ import annotations

import re
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError
from jsonschema.validators import validator_for

from engine.expressions import (
    ExpressionError,
    compile_expression,
    is_expression,
    param_expressions,
)
from engine.graph.issues import Issue, ValidationResult
from engine.graph.schema import (
    MAX_SCHEMA_ERRORS,
    GraphLimits,
    error_order,
    format_path,
    schema_issues,
    shorten,
    size_issues,
)
from engine.nodes import node_type, node_types
from engine.nodes.base import with_article


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
    result.errors.extend(size_issues(graph, limits))
    if result.errors:
        return result
    result.errors.extend(schema_issues(graph))
    if result.errors:
        return result
    checker = _SemanticChecker(graph, actions)
    checker.check()
    result.errors.extend(checker.errors)
    result.warnings.extend(checker.warnings)
    return result


# -- semantics ---------------------------------------------------------------------


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
        # Nodes after some task with compensate_with; computed when first asked.
        self._after_compensation: set[str] | None = None

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
            if not node_type(target["type"]).accepts_incoming:
                self.error(
                    "start_incoming",
                    f"edge {edge['id']!r} leads into the start node {target['id']!r}",
                    node_id=target["id"],
                    edge_id=edge["id"],
                )
            if not node_type(source["type"]).has_outgoing:
                self.error(
                    "end_outgoing",
                    f"edge {edge['id']!r} leaves the end node {source['id']!r}",
                    node_id=source["id"],
                    edge_id=edge["id"],
                )
            if "when" in edge and not node_type(source["type"]).routes_by_condition:
                self.error(
                    "when_not_allowed",
                    f"edge {edge['id']!r} has a `when` condition, but {source['id']!r}"
                    f" is {with_article(source['type'])}; only edges out of a choice or"
                    " a handoff take conditions",
                    edge_id=edge["id"],
                )
            if (
                edge.get("default") is True
                and not node_type(source["type"]).routes_by_condition
            ):
                self.error(
                    "default_not_allowed",
                    f"edge {edge['id']!r} is marked default, but {source['id']!r} is "
                    f"{with_article(source['type'])}; only edges out of a choice or a "
                    "handoff can be the default branch",
                    edge_id=edge["id"],
                )
            if (
                edge.get("on") == "timeout"
                and not node_type(source["type"]).can_time_out
            ):
                self.error(
                    "timeout_edge_source",
                    f"edge {edge['id']!r} is an on: timeout edge, but "
                    f"{source['id']!r} is {with_article(source['type'])}; "
                    "only a receive times out",
                    edge_id=edge["id"],
                )
            if edge.get("on") == "failure" and not node_type(source["type"]).can_fail:
                self.error(
                    "failure_edge_source",
                    f"edge {edge['id']!r} is an on: failure edge, but "
                    f"{source['id']!r} is {with_article(source['type'])}; "
                    f"only {_failing_types()} fail",
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
        node_type(node["type"]).check(node, self)

    # what node types' checks ask (engine.nodes.base.Checker)

    def outgoing_of(self, node_id: str) -> list[dict[str, Any]]:
        return self.outgoing[node_id]

    def after_compensation(self, node_id: str) -> bool:
        if self._after_compensation is None:
            compensating = [
                node["id"]
                for node in self.nodes.values()
                if node["type"] == "task" and "compensate_with" in node
            ]
            self._after_compensation = _closure(
                [s for c in compensating for s in self.successors(c)],
                self.successors,
            )
        return node_id in self._after_compensation

    def expression_problem(self, source: str) -> str | None:
        """Return why a CEL source does not compile, or None."""
        try:
            compile_expression(source)
        except ExpressionError as exc:
            return exc.message
        return None

    def check_param_expressions(self, node: dict[str, Any]) -> None:
        """Report "=" params that do not compile."""
        node_id = node["id"]
        for path, source in param_expressions(node.get("params", {})):
            try:
                compile_expression(source)
            except ExpressionError as exc:
                self.error(
                    "bad_expression",
                    f"{node['type']} {node_id!r}: param {path or '(params)'} is not "
                    f"a valid expression: {exc.message}",
                    node_id=node_id,
                )

    def check_action(self, node: dict[str, Any]) -> None:
        node_id = node["id"]
        params = node.get("params", {})
        self.check_param_expressions(node)
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
                self.validators[action] = shorten(
                    f"cannot check params: the schema of action {action!r} is "
                    f"invalid: {exc}"
                )
        return self.validators[action]

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
        """Allow a loop only through a wait, receive or handoff, with an exit and a
        bound.

        Every cycle must have all three, so each is checked on its own: a cycle
        that survives removing every wait/handoff node lacks the first, and so on.
        """
        requirements = (
            (
                "a wait, receive or handoff node",
                lambda node_id: node_type(self.nodes[node_id]["type"]).breaks_loops,
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


def _failing_types() -> str:
    """Return the node types that can fail, as "tasks or calls"."""
    names = [f"{name}s" for name, kind in node_types().items() if kind.can_fail]
    return " or ".join(names)


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
        return [shorten(f"cannot check params against the action's schema: {exc}")]
    errors.sort(key=error_order)
    return [
        shorten(f"{format_path(error.absolute_path, root='params')}: {error.message}")
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
