"""Advance: move a run through its graph, persisting what the graph decides."""

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from designer.models import Workflow
from engine.expressions import ExpressionError
from engine.graph.compiled import CompiledGraph
from engine.interpreter import Walker
from engine.nodes import node_type
from engine.nodes.wait import until_delay
from engine.retry import bounded_seconds
from runs.events import EventLog, transition
from runs.joins import join_arrive, join_recount
from runs.models import (
    Attempt,
    AttemptState,
    Run,
    RunState,
    StepRun,
    StepState,
)
from runs.rows import insert_row
from runs.services import handoff_steps, map_steps, message_steps
from runs.services.admission import ACTIVE_TASK_STATES, has_room, max_active_tasks
from runs.services.dispatching import (
    AttemptWork,
    EagerSlot,
    create_attempt,
)
from runs.services.graphs import compiled_graph


def run_start_running(
    run: Run, graph: CompiledGraph, log: EventLog, *, actor: str, now: datetime
) -> None:
    """Move a pending run to running, with the deadline its graph's `timeout_s` sets."""
    timeout = graph.graph.get("timeout_s")
    deadline = now + timedelta(seconds=bounded_seconds(timeout)) if timeout else None
    transition(log, run, "start", actor=actor, at=now, deadline_at=deadline)


def admit(run: Run, graph: CompiledGraph, log: EventLog, *, actor: str) -> None:
    now = timezone.now()
    run_start_running(run, graph, log, actor=actor, now=now)
    advance = Advance(run, graph, log, now=now, actor=actor, steps=[])
    advance.activate(graph.start_id)


def admit_next(workflow_id: int, log: EventLog) -> None:
    """Start the oldest pending run of the workflow if it has room (FIFO)."""
    Workflow.objects.select_for_update(no_key=True).filter(pk=workflow_id).first()
    candidate = (
        Run.objects.filter(workflow_id=workflow_id, state=RunState.PENDING)
        .select_related("version", "workflow")
        .order_by("id")
        .first()
    )
    if candidate is None:
        return
    if not has_room(candidate.workflow, candidate.version, exclude=candidate.pk):
        return
    admit(candidate, compiled_graph(candidate.version), log, actor="system:admission")


