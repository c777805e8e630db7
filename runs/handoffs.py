"""Handoffs: a run's step waits while a person, a group or an agent decides.

A handoff opens when a run reaches a `handoff` node (or a task's action returns
`{"handoff": {...}}`); its step waits without holding a worker. Completing it with one
of its outcomes finishes the step and routes the graph on that outcome. Every change is
an FSM transition with its Event, in the same transaction.

Lock order is the engine's: the run row first, then the handoff row.
"""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from designer import access
from engine.expressions import ExpressionError
from runs.errors import RunError
from runs.events import EventLog, transition
from runs.models import (
    HANDOFF_ACTIVE,
    AssigneeKind,
    Handoff,
    HandoffState,
    HandoffVerdict,
    Run,
    RunState,
    StepState,
)
from runs.services.advancing import Advance
from runs.services.graphs import compiled_graph_for
from runs.services.handoff_steps import parse_assignee
from runs.sweeping import each_isolated, mark_handoff

# Where a handoff goes when its SLA passes and its node names no `escalate_to`.
DEFAULT_ESCALATION_GROUP = "escalations"
MAX_NOTE = 5000


# ------------------------------------------------------------------ who may act


def actor_for(user: Any, handoff: Handoff) -> str:
    """Return the event actor: `agent:<name>` for an agent's own handoff."""
    if (
        handoff.assignee_kind == AssigneeKind.AGENT
        and user.get_username() == handoff.assignee
    ):
        return f"agent:{handoff.assignee}"
    return f"user:{user.get_username()}"


def is_assignee(user: Any, handoff: Handoff) -> bool:
    """Say whether the user is the handoff's assignee or in its assignee group."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if handoff.assignee_kind == AssigneeKind.GROUP:
        return handoff.assignee in group_names(user)
    # Users and agents by username only: a username may be all digits.
    return bool(handoff.assignee == user.get_username())


def group_names(user: Any) -> frozenset[str]:
    """Return the user's group names, read once per user object (one request)."""
    names = getattr(user, "_switchyard_group_names", None)
    if names is None:
        names = frozenset(user.groups.values_list("name", flat=True))
        user._switchyard_group_names = names
    return names


def allowed_actions(user: Any, handoff: Handoff) -> dict[str, bool]:
    """Return what the user may do with the handoff now (for the inbox's buttons)."""
    state = handoff.state
    mine = handoff.claimed_by_id is not None and handoff.claimed_by_id == user.pk
    eligible = is_assignee(user, handoff)
    staff = bool(user.is_staff or access.sees_all(user))
    waiting = handoff.run.state == RunState.RUNNING
    unclaimed = state in (
        HandoffState.OPEN,
        HandoffState.EXPIRED,
        HandoffState.ESCALATED,
    )
    return {
        "claim": unclaimed and eligible,
        "release": state == HandoffState.CLAIMED and (mine or staff),
        "complete": waiting
        and ((state == HandoffState.CLAIMED and mine) or (unclaimed and eligible)),
        "reassign": state in HANDOFF_ACTIVE and (mine or eligible or staff),
    }


def _supervises(user: Any) -> bool:
    """Staff and admins (who see every workflow) may release and reassign any."""
    return bool(user.is_staff or access.sees_all(user))


def _require_assignee(user: Any, handoff: Handoff) -> None:
    if not is_assignee(user, handoff):
        raise RunError(
            "not_assignee",
            f"handoff {handoff.pk} is for {handoff.assignee_kind} "
            f"{handoff.assignee!r}; only they can take it",
        )


# ------------------------------------------------------------------ people act


def _locked(handoff_id: int, *, lock_run: bool) -> tuple[Run, Handoff]:
    """Lock (run, handoff) in the engine's order; raise Handoff.DoesNotExist."""
    run_id = Handoff.objects.values_list("run_id", flat=True).get(pk=handoff_id)
    run = Run.objects.select_related("workflow", "version")
    if lock_run:
        run = run.select_for_update(no_key=True, of=("self",))
    run_row = run.get(pk=run_id)
    handoff = (
        Handoff.objects.select_for_update(no_key=True, of=("self",))
        .select_related("step")
        .get(pk=handoff_id)
    )
    handoff.run = run_row
    handoff.step.run = run_row
    return run_row, handoff


def _not_allowed(handoff: Handoff, action: str) -> Exception:
    return RunError(
        "transition_not_allowed",
        f"handoff {handoff.pk} is {handoff.state}; it cannot be {action}",
    )


def handoff_claim(*, handoff_id: int, user: Any) -> Handoff:
    """Claim an open (or escalated) handoff for the user; one claimer wins."""
    with transaction.atomic():
        _, handoff = _locked(handoff_id, lock_run=False)
        _require_assignee(user, handoff)
        if handoff.state == HandoffState.CLAIMED:
            who = "you" if handoff.claimed_by_id == user.pk else "someone else"
            raise RunError(
                "transition_not_allowed",
                f"handoff {handoff.pk} is already claimed by {who}",
            )
        if handoff.state not in HANDOFF_ACTIVE:
            raise _not_allowed(handoff, "claimed")
        log = EventLog()
        _claim(log, handoff, user, timezone.now())
        log.flush()
    return handoff


