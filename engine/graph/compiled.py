"""A version's graph compiled for running: indexes, policies, routing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.expressions import (
    Expression,
    ExpressionError,
    compile_expression,
    evaluate_params,
    located,
    param_expressions,
    source_excerpt,
)
from engine.graph.schema import DEFAULT_PRIORITY, DEFAULT_QUEUE
from engine.nodes import node_type
from engine.retry import RetryPolicy

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
        """Return the node's outgoing edges that are not failure or timeout routes."""
        return [e for e in self._outgoing.get(node_id, ()) if "on" not in e]

    def timeout_outgoing(self, node_id: str) -> list[dict[str, Any]]:
        """Return the node's `on: timeout` edges."""
        return [e for e in self._outgoing.get(node_id, ()) if e.get("on") == "timeout"]

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

    def on_cycle(self, node_id: str) -> bool:
        """Say whether a node can reach itself (a loop), computed once per node."""
        cache: dict[str, bool] = self.__dict__.setdefault("_on_cycle", {})
        answer = cache.get(node_id)
        if answer is None:
            seen: set[str] = set()
            stack = [e["target"] for e in self.outgoing(node_id)]
            answer = False
            while stack and not answer:
                current = stack.pop()
                answer = current == node_id
                if current not in seen:
                    seen.add(current)
                    stack.extend(e["target"] for e in self.outgoing(current))
            cache[node_id] = answer
        return answer

    def has_cycle(self) -> bool:
        """Say whether any node is on a loop (computed once per graph)."""
        answer: bool | None = self.__dict__.get("_has_cycle")
        if answer is None:
            answer = any(self.on_cycle(node_id) for node_id in self.nodes)
            self.__dict__["_has_cycle"] = answer
        return answer

    def single_token(self) -> bool:
        """Say whether at most one path is ever active: no parallel node, no cycle.

        Then every node is visited at most once. Computed once per graph.
        """
        answer: bool | None = self.__dict__.get("_single_token")
        if answer is None:
            answer = not self.has_cycle() and not any(
                n["type"] == "parallel" for n in self.nodes.values()
            )
            self.__dict__["_single_token"] = answer
        return answer

    def ancestors(self, node_id: str) -> frozenset[str]:
        """Return the nodes from which node_id can be reached (cached per node)."""
        cache: dict[str, frozenset[str]] = self.__dict__.setdefault("_ancestors", {})
        answer = cache.get(node_id)
        if answer is None:
            seen: set[str] = set()
            stack = [e["source"] for e in self.incoming(node_id)]
            while stack:
                current = stack.pop()
                if current in seen or current == node_id:
                    continue
                seen.add(current)
                stack.extend(e["source"] for e in self.incoming(current))
            answer = cache[node_id] = frozenset(seen)
        return answer

    def descendants(self, node_id: str) -> set[str]:
        """Return node_id and every node reachable from it."""
        seen: set[str] = set()
        stack = [node_id]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            stack.extend(e["target"] for e in self.outgoing(current))
        return seen

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
        naming the edge ("edge e3 big→review (when …): …") when a condition cannot
        be evaluated or is not a boolean.
        """
        node = self.nodes[node_id]
        if not node_type(node["type"]).has_outgoing:
            return []
        if not succeeded:
            return [edge["id"] for edge in self.failure_outgoing(node_id)]
        if node_type(node["type"]).routes_by_condition:
            default: dict[str, Any] | None = None
            for edge in self.normal_outgoing(node_id):
                if edge.get("default") is True:
                    default = default or edge
                    continue
                condition = self._conditions.get(edge["id"])
                if condition is None:
                    continue
                try:
                    if condition.evaluate_condition(context):
                        return [edge["id"]]
                except ExpressionError as exc:
                    where = (
                        f"edge {edge['id']} {node_id}→{edge['target']} "
                        f"(when {source_excerpt(condition.source)})"
                    )
                    raise located(exc, where) from exc
            return [default["id"]] if default is not None else []
        return [edge["id"] for edge in self.normal_outgoing(node_id)]
