"""Services that change runs: every state change is an FSM transition with an Event."""

import logging
import random
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_fsm import ConcurrentTransition

from designer import rollout
from designer.models import VersionStatus, Workflow, WorkflowVersion
from engine.actions import ActionContext
from engine.dispatch import publish_attempt
from engine.expressions import ExpressionError, param_expressions
from engine.graph.compiled import CompiledGraph, entry_decision
from engine.retry import bounded_seconds
from runs import handoffs
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
from runs.rows import insert_row, select_attempt
from runs.sweeping import each_isolated, mark_attempt, mark_timer

logger = logging.getLogger("switchyard.runs")

DEFAULT_MAX_CONCURRENT_RUNS = 50
DEFAULT_RUN_MAX_ACTIVE_TASKS = 64
# A task step in one of these states holds one of its run's task slots.
ACTIVE_TASK_STATES = (StepState.QUEUED, StepState.RUNNING, StepState.RETRY_WAIT)
# Retries due sooner than this are published with a short countdown; later ones wait in
# the database (`scheduled`) until the scheduler publishes them at `due_at`.
SHORT_RETRY_S = 2.0

# {version id: compiled graph}. Only published versions run, and the database refuses
# any change to a published version, so the id alone identifies the graph.
_GRAPH_CACHE: dict[int, CompiledGraph] = {}


class RunError(Exception):
    """A run request that cannot be carried out (bad version, no live version).

    Codes in BAD_REQUEST are the caller's mistake (400); the rest conflict with the
    run's or workflow's current state (409).
    """

    BAD_REQUEST = frozenset(
        {
            "bad_version",
            "unknown_node",
            "no_failed_step",
            "bad_input",
            "bad_outcome",
            "bad_assignee",
            "bad_verdict",
            "bad_note",
        }
    )
    # The user may not do this to this object (403).
    FORBIDDEN = frozenset({"not_assignee", "claimed_by_other", "not_allowed"})

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def compiled_graph(version: WorkflowVersion) -> CompiledGraph:
    """Return the compiled graph of a published version, compiled once per process."""
    return compiled_graph_for(version.pk, version=version)


def compiled_graph_for(
    version_id: int, *, version: WorkflowVersion | None = None
) -> CompiledGraph:
    """Return a published version's compiled graph, reading it only on a cache miss."""
    graph = _GRAPH_CACHE.get(version_id)
    if graph is None:
        if version is None:
            version = WorkflowVersion.objects.only("graph").get(pk=version_id)
        if len(_GRAPH_CACHE) > 512:
            _GRAPH_CACHE.clear()
        graph = CompiledGraph(version.graph)
        _GRAPH_CACHE[version_id] = graph
    return graph


# ---------------------------------------------------------------------------- start


def run_start(
    *,
    workflow: Workflow,
    input: Any,
    actor: str,
    version: WorkflowVersion | None = None,
    idempotency_key: str | None = None,
    created_by: Any = None,
) -> tuple[Run, bool]:
    """Create a run of a published version; admit it now if the workflow has room.

    Return the run and whether it was created (False: an earlier run with the same
    idempotency key).
    """
    chosen = version is not None
    if version is None:
        version = workflow.live_version
        if version is None:
            raise RunError(
                "no_live_version", f"{workflow.slug} has no published version"
            )
    if version.workflow_id != workflow.pk:
        raise RunError("bad_version", "the version belongs to another workflow")
    if version.status == VersionStatus.DRAFT:
        raise RunError("version_not_published", "only published versions can run")
    try:
        with transaction.atomic():
            # Serialises admission per workflow: the running count cannot race, nor
            # the canary's share.
            locked = (
                Workflow.objects.select_for_update(no_key=True)
                .filter(pk=workflow.pk)
                .first()
            )
            if idempotency_key:
                existing = Run.objects.filter(
                    workflow=workflow, idempotency_key=idempotency_key
                ).first()
                if existing is not None:
                    return existing, False
            if not chosen and locked is not None and locked.canary_version_id:
                version = rollout.pick_version(locked, live=version)
            graph = compiled_graph(version)
            log = EventLog()
            run = Run.objects.create(
                workflow=workflow,
                version=version,
                input=input,
                idempotency_key=idempotency_key or None,
                created_by=created_by if getattr(created_by, "pk", None) else None,
            )
            log.add(
                "run_created",
                run=run,
                to_state=RunState.PENDING,
                actor=actor,
                data={"version": version.number},
            )
            if _has_room(workflow, version, exclude=run.pk):
                _admit(run, graph, log, actor=actor)
            log.flush()
    except IntegrityError:
        if not idempotency_key:
            raise
        existing = Run.objects.get(workflow=workflow, idempotency_key=idempotency_key)
        return existing, False
    # A web process may start no other run for a while: count this first attempt in
    # the retry budget now rather than leave it in the process's buffer.
    retry_budget().flush()
    return run, True


def max_active_tasks() -> int:
    """Return how many tasks of one run may be queued or running at once."""
    return int(
        getattr(
            settings, "SWITCHYARD_RUN_MAX_ACTIVE_TASKS", DEFAULT_RUN_MAX_ACTIVE_TASKS
        )
    )


def _max_concurrent(version: WorkflowVersion) -> int:
    value = version.graph.get("max_concurrent_runs", DEFAULT_MAX_CONCURRENT_RUNS)
    return int(value)


def _has_room(workflow: Workflow, version: WorkflowVersion, *, exclude: int) -> bool:
    limit = _max_concurrent(version)
    active = (
        Run.objects.filter(
            workflow=workflow,
            state__in=[RunState.RUNNING, RunState.PAUSED, RunState.COMPENSATING],
        )
        .exclude(pk=exclude)
        .count()
    )
    return active < limit