def _claim(log: EventLog, handoff: Handoff, user: Any, now: datetime) -> None:
    transition(
        log,
        handoff,
        "claim",
        kind="handoff_claimed",
        actor=actor_for(user, handoff),
        user=user,
        at=now,
        data={"by": user.get_username()},
    )


def handoff_release(*, handoff_id: int, user: Any, note: str = "") -> Handoff:
    """Give a claimed handoff back to its assignee (the claimer or staff)."""
    with transaction.atomic():
        _, handoff = _locked(handoff_id, lock_run=False)
        if handoff.state != HandoffState.CLAIMED:
            raise _not_allowed(handoff, "released")
        if handoff.claimed_by_id != user.pk and not _supervises(user):
            raise RunError(
                "claimed_by_other", f"handoff {handoff.pk} is claimed by someone else"
            )
        log = EventLog()
        transition(
            log,
            handoff,
            "release",
            kind="handoff_released",
            actor=actor_for(user, handoff),
            reason=note[:500],
        )
        log.flush()
    return handoff


def handoff_reassign(*, handoff_id: int, user: Any, to: Any, note: str = "") -> Handoff:
    """Hand an active handoff to another user, group or agent; it is open again."""
    kind, name = parse_assignee(to)
    if kind != AssigneeKind.GROUP and not _user_exists(name):
        raise RunError("bad_assignee", f"there is no user {name!r}")
    with transaction.atomic():
        _, handoff = _locked(handoff_id, lock_run=False)
        if handoff.state not in HANDOFF_ACTIVE:
            raise _not_allowed(handoff, "reassigned")
        mine = handoff.claimed_by_id == user.pk
        if not (mine or _supervises(user) or is_assignee(user, handoff)):
            raise RunError(
                "not_assignee",
                f"only the assignee, the claimer or staff can reassign handoff "
                f"{handoff.pk}",
            )
        before = {"kind": handoff.assignee_kind, "name": handoff.assignee}
        log = EventLog()
        transition(
            log,
            handoff,
            "reassign",
            kind="handoff_reassigned",
            actor=actor_for(user, handoff),
            reason=note[:500] or f"to {kind} {name}",
            data={"from": before, "to": {"kind": kind, "name": name}},
            assignee_kind=kind,
            assignee=name,
        )
        log.flush()
    return handoff


def _user_exists(name: str) -> bool:
    return bool(get_user_model().objects.filter(username=name).exists())


def handoff_complete(
    *, handoff_id: int, user: Any, outcome: Any, note: str = ""
) -> Handoff:
    """Complete the handoff with an outcome; its step succeeds and the run moves on.

    An eligible user completing an unclaimed handoff claims it in the same
    transaction (two events). The run must be running: a paused run is resumed first.
    """

    note = str(note or "")
    if len(note) > MAX_NOTE:
        raise RunError("bad_note", f"note is longer than {MAX_NOTE} characters")
    with transaction.atomic():
        run, handoff = _locked(handoff_id, lock_run=True)
        if not isinstance(outcome, str) or outcome not in handoff.outcomes:
            raise RunError(
                "bad_outcome",
                f"outcome must be one of {', '.join(handoff.outcomes)}; "
                f"got {outcome!r}",
            )
        if handoff.state == HandoffState.CLAIMED:
            if handoff.claimed_by_id != user.pk:
                raise RunError(
                    "claimed_by_other",
                    f"handoff {handoff.pk} is claimed by someone else",
                )
        elif handoff.state in HANDOFF_ACTIVE:
            _require_assignee(user, handoff)
        else:
            raise _not_allowed(handoff, "completed")
        if run.state != RunState.RUNNING:
            raise RunError(
                "run_not_running",
                f"run {run.pk} is {run.state}; resume it before completing its handoff",
            )
        now = timezone.now()
        actor = actor_for(user, handoff)
        log = EventLog()
        if handoff.state != HandoffState.CLAIMED:
            _claim(log, handoff, user, now)
        transition(
            log,
            handoff,
            "complete",
            kind="handoff_completed",
            actor=actor,
            reason=note[:500],
            user=user,
            outcome=outcome,
            note=note,
            at=now,
            data={"outcome": outcome, "by": user.get_username()},
        )
        advance = Advance(
            run, compiled_graph_for(run.version_id), log, now=now, actor=actor
        )
        _finish_step(advance, handoff, outcome=outcome, note=note, by=user)
        log.flush()
    return handoff


