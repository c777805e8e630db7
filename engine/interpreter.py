"""The one walk of a workflow graph, shared by the runtime and the simulator.

`Walker` decides, node by node, what happens when an edge resolves: enter the node,
skip it (dead-path elimination), wait for more edges, or visit it again on a loop. It
asks each node's type (`engine.nodes`) what entering it does, and leaves every effect
to its subclass: `runs.services.advancing.Advance` persists each decision as FSM
transitions with events; `designer.simulation.Simulation` records it in memory for a
test case. The rules live here once, so a test case takes the path a run takes.

Pure: no Django, no database, no clock.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from engine.expressions import ExpressionError, compile_expression
from engine.graph.compiled import CompiledGraph
from engine.nodes import node_type
from engine.nodes.base import (
    AwaitHandoff,
    AwaitMessage,
    Finish,
    MapItems,
    Pass,
    Sleep,
    Work,
)
from engine.nodes.map import item_list
from engine.nodes.receive import correlation_key
from engine.nodes.wait import parse_until

TAKEN, DEAD, OPEN = "taken", "dead", "open"


class Step(Protocol):
    """A visit of a node, as the walker reads it."""

    node_id: str
    state: str

    @property
    def is_finished(self) -> bool: ...

    @property
    def taken_edges(self) -> list[str] | None: ...


class Walker(ABC):
    """Walk a run's graph: what to do when edges resolve and nodes are entered."""

    graph: CompiledGraph

    # -- what the subclass answers -------------------------------------------------

    @abstractmethod
    def running(self) -> bool:
        """Say whether the run still moves forward (not paused, failed or ended)."""

    @abstractmethod
    def latest(self, node_id: str) -> Any:
        """Return the node's current visit (a Step), or None if it has none."""

    @abstractmethod
    def visit_count(self, node_id: str) -> int:
        """Return how many times the run has visited the node."""

    @abstractmethod
    def edge_state(self, edge: Mapping[str, Any]) -> str:
        """Return "taken", "dead" (its source finished without taking it) or "open"."""

    @abstractmethod
    def context(self, *, outcome: Any = None, attempt: int | None = None) -> dict:
        """Return the expression context: input, step outputs, outcome, run, attempt."""

    # -- what the subclass does ----------------------------------------------------

    @abstractmethod
    def new_step(self, node_id: str) -> Any:
        """Return a new visit of the node (not yet recorded)."""

    @abstractmethod
    def record_skip(self, step: Any) -> None:
        """Record a visit skipped because no edge into it was taken."""

    @abstractmethod
    def record_pass(self, step: Any, taken: list[str], *, record_taken: bool) -> None:
        """Record a visit that succeeded at once, taking these edges."""

    @abstractmethod
    def record_failure(self, step: Any, error: dict[str, Any]) -> None:
        """Record a visit that failed on entry (its routing could not be evaluated)."""

    @abstractmethod
    def start_work(self, step: Any) -> None:
        """Queue the visit's first attempt (a task)."""

    @abstractmethod
    def start_sleep(
        self, step: Any, seconds: float, until: datetime | None = None
    ) -> None:
        """Put the visit to sleep for `seconds`, or until the moment `until` (the
        time the node's expression gave) (a wait)."""

    @abstractmethod
    def start_handoff(self, step: Any, node: dict[str, Any]) -> None:
        """Open the visit's handoff; it waits for an outcome."""

    @abstractmethod
    def start_receive(
        self, step: Any, name: str, key: str, timeout_s: float | None
    ) -> None:
        """Wait for message `name` with correlation `key` (a receive); a message
        already waiting is taken at once."""

    @abstractmethod
    def start_map(self, step: Any, items: list[Any]) -> None:
        """Run the node's action once per item (a map)."""

    @abstractmethod
    def record_end(self, step: Any, node: dict[str, Any]) -> None:
        """Record that the run reached an end node; `finish` follows."""

    @abstractmethod
    def finish(self, end_node: dict[str, Any]) -> None:
        """Finish the run at an end node (its `status`), cancelling what still runs."""

    @abstractmethod
    def fail_run(self, error: dict[str, Any]) -> None:
        """Fail the run (and compensate, if steps declare how)."""

    @abstractmethod
    def cancel_feeders(self, join_id: str) -> None:
        """Cancel the unfinished branches upstream of a join `any` that fired."""

    # -- hooks with a default ------------------------------------------------------

    def may_activate(self, node_id: str) -> bool:
        """Say whether one more visit may start (a simulator's step limit)."""
        return True

    def arrive(self, node_id: str, via: Mapping[str, Any]) -> bool:
        """Handle one resolved edge into a node faster than reading its incoming
        edges (the runtime counts a join's arrivals); True when handled."""
        return False

    def shortcut(self, node_id: str) -> bool:
        """Decide a node's entry without reading all its inputs; True when done."""
        return False

    def prepare(self, node_id: str) -> None:
        """Get ready to read the node's incoming edges (the runtime reads rows)."""
        return None

    def observe(self, node_id: str, states: list[str]) -> None:
        """See the states of a node's incoming edges before deciding (join counts)."""
        return None

    # -- the walk ------------------------------------------------------------------

    def follow(self, step: Any) -> None:
        """Propagate a finished visit along its outgoing edges, in document order."""
        for edge in self.graph.outgoing(step.node_id):
            self.reconsider(edge["target"], via=edge, source=step)

    def reconsider(
        self,
        node_id: str,
        *,
        via: Mapping[str, Any] | None = None,
        source: Any = None,
    ) -> None:
        """Activate or skip a node after the state of an incoming edge changed.

        `via` is the edge that just resolved, when exactly one did, and `source` the
        visit that resolved it: a node on a loop is then entered again.
        """
        if not self.running():
            return
        if via is not None and self.arrive(node_id, via):
            return
        if (
            via is not None
            and source is not None
            and via["id"] in (source.taken_edges or [])
            and self.reenter(node_id)
        ):
            return
        if self.shortcut(node_id):
            return
        self.prepare(node_id)
        states = [self.edge_state(e) for e in self.graph.incoming(node_id)]
        self.observe(node_id, states)
        if self.latest(node_id) is not None:
            return
        node = self.graph.node(node_id)
        decision = node_type(node["type"]).entry(node, states)
        if decision == "activate":
            self.activate(node_id)
        elif decision == "skip":
            self.skip(node_id)

    def reenter(self, node_id: str) -> bool:
        """Visit a node again, an edge into it having just been taken; False when
        the usual entry rule decides (a first visit, a node off any loop).

        A node on a loop, or a loop's exit skipped on an earlier round, is entered
        again. A visit past the node's `max_visits` fails the run
        (MaxVisitsExceeded): the bound is a guard, so a loop should leave by its own
        condition first.
        """
        graph = self.graph
        if not graph.has_cycle():
            return False
        node = graph.node(node_id)
        if not node_type(node["type"]).reenters:
            return False
        latest = self.latest(node_id)
        if latest is None:
            return False
        if not graph.on_cycle(node_id) and latest.state != "skipped":
            return False
        if not latest.is_finished:
            return True  # a visit is under way: the edge joins it
        visits = self.visit_count(node_id)
        limit = graph.max_visits(node_id)
        if limit is not None and visits >= limit:
            self.fail_run(
                {
                    "type": "MaxVisitsExceeded",
                    "message": f"node {node_id!r} was visited {visits} times; its "
                    f"max_visits is {limit}",
                    "node_id": node_id,
                }
            )
            return True
        self.activate(node_id)
        return True

    def skip(self, node_id: str) -> None:
        step = self.new_step(node_id)
        self.record_skip(step)
        self.follow(step)

    def activate(self, node_id: str) -> None:
        """Enter a node and do what its type says entering it does."""
        if not self.may_activate(node_id):
            return
        node = self.graph.node(node_id)
        entry = node_type(node["type"]).enter(node)
        step = self.new_step(node_id)
        if isinstance(entry, Work):
            self.start_work(step)
        elif isinstance(entry, Sleep):
            if entry.until is None:
                self.start_sleep(step, entry.seconds)
                return
            try:
                until = parse_until(
                    compile_expression(entry.until).evaluate(self.context())
                )
            except ExpressionError as exc:
                self.fail_on_expression(
                    step, ExpressionError(f"until: {exc.message}", exc.source)
                )
                return
            self.start_sleep(step, entry.seconds, until)
        elif isinstance(entry, AwaitHandoff):
            self.start_handoff(step, node)
        elif isinstance(entry, AwaitMessage):
            try:
                key = correlation_key(
                    compile_expression(entry.key).evaluate(self.context())
                )
            except ExpressionError as exc:
                self.fail_on_expression(
                    step, ExpressionError(f"key: {exc.message}", exc.source)
                )
                return
            self.start_receive(step, entry.name, key, entry.timeout_s)
        elif isinstance(entry, MapItems):
            try:
                items = item_list(
                    compile_expression(entry.items).evaluate(self.context())
                )
            except ExpressionError as exc:
                self.fail_on_expression(
                    step, ExpressionError(f"items: {exc.message}", exc.source)
                )
                return
            self.start_map(step, items)
        elif isinstance(entry, Finish):
            self.record_end(step, node)
            self.finish(node)
        elif isinstance(entry, Pass):
            if entry.cancel_feeders:
                self.cancel_feeders(node_id)
            try:
                taken = self.graph.route(
                    node_id, succeeded=True, context=self.context()
                )
            except ExpressionError as exc:
                self.fail_on_expression(step, exc)
                return
            self.record_pass(step, taken, record_taken=entry.record_taken)
            self.follow(step)
        else:  # pragma: no cover - a node type returned something unknown
            raise TypeError(f"node type {node['type']!r} entered as {entry!r}")

    def fail_on_expression(self, step: Any, exc: ExpressionError) -> None:
        """Fail a visit whose routing expression could not be evaluated, and the run."""
        error = {
            "type": "ExpressionError",
            "message": str(exc),
            "node_id": step.node_id,
        }
        self.record_failure(step, error)
        self.fail_run(error)