def _admit(run: Run, graph: CompiledGraph, log: EventLog, *, actor: str) -> None:
    now = timezone.now()
    transition(log, run, "start", actor=actor, at=now)
    advance = Advance(run, graph, log, now=now, actor=actor, steps=[])
    advance.activate(graph.start_id)


def _admit_next(workflow_id: int, log: EventLog) -> None:
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
    if not _has_room(candidate.workflow, candidate.version, exclude=candidate.pk):
        return
    _admit(candidate, compiled_graph(candidate.version), log, actor="system:admission")


# -------------------------------------------------------------------- graph advance


class Advance:
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
        return _single_token_graph(self.graph)

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

    def _edge_state(self, edge: dict) -> str:
        self._ensure([edge["source"]])
        if edge["id"] in self._taken:
            return "taken"
        source = self.latest(edge["source"])
        if source is not None and source.is_finished:
            return "dead"
        return "open"

    def _new_step(self, node_id: str) -> StepRun:
        node = self.graph.node(node_id)
        if self._loaded or not self._single_token():
            self._ensure([node_id])
            seq = self._seq[node_id] + 1
        else:
            seq = 1  # a single-token graph visits each node once
        return StepRun(run=self.run, node_id=node_id, seq=seq, node_type=node["type"])

    def reconsider(
        self,
        node_id: str,
        *,
        via: dict | None = None,
        source: StepRun | None = None,
    ) -> None:
        """Activate or skip a node after the state of an incoming edge changed.

        `via` is the edge that just resolved, when exactly one did, and `source` the
        step that resolved it: a join off any cycle then counts it (O(1)) instead of
        reading every sibling branch, and a node on a loop is entered again.
        """
        if self.run.state != RunState.RUNNING:
            return
        incoming = self.graph.incoming(node_id)
        if via is not None and self.count_arrivals and self._counts_arrivals(node_id):
            self._arrive(node_id, via, incoming)
            return
        if (
            via is not None
            and source is not None
            and via["id"] in (source.taken_edges or [])
            and (self.graph.on_cycle(node_id) or self._skipped(node_id))
            and self._reenter(node_id)
        ):
            return
        if not self._loaded and len(incoming) == 1 and self._single_token():
            if incoming[0]["id"] in self._taken:
                self.activate(node_id)
            else:
                self.skip(node_id)
            return
        self._ensure([node_id, *(e["source"] for e in incoming)])
        counts = self._counts_arrivals(node_id)
        if self.latest(node_id) is not None and not counts:
            return
        states = [self._edge_state(e) for e in incoming]
        if counts:
            self._recount(node_id, states)
            if self.latest(node_id) is not None:
                return
        self._enter(node_id, entry_decision(self.graph.node(node_id), states))

    def _skipped(self, node_id: str) -> bool:
        """Say whether the node's latest visit was skipped: a loop's exit, passed
        over on earlier rounds, is entered when a later round takes it."""
        latest = self.latest(node_id)
        return latest is not None and latest.state == StepState.SKIPPED

    def _reenter(self, node_id: str) -> bool:
        """Visit a node on a loop again, an edge into it having just been taken;
        return False when this is its first visit (the usual entry rule decides).

        A visit past the node's `max_visits` fails the run (MaxVisitsExceeded):
        the bound is a guard, so a loop should leave by its own condition first.
        """
        if self.graph.node(node_id)["type"] == "join":
            return False
        latest = self.latest(node_id)
        if latest is None:
            return False
        if not latest.is_finished:
            return True  # a visit is under way: the edge joins it
        visits = len(self._steps[node_id])
        limit = self.graph.max_visits(node_id)
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

    def _enter(self, node_id: str, decision: str | None) -> None:
        if decision == "activate":
            self.activate(node_id)
        elif decision == "skip":
            self.skip(node_id)

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

    def _arrive(self, node_id: str, via: dict, incoming: list[dict]) -> None:
        """Count one resolved edge into a join and enter it once all are resolved."""
        counted = join_arrive(
            run_id=self.run.pk, node_id=node_id, taken=via["id"] in self._taken
        )
        if counted is None:
            # The first arrival: count from the step rows (also what a run that was
            # already under way when counters came in has done so far).
            self.reconsider(node_id)
            return
        arrived, taken = counted
        states = ["taken"] * taken + ["dead"] * (arrived - taken)
        states += ["open"] * (len(incoming) - arrived)
        decision = entry_decision(self.graph.node(node_id), states)
        if decision is not None and self.latest(node_id) is None:
            self._enter(node_id, decision)

    def _recount(self, node_id: str, states: list[str]) -> None:
        resolved = [s for s in states if s != "open"]
        join_recount(
            run_id=self.run.pk,
            node_id=node_id,
            arrived=len(resolved),
            taken=resolved.count("taken"),
        )

    def skip(self, node_id: str) -> None:
        step = self._new_step(node_id)
        transition(
            self.log,
            step,
            "skip",
            actor=self.actor,
            reason="branch not taken",
            at=self.now,
        )
        self._remember(step)
        self.follow(step)

    def activate(self, node_id: str) -> None:
        """Enter a node: control nodes pass at once, tasks get a queued attempt."""
        node = self.graph.node(node_id)
        kind = node["type"]
        step = self._new_step(node_id)
        if kind == "task":
            if not self._task_slot_free():
                self._hold(step)
                return
            # Inserted by _create_attempt, possibly already running (eager start).
            transition(self.log, step, "enqueue", actor=self.actor, save=False)
            self._remember(step)
            self._create_attempt(step, number=1, due_at=self.now)
            return
        if kind == "end":
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
            self.finish(node)
            return
        if kind == "wait":
            seconds = bounded_seconds(node.get("seconds", 0))
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
            return
        if kind == "handoff":
            handoffs.open_node_handoff(self, step, node)
            self._remember(step)
            return
        if kind == "join" and node.get("mode", "all") == "any":
            self.cancel_losers(node_id)
        # start, choice, parallel, join: decide the edges now.
        try:
            taken = self.graph.route(node_id, succeeded=True, context=self.context())
        except ExpressionError as exc:
            self._remember(step)
            self.fail_on_expression(step, exc)
            return
        transition(
            self.log,
            step,
            "succeed",
            actor=self.actor,
            output=None,
            taken_edges=taken,
            at=self.now,
            data={"taken_edges": taken} if kind == "choice" else None,
        )
        self._remember(step)
        self.follow(step)

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
            self._create_attempt(step, number=1, due_at=self.now, eager=False)

    def fail_on_expression(self, step: StepRun, exc: ExpressionError) -> None:
        """Fail a step whose routing expression could not be evaluated, and its run."""
        error = {
            "type": "ExpressionError",
            "message": str(exc),
            "node_id": step.node_id,
        }
        transition(
            self.log,
            step,
            "fail",
            actor=self.actor,
            error=error,
            taken_edges=[],
            at=self.now,
            reason=str(exc),
        )
        self.fail_run(error)

    def follow(self, step: StepRun) -> None:
        """Propagate a finished step along its outgoing edges, in document order."""
        for edge in self.graph.outgoing(step.node_id):
            self.reconsider(edge["target"], via=edge, source=step)

    def _create_attempt(
        self, step: StepRun, *, number: int, due_at: datetime, eager: bool = True
    ) -> None:
        graph = self.graph
        policy = graph.retry_policy(step.node_id)
        queue = graph.queue(step.node_id)
        delay = max(0.0, (due_at - self.now).total_seconds())
        scheduled = delay > SHORT_RETRY_S
        deferred = False
        if number == 1:
            retry_budget().deposit(queue)
        elif not scheduled and not retry_budget().try_withdraw(queue):
            # The queue's retry budget is spent: wait instead of adding load to a
            # dependency that is already failing.
            due_at = max(due_at, self.now + timedelta(seconds=_defer_s(queue)))
            scheduled = deferred = True
        attempt = Attempt(
            step=step,
            run=self.run,
            number=number,
            queue=queue,
            priority=graph.priority(step.node_id),
            due_at=due_at,
            state=AttemptState.SCHEDULED if scheduled else AttemptState.QUEUED,
        )
        if scheduled:
            if step.pk is None:
                insert_row(step)
            insert_row(attempt)
            self.log.add(
                "attempt_scheduled",
                run=self.run,
                step=step,
                attempt=attempt,
                to_state=AttemptState.SCHEDULED,
                actor=self.actor,
                data={"number": number, "due_at": due_at.isoformat()},
            )
            if deferred:
                self.log.add(
                    "retry_deferred",
                    run=self.run,
                    step=step,
                    attempt=attempt,
                    from_state=AttemptState.SCHEDULED,
                    to_state=AttemptState.SCHEDULED,
                    actor=self.actor,
                    reason=f"retry budget of queue {queue!r} is spent",
                    data={"number": number, "due_at": due_at.isoformat()},
                )
            return
        attempt.enqueued_at = self.now
        if step.state == StepState.RETRY_WAIT:
            transition(self.log, step, "enqueue", actor=self.actor)
        self.log.add(
            "attempt_queued",
            run=self.run,
            step=step,
            attempt=attempt,
            to_state=AttemptState.QUEUED,
            actor=self.actor,
            data={"number": number, "queue": attempt.queue},
        )
        eager = eager and delay == 0 and self._start_eagerly(step, attempt)
        # One INSERT each, in whatever state the transitions above left them.
        if step.pk is None:
            insert_row(step)
        insert_row(attempt)
        if eager and self.eager_work is not None:
            self.eager_work = replace(self.eager_work, attempt_id=attempt.pk)
        else:
            _publish_on_commit(attempt, policy.timeout_s, countdown=delay or None)

    def _start_eagerly(self, step: StepRun, attempt: Attempt) -> bool:
        """Start the attempt on the finishing worker; False to publish it instead."""
        slot = self.eager
        if (
            slot is None
            or self.eager_work is not None
            or attempt.queue != slot.queue
            or not _may_start(self.run, step)
        ):
            return False
        try:
            work = _start(self, step, attempt, worker=slot.worker)
        except ExpressionError:
            return False  # the normal start path records the failure
        self.eager_work = work
        return True

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
        _admit_next(self.run.workflow_id, self.log)

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
        _admit_next(self.run.workflow_id, self.log)

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
            _admit_next(self.run.workflow_id, self.log)
            return
        target = todo[0]
        node_id = self.graph.node(target.node_id)["compensate_with"]
        step = self._new_step(node_id)
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
        self._create_attempt(step, number=1, due_at=self.now)

    def compensation_failed(self, step: StepRun) -> None:
        transition(
            self.log,
            self.run,
            "compensation_fail",
            actor=self.actor,
            reason=f"compensation {step.node_id} failed",
            at=self.now,
        )
        _admit_next(self.run.workflow_id, self.log)

    def run_output(self) -> dict[str, Any]:
        """Return the outputs of the run's succeeded task steps by node id."""
        return {
            node_id: visits[-1].output
            for node_id, visits in self.steps.items()
            if visits[-1].node_type == "task"
            and visits[-1].state == StepState.SUCCEEDED
            and visits[-1].compensates_id is None
        }

    def cancel_losers(self, join_id: str) -> None:
        """Cancel the unfinished branches feeding a join `any` that just fired."""
        feeders = _ancestors(self.graph, join_id)
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
        handoffs.cancel_handoffs(self, active_steps, reason=reason)
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


