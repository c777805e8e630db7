"""Services that change workflows and versions."""

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from designer import access
from designer.connections import graph_connection_issues
from designer.limits import simulation_budget
from designer.models import VersionStatus, Workflow, WorkflowVersion
from designer.signals import version_created
from engine.actions import registered_actions
from engine.errors import INVALID, TOO_LARGE, DomainError
from engine.graph.compiled import CompiledGraph
from engine.graph.diff import graph_checksum
from engine.graph.issues import Issue, ValidationResult
from engine.graph.schema import GraphLimits
from engine.graph.validate import validate_graph

MAX_GRAPH_NODES = 2000


class GraphInvalid(DomainError):
    """Raised when a graph fails validation; carries the result (400, or 413 when
    over a size limit), every issue in the body and the warnings beside them."""

    kind = INVALID

    def __init__(self, result: ValidationResult) -> None:
        super().__init__("invalid_graph", "graph is invalid")
        self.result = result

    def error_kind(self) -> str:
        too_large = any(i.code == TOO_LARGE for i in self.result.errors)
        return TOO_LARGE if too_large else INVALID

    def errors(self) -> list[dict[str, Any]]:
        return [i.to_dict() for i in self.result.errors]

    def extra(self) -> dict[str, Any]:
        return {"warnings": [i.to_dict() for i in self.result.warnings]}


class VersionConflict(DomainError):
    """Raised when a request conflicts with a version's state (e.g. it is published)."""


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
    if workflow is not None:
        result.errors.extend(graph_connection_issues(graph, workflow))
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


def validated(graph: Any, workflow: Workflow | None = None) -> ValidationResult:
    """Return the validation result of a valid graph; raise GraphInvalid."""
    result = graph_validate(graph=graph, workflow=workflow)
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
    result = validated(graph, workflow)
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
        version_created.send(sender=WorkflowVersion, version=version, actor=created_by)
    return version, result


def version_update(
    *, version: WorkflowVersion, graph: Any, note: str | None = None, actor: Any = None
) -> tuple[WorkflowVersion, ValidationResult]:
    """Replace the graph of a draft; published versions refuse (VersionConflict)."""
    result = validated(graph, version.workflow)
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
