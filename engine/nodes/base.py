"""What a node type is: its own fields, its checks, and what entering it does.

A node type is one module of `engine.nodes` declaring one `NodeType`. The validator
builds the graph schema from the fields and runs the checks; the runtime
(`runs.services.advancing.Advance`) and the test-case simulator
(`designer.simulation.Simulation`) walk the graph with `engine.interpreter.Walker`,
which asks the node type what entering it does and persists or mimics the answer.
Nothing here imports Django or the database: the decisions are pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

# -- what entering a node does ------------------------------------------------------


@dataclass(frozen=True)
class Pass:
    """Route at once: the node succeeds and takes the edges its routing picks.

    `record_taken`: the step's event names the edges taken (a choice's decision).
    `cancel_feeders`: first cancel whatever still runs upstream (a join `any`).
    """

    record_taken: bool = False
    cancel_feeders: bool = False


@dataclass(frozen=True)
class Work:
    """Queue an attempt of the node's action (a task)."""


@dataclass(frozen=True)
class Sleep:
    """Wait this many seconds, or until the time the `until` expression gives, then
    route (a timer)."""

    seconds: float
    until: str | None = None


@dataclass(frozen=True)
class AwaitHandoff:
    """Open a handoff and wait until someone picks an outcome."""


@dataclass(frozen=True)
class AwaitMessage:
    """Wait for message `name` whose correlation key is what `key` (an expression)
    gives; past `timeout_s`, take the `on: timeout` edge."""

    name: str
    key: str
    timeout_s: float | None = None


@dataclass(frozen=True)
class MapItems:
    """Run the node's action once per item of the list `items` (an expression)
    gives, at most `max_concurrency` at a time (a map)."""

    items: str


@dataclass(frozen=True)
class Finish:
    """End the run: `status` is "succeeded" or "failed"."""

    status: str


Entry = Pass | Work | Sleep | AwaitHandoff | AwaitMessage | MapItems | Finish


# -- checks -------------------------------------------------------------------------


class Checker(Protocol):
    """What a node type's checks may ask of the validator and tell it."""

    # Read-only here: checks look nodes up, and the validator keeps them in a dict.
    @property
    def nodes(self) -> Mapping[str, dict[str, Any]]: ...

    # Nodes only a compensate_with names (a saga's undo step, not on any path).
    compensation_only: set[str]

    def outgoing_of(self, node_id: str) -> list[dict[str, Any]]: ...

    def after_compensation(self, node_id: str) -> bool:
        """Return whether a task with `compensate_with` comes before the node, so
        that the run failing there has something to undo (a saga's later step)."""
        ...

    def error(
        self,
        code: str,
        message: str,
        *,
        node_id: str | None = None,
        edge_id: str | None = None,
    ) -> None: ...

    def warn(self, code: str, message: str, *, node_id: str) -> None: ...

    def check_action(self, node: dict[str, Any]) -> None: ...

    def check_param_expressions(self, node: dict[str, Any]) -> None: ...

    def check_conditions(
        self, node: dict[str, Any], outgoing: list[dict[str, Any]]
    ) -> None: ...

    def expression_problem(self, source: str) -> str | None: ...


class NodeType:
    """One node type. Subclass it in `engine/nodes/<type>.py` and register it."""

    name: ClassVar[str] = ""
    # JSON Schema of each field of its own (the common fields are the schema's).
    fields: ClassVar[Mapping[str, Any]] = {}
    required: ClassVar[Sequence[str]] = ()
    # Outgoing edges may carry `when` conditions: the first true one is taken,
    # else the default (a choice; a handoff on its outcome).
    routes_by_condition: ClassVar[bool] = False
    # A loop must pass a node of such a type (it waits for time or a person).
    breaks_loops: ClassVar[bool] = False
    # It can fail, and so have `on: failure` edges (a task).
    can_fail: ClassVar[bool] = False
    # It can time out, and so have an `on: timeout` edge (a receive).
    can_time_out: ClassVar[bool] = False
    accepts_incoming: ClassVar[bool] = True
    has_outgoing: ClassVar[bool] = True
    # A loop may visit it again (a join counts each round's branches instead).
    reenters: ClassVar[bool] = True
    # Its output is part of the run's output (a task's).
    produces_output: ClassVar[bool] = False

    def check(self, node: dict[str, Any], checker: Checker) -> None:
        """Report what is wrong with a node of this type (beyond its schema)."""

    def entry(self, node: Mapping[str, Any], edge_states: Sequence[str]) -> str | None:
        """Say what a node not yet visited does, given its incoming edges' states
        ("taken", "dead" or "open"): "activate", "skip" (dead-path elimination) or
        None (wait). By default it enters on the first taken edge."""
        if "taken" in edge_states:
            return "activate"
        if all(state == "dead" for state in edge_states):
            return "skip"
        return None

    def enter(self, node: Mapping[str, Any]) -> Entry:
        """Say what entering the node does (routing at once by default)."""
        return Pass()


def with_article(kind: str) -> str:
    """Return the node type with its article: "a task", "an end"."""
    return f"an {kind}" if kind[:1] in ("a", "e", "i", "o", "u") else f"a {kind}"


def check_success_and_failure_edges(node: dict[str, Any], checker: Checker) -> None:
    """Require exactly one normal outgoing edge and at most one `on: failure` edge
    (a call, a map), reported as `<type>_edges`."""
    node_id, kind = node["id"], node["type"]
    outgoing = checker.outgoing_of(node_id)
    normal = [edge for edge in outgoing if "on" not in edge]
    failure = [edge for edge in outgoing if edge.get("on") == "failure"]
    if len(normal) != 1:
        checker.error(
            f"{kind}_edges",
            f"{kind} {node_id!r} needs exactly one outgoing edge for success "
            f"(it has {len(normal)})",
            node_id=node_id,
        )
    if len(failure) > 1:
        checker.error(
            f"{kind}_edges",
            f"{kind} {node_id!r} may have at most one on: failure edge "
            f"(it has {len(failure)})",
            node_id=node_id,
        )
