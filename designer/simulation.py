"""The test-case simulator: run a graph in memory with mocked tasks and handoffs.

`simulate` walks the graph with the engine's own walker (`engine.interpreter.Walker`:
the same entry rules, dead-path elimination, joins and loops) and the same routing,
retry policies, failure edges and compensation, without touching the database,
calling an action, or waiting: no side effects, so a draft can be tested as freely as
a published version.
"""

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.evaluation_budget import charge
from engine.expressions import ExpressionError
from engine.graph.compiled import CompiledGraph
from engine.interpreter import Walker
from engine.nodes.map import tolerated

# A graph whose test loops forever stops here.
MAX_STEPS = 2000


@dataclass
class SimStep:
    node_id: str
    seq: int
    node_type: str
    state: str = "pending"  # succeeded | failed | skipped | cancelled | pending
    output: Any = None
    error: dict[str, Any] | None = None
    attempts: int = 0
    taken_edges: list[str] = field(default_factory=list)
    compensates: str | None = None
    params: Any = None

    @property
    def finished(self) -> bool:
        return self.state in ("succeeded", "failed", "skipped", "cancelled")

    @property
    def is_finished(self) -> bool:
        return self.finished

    def to_dict(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "seq": self.seq,
            "type": self.node_type,
            "state": self.state,
            "output": self.output,
            "error": self.error,
            "attempts": self.attempts,
            "taken_edges": self.taken_edges,
            "compensates": self.compensates,
            "params": self.params,
        }


@dataclass
class SimResult:
    state: str
    end: str | None
    path: list[str]
    edges: list[str]
    steps: list[SimStep]
    error: dict[str, Any] | None
    unmocked: list[str]
    problems: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "end": self.end,
            "path": self.path,
            "edges": self.edges,
            "steps": [s.to_dict() for s in self.steps],
            "error": self.error,
            "unmocked": self.unmocked,
            "problems": self.problems,
        }


