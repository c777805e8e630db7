"""Opening and cancelling the handoffs of a run's steps (in the engine's transaction).

A handoff opens when a run reaches a `handoff` node (or a task's action returns
`{"handoff": {...}}`); its step waits without holding a worker. People act on it
through `runs.handoffs`.
"""

from datetime import timedelta
from typing import Any

from engine.retry import MAX_DELAY_S, bounded_seconds
from runs.errors import RunError
from runs.events import transition
from runs.models import (
    HANDOFF_ACTIVE,
    AssigneeKind,
    Handoff,
    HandoffState,
    StepRun,
    StepState,
)


def parse_assignee(value: Any, *, field: str = "to") -> tuple[str, str]:
    """Return (kind, name) from `{"group"|"user"|"agent": name}`; raise RunError.

    Names are strings: a group's name, a user's or agent's username (never an id).
    """
    if isinstance(value, dict) and len(value) == 1:
        ((kind, name),) = value.items()
        if (
            kind in AssigneeKind.values
            and isinstance(name, str)
            and 0 < len(name) <= 150
        ):
            return kind, name
    raise RunError(
        "bad_assignee",
        f"{field} must be one of {{'group': name}}, {{'user': username}}, "
        "{'agent': username} (names are strings)",
    )


def open_handoff(
    *,
    advance: Any,
    step: StepRun,
    spec: dict[str, Any],
    context: dict[str, Any],
    context_errors: dict[str, str],
) -> Handoff:
    """Put the step in `waiting` and open its handoff (inside the caller's transaction).

    `spec` has the node's fields: to, outcomes, instructions, title, sla_s,
    escalate_to. The step is saved already, or is new and pending.
    """
    now = advance.now
    kind, name = parse_assignee(spec["to"])
    escalate_kind, escalate_to = "", ""
    if spec.get("escalate_to"):
        escalate_kind, escalate_to = parse_assignee(
            spec["escalate_to"], field="escalate_to"
        )
    sla_s = spec.get("sla_s")
    due_at = None
    if sla_s is not None:
        due_at = now + timedelta(seconds=bounded_seconds(sla_s))
    transition(
        advance.log,
        step,
        "wait",
        actor=advance.actor,
        until=None,
        reason=f"handed off to {kind} {name}",
    )
    handoff = Handoff(
        run=advance.run,
        step=step,
        workflow_id=advance.run.workflow_id,
        version_id=advance.run.version_id,
        node_id=step.node_id,
        title=str(spec.get("title") or spec.get("label") or "")[:200],
        instructions=str(spec.get("instructions") or ""),
        outcomes=list(spec["outcomes"]),
        context=context,
        context_errors=context_errors,
        assignee_kind=kind,
        assignee=name,
        escalate_kind=escalate_kind,
        escalate_to=escalate_to,
        sla_s=float(sla_s) if sla_s is not None else None,
        due_at=due_at,
    )
    handoff.save()
    advance.log.add(
        "handoff_opened",
        run=advance.run,
        step=step,
        handoff=handoff,
        to_state=HandoffState.OPEN,
        actor=advance.actor,
        reason=f"for {kind} {name}",
        data={
            "to": {"kind": kind, "name": name},
            "outcomes": handoff.outcomes,
            "due_at": due_at.isoformat() if due_at else None,
        },
    )
    return handoff


def task_handoff_spec(output: Any) -> dict[str, Any] | None:
    """Return the handoff a task's action asked for in its output, if any.

    Raise ValueError naming the problem when the request is malformed, so the attempt
    fails (non-retryable) instead of the run waiting on a handoff nobody can finish.
    """
    if not isinstance(output, dict) or "handoff" not in output:
        return None
    spec = output["handoff"]
    if not isinstance(spec, dict):
        raise ValueError("`handoff` must be an object")
    try:
        parse_assignee(spec.get("to"))
        if spec.get("escalate_to") is not None:
            parse_assignee(spec["escalate_to"], field="escalate_to")
    except Exception as exc:
        raise ValueError(f"handoff: {exc}") from exc
    outcomes = spec.get("outcomes")
    if (
        not isinstance(outcomes, list)
        or not outcomes
        or len(outcomes) > 50
        or not all(isinstance(o, str) and 0 < len(o) <= 100 for o in outcomes)
        or len(set(outcomes)) != len(outcomes)
    ):
        raise ValueError("handoff: outcomes must be 1-50 distinct non-empty strings")
    sla_s = spec.get("sla_s")
    if sla_s is not None and (
        not isinstance(sla_s, int | float)
        or isinstance(sla_s, bool)
        or not 0 < sla_s <= MAX_DELAY_S
    ):
        raise ValueError(
            f"handoff: sla_s must be a positive number of at most {MAX_DELAY_S:.0f}"
        )
    if not isinstance(spec.get("context", {}), dict):
        raise ValueError("handoff: context must be an object")
    if not isinstance(spec.get("instructions", ""), str):
        raise ValueError("handoff: instructions must be a string")
    return spec


def open_node_handoff(advance: Any, step: StepRun, node: dict[str, Any]) -> Handoff:
    """Open the handoff of a handoff node, snapshotting its context expressions."""
    values, errors = advance.graph.handoff_context(node["id"], advance.context())
    return open_handoff(
        advance=advance, step=step, spec=node, context=values, context_errors=errors
    )


def cancel_handoffs(advance: Any, steps: list[StepRun], *, reason: str) -> None:
    """Cancel the active handoffs of steps being cancelled with their run."""
    waiting = [s for s in steps if s.state == StepState.WAITING and s.pk]
    if not waiting:
        return
    by_step = {s.pk: s for s in waiting}
    for handoff in Handoff.objects.filter(
        step__in=waiting, state__in=HANDOFF_ACTIVE
    ).select_for_update(no_key=True):
        handoff.run = advance.run
        handoff.step = by_step[handoff.step_id]
        transition(
            advance.log,
            handoff,
            "cancel",
            kind="handoff_cancelled",
            actor=advance.actor,
            reason=reason,
            at=advance.now,
        )