# {id(graph): (graph, answer)}; the graph is kept so its id cannot be reused.
_SINGLE_TOKEN: dict[int, tuple[CompiledGraph, bool]] = {}


def _single_token_graph(graph: CompiledGraph) -> bool:
    """Say whether a graph has no parallel node and no cycle (cached per graph)."""
    key = id(graph)
    cached = _SINGLE_TOKEN.get(key)
    if cached is not None and cached[0] is graph:
        return cached[1]
    ok = not any(n["type"] == "parallel" for n in graph.nodes.values())
    if ok:
        # Depth-first search for a back edge.
        colour: dict[str, int] = {}
        stack: list[tuple[str, int]] = [(graph.start_id, 0)]
        while stack and ok:
            node_id, index = stack.pop()
            if index == 0:
                colour[node_id] = 1
            edges = graph.outgoing(node_id)
            if index < len(edges):
                stack.append((node_id, index + 1))
                target = edges[index]["target"]
                if colour.get(target) == 1:
                    ok = False
                elif target not in colour:
                    stack.append((target, 0))
            else:
                colour[node_id] = 2
    if len(_SINGLE_TOKEN) > 1024:
        _SINGLE_TOKEN.clear()
    _SINGLE_TOKEN[key] = (graph, ok)
    return ok


# {(id(graph), node_id): (graph, ancestors)}
_ANCESTORS: dict[tuple[int, str], tuple[CompiledGraph, frozenset[str]]] = {}