class Simulation(Walker):
    """One in-memory run of a graph, walked by the engine's own rules
    (`engine.interpreter.Walker`, as `runs.services.advancing.Advance`)."""

    def __init__(
        self,
        graph: CompiledGraph,
        *,
        input: Any,
        mocks: dict[str, Any],
        outcomes: dict[str, Any],
    ) -> None:
        self.graph = graph
        self.input = input
        self.mocks = mocks
        self.outcomes = outcomes
        self.visits: dict[str, list[SimStep]] = {}
        self.order: list[SimStep] = []
        self.taken: list[str] = []
        self.taken_set: set[str] = set()
        self.ready: deque[SimStep] = deque()
        self.state = "running"
        self.end: str | None = None
        self.error: dict[str, Any] | None = None
        self.path: list[str] = []
        self.unmocked: list[str] = []
        self.problems: list[str] = []
        # {id(step): items} of the map steps waiting to run
        self.map_items: dict[int, list[Any]] = {}

    # ------------------------------------------------------------ what the walk reads

    def running(self) -> bool:
        return self.state == "running"

    def latest(self, node_id: str) -> SimStep | None:
        visits = self.visits.get(node_id)
        return visits[-1] if visits else None

    def visit_count(self, node_id: str) -> int:
        return len(self.visits.get(node_id, ()))

    def edge_state(self, edge: Mapping[str, Any]) -> str:
        if edge["id"] in self.taken_set:
            return "taken"
        source = self.latest(edge["source"])
        if source is not None and source.finished:
            return "dead"
        return "open"

    def context(self, *, outcome: Any = None, attempt: int | None = None) -> dict:
        # A node's latest succeeded visit, as the engine's.
        outputs = {}
        for node_id, visits in self.visits.items():
            done = [
                v for v in visits if v.state == "succeeded" and v.compensates is None
            ]
            if done:
                outputs[node_id] = {"output": done[-1].output}
        return {
            "input": self.input,
            "steps": outputs,
            "outcome": outcome,
            "run": {"id": 0},
            "attempt": attempt,
        }

    # ------------------------------------------------------------ what the walk does

    def may_activate(self, node_id: str) -> bool:
        charge()
        if len(self.order) >= MAX_STEPS:
            self.problems.append(
                f"stopped after {MAX_STEPS} steps: the graph loops without end"
            )
            self.fail_run({"type": "StepLimit", "message": "too many steps"})
            return False
        return True

    def new_step(self, node_id: str) -> SimStep:
        node = self.graph.node(node_id)
        visits = self.visits.setdefault(node_id, [])
        step = SimStep(node_id=node_id, seq=len(visits) + 1, node_type=node["type"])
        visits.append(step)
        self.order.append(step)
        return step

    def record_skip(self, step: SimStep) -> None:
        self.finish_step(step, "skipped")

    def record_pass(
        self, step: SimStep, taken: list[str], *, record_taken: bool
    ) -> None:
        self.finish_step(step, "succeeded")
        self.took(step, taken)

    def record_failure(self, step: SimStep, error: dict[str, Any]) -> None:
        self.finish_step(step, "failed", error=error)

    def record_end(self, step: SimStep, node: dict[str, Any]) -> None:
        self.finish_step(step, "succeeded")

    def start_work(self, step: SimStep) -> None:
        self.ready.append(step)

    def start_sleep(
        self, step: SimStep, seconds: float, until: datetime | None = None
    ) -> None:
        self.ready.append(step)  # time passes at once

    def start_handoff(self, step: SimStep, node: dict[str, Any]) -> None:
        self.ready.append(step)

    def start_map(self, step: SimStep, items: list[Any]) -> None:
        step.params = {"items": len(items)}
        self.map_items[id(step)] = items
        self.ready.append(step)

    def start_receive(
        self, step: SimStep, name: str, key: str, timeout_s: float | None
    ) -> None:
        self.ready.append(step)

    def took(self, step: SimStep, edges: list[str]) -> None:
        step.taken_edges = edges
        for edge in edges:
            self.taken.append(edge)
            self.taken_set.add(edge)

    def finish_step(
        self, step: SimStep, state: str, *, output: Any = None, error: Any = None
    ) -> None:
        step.state = state
        step.output = output
        step.error = error
        if state in ("succeeded", "failed"):
            self.path.append(step.node_id)

    # ------------------------------------------------------------ execution

    def run(self) -> None:
        start = self.graph.start_id
        self.activate(start)
        while self.ready and self.state in ("running", "compensating"):
            step = self.ready.popleft()
            if step.finished:
                continue
            kind = step.node_type
            if kind in ("task", "call"):
                self.execute_task(step)  # a call is mocked like a task
            elif kind == "handoff":
                self.resolve_handoff(step)
            elif kind == "receive":
                self.receive(step)
            elif kind == "map":
                self.run_map(step, self.map_items.pop(id(step), []))
            else:  # wait: time passes at once
                taken = self.graph.route(step.node_id, succeeded=True, context={})
                self.finish_step(step, "succeeded")
                self.took(step, taken)
                self.follow(step)
        if self.state == "running" and not self.ready:
            waiting = [s.node_id for s in self.order if not s.finished]
            if waiting:
                self.problems.append(f"stuck waiting on {', '.join(waiting)}")

    def run_map(self, step: SimStep, items: list[Any]) -> None:
        """Run a map's items with its mock: one for every item, or a list giving one
        per item (the last repeats); items retry per the node's policy."""
        node_id = step.node_id
        node = self.graph.node(node_id)
        policy = self.graph.retry_policy(node_id)
        mock = self.mocks.get(node_id)
        if mock is None:
            self.unmocked.append(node_id)
        outputs: list[Any] = []
        failed = 0
        error: dict[str, Any] | None
        for index, item in enumerate(items):
            charge()
            each = mock[min(index, len(mock) - 1)] if isinstance(mock, list) else mock
            each = each if isinstance(each, dict) else None
            attempt = 0
            while True:
                attempt += 1
                context = {
                    **self.context(attempt=attempt),
                    "item": item,
                    "index": index,
                }
                try:
                    self.graph.params(node_id, context)
                except ExpressionError as exc:
                    error = {
                        "type": "ExpressionError",
                        "message": str(exc),
                        "retryable": False,
                    }
                    output = None
                    break
                error, output = _mocked(each)
                if error is None or not (
                    error.get("retryable", True)
                    and policy.should_retry(attempt, error.get("type", "Error"))
                ):
                    break
            outputs.append(output if error is None else None)
            failed += error is not None
        if failed > tolerated(node, len(items)):
            error = {
                "type": "MapFailed",
                "message": f"{failed} of {len(items)} items failed",
                "node_id": node_id,
            }
            failure = [e["id"] for e in self.graph.failure_outgoing(node_id)]
            self.finish_step(step, "failed", error=error)
            self.took(step, failure)
            if failure:
                self.follow(step)
            else:
                self.fail_run(error)
            return
        taken = [e["id"] for e in self.graph.normal_outgoing(node_id)]
        self.finish_step(step, "succeeded", output=outputs)
        self.took(step, taken)
        self.follow(step)

    def receive(self, step: SimStep) -> None:
        """A receive takes its mocked message (`{"message": payload}`) or times out
        (`{"timeout": true}`); without a mock the run waits, as a real one would."""
        mock = self.mock_for(step.node_id, step.seq)
        if mock is None:
            self.problems.append(f"receive {step.node_id!r} has no mocked message")
            return
        if mock.get("timeout") is True:
            taken = [e["id"] for e in self.graph.timeout_outgoing(step.node_id)]
            if not taken:
                self.problems.append(
                    f"receive {step.node_id!r} is mocked to time out but has no wait_s"
                )
                return
            self.finish_step(step, "succeeded")
        else:
            taken = [e["id"] for e in self.graph.normal_outgoing(step.node_id)]
            self.finish_step(step, "succeeded", output=mock.get("message"))
        self.took(step, taken)
        self.follow(step)

    def mock_for(self, node_id: str, seq: int = 1) -> dict[str, Any] | None:
        """Return a task's mock for its visit `seq`: one mock serves every visit; a
        list gives one per visit of a loop (the last repeats)."""
        mock = self.mocks.get(node_id)
        if isinstance(mock, list) and mock:
            mock = mock[min(seq, len(mock)) - 1]
        return mock if isinstance(mock, dict) else None

    def execute_task(self, step: SimStep) -> None:
        node_id = step.node_id
        policy = self.graph.retry_policy(node_id)
        mock = self.mock_for(node_id, step.seq)
        if mock is None:
            self.unmocked.append(node_id)
        error: dict[str, Any] | None = None
        output: Any = None
        attempt = 0
        while True:
            attempt += 1
            charge()
            try:
                step.params = self.graph.params(node_id, self.context(attempt=attempt))
            except ExpressionError as exc:
                error = {"type": "ExpressionError", "message": str(exc)}
                error["retryable"] = False
            else:
                error, output = _mocked(mock)
            if error is None:
                break
            retryable = error.get("retryable", True) and policy.should_retry(
                attempt, error.get("type", "Error")
            )
            if not retryable or attempt >= policy.max_attempts:
                break
        step.attempts = attempt
        if step.compensates is not None:
            if error is None:
                self.finish_step(step, "succeeded", output=output)
                self.compensate_next()
            else:
                self.finish_step(step, "failed", error=error)
                self.state = "compensation_failed"
            return
        if error is None:
            taken = self.graph.route(node_id, succeeded=True, context={})
            self.finish_step(step, "succeeded", output=output)
            self.took(step, taken)
            self.follow(step)
            return
        failure = [e["id"] for e in self.graph.failure_outgoing(node_id)]
        self.finish_step(step, "failed", error=error)
        self.took(step, failure)
        if failure:
            self.follow(step)
            return
        self.fail_run({**error, "node_id": node_id})

    def resolve_handoff(self, step: SimStep) -> None:
        node_id = step.node_id
        mocked = self.outcomes.get(node_id)
        outcome = mocked.get("outcome") if isinstance(mocked, dict) else mocked
        outcomes = self.graph.node(node_id).get("outcomes", [])
        if outcome is None:
            self.problems.append(f"handoff {node_id!r} has no mocked outcome")
            return  # the run waits, as a real one would
        if outcome not in outcomes:
            self.problems.append(
                f"handoff {node_id!r}: outcome {outcome!r} is not one of "
                f"{', '.join(outcomes)}"
            )
            return
        try:
            taken = self.graph.route(
                node_id, succeeded=True, context=self.context(outcome=outcome)
            )
        except ExpressionError as exc:
            self.fail_on_expression(step, exc)
            return
        self.finish_step(step, "succeeded", output={"outcome": outcome})
        self.took(step, taken)
        if not taken:
            self.fail_run(
                {
                    "type": "NoRoute",
                    "message": f"no edge out of {node_id!r} for outcome {outcome!r}",
                    "node_id": node_id,
                }
            )
            return
        self.follow(step)

    # ------------------------------------------------------------ run ends

    def cancel_active(self, only: frozenset[str] | None = None) -> None:
        for step in self.order:
            if not step.finished and (only is None or step.node_id in only):
                step.state = "cancelled"

    def cancel_feeders(self, join_id: str) -> None:
        self.cancel_active(only=self.graph.ancestors(join_id))

    def finish(self, end_node: dict[str, Any]) -> None:
        self.cancel_active()
        self.end = end_node["id"]
        if end_node.get("status", "succeeded") == "failed":
            self.state = "failed"
            self.error = {
                "type": "EndFailed",
                "message": f"reached failing end {end_node['id']}",
                "node_id": end_node["id"],
            }
        else:
            self.state = "succeeded"

    def fail_run(self, error: dict[str, Any]) -> None:
        self.cancel_active()
        self.state = "failed"
        self.error = error
        if self.to_compensate():
            self.state = "compensating"
            self.compensate_next()

    def to_compensate(self) -> list[SimStep]:
        undone = {s.compensates for s in self.order if s.compensates is not None}
        todo = [
            s
            for s in self.order
            if s.state == "succeeded"
            and s.compensates is None
            and s.node_type == "task"
            and f"{s.node_id}#{s.seq}" not in undone
            and self.graph.node(s.node_id).get("compensate_with")
        ]
        # Steps finish in order here, so the last in `order` finished last.
        return list(reversed(todo))

    def compensate_next(self) -> None:
        todo = self.to_compensate()
        if not todo:
            self.state = "compensated"
            return
        target = todo[0]
        node_id = self.graph.node(target.node_id)["compensate_with"]
        step = self.new_step(node_id)
        step.compensates = f"{target.node_id}#{target.seq}"
        self.ready.append(step)

    def result(self) -> SimResult:
        return SimResult(
            state=self.state,
            end=self.end,
            path=self.path,
            edges=self.taken,
            steps=self.order,
            error=self.error,
            unmocked=sorted(set(self.unmocked)),
            problems=self.problems,
        )


def _mocked(mock: dict[str, Any] | None) -> tuple[dict[str, Any] | None, Any]:
    """Return (error, output) of one mocked attempt; no mock: an empty output."""
    if mock is None:
        return None, {}
    if "error" in mock:
        error: dict[str, Any] = {
            "type": str(mock["error"]),
            "message": str(mock.get("message", "mocked error")),
        }
        if mock.get("retryable") is False:
            error["retryable"] = False
        return error, None
    return None, mock.get("output", {})


def simulate(
    graph: dict[str, Any] | CompiledGraph,
    *,
    input: Any = None,
    mocks: dict[str, Any] | None = None,
    outcomes: dict[str, Any] | None = None,
) -> SimResult:
    """Run a graph in memory with mocked tasks and handoff outcomes.

    Every step and evaluation is charged to the open evaluation budget (the request's:
    designer.limits.simulation_budget), if any.
    """
    compiled = graph if isinstance(graph, CompiledGraph) else CompiledGraph(graph)
    simulation = Simulation(
        compiled,
        input=input if input is not None else {},
        mocks=mocks or {},
        outcomes=outcomes or {},
    )
    simulation.run()
    return simulation.result()