class Advance(Walker):
    """Move one run through its graph inside the caller's transaction.

    Edge states are derived from step rows: an edge is taken when its source step
    listed it in `taken_edges`, dead when its source finished without taking it.
    A node whose incoming edges are all dead is skipped, and so are its successors
    (dead-path elimination), so branches not taken show up as `skipped`.
    """

    def __init__(
        self,
        run: Run,
        graph: CompiledGraph,
        log: EventLog,
        *,
        now: datetime,
        actor: str,
        steps: Iterable[StepRun] | None = None,
        eager: "EagerSlot | None" = None,
    ) -> None:
        self.run = run
        self.graph = graph
        self.log = log
        self.now = now
        self.actor = actor
        # When set, the first attempt due now on the slot's queue is started here and
        # handed back to the worker instead of being published.
        self.eager = eager
        self.eager_work: AttemptWork | None = None
        # False while finished steps may be followed a second time (resume): joins
        # then count their arrivals from the step rows.
        self.count_arrivals = True
        # Active (queued, running, retrying) task steps of the run; read on first need.
        self._active_tasks: int | None = None
        # {node_id: [step, ...]} in visit order; read from the database on first need.
        self._steps: dict[str, list[StepRun]] = defaultdict(list)
        self._taken: set[str] = set()
        # {node_id: highest seq stored}, superseded visits included.
        self._seq: dict[str, int] = defaultdict(int)
        self._loaded = steps is not None
        # Nodes whose steps were read (all visits) without reading the whole run: a
        # branch finishing in a wide fan-out reads its join's inputs, not every step.
        self._nodes_read: set[str] = set()
        for step in steps or []:
            step.run = run
            self._remember(step)
        if run.reruns:
            # A rerun's history must be read to tell current visits from old ones.
            self._load()

    @property
    def steps(self) -> dict[str, list[StepRun]]:
        self._load()
        return self._steps

    @property
    def taken(self) -> set[str]:
        self._load()
        return self._taken

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        known = {s.pk for visits in self._steps.values() for s in visits}
        stored = [s for s in self.run.steps.order_by("id") if s.pk not in known]
        mine = self._steps
        self._steps = defaultdict(list)
        self._taken = set()
        for step in sorted(
            stored + [s for visits in mine.values() for s in visits],
            key=lambda s: (s.pk is None, s.pk or 0),
        ):
            step.run = self.run
            self._seq[step.node_id] = max(self._seq[step.node_id], step.seq)
            if self._superseded(step):
                continue
            self._steps[step.node_id].append(step)
            self._taken.update(step.taken_edges or [])

    def _ensure(self, node_ids: Iterable[str]) -> None:
        """Read the stored steps of these nodes, unless the whole run is read."""
        if self._loaded:
            return
        missing = set(node_ids) - self._nodes_read
        if not missing:
            return
        self._nodes_read |= missing
        known = {s.pk for visits in self._steps.values() for s in visits}
        stored = [
            s
            for s in self.run.steps.filter(node_id__in=missing).order_by("id")
            if s.pk not in known
        ]
        for step in stored:
            step.run = self.run
            self._seq[step.node_id] = max(self._seq[step.node_id], step.seq)
            if self._superseded(step):
                continue
            visits = self._steps[step.node_id]
            visits.append(step)
            visits.sort(key=lambda s: (s.pk is None, s.pk or 0))
            self._taken.update(step.taken_edges or [])

    def _superseded(self, step: StepRun) -> bool:
        """Say whether a rerun restarted this visit's node after it (history only)."""
        return step.pk is not None and any(
            step.pk <= rerun["after_step"] and step.node_id in rerun["nodes"]
            for rerun in self.run.reruns
        )

    def remember(self, step: StepRun) -> None:
        """Track a step this transaction loaded or created."""
        step.run = self.run
        self._remember(step)

    def _remember(self, step: StepRun) -> None:
        self._steps[step.node_id].append(step)
        self._seq[step.node_id] = max(self._seq[step.node_id], step.seq)
        self._taken.update(step.taken_edges or [])

    def took(self, edges: Iterable[str]) -> None:
        """Record edges a step took in this transaction."""
        self._taken.update(edges)

    def latest(self, node_id: str) -> StepRun | None:
        self._ensure([node_id])
        visits = self._steps.get(node_id)
        return visits[-1] if visits else None

    def _single_token(self) -> bool:
        """Say whether at most one path is ever active (no parallel, no cycle).

        Then every node is visited at most once, so a node with one incoming edge
        can be activated or skipped from that edge alone, without reading the other
        steps of the run.
        """
        return self.graph.single_token()

    def context(self, *, outcome: Any = None, attempt: int | None = None) -> dict:
        """Return the expression context: input, step outputs, outcome, run, attempt.

        `steps.<id>.output` is the output of the node's latest succeeded visit (on a
        loop, the round before the one under way).
        """
        outputs = {}
        for node_id, visits in self.steps.items():
            done = next(
                (
                    v
                    for v in reversed(visits)
                    if v.state == StepState.SUCCEEDED and v.compensates_id is None
                ),
                None,
            )
            if done is not None:
                outputs[node_id] = {"output": done.output}
        return {
            "input": self.run.input,
            "steps": outputs,
            "outcome": outcome,
            "run": {"id": self.run.pk},
            "attempt": attempt,
        }

    def edge_state(self, edge: Mapping[str, Any]) -> str:
        self._ensure([edge["source"]])
        if edge["id"] in self._taken:
            return "taken"
        source = self.latest(edge["source"])
        if source is not None and source.is_finished:
            return "dead"
        return "open"

    def new_step(self, node_id: str) -> StepRun:
        node = self.graph.node(node_id)
        if self._loaded or not self._single_token():
            self._ensure([node_id])
            seq = self._seq[node_id] + 1
        else:
            seq = 1  # a single-token graph visits each node once
        return StepRun(run=self.run, node_id=node_id, seq=seq, node_type=node["type"])

    def visit_count(self, node_id: str) -> int:
        self._ensure([node_id])
        return len(self._steps.get(node_id, ()))

    def running(self) -> bool:
        return self.run.state == RunState.RUNNING

    # -- how the runtime reads a node's inputs fast (engine.interpreter hooks)

    def arrive(self, node_id: str, via: Mapping[str, Any]) -> bool:
        """Count one resolved edge into a join (O(1)) instead of reading every
        sibling branch; enter it once all are resolved."""
        if not (self.count_arrivals and self._counts_arrivals(node_id)):
            return False
        counted = join_arrive(
            run_id=self.run.pk, node_id=node_id, taken=via["id"] in self._taken
        )
        if counted is None:
            # The first arrival: count from the step rows (also what a run that was
            # already under way when counters came in has done so far).
            self.reconsider(node_id)
            return True
        arrived, taken = counted
        incoming = self.graph.incoming(node_id)
        states = ["taken"] * taken + ["dead"] * (arrived - taken)
        states += ["open"] * (len(incoming) - arrived)
        node = self.graph.node(node_id)
        decision = node_type(node["type"]).entry(node, states)
        if decision is not None and self.latest(node_id) is None:
            if decision == "activate":
                self.activate(node_id)
            else:
                self.skip(node_id)
        return True

    def shortcut(self, node_id: str) -> bool:
        """On a single-token graph a node with one incoming edge is entered or
        skipped from that edge alone, without reading the run's other steps."""
        if self._loaded or not self._single_token():
            return False
        incoming = self.graph.incoming(node_id)
        if len(incoming) != 1:
            return False
        if incoming[0]["id"] in self._taken:
            self.activate(node_id)
        else:
            self.skip(node_id)
        return True

    def prepare(self, node_id: str) -> None:
        self._ensure([node_id, *(e["source"] for e in self.graph.incoming(node_id))])

    def observe(self, node_id: str, states: list[str]) -> None:
        if self._counts_arrivals(node_id):
            resolved = [s for s in states if s != "open"]
            join_recount(
                run_id=self.run.pk,
                node_id=node_id,
                arrived=len(resolved),
                taken=resolved.count("taken"),
            )

    def _counts_arrivals(self, node_id: str) -> bool:
        """Say whether a join's arrivals are counted (see runs.joins).

        A rerun's history and a join on a loop (several visits) are read from the
        step rows instead.
        """
        return (
            self.graph.node(node_id)["type"] == "join"
            and not self.run.reruns
            and not self.graph.on_cycle(node_id)
        )

    # -- persisting what the walk decides (engine.interpreter effects)

    def record_skip(self, step: StepRun) -> None:
        transition(
            self.log,
            step,
            "skip",
            actor=self.actor,
            reason="branch not taken",
            at=self.now,
        )
        self._remember(step)

    def record_pass(
        self, step: StepRun, taken: list[str], *, record_taken: bool
    ) -> None:
        transition(
            self.log,
            step,
            "succeed",
            actor=self.actor,
            output=None,
            taken_edges=taken,
            at=self.now,
            data={"taken_edges": taken} if record_taken else None,
        )
        self._remember(step)

    def record_failure(self, step: StepRun, error: dict[str, Any]) -> None:
        if not any(s is step for s in self._steps[step.node_id]):
            self._remember(step)
        transition(
            self.log,
            step,
            "fail",
            actor=self.actor,
            error=error,
            taken_edges=[],
            at=self.now,
            reason=error["message"],
        )

    def record_end(self, step: StepRun, node: dict[str, Any]) -> None:
        transition(
            self.log,
            step,
            "succeed",
            actor=self.actor,
            output=None,
            taken_edges=[],
            at=self.now,
        )
        self._remember(step)

    def start_work(self, step: StepRun) -> None:
        if not self._task_slot_free():
            self._hold(step)
            return
        # Inserted by create_attempt, possibly already running (eager start).
        transition(self.log, step, "enqueue", actor=self.actor, save=False)
        self._remember(step)
        create_attempt(self, step, number=1, due_at=self.now)

    def start_sleep(
        self, step: StepRun, seconds: float, until: datetime | None = None
    ) -> None:
        if until is not None:
            try:
                seconds = until_delay(until, self.now)
            except ExpressionError as exc:
                self.fail_on_expression(step, exc)
                return
        until = self.now + timedelta(seconds=seconds)
        transition(
            self.log,
            step,
            "wait",
            actor=self.actor,
            until=until,
            data={"wake_at": until.isoformat()},
        )
        self._remember(step)

    def start_receive(
        self, step: StepRun, name: str, key: str, timeout_s: float | None
    ) -> None:
        message_steps.receive_start(self, step, name=name, key=key, timeout_s=timeout_s)

    def start_map(self, step: StepRun, items: list[Any]) -> None:
        map_steps.map_start(self, step, items)

    def start_handoff(self, step: StepRun, node: dict[str, Any]) -> None:
        handoff_steps.open_node_handoff(self, step, node)
        self._remember(step)

    def _task_slot_free(self) -> bool:
        """Say whether one more task of this run may be queued now (and count it).

        A run on one path has one task at a time. A fan-out gets at most
        `SWITCHYARD_RUN_MAX_ACTIVE_TASKS` queued, running or retrying tasks; the rest
        wait as held steps, so one wide run never fills the queues ahead of other
        runs (like Airflow's max_active_tasks).
        """
        if self._single_token():
            return True
        if self._active_tasks is None:
            self._active_tasks = StepRun.objects.filter(
                run=self.run,
                node_type="task",
                state__in=ACTIVE_TASK_STATES,
                compensates__isnull=True,
            ).count()
        if self._active_tasks >= max_active_tasks():
            return False
        self._active_tasks += 1
        return True

    def _hold(self, step: StepRun) -> None:
        """Keep a task step pending until a task of its run finishes."""
        insert_row(step)
        self._remember(step)
        self.log.add(
            "step_held",
            run=self.run,
            step=step,
            to_state=step.state,
            actor=self.actor,
            reason=f"the run has {max_active_tasks()} tasks active; waits for one "
            "to finish",
        )

    def release_held(self) -> None:
        """Queue held task steps while the run has free task slots.

        Released attempts are published, never started on the finishing worker:
        the worker goes back to the queue, where other runs' steps are waiting too.
        """
        if self._single_token() or self.run.state != RunState.RUNNING:
            return
        while True:
            held = (
                StepRun.objects.filter(
                    run=self.run, state=StepState.PENDING, node_type="task"
                )
                .order_by("id")
                .values_list("pk", "node_id")
                .first()
            )
            if held is None or not self._task_slot_free():
                return
            self._ensure([held[1]])
            step = next(s for s in self._steps[held[1]] if s.pk == held[0])
            transition(
                self.log, step, "enqueue", actor=self.actor, reason="a task slot freed"
            )
            create_attempt(self, step, number=1, due_at=self.now, eager=False)

    def finish(self, end_node: dict) -> None:
        """Finish the run at an end node, cancelling whatever else is still active."""
        self.cancel_active(reason=f"run reached end {end_node['id']}")
        if end_node.get("status", "succeeded") == "failed":
            error = {
                "type": "EndFailed",
                "message": f"reached failing end {end_node['id']}",
                "node_id": end_node["id"],
            }
            transition(
                self.log, self.run, "fail", actor=self.actor, error=error, at=self.now
            )
        else:
            transition(
                self.log,
                self.run,
                "succeed",
                actor=self.actor,
                output=self.run_output(),
                at=self.now,
            )
        admit_next(self.run.workflow_id, self.log)

    def fail_run(self, error: dict) -> None:
        """Fail the run; compensate its completed steps if any declare how (saga)."""
        self.cancel_active(reason="run failed")
        transition(
            self.log, self.run, "fail", actor=self.actor, error=error, at=self.now
        )
        if self._to_compensate():
            transition(
                self.log,
                self.run,
                "compensate",
                actor=self.actor,
                reason="undo completed steps in reverse completion order",
            )
            self.compensate_next()
            return
        admit_next(self.run.workflow_id, self.log)

    def _to_compensate(self) -> list[StepRun]:
        """Return completed steps still to undo, the last completed first."""
        undone = {
            s.compensates_id
            for visits in self.steps.values()
            for s in visits
            if s.compensates_id is not None
        }
        todo = [
            s
            for visits in self.steps.values()
            for s in visits
            if s.state == StepState.SUCCEEDED
            and s.compensates_id is None
            and s.node_type == "task"
            and s.pk not in undone
            and self.graph.node(s.node_id).get("compensate_with")
        ]
        return sorted(todo, key=lambda s: (s.finished_at, s.pk), reverse=True)

    def compensate_next(self) -> None:
        """Start the next compensation, or finish compensating when none is left."""
        todo = self._to_compensate()
        if not todo:
            transition(self.log, self.run, "compensated", actor=self.actor, at=self.now)
            admit_next(self.run.workflow_id, self.log)
            return
        target = todo[0]
        node_id = self.graph.node(target.node_id)["compensate_with"]
        step = self.new_step(node_id)
        step.compensates = target
        transition(
            self.log,
            step,
            "enqueue",
            kind="step_compensating",
            actor=self.actor,
            reason=f"compensates {target.node_id}",
            data={"compensates": target.node_id, "compensates_step": target.pk},
            save=False,
        )
        self._remember(step)
        create_attempt(self, step, number=1, due_at=self.now)

    def compensation_failed(self, step: StepRun) -> None:
        transition(
            self.log,
            self.run,
            "compensation_fail",
            actor=self.actor,
            reason=f"compensation {step.node_id} failed",
            at=self.now,
        )
        admit_next(self.run.workflow_id, self.log)

    def run_output(self) -> dict[str, Any]:
        """Return the outputs of the run's succeeded task steps by node id."""
        return {
            node_id: visits[-1].output
            for node_id, visits in self.steps.items()
            if visits[-1].node_type == "task"
            and visits[-1].state == StepState.SUCCEEDED
            and visits[-1].compensates_id is None
        }

    def cancel_feeders(self, join_id: str) -> None:
        """Cancel the unfinished branches feeding a join `any` that just fired."""
        feeders = self.graph.ancestors(join_id)
        self.cancel_active(
            reason=f"join {join_id} continued with the first branch",
            only=lambda node_id: node_id in feeders,
        )

    def cancel_active(
        self, *, reason: str, only: "Callable[[str], bool] | None" = None
    ) -> None:
        active_steps = [
            visits[-1]
            for node_id, visits in self.steps.items()
            if not visits[-1].is_finished and (only is None or only(node_id))
        ]
        if not active_steps:
            return
        handoff_steps.cancel_handoffs(self, active_steps, reason=reason)
        attempts = Attempt.objects.filter(
            step__in=active_steps,
            state__in=[
                AttemptState.SCHEDULED,
                AttemptState.QUEUED,
                AttemptState.RUNNING,
            ],
        ).select_related("step")
        by_step = {s.pk: s for s in active_steps}
        for attempt in attempts:
            attempt.run = self.run
            attempt.step = by_step[attempt.step_id]
            transition(
                self.log,
                attempt,
                "cancel",
                actor=self.actor,
                reason=reason,
                at=self.now,
            )
        for step in active_steps:
            transition(
                self.log, step, "cancel", actor=self.actor, reason=reason, at=self.now
            )

    def wake(self, step_id: int) -> bool:
        """Finish a wait step whose time came (a receive: its timeout) and follow
        its edges."""
        step = next(
            (v[-1] for v in self.steps.values() if v and v[-1].pk == step_id), None
        )
        if step is None or step.state != StepState.WAITING:
            return False
        if step.node_type == "receive":
            message_steps.receive_timeout(self, step)
            return True
        taken = self.graph.route(step.node_id, succeeded=True, context={})
        transition(
            self.log,
            step,
            "succeed",
            actor=self.actor,
            output=None,
            taken_edges=taken,
            at=self.now,
            reason="timer fired",
        )
        self.took(taken)
        self.follow(step)
        return True

    # ------------------------------------------------------------------- crash safety