def _ancestors(graph: CompiledGraph, node_id: str) -> frozenset[str]:
    """Return the nodes from which node_id can be reached (cached per graph)."""
    key = (id(graph), node_id)
    cached = _ANCESTORS.get(key)
    if cached is not None and cached[0] is graph:
        return cached[1]
    seen: set[str] = set()
    stack = [e["source"] for e in graph.incoming(node_id)]
    while stack:
        current = stack.pop()
        if current in seen or current == node_id:
            continue
        seen.add(current)
        stack.extend(e["source"] for e in graph.incoming(current))
    if len(_ANCESTORS) > 4096:
        _ANCESTORS.clear()
    _ANCESTORS[key] = (graph, frozenset(seen))
    return _ANCESTORS[key][1]


def _descendants(graph: CompiledGraph, node_id: str) -> set[str]:
    """Return node_id and every node reachable from it."""
    seen: set[str] = set()
    stack = [node_id]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack.extend(e["target"] for e in graph.outgoing(current))
    return seen


def _may_start(run: Run, step: StepRun) -> bool:
    """Say whether an attempt of this step may start now given its run's state."""
    if run.state == RunState.RUNNING:
        return step.compensates_id is None
    return run.state == RunState.COMPENSATING and step.compensates_id is not None


def _publish_on_commit(
    attempt: Attempt, timeout_s: float, countdown: float | None
) -> None:
    transaction.on_commit(
        partial(
            publish_attempt,
            attempt.pk,
            queue=attempt.queue,
            priority=attempt.priority,
            timeout_s=timeout_s,
            countdown=countdown,
        )
    )


# ---------------------------------------------------------------------- retry budget

_JITTER = random.Random()  # noqa: S311 - spreads load; not a secret


def retry_budget() -> Any:
    """Return this process's retry budget (per queue token buckets)."""
    from engine.budget import get_budget

    return get_budget()


def _defer_s(queue: str) -> float:
    """Return how long a refused retry waits: at least one scheduler tick, spread
    over part of the budget window so deferred retries do not come back in lockstep.
    """
    budget = retry_budget()
    window = float(budget.config_for(queue).window_s)
    return max(1.0, float(budget.defer_s(queue))) + _JITTER.uniform(0, window / 2)


# ----------------------------------------------------------------- attempt lifecycle


@dataclass(frozen=True)
class AttemptWork:
    """What a worker needs to call the action of a started attempt."""

    attempt_id: int
    run_id: int
    action: str
    params: Any
    context: ActionContext


def attempt_start(*, attempt_id: int, worker: str) -> AttemptWork | None:
    """Move a queued attempt to running; None when it must not run (duplicate etc.)."""
    try:
        return _attempt_start(attempt_id=attempt_id, worker=worker)
    except ConcurrentTransition:
        # Someone else (a duplicate delivery, a cancel) moved it first.
        return None


def _attempt_start(*, attempt_id: int, worker: str) -> AttemptWork | None:
    now = timezone.now()
    error: dict | None = None
    with transaction.atomic():
        # The run row is locked, as by every writer of a run's steps: a cancel or a
        # finishing branch of the same run waits for this start, not the reverse.
        found = select_attempt(attempt_id, lock_run=True)
        if found is None or found[0].state != AttemptState.QUEUED:
            return None
        attempt, step, run = found
        if not _may_start(run, step):
            # Paused runs keep their attempts queued; resume publishes them again.
            return None
        log = EventLog()
        steps = None if _needs_context(run, step) else []
        advance = Advance(
            run,
            compiled_graph_for(run.version_id),
            log,
            now=now,
            actor="system",
            steps=steps,
        )
        try:
            work = _start(advance, step, attempt, worker=worker)
        except ExpressionError as exc:
            work = None
            error = {"type": "ExpressionError", "message": str(exc), "retryable": False}
        log.flush()
    if error is not None:
        _attempt_start_failed(attempt_id, worker, error)
    return work


def _needs_context(run: Run, step: StepRun) -> bool:
    node = compiled_graph_for(run.version_id).node(step.node_id)
    return bool(param_expressions(node.get("params", {})))


