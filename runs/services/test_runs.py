"""Test runs of a draft: "run from here" with an earlier run's data.

As n8n's "execute from this node" and Temporal's reset: a draft is frozen into a test
snapshot (an immutable version with the draft's number, status `test`), and a run of
it starts at the chosen node. Every node that is neither that node nor reachable from
it gets a **seeded** step: the earlier run's latest visit of the same node (succeeded,
failed or skipped), its output, error and taken edges copied, with a `step_seeded`
event naming where it came from. The expressions of the chosen node and of what
follows read those outputs as if the run had got there itself; only the chosen node
and what follows execute, on real workers, with their real effects.

A test run starts at once (it is one person's deliberate action, as a manual
execution in n8n), outside the workflow's concurrency limit but within
`MAX_ACTIVE_TEST_RUNS`; it is left out of the scorecard and raises no notification.
"""

from typing import Any

from django.db import transaction
from django.utils import timezone

from designer.models import VersionStatus, Workflow, WorkflowVersion
from designer.services import validated
from engine.graph.compiled import CompiledGraph
from engine.graph.diff import graph_checksum
from runs.errors import RunError
from runs.events import EventLog, transition
from runs.input_check import check_run_input
from runs.models import (
    RUN_ACTIVE,
    RUN_FINISHED,
    TEST_TRIGGER,
    Run,
    RunState,
    StepRun,
    StepState,
)
from runs.services.advancing import Advance, run_start_running
from runs.services.dispatching import retry_budget
from runs.services.graphs import compiled_graph
from runs.services.starting import lock_workflow, new_run

# Test runs of one workflow under way at once: a bound on what one button can start.
MAX_ACTIVE_TEST_RUNS = 5
_SEEDED = (StepState.SUCCEEDED, StepState.FAILED, StepState.SKIPPED)


def test_snapshot(
    draft: WorkflowVersion, log: EventLog, *, actor: str
) -> WorkflowVersion:
    """Return the immutable test snapshot of a draft as it is now (one per graph);
    a new one is recorded as a `test_snapshot_created` event."""
    snapshot = WorkflowVersion.snapshots.filter(
        parent=draft, checksum=draft.checksum
    ).first()
    if snapshot is None:
        snapshot = WorkflowVersion.snapshots.create(
            workflow_id=draft.workflow_id,
            number=draft.number,
            graph=draft.graph,
            checksum=graph_checksum(draft.graph),
            status=VersionStatus.TEST,
            parent=draft,
            note=f"test of draft v{draft.number}",
            created_by=draft.created_by,
        )
        log.add(
            "test_snapshot_created",
            actor=actor,
            workflow_id=draft.workflow_id,
            version_id=snapshot.pk,
            to_state=VersionStatus.TEST,
            data={"draft": draft.number, "checksum": snapshot.checksum},
        )
    return snapshot


def run_test_from(
    *,
    workflow: Workflow,
    draft: WorkflowVersion,
    source: Run,
    node_id: str,
    actor: str,
    created_by: Any = None,
) -> Run:
    """Start a test run of `draft` at `node_id`, seeded with `source`'s data."""
    if draft.workflow_id != workflow.pk or source.workflow_id != workflow.pk:
        raise RunError("bad_version", "the draft and the run must be of this workflow")
    if draft.status != VersionStatus.DRAFT:
        raise RunError(
            "not_a_draft",
            f"version {draft.number} is {draft.status}: run from here tests a draft",
        )
    if source.state not in RUN_FINISHED:
        raise RunError(
            "run_not_finished",
            f"run {source.pk} is {source.state}: pick a finished run's data",
        )
    graph = CompiledGraph(draft.graph)
    if node_id not in graph.nodes:
        raise RunError("unknown_node", f"draft v{draft.number} has no node {node_id!r}")
    # The same checks as publishing: a draft that could not be published cannot run.
    validated(draft.graph, workflow)
    check_run_input(workflow.input_schema, source.input)
    with transaction.atomic():
        lock_workflow(workflow)
        active = Run.objects.filter(
            workflow=workflow, trigger=TEST_TRIGGER, state__in=RUN_ACTIVE
        ).count()
        if active >= MAX_ACTIVE_TEST_RUNS:
            raise RunError(
                "too_many_test_runs",
                f"{active} test runs of {workflow.slug} are under way (at most "
                f"{MAX_ACTIVE_TEST_RUNS}); wait for one or cancel it",
            )
        log = EventLog()
        snapshot = test_snapshot(draft, log, actor=actor)
        run = new_run(
            workflow=workflow,
            version=snapshot,
            input=source.input,
            trigger=TEST_TRIGGER,
            created_by=created_by,
        )
        log.add(
            "run_created",
            run=run,
            to_state=RunState.PENDING,
            actor=actor,
            data={
                "version": snapshot.number,
                "trigger": TEST_TRIGGER,
                "draft": draft.number,
                "from_run": source.pk,
                "from_node": node_id,
            },
        )
        compiled = compiled_graph(snapshot)
        now = timezone.now()
        run_start_running(run, compiled, log, actor=actor, now=now)
        seeded = _seed(run, compiled, source, node_id, log, actor=actor, now=now)
        advance = Advance(run, compiled, log, now=now, actor=actor, steps=seeded)
        advance.activate(node_id)
        log.flush()
    retry_budget().flush()
    return run


def _seed(
    run: Run,
    graph: CompiledGraph,
    source: Run,
    from_node: str,
    log: EventLog,
    *,
    actor: str,
    now: Any,
) -> list[StepRun]:
    """Copy the source run's latest visit of every node the test run does not run."""
    runs_again = graph.descendants(from_node)
    latest: dict[str, StepRun] = {}
    visits = StepRun.objects.filter(
        run=source, compensates__isnull=True, node_id__in=set(graph.nodes) - runs_again
    ).order_by("seq", "id")
    for step in visits.iterator(chunk_size=500):
        latest[step.node_id] = step
    edges = {edge["id"] for edge in graph.graph["edges"]}
    seeded = []
    for node_id in graph.nodes:  # document order: seeded events read as the graph
        earlier = latest.get(node_id)
        if earlier is None or earlier.state not in _SEEDED:
            continue
        if earlier.node_type != graph.node(node_id)["type"]:
            continue  # the draft changed what the node is: its old data means nothing
        step = StepRun(run=run, node_id=node_id, seq=1, node_type=earlier.node_type)
        data = {"from_run": source.pk, "from_step": earlier.pk}
        taken = [e for e in earlier.taken_edges or [] if e in edges]
        if earlier.state == StepState.SUCCEEDED:
            kwargs = {"output": earlier.output, "taken_edges": taken, "at": now}
            verb = "succeed"
        elif earlier.state == StepState.FAILED:
            kwargs = {"error": earlier.error, "taken_edges": taken, "at": now}
            verb = "fail"
        else:
            kwargs, verb = {"at": now}, "skip"
        transition(
            log, step, verb, kind="step_seeded", actor=actor, data=data, **kwargs
        )
        seeded.append(step)
    return seeded
