"""Services that change workflows and versions."""

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from designer import access
from designer.limits import simulation_budget
from designer.models import PublishGate, VersionStatus, Workflow, WorkflowVersion
from engine.actions import registered_actions
from engine.graph.compiled import CompiledGraph
from engine.graph.diff import graph_checksum
from engine.graph.issues import Issue, ValidationResult
from engine.graph.schema import GraphLimits
from engine.graph.validate import validate_graph
from runs.events import EventLog, actor_of

MAX_GRAPH_NODES = 2000


class GraphInvalid(Exception):
    """Raised when a graph fails validation; carries the result."""

    def __init__(self, result: ValidationResult) -> None:
        super().__init__("graph is invalid")
        self.result = result


class VersionConflict(Exception):
    """Raised when a request conflicts with a version's state (e.g. it is published)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# Node types the format describes but this engine cannot run yet: refused at save
# time rather than failing a run halfway.
def graph_validate(
    *, graph: Any, workflow: Workflow | None = None, with_cases: bool = False
) -> ValidationResult:
    """Validate a graph against the schema, the semantic rules and the actions, and
    lint it for hidden risks (warnings): a task with side effects and neither a
    compensation nor a stated reason; with a workflow and `with_cases`, choice
    branches that none of its test cases takes (which simulates each case, within
    the request's simulation budget)."""
    registry = registered_actions()
    actions = {name: a.params_schema for name, a in registry.items()}
    limits = GraphLimits(
        nodes=settings.SWITCHYARD_MAX_GRAPH_NODES,
        edges=settings.SWITCHYARD_MAX_GRAPH_EDGES,
        bytes=settings.SWITCHYARD_MAX_GRAPH_BYTES,
    )
    result = validate_graph(graph, actions=actions, limits=limits)
    if not result.ok:
        return result
    for node in graph["nodes"]:
        spec = registry.get(node.get("action", "")) if node["type"] == "task" else None
        if (
            spec is not None
            and spec.side_effects
            and not node.get("compensate_with")
            and not node.get("side_effects_reason")
        ):
            result.warnings.append(
                Issue(
                    "side_effects_uncompensated",
                    f"task {node['id']!r} has side effects ({spec.name}) but no "
                    "compensate_with; add one, or say why none is needed in "
                    "side_effects_reason",
                    node_id=node["id"],
                )
            )
    if workflow is not None and with_cases:
        from designer import testing

        cases = list(workflow.test_cases.all())
        tested: set[str] = set()
        with simulation_budget():
            compiled = CompiledGraph(graph)
            for case in cases:
                sim = testing.simulate(
                    compiled, input=case.input, mocks=case.mocks, outcomes=case.outcomes
                )
                tested.update(sim.edges)
        result.warnings.extend(testing.untested_choice_edges(graph, tested))
    return result


def _validated(graph: Any) -> ValidationResult:
    result = graph_validate(graph=graph)
    if not result.ok:
        raise GraphInvalid(result)
    return result


def workflow_create(
    *,
    slug: str,
    name: str,
    description: str = "",
    created_by: Any = None,
    owner_group: Any = None,
) -> Workflow:
    """Create an empty workflow, owned by a team (group) or by nobody (everyone).

    Raise ValueError for a role group (viewer, editor, ...): a role is no team.
    """
    if owner_group is not None and owner_group.name in access.ROLES:
        raise ValueError(f"{owner_group.name!r} is a role, not a team")
    return Workflow.objects.create(
        slug=slug,
        name=name,
        description=description,
        created_by=created_by,
        owner_group=owner_group,
    )


def version_create(
    *,
    workflow: Workflow,
    graph: Any,
    note: str = "",
    created_by: Any = None,
    parent: WorkflowVersion | None = None,
) -> tuple[WorkflowVersion, ValidationResult]:
    """Store a valid graph as a new draft of the workflow."""
    result = _validated(graph)
    with transaction.atomic():
        Workflow.objects.select_for_update(no_key=True).filter(pk=workflow.pk).first()
        if parent is None:
            parent = workflow.live_version
        last = workflow.versions.aggregate(n=Max("number"))["n"] or 0
        version = WorkflowVersion.objects.create(
            workflow=workflow,
            number=last + 1,
            graph=graph,
            checksum=graph_checksum(graph),
            note=note,
            created_by=created_by,
            parent=parent,
        )
        log = EventLog()
        log.add(
            "version_created",
            to_state=VersionStatus.DRAFT,
            actor=actor_of(created_by),
            workflow_id=workflow.pk,
            version_id=version.pk,
            data={"checksum": version.checksum},
        )
        log.flush()
    return version, result


def version_update(
    *, version: WorkflowVersion, graph: Any, note: str | None = None, actor: Any = None
) -> tuple[WorkflowVersion, ValidationResult]:
    """Replace the graph of a draft; published versions refuse (VersionConflict)."""
    result = _validated(graph)
    with transaction.atomic():
        locked = WorkflowVersion.objects.select_for_update(no_key=True).get(
            pk=version.pk
        )
        if locked.status != VersionStatus.DRAFT:
            raise VersionConflict(
                "version_immutable",
                f"version {locked.number} is {locked.status}; create a new draft",
            )
        locked.graph = graph
        locked.checksum = graph_checksum(graph)
        if note is not None:
            locked.note = note
        locked.save(update_fields=["graph", "checksum", "note", "updated_at"])
    return locked, result


def publish_gate_check(*, version: WorkflowVersion) -> dict[str, Any] | None:
    """Run the workflow's publish gate on a draft: its test cases must pass and reach
    the coverage threshold. Return None when the gate is off, else {mode, ok,
    problems, passed, failed, coverage}."""
    from designer import testing

    workflow = version.workflow
    if workflow.publish_gate == PublishGate.OFF:
        return None
    cases = list(workflow.test_cases.order_by("name"))
    report = testing.run_cases(version, cases)
    problems = []
    if not cases:
        problems.append("the workflow has no test cases")
    failing = [r["name"] for r in report["results"] if not r["passed"]]
    if failing:
        problems.append(
            f"{len(failing)} of {len(cases)} test cases fail: {', '.join(failing)}"
        )
    percent = report["coverage"]["percent"] or 0.0
    if percent < workflow.coverage_threshold:
        problems.append(
            f"test coverage {percent:g} % is below the threshold "
            f"{workflow.coverage_threshold} %"
        )
    return {
        "mode": workflow.publish_gate,
        "ok": not problems,
        "problems": problems,
        "passed": report["passed"],
        "failed": report["failed"],
        "coverage": report["coverage"],
    }


def version_publish(
    *, version: WorkflowVersion, actor: Any = None, canary_percent: int = 0
) -> WorkflowVersion:
    """Publish a draft with the next number and make it the live version, or route
    `canary_percent` of new runs to it while the live version keeps the rest.

    Under a `block` publish gate a draft whose test cases fail (or fall short of the
    coverage threshold) is refused with VersionConflict("publish_gate_failed").
    """
    from designer import rollout

    _validated(version.graph)
    gate = publish_gate_check(version=version)
    if gate is not None and not gate["ok"] and gate["mode"] == PublishGate.BLOCK:
        raise VersionConflict(
            "publish_gate_failed",
            "publishing is blocked: " + "; ".join(gate["problems"]),
        )
    with transaction.atomic():
        workflow = Workflow.objects.select_for_update(no_key=True).get(
            pk=version.workflow_id
        )
        locked = WorkflowVersion.objects.select_for_update(no_key=True).get(
            pk=version.pk
        )
        if locked.status != VersionStatus.DRAFT:
            raise VersionConflict(
                "not_draft", f"version {locked.number} is already {locked.status}"
            )
        previous_live = workflow.live_version_id
        locked.publish(at=timezone.now())
        locked.save()
        if canary_percent:
            try:
                rollout.canary_start(
                    workflow=workflow,
                    version=locked,
                    percent=canary_percent,
                    actor=actor,
                )
            except rollout.RolloutError as exc:
                raise VersionConflict(exc.code, exc.message) from exc
        else:
            rollout._make_live(workflow, locked)
        log = EventLog()
        log.add(
            "version_published",
            from_state=VersionStatus.DRAFT,
            to_state=VersionStatus.PUBLISHED,
            actor=actor_of(actor),
            workflow_id=workflow.pk,
            version_id=locked.pk,
            data={
                "number": locked.number,
                "previous_live_version_id": previous_live,
                "canary_percent": canary_percent,
                "gate": gate,
            },
        )
        log.flush()
    return locked


def workflow_rollback(
    *, workflow: Workflow, number: int, actor: Any = None, reason: str = ""
) -> Workflow:
    """Point the live version at an earlier published version in one step."""
    from designer import rollout

    with transaction.atomic():
        locked = Workflow.objects.select_for_update(no_key=True).get(pk=workflow.pk)
        target = locked.versions.filter(number=number).first()
        if target is None:
            raise VersionConflict("unknown_version", f"version {number} does not exist")
        if target.status != VersionStatus.PUBLISHED:
            raise VersionConflict(
                "version_not_published", f"version {number} is {target.status}"
            )
        previous = locked.live_version
        rollout.restore_live(locked, target)
        log = EventLog()
        log.add(
            "live_version_changed",
            actor=actor_of(actor),
            reason=reason or "rollback",
            workflow_id=locked.pk,
            version_id=target.pk,
            data={
                "from": previous.number if previous else None,
                "to": target.number,
            },
        )
        log.flush()
    return locked