def _attempt_start_failed(attempt_id: int, worker: str, error: dict) -> None:
    """Start and fail an attempt whose params cannot be evaluated."""
    now = timezone.now()
    with transaction.atomic():
        attempt = Attempt.objects.select_related("step", "run").get(pk=attempt_id)
        attempt.step.run = attempt.run
        log = EventLog()
        graph = compiled_graph_for(attempt.run.version_id)
        policy = graph.retry_policy(attempt.step.node_id)
        _mark_started(
            log,
            attempt.step,
            attempt,
            worker=worker,
            now=now,
            timeout_s=policy.timeout_s,
        )
        log.flush()
    attempt_finish(attempt_id=attempt_id, output=None, error=error)


def _mark_started(
    log: EventLog,
    step: StepRun,
    attempt: Attempt,
    *,
    worker: str,
    now: datetime,
    timeout_s: float,
) -> None:
    """Move an attempt (and its step, if queued) to running on `worker`.

    Rows not inserted yet (an eager start) are left for the caller's single INSERT.
    """
    transition(
        log,
        attempt,
        "start",
        actor=f"worker:{worker}",
        at=now,
        worker=worker[:200],
        deadline=now + timedelta(seconds=bounded_seconds(timeout_s)),
        data={"number": attempt.number},
        save=attempt.pk is not None,
    )
    if step.state == StepState.QUEUED:
        transition(
            log,
            step,
            "start",
            actor=f"worker:{worker}",
            at=now,
            save=step.pk is not None,
        )


def _start(
    advance: "Advance", step: StepRun, attempt: Attempt, *, worker: str
) -> AttemptWork:
    """Evaluate params, move attempt and step to running; raise ExpressionError."""
    run, graph, now = advance.run, advance.graph, advance.now
    node = graph.node(step.node_id)
    params: Any = node.get("params", {})
    if param_expressions(params):
        params = graph.params(step.node_id, advance.context(attempt=attempt.number))
    policy = graph.retry_policy(step.node_id)
    _mark_started(
        advance.log, step, attempt, worker=worker, now=now, timeout_s=policy.timeout_s
    )
    return AttemptWork(
        attempt_id=attempt.pk,
        run_id=run.pk,
        action=node["action"],
        params=params,
        context=ActionContext(
            run_id=run.pk,
            node_id=step.node_id,
            attempt=attempt.number,
            idempotency_key=step.idempotency_key,
            input=run.input,
            timeout_s=policy.timeout_s,
        ),
    )


def attempt_finish(
    *,
    attempt_id: int,
    output: Any,
    error: dict | None,
    actor: str = "system",
) -> bool:
    """Record an attempt's result and advance the run in one transaction.

    Return False when the attempt was already finished (a duplicate delivery or a
    result that arrives after the sweeper gave up on it): nothing changes then.
    """
    try:
        finished, _ = _attempt_finish(
            attempt_id=attempt_id, output=output, error=error, actor=actor, eager=None
        )
    except ConcurrentTransition:
        return False
    return finished


@dataclass(frozen=True)
class EagerSlot:
    """A worker's offer to run the next attempt itself: its queue and its name."""

    queue: str
    worker: str


def attempt_finish_and_continue(
    *, attempt_id: int, output: Any, error: dict | None, slot: EagerSlot
) -> AttemptWork | None:
    """Finish an attempt; if the run's next attempt is due now on the slot's queue,
    start it in the same transaction and return it for this worker to run.

    This is eager dispatch: a sequential run skips one broker round trip and one
    transaction per step. Only one attempt is taken; the rest are published.
    """
    try:
        _, work = _attempt_finish(
            attempt_id=attempt_id,
            output=output,
            error=error,
            actor=f"worker:{slot.worker}",
            eager=slot,
        )
    except ConcurrentTransition:
        return None
    return work


def _attempt_finish(
    *,
    attempt_id: int,
    output: Any,
    error: dict | None,
    actor: str,
    eager: EagerSlot | None,
) -> tuple[bool, AttemptWork | None]:
    now = timezone.now()
    with transaction.atomic():
        # One query: the attempt, its step, and its run locked (only the run row:
        # concurrent branches of one run advance one at a time, other runs do not
        # wait).
        found = select_attempt(attempt_id, lock_run=True)
        if found is None or found[0].state != AttemptState.RUNNING:
            return False, None
        attempt, step, run = found
        graph = compiled_graph_for(run.version_id)
        log = EventLog()
        advance = Advance(run, graph, log, now=now, actor=actor, eager=eager)
        advance.remember(step)
        if error is None:
            _attempt_succeeded(advance, attempt, step, output)
        else:
            _attempt_failed(advance, attempt, step, error)
        if step.is_finished and step.compensates_id is None:
            advance.release_held()
        log.flush()
    return True, advance.eager_work


def _attempt_succeeded(
    advance: Advance, attempt: Attempt, step: StepRun, output: Any
) -> None:
    log, now, actor = advance.log, advance.now, advance.actor
    spec = None
    if step.compensates_id is None:
        try:
            spec = handoffs.task_handoff_spec(output)
        except ValueError as exc:
            error = {"type": "BadHandoff", "message": str(exc), "retryable": False}
            _attempt_failed(advance, attempt, step, error)
            return
    transition(log, attempt, "succeed", actor=actor, at=now)
    if step.compensates_id is not None:
        if advance.run.state == RunState.COMPENSATING:
            transition(
                log, step, "succeed", actor=actor, output=output, taken_edges=[], at=now
            )
            advance.compensate_next()
        return
    if advance.run.state not in (RunState.RUNNING, RunState.PAUSED):
        return
    if spec is not None:
        # The action asked a person or an agent to decide: the step waits on it.
        handoffs.open_handoff(
            advance=advance,
            step=step,
            spec=spec,
            context=spec.get("context") or {},
            context_errors={},
        )
        return
    # A task's normal edges carry no conditions, so routing cannot fail here.
    taken = advance.graph.route(step.node_id, succeeded=True, context={})
    transition(
        log, step, "succeed", actor=actor, output=output, taken_edges=taken, at=now
    )
    advance.took(taken)
    if advance.run.state == RunState.RUNNING:
        advance.follow(step)