def _finish_step(
    advance: Any, handoff: Handoff, *, outcome: str, note: str, by: Any
) -> None:
    step = next(
        (v[-1] for v in advance.steps.values() if v and v[-1].pk == handoff.step_id),
        None,
    )
    if step is None or step.state != StepState.WAITING:
        return  # superseded by a rerun: the handoff no longer drives the run
    output = {"outcome": outcome, "note": note, "by": by.get_username()}
    graph = advance.graph
    try:
        if step.node_type == "handoff":
            taken = graph.route(
                step.node_id, succeeded=True, context=advance.context(outcome=outcome)
            )
        else:
            taken = graph.route(step.node_id, succeeded=True, context={})
    except ExpressionError as exc:
        advance.fail_on_expression(step, exc)
        return
    transition(
        advance.log,
        step,
        "succeed",
        actor=advance.actor,
        output=output,
        taken_edges=taken,
        at=advance.now,
        reason=f"handoff outcome {outcome}",
        data={"taken_edges": taken, "outcome": outcome},
    )
    advance.took(taken)
    if not taken and step.node_type == "handoff":
        advance.fail_run(
            {
                "type": "NoRoute",
                "message": f"no edge out of {step.node_id!r} for outcome {outcome!r}",
                "node_id": step.node_id,
            }
        )
        return
    advance.follow(step)


# ------------------------------------------------------------------ SLA


def escalation_target(handoff: Handoff) -> tuple[str, str]:
    """Return (kind, name) the handoff escalates to."""
    if handoff.escalate_kind and handoff.escalate_to:
        return handoff.escalate_kind, handoff.escalate_to
    group = getattr(settings, "SWITCHYARD_ESCALATION_GROUP", DEFAULT_ESCALATION_GROUP)
    return AssigneeKind.GROUP, group


def handoffs_expire_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Expire handoffs past their SLA and escalate them; return how many."""
    now = now or timezone.now()
    due = list(
        Handoff.objects.filter(
            state__in=[HandoffState.OPEN, HandoffState.CLAIMED], due_at__lte=now
        )
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )
    return each_isolated(
        "handoff_sla",
        due,
        lambda handoff_id: _expire(handoff_id, now),
        mark=mark_handoff,
        describe=lambda handoff_id: f"handoff {handoff_id}",
    )


def _expire(handoff_id: int, now: datetime) -> bool:
    with transaction.atomic():
        _, handoff = _locked(handoff_id, lock_run=False)
        if handoff.state not in (HandoffState.OPEN, HandoffState.CLAIMED):
            return False
        if handoff.due_at is None or handoff.due_at > now:
            return False
        log = EventLog()
        late_s = (now - handoff.due_at).total_seconds()
        transition(
            log,
            handoff,
            "expire",
            kind="handoff_expired",
            actor="system:sla",
            reason=f"SLA of {handoff.sla_s:g} s passed",
            data={"due_at": handoff.due_at.isoformat(), "late_s": late_s},
        )
        kind, name = escalation_target(handoff)
        before = {"kind": handoff.assignee_kind, "name": handoff.assignee}
        if kind == AssigneeKind.GROUP:
            Group.objects.get_or_create(name=name)
        transition(
            log,
            handoff,
            "escalate",
            kind="handoff_escalated",
            actor="system:sla",
            reason=f"escalated to {kind} {name}",
            data={"from": before, "to": {"kind": kind, "name": name}},
            assignee_kind=kind,
            assignee=name,
            at=now,
        )
        log.flush()
    return True


# ------------------------------------------------------------------ review


def handoff_review(
    *, handoff_id: int, verdict: str, comment: str, user: Any
) -> Handoff:
    """Record a staff verdict (correct / incorrect) on a completed handoff."""
    if verdict not in (HandoffVerdict.CORRECT, HandoffVerdict.INCORRECT):
        raise RunError("bad_verdict", "verdict must be 'correct' or 'incorrect'")
    comment = str(comment or "")
    if len(comment) > MAX_NOTE:
        raise RunError("bad_note", f"comment is longer than {MAX_NOTE} characters")
    if not (user.is_staff and user.has_perm("runs.review_handoff")):
        raise RunError("not_allowed", "only staff with review permission review")
    with transaction.atomic():
        _, handoff = _locked(handoff_id, lock_run=False)
        if handoff.state != HandoffState.COMPLETED:
            raise RunError(
                "transition_not_allowed",
                f"handoff {handoff.pk} is {handoff.state}; only completed handoffs "
                "are reviewed",
            )
        before = handoff.verdict
        handoff.review(verdict=verdict, comment=comment, user=user, at=timezone.now())
        handoff.save()
        log = EventLog()
        log.add(
            "handoff_reviewed",
            run=handoff.run,
            step=handoff.step,
            handoff=handoff,
            from_state=before,
            to_state=handoff.verdict,
            actor=f"user:{user.get_username()}",
            reason=comment[:500],
            data={"verdict": verdict},
        )
        log.flush()
    return handoff
