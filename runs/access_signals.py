"""Tell a user's open WebSocket streams to check their access again when it changes.

Every stream joins the Channels group `user_<id>` (runs.consumers). After the commit
of a change that may take access away, `{"type": "access.changed"}` goes to the
group of each user concerned; their streams re-read the user and close (4403) if
they may no longer read. Changes that send it:

- the user saved (deactivated, password changed: sessions end) or deleted;
- the user's groups (roles and teams) or permissions changed, from either side of
  the relation, or a group's permissions changed, or a group was deleted;
- the user's API token deleted (revoked, or rotated: the old key is deleted);
- the user logged out (that session's streams end).

A workflow given to another team sends nothing: the streams' periodic re-check
(SWITCHYARD_WS_ACCESS_RECHECK_S) finds it. Nothing here changes state; a failure to
send is logged, not raised: the periodic re-check is the fallback.
"""

import logging
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

logger = logging.getLogger("switchyard.streams")

MESSAGE = {"type": "access.changed"}


def user_group(user_id: int) -> str:
    """Return the Channels group of one user's streams."""
    return f"user_{user_id}"


def access_changed(user_ids: Iterable[int | None]) -> None:
    """After the commit, make the users' open streams check their access again."""
    ids = sorted({pk for pk in user_ids if pk is not None})
    if ids:
        transaction.on_commit(lambda: _send(ids), robust=True)


def _send(user_ids: list[int]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for user_id in user_ids:
        try:
            async_to_sync(layer.group_send)(user_group(user_id), dict(MESSAGE))
        except Exception:
            logger.warning(
                "could not tell user %s's streams to re-check access",
                user_id,
                exc_info=True,
            )


def _group_members(group_ids: Iterable[int]) -> list[int]:
    return list(
        get_user_model()
        .objects.filter(groups__in=list(group_ids))
        .values_list("pk", flat=True)
        .distinct()
    )


# ------------------------------------------------------------------ receivers


def _user_saved(
    sender: Any, instance: Any, update_fields: Any = None, **kw: Any
) -> None:
    if kw.get("created"):
        return
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a login: nothing was taken away
    access_changed([instance.pk])


def _user_deleted(sender: Any, instance: Any, **kw: Any) -> None:
    access_changed([instance.pk])


def _user_relation_changed(
    sender: Any,
    instance: Any,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kw: Any,
) -> None:
    """Handle user.groups or user.user_permissions changed, from either side."""
    if not reverse:
        if action in ("post_add", "post_remove", "post_clear"):
            access_changed([instance.pk])
        return
    # group.user_set or permission.user_set: pk_set holds user ids; a clear does not
    # say whom it removed, so they are read before it.
    if action in ("post_add", "post_remove"):
        access_changed(pk_set or ())
    elif action == "pre_clear":
        access_changed(instance.user_set.values_list("pk", flat=True))


def _group_permissions_changed(
    sender: Any,
    instance: Any,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kw: Any,
) -> None:
    """A role's permissions changed: every member's access may have."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if not reverse:
        access_changed(_group_members([instance.pk]))
    elif action == "pre_clear":
        access_changed(_group_members(instance.group_set.values_list("pk", flat=True)))
    else:
        access_changed(_group_members(pk_set or ()))


def _group_deleted(sender: Any, instance: Any, **kw: Any) -> None:
    # Before the delete: its members are gone after it (no m2m_changed is sent).
    access_changed(_group_members([instance.pk]))


def _token_deleted(sender: Any, instance: Any, **kw: Any) -> None:
    access_changed([instance.user_id])


def _logged_out(sender: Any, request: Any, user: Any, **kw: Any) -> None:
    if user is not None:
        access_changed([user.pk])


def connect_signals() -> None:
    """Connect the receivers (from RunsConfig.ready())."""
    from rest_framework.authtoken.models import Token

    user_model = get_user_model()
    uid = "switchyard-streams"
    post_save.connect(_user_saved, sender=user_model, dispatch_uid=f"{uid}-user-save")
    post_delete.connect(
        _user_deleted, sender=user_model, dispatch_uid=f"{uid}-user-delete"
    )
    for relation in (user_model.groups.through, user_model.user_permissions.through):
        m2m_changed.connect(
            _user_relation_changed,
            sender=relation,
            dispatch_uid=f"{uid}-{relation._meta.label_lower}",
        )
    m2m_changed.connect(
        _group_permissions_changed,
        sender=Group.permissions.through,
        dispatch_uid=f"{uid}-group-permissions",
    )
    pre_delete.connect(_group_deleted, sender=Group, dispatch_uid=f"{uid}-group")
    post_delete.connect(_token_deleted, sender=Token, dispatch_uid=f"{uid}-token")
    user_logged_out.connect(_logged_out, dispatch_uid=f"{uid}-logout")