def _attempt_failed(
    advance: Advance, attempt: Attempt, step: StepRun, error: dict
) -> None:
    log, now, actor = advance.log, advance.now, advance.actor
    transition(
        log,
        attempt,
        "fail",
        actor=actor,
        error=error,
        at=now,
        reason=error.get("message", ""),
    )
    compensation = step.compensates_id is not None
    if compensation:
        if advance.run.state != RunState.COMPENSATING:
            return
    elif advance.run.state not in (RunState.RUNNING, RunState.PAUSED):
        return
    graph = advance.graph
    policy = graph.retry_policy(step.node_id)
    retryable = error.get("retryable", True) and policy.should_retry(
        attempt.number, error.get("type", "Error")
    )
    if retryable:
        delay = policy.delay(attempt.number)
        transition(log, step, "fail", actor=actor, error=error, taken_edges=[], at=now)
        transition(
            log,
            step,
            "schedule_retry",
            actor=actor,
            reason=f"retry {attempt.number + 1}/{policy.max_attempts} in {delay:.2f}s",
            data={"delay_s": delay, "next_attempt": attempt.number + 1},
        )
        advance._create_attempt(
            step, number=attempt.number + 1, due_at=now + timedelta(seconds=delay)
        )
        return
    if compensation:
        transition(log, step, "fail", actor=actor, error=error, taken_edges=[], at=now)
        advance.compensation_failed(step)
        return
    failure_edges = [e["id"] for e in graph.failure_outgoing(step.node_id)]
    transition(
        log,
        step,
        "fail",
        actor=actor,
        error=error,
        taken_edges=failure_edges,
        at=now,
    )
    advance.took(failure_edges)
    if failure_edges:
        if advance.run.state == RunState.RUNNING:
            advance.follow(step)
        return
    advance.fail_run({**error, "node_id": step.node_id})


def attempts_enqueue_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Publish scheduled attempts whose due time has come; return how many."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            # Skips attempts whose run another writer holds (a cancel, say); they
            # are picked up on the next tick.
            Attempt.objects.select_for_update(
                skip_locked=True, of=("self", "run"), no_key=True
            )
            .filter(state=AttemptState.SCHEDULED, due_at__lte=now)
            .select_related("step", "run")
            .order_by("due_at")[:limit]
        )
        return each_isolated(
            "enqueue_due",
            due,
            partial(_enqueue_due, now=now),
            mark=lambda attempt, reason: mark_attempt(attempt.pk, reason),
            describe=_attempt_name,
        )


def _enqueue_due(attempt: Attempt, *, now: datetime) -> bool:
    step = attempt.step
    step.run = attempt.run
    graph = compiled_graph_for(attempt.run.version_id)
    log = EventLog()
    if attempt.number > 1 and not retry_budget().try_withdraw(attempt.queue):
        until = now + timedelta(seconds=_defer_s(attempt.queue))
        transition(
            log,
            attempt,
            "defer",
            kind="retry_deferred",
            actor="system:scheduler",
            reason=f"retry budget of queue {attempt.queue!r} is spent",
            data={"number": attempt.number, "due_at": until.isoformat()},
            until=until,
        )
        log.flush()
        return False
    transition(log, attempt, "enqueue", actor="system:scheduler", at=now)
    if step.state == StepState.RETRY_WAIT:
        transition(log, step, "enqueue", actor="system:scheduler")
    _publish_on_commit(
        attempt, graph.retry_policy(step.node_id).timeout_s, countdown=None
    )
    log.flush()
    return True


def _attempt_name(attempt: Attempt) -> str:
    return f"attempt {attempt.pk} (run {attempt.run_id})"


# {version id: seconds}
_STUCK_AFTER: dict[int, float] = {}


def stuck_after_s(version_id: int) -> float:
    """Return how long a run of this version may go without an event before it looks
    stuck: its longest attempt timeout plus the sweeper's heartbeat allowance."""
    cached = _STUCK_AFTER.get(version_id)
    if cached is None:
        graph = compiled_graph_for(version_id)
        timeouts = [
            graph.retry_policy(node_id).timeout_s
            for node_id, node in graph.nodes.items()
            if node["type"] == "task"
        ]
        cached = max(timeouts, default=0.0) + HEARTBEAT_TIMEOUT_S
        if len(_STUCK_AFTER) > 4096:
            _STUCK_AFTER.clear()
        _STUCK_AFTER[version_id] = cached
    return cached


# ------------------------------------------------------------------------- timers


