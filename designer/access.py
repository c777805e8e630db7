"""Who may see and do what: roles (Django groups with permissions) and team ownership.

Two independent questions, asked in this order:

1. **Can the user see the workflow?** A workflow owned by a group (a team) is visible to
   that team's members; one without an owner to every user with a role. Users who may
   manage every workflow (role `admin`, superusers) see all. Anything else answers 404,
   as if it did not exist: its runs, events, handoffs and metrics too.
2. **May the user's role do this?** `viewer` reads; `editor` also changes drafts,
   publishes and rolls back; `operator` also starts, cancels, pauses, resumes and
   retries runs and works handoffs; `admin` does everything, for every team, and
   reviews handoffs. A role that may not answers 403.
"""

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db.models import Q, QuerySet
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from engine.errors import FORBIDDEN, INVALID, DomainError

VIEW = "designer.view_workflow"
EDIT = "designer.edit_workflow"
MANAGE = "designer.manage_workflow"
OPERATE = "runs.operate_run"
WORK_HANDOFFS = "runs.work_handoff"
REVIEW_HANDOFFS = "runs.review_handoff"

# Role group name → permissions ("app_label.codename").
ROLES: dict[str, tuple[str, ...]] = {
    "viewer": (VIEW, "designer.view_workflowversion", "runs.view_run"),
    "editor": (
        VIEW,
        "designer.view_workflowversion",
        "runs.view_run",
        EDIT,
        "designer.add_workflow",
    ),
    "operator": (
        VIEW,
        "designer.view_workflowversion",
        "runs.view_run",
        OPERATE,
        WORK_HANDOFFS,
    ),
    "admin": (
        VIEW,
        "designer.view_workflowversion",
        "runs.view_run",
        EDIT,
        "designer.add_workflow",
        OPERATE,
        WORK_HANDOFFS,
        MANAGE,
        REVIEW_HANDOFFS,
        "runs.view_handoff",
    ),
}


def ensure_roles(**kwargs: Any) -> None:
    """Create the role groups with their permissions (after every migrate)."""
    for role, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            found = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if found is not None:
                wanted.append(found)
        group.permissions.add(*wanted)


def sees_all(user: Any) -> bool:
    """Say whether the user sees every team's workflows."""
    return bool(user.is_superuser or user.has_perm(MANAGE))


def team_ids(user: Any) -> list[int]:
    """Return the ids of the user's groups, read once per user object."""
    ids = getattr(user, "_switchyard_group_ids", None)
    if ids is None:
        ids = list(user.groups.values_list("pk", flat=True))
        user._switchyard_group_ids = ids
    return ids


class TeamRefused(DomainError):
    """An owner group that is no team, or a team the user is not in."""

    def error_kind(self) -> str:
        return FORBIDDEN if self.code == "not_member" else INVALID

    def errors(self) -> list[dict[str, Any]]:
        return [{"code": self.code, "message": self.message, "field": "owner_group"}]


def owner_team(user: Any, name: str | None, *, owns: str) -> Group | None:
    """The team (group) named `name` for something the user creates, or None for no
    name; raise TeamRefused for an unknown group, a role (a role is no team) or a
    team the user is not in (unless they see all)."""
    if name is None:
        return None
    group = Group.objects.filter(name=name).first()
    if group is None or name in ROLES:
        raise TeamRefused("unknown_group", f"there is no team {name!r}")
    if not sees_all(user) and group.pk not in team_ids(user):
        raise TeamRefused(
            "not_member", f"you are not in {name!r}; a team owns its own {owns}"
        )
    return group


def visible_q(user: Any, prefix: str = "") -> Q:
    """Return a filter for rows whose workflow the user sees (`prefix` leads to it)."""
    if sees_all(user):
        return Q()
    if not user.has_perm(VIEW):
        return Q(pk__in=[])
    owner = f"{prefix}owner_group"
    return Q(**{f"{owner}__isnull": True}) | Q(**{f"{owner}__in": team_ids(user)})


def visible_workflows(user: Any, qs: QuerySet | None = None) -> QuerySet:
    """Return the workflows the user sees."""
    from designer.models import Workflow

    qs = qs if qs is not None else Workflow.objects.all()
    return qs.filter(visible_q(user))


def visible_workflow_ids(user: Any) -> list[int] | None:
    """Return ids of the workflows the user sees, or None when they see all."""
    if sees_all(user):
        return None
    return list(visible_workflows(user).values_list("pk", flat=True))


def can_see_workflow(user: Any, workflow: Any) -> bool:
    if sees_all(user):
        return True
    if not user.has_perm(VIEW):
        return False
    return workflow.owner_group_id is None or workflow.owner_group_id in team_ids(user)


class RolePermission(BasePermission):
    """Require the permission the view names for the request's method.

    Views set `perms = {"GET": VIEW, "POST": OPERATE, ...}`; a method not named
    needs VIEW when safe and is refused otherwise, so a new view is closed until it
    says what it needs.
    """

    message = "your role does not allow this"

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        perms: dict[str, str | Iterable[str]] = getattr(view, "perms", {})
        needed = perms.get(request.method or "GET")
        if needed is None:
            if request.method in ("GET", "HEAD", "OPTIONS"):
                needed = VIEW
            else:
                return False
        if isinstance(needed, str):
            needed = (needed,)
        return all(user.has_perm(p) for p in needed)