def steps_wake_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Finish wait steps whose time has come and advance their runs; return how many."""
    now = now or timezone.now()
    due = list(
        StepRun.objects.filter(
            state=StepState.WAITING, node_type="wait", wake_at__lte=now
        )
        .order_by("wake_at")
        .values_list("pk", "run_id")[:limit]
    )
    return each_isolated(
        "timers",
        due,
        lambda ids: _step_wake(step_id=ids[0], run_id=ids[1], now=now),
        mark=lambda ids, reason: mark_timer(ids[0], reason),
        describe=lambda ids: f"wait step {ids[0]} (run {ids[1]})",
    )


def _step_wake(*, step_id: int, run_id: int, now: datetime) -> bool:
    with transaction.atomic():
        run = Run.objects.select_for_update(no_key=True).get(pk=run_id)
        if run.state != RunState.RUNNING:
            return False  # a paused run's timers fire on resume
        log = EventLog()
        advance = Advance(
            run,
            compiled_graph_for(run.version_id),
            log,
            now=now,
            actor="system:timer",
            steps=None,
        )
        woken = _wake(advance, step_id)
        log.flush()
    return woken


def _wake(advance: Advance, step_id: int) -> bool:
    step = next(
        (v[-1] for v in advance.steps.values() if v and v[-1].pk == step_id), None
    )
    if step is None or step.state != StepState.WAITING:
        return False
    taken = advance.graph.route(step.node_id, succeeded=True, context={})
    transition(
        advance.log,
        step,
        "succeed",
        actor=advance.actor,
        output=None,
        taken_edges=taken,
        at=advance.now,
        reason="timer fired",
    )
    advance.took(taken)
    advance.follow(step)
    return True


# ------------------------------------------------------------------- crash safety

# A queued attempt whose message has not started after this long is published again
# (doubling the wait each time: a deep backlog is not flooded with copies).
QUEUED_GRACE_S = 10.0
# Workers refresh `heartbeat_at` of running attempts every HEARTBEAT_S; an attempt
# whose heartbeat is older than HEARTBEAT_TIMEOUT_S lost its worker.
HEARTBEAT_S = 5.0
HEARTBEAT_TIMEOUT_S = 20.0
# Past its deadline (start + timeout_s) by this much, the worker's own timer failed.
DEADLINE_SLACK_S = 10.0


def attempts_heartbeat(
    *, attempt_ids: Iterable[int], now: datetime | None = None
) -> int:
    """Record that this worker is still running these attempts (not a state change)."""
    ids = list(attempt_ids)
    if not ids:
        return 0
    return Attempt.objects.filter(pk__in=ids, state=AttemptState.RUNNING).update(
        heartbeat_at=now or timezone.now()
    )


def attempts_republish_stuck(*, now: datetime | None = None, limit: int = 500) -> int:
    """Publish again queued attempts whose message seems lost; return how many."""
    now = now or timezone.now()
    with transaction.atomic():
        stuck = list(
            Attempt.objects.select_for_update(
                skip_locked=True, of=("self",), no_key=True
            )
            .filter(
                state=AttemptState.QUEUED,
                due_at__lt=now - timedelta(seconds=QUEUED_GRACE_S),
                run__state__in=[RunState.RUNNING, RunState.COMPENSATING],
            )
            .select_related("step", "run")
            .order_by("due_at")[:limit]
        )
        return each_isolated(
            "republish",
            stuck,
            partial(_republish, now=now),
            mark=lambda attempt, reason: mark_attempt(attempt.pk, reason),
            describe=_attempt_name,
        )


def _republish(attempt: Attempt, *, now: datetime) -> bool:
    since = attempt.enqueued_at or attempt.due_at
    wait = QUEUED_GRACE_S * (2 ** min(attempt.publish_count, 20))
    if (now - since).total_seconds() < wait:
        return False
    Attempt.objects.filter(pk=attempt.pk).update(
        publish_count=attempt.publish_count + 1
    )
    log = EventLog()
    log.add(
        "attempt_republished",
        run=attempt.run,
        step=attempt.step,
        attempt=attempt,
        from_state=attempt.state,
        to_state=attempt.state,
        actor="system:sweeper",
        reason=f"not started {int((now - since).total_seconds())}s after it was queued",
        data={"publish_count": attempt.publish_count + 1},
    )
    graph = compiled_graph_for(attempt.run.version_id)
    _publish_on_commit(
        attempt,
        graph.retry_policy(attempt.step.node_id).timeout_s,
        countdown=None,
    )
    log.flush()
    return True


def attempts_recover_lost(*, now: datetime | None = None, limit: int = 500) -> int:
    """Fail running attempts whose worker died or hung, so their steps retry."""
    now = now or timezone.now()
    lost = list(
        Attempt.objects.filter(state=AttemptState.RUNNING)
        .filter(
            Q(heartbeat_at__lt=now - timedelta(seconds=HEARTBEAT_TIMEOUT_S))
            | Q(deadline_at__lt=now - timedelta(seconds=DEADLINE_SLACK_S))
        )
        .values_list("pk", "heartbeat_at", "deadline_at")[:limit]
    )
    return each_isolated(
        "recover_lost",
        lost,
        partial(_recover, now=now),
        mark=lambda row, reason: mark_attempt(row[0], reason),
        describe=lambda row: f"attempt {row[0]}",
    )


def _recover(row: tuple[int, Any, Any], *, now: datetime) -> bool:
    attempt_id, heartbeat_at, deadline_at = row
    if deadline_at is not None and deadline_at < now - timedelta(
        seconds=DEADLINE_SLACK_S
    ):
        error = {
            "type": "Timeout",
            "message": "the attempt ran past its timeout and its worker did not "
            "report back",
            "retryable": True,
        }
    else:
        error = {
            "type": "WorkerLost",
            "message": f"no heartbeat from the worker since {heartbeat_at}",
            "retryable": True,
        }
    return attempt_finish(
        attempt_id=attempt_id, output=None, error=error, actor="system:sweeper"
    )


# ----------------------------------------------------------------------- controls


def _locked(run: Run) -> Run:
    return Run.objects.select_for_update(no_key=True).get(pk=run.pk)


def run_cancel(*, run: Run, actor: str, reason: str = "") -> Run:
    """Cancel a run and whatever it has in flight (TransitionNotAllowed if done)."""
    now = timezone.now()
    with transaction.atomic():
        run = _locked(run)
        log = EventLog()
        advance = Advance(
            run, compiled_graph_for(run.version_id), log, now=now, actor=actor
        )
        if not run.is_finished:
            advance.cancel_active(reason=reason or "run cancelled")
        transition(
            log, run, "cancel", actor=actor, reason=reason or "cancelled", at=now
        )
        _admit_next(run.workflow_id, log)
        log.flush()
    return run


def run_pause(*, run: Run, actor: str, reason: str = "") -> Run:
    """Pause a running run: attempts in flight finish, nothing new starts."""
    with transaction.atomic():
        run = _locked(run)
        log = EventLog()
        transition(log, run, "pause", actor=actor, reason=reason or "paused")
        log.flush()
    return run


def run_resume(*, run: Run, actor: str) -> Run:
    """Resume a paused run: advance what finished meanwhile, restart what waited."""
    now = timezone.now()
    with transaction.atomic():
        run = _locked(run)
        log = EventLog()
        transition(log, run, "resume", actor=actor, reason="resumed")
        graph = compiled_graph_for(run.version_id)
        # Attempts left queued while paused had their message consumed: publish them
        # again (new ones created below publish themselves).
        waiting = list(
            Attempt.objects.filter(run=run, state=AttemptState.QUEUED).select_related(
                "step"
            )
        )
        advance = Advance(run, graph, log, now=now, actor=actor, steps=None)
        advance.count_arrivals = False
        for visits in list(advance.steps.values()):
            step = visits[-1]
            if run.state != RunState.RUNNING:
                break
            if step.is_finished and step.compensates_id is None:
                advance.follow(step)
            elif (
                step.state == StepState.WAITING
                and step.wake_at is not None
                and step.wake_at <= now
            ):
                _wake(advance, step.pk)
        # Tasks that finished while paused freed their slots.
        advance.release_held()
        for attempt in waiting:
            _publish_on_commit(
                attempt,
                graph.retry_policy(attempt.step.node_id).timeout_s,
                countdown=None,
            )
        log.flush()
    return run


RERUN_FROM_STATES = (
    RunState.FAILED,
    RunState.CANCELLED,
    RunState.COMPENSATED,
    RunState.COMPENSATION_FAILED,
)


def run_retry(
    *,
    run: Run,
    actor: str,
    version: str | int = "original",
    from_node: str | None = None,
    input: Any = None,
) -> Run:
    """Retry a finished, unsuccessful run from a node, on the version asked.

    `version` is "original" (the version the run last ran on), "live" (the workflow's
    live version) or a published version number. `from_node` defaults to the step that
    failed; steps completed before it are kept, and it and everything after it run
    again. `input` (a JSON object) is merged over the run's input. The choice is
    recorded on the run (`reruns`) and on its `run_running` event.
    """
    now = timezone.now()
    with transaction.atomic():
        run = _locked(run)
        if run.state not in RERUN_FROM_STATES:
            raise RunError(
                "not_retryable",
                f"run {run.pk} is {run.state}; only failed, cancelled or compensated "
                "runs can be retried",
            )
        target = _rerun_version(run, version)
        graph = compiled_graph(target)
        log = EventLog()
        history = Advance(
            run, compiled_graph_for(run.version_id), log, now=now, actor=actor
        )
        node_id = from_node or _failed_node(history)
        if node_id not in graph.nodes:
            raise RunError(
                "unknown_node",
                f"version {target.number} has no node {node_id!r} to retry from",
            )
        if input is not None and not isinstance(input, dict):
            raise RunError("bad_input", "input overrides must be a JSON object")
        merged = run.input
        if input:
            merged = {**(run.input if isinstance(run.input, dict) else {}), **input}
        last_step = run.steps.order_by("-id").values_list("pk", flat=True).first()
        rerun = {
            "version": target.number,
            "version_choice": str(version),
            "from_node": node_id,
            "input": input or {},
            "after_step": last_step or 0,
            "nodes": sorted(_descendants(graph, node_id)),
            "actor": actor,
            "at": now.isoformat(),
        }
        transition(
            log,
            run,
            "retry",
            actor=actor,
            reason=f"retry from {node_id} on version {target.number}",
            data={k: v for k, v in rerun.items() if k != "nodes"},
            version=target,
            input=merged,
            rerun=rerun,
        )
        advance = Advance(run, graph, log, now=now, actor=actor, steps=None)
        advance.activate(node_id)
        log.flush()
    return run


def _rerun_version(run: Run, choice: str | int) -> WorkflowVersion:
    if choice in (None, "", "original"):
        return run.version
    if choice == "live":
        version = run.workflow.live_version
        if version is None:
            raise RunError(
                "no_live_version", f"{run.workflow.slug} has no live version"
            )
        return version
    try:
        number = int(choice)
    except (TypeError, ValueError):
        raise RunError(
            "bad_version", "version must be 'original', 'live' or a number"
        ) from None
    version = WorkflowVersion.objects.filter(
        workflow_id=run.workflow_id, number=number
    ).first()
    if version is None or version.status == VersionStatus.DRAFT:
        raise RunError("bad_version", f"version {number} is not a published version")
    return version


def _failed_node(advance: Advance) -> str:
    """Return the node of the run's last failed (or cancelled) task step."""
    steps = [
        s
        for visits in advance.steps.values()
        for s in visits
        if s.compensates_id is None and s.node_type == "task"
    ]
    for states in ((StepState.FAILED,), (StepState.CANCELLED,)):
        found = [s for s in steps if s.state in states]
        if found:
            return max(found, key=lambda s: s.pk).node_id
    raise RunError(
        "no_failed_step", "the run has no failed step; say which node to retry from"
    )
