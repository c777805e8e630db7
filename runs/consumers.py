"""WebSocket consumers: backfill missed events from the database, then stream live.

Access is checked when a stream opens and again while it is open: when the user's
access changes (runs.access_signals sends `access.changed` to the group `user_<id>`
that every stream of theirs joins) and every SWITCHYARD_WS_ACCESS_RECHECK_S seconds
in case a change sent no signal (a queryset update, a lost message). A stream whose
user was deactivated or deleted, lost the role to view or the team owning its run,
or whose token was revoked or session ended, is closed with 4403.
"""

import asyncio
import logging
from importlib import import_module
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.utils.crypto import constant_time_compare

from designer import access
from runs.access_signals import user_group
from runs.models import Run
from runs.relay import ensure_relay_running
from runs.selectors import Position, event_list, event_position
from runs.serializers import event_dict

logger = logging.getLogger("switchyard.streams")

BACKFILL_PAGE = 500
# Close code for a stream whose access ended or was never there (HTTP 403's).
CLOSE_FORBIDDEN = 4403


def _session_belongs_to(session_key: str, user: Any) -> bool:
    """Say whether the session still exists and still signs the user in.

    Reads a fresh copy of the session and changes nothing (Django's get_user would
    flush a session whose password hash no longer matches, or rotate its key).
    """
    engine = import_module(settings.SESSION_ENGINE)
    data = engine.SessionStore(session_key).load()
    if str(data.get(SESSION_KEY)) != str(user.pk):
        return False
    session_hash = data.get(HASH_SESSION_KEY) or ""
    return bool(session_hash) and any(
        constant_time_compare(session_hash, known)
        for known in (
            user.get_session_auth_hash(),
            *user.get_session_auth_fallback_hash(),
        )
    )


class EventStreamConsumer(AsyncJsonWebsocketConsumer):
    """Stream events of one group; the client first sends `{"after": <event id>}`.

    The id is the last event the client received (0 for none); the stream goes on
    from that event's position, in stream order (see runs.selectors.event_list).
    """

    run_id: int | None = None
    refused = True

    def group_name(self) -> str:
        return "board"

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        # Stream position (tx, id) of the last event sent, once the client said
        # where to resume.
        self.last_sent: Position | None = None
        self.refused = True
        self.user_id: int = user.pk
        self.recheck_task: asyncio.Task[None] | None = None
        # How the stream signed in, to check it again later: a token (the key) or a
        # session (its key).
        self.token_key: str | None = self.scope.get("token_key")
        session = self.scope.get("session")
        self.session_key: str | None = (
            None if self.token_key or session is None else session.session_key
        )
        # Joined before the checks: a change committed after them is not missed.
        await self.channel_layer.group_add(user_group(self.user_id), self.channel_name)
        # A signed-in user learns why: 4403 without a role, 4404 for a run they may
        # not see (as if it did not exist).
        if not await database_sync_to_async(user.has_perm)(access.VIEW):
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if not await self.allowed():
            await self.accept()
            await self.close(code=4404)
            return
        # Workflow slugs the user may see ({} unknown yet; None: every workflow).
        self.visible: dict[str, bool] | None = await database_sync_to_async(
            self._visible_start
        )()
        self.refused = False
        ensure_relay_running()
        await self.accept()
        self.recheck_task = asyncio.get_running_loop().create_task(
            self._recheck_periodically(float(settings.SWITCHYARD_WS_ACCESS_RECHECK_S))
        )

    async def allowed(self) -> bool:
        return True

    async def access_changed(self, message: dict[str, Any]) -> None:
        """Check access again (the user's roles, teams, token or session changed)."""
        await self.recheck_access()

    async def recheck_access(self) -> None:
        """Close the stream with 4403 if its user may no longer read it."""
        if self.refused:
            return
        if await database_sync_to_async(self._still_allowed)():
            return
        if self.refused:  # closed meanwhile by another check
            return
        self.refused = True
        await self.channel_layer.group_discard(self.group_name(), self.channel_name)
        await self.close(code=CLOSE_FORBIDDEN)

    async def _recheck_periodically(self, interval_s: float) -> None:
        while not self.refused:
            await asyncio.sleep(interval_s)
            try:
                await self.recheck_access()
            except Exception:
                # A database hiccup: try again at the next interval.
                logger.warning("access re-check failed", exc_info=True)

    def _still_allowed(self) -> bool:
        """Read the user afresh and say whether the stream may stay open.

        On yes, the fresh user replaces the one in the scope, and the workflows the
        board forwards are looked up again (a team may be gone).
        """
        user = get_user_model().objects.filter(pk=self.user_id, is_active=True).first()
        if user is None:
            return False
        if self.token_key is not None:
            from rest_framework.authtoken.models import Token

            if not Token.objects.filter(key=self.token_key, user=user).exists():
                return False
        elif self.session_key is not None:
            if not _session_belongs_to(self.session_key, user):
                return False
        if not user.has_perm(access.VIEW):
            return False
        self.scope["user"] = user
        if not self._allowed_now():
            return False
        self.visible = self._visible_start()
        return True

    def _allowed_now(self) -> bool:
        """Say whether the scope's user may read this stream (synchronous)."""
        return True

    def _visible_start(self) -> dict[str, bool] | None:
        user = self.scope["user"]
        return None if access.sees_all(user) else {}

    async def _may_see(self, workflow: str | None) -> bool:
        """Say whether the user sees events of this workflow (looked up once)."""
        if self.visible is None:
            return True
        if not workflow:
            return False  # events of no workflow are for those who see all
        known = self.visible.get(workflow)
        if known is None:
            known = await database_sync_to_async(self._check)(workflow)
            self.visible[workflow] = known
        return known

    def _check(self, workflow: str) -> bool:
        return (
            access.visible_workflows(self.scope["user"]).filter(slug=workflow).exists()
        )

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if self.refused or self.last_sent is not None:
            return
        after = content.get("after") if isinstance(content, dict) else None
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            await self.send_json(
                {
                    "type": "error",
                    "errors": [
                        {"code": "bad_after", "message": 'send {"after": <event id>}'}
                    ],
                }
            )
            return
        # Join first, then read the database: an event committed after the read is
        # delivered by the group, one committed before it by the read; ids dedupe.
        await self.channel_layer.group_add(self.group_name(), self.channel_name)
        self.last_sent = await database_sync_to_async(event_position)(after)
        await self.backfill(upto=None)
        await self.send_json({"type": "ready", "last_id": self.last_sent[1]})

    async def backfill(self, *, upto: Position | None) -> None:
        while not self.refused and self.last_sent is not None:
            events = await database_sync_to_async(self._read)(self.last_sent)
            for event in events:
                if self.refused:
                    return
                position = (event["tx"], event["id"])
                if upto is not None and position >= upto:
                    return
                if await self._may_see(event["workflow"]):
                    await self.send_json({"type": "event", "event": event})
                self.last_sent = position
            if len(events) < BACKFILL_PAGE:
                return

    def _read(self, after: Position) -> list[dict[str, Any]]:
        return [
            event_dict(e)
            for e in event_list(run_id=self.run_id, after=after, limit=BACKFILL_PAGE)
        ]

    async def event_batch(self, message: dict[str, Any]) -> None:
        """Forward a relay batch: the events' frames, each once, in stream order."""
        if self.last_sent is None or self.refused:
            return
        positions = [(tx, event_id) for tx, event_id in message["positions"]]
        prev = message.get("prev")
        if prev is not None and (prev[0], prev[1]) > self.last_sent:
            # A message was lost on the way (full channel): refill from the database.
            await self.backfill(upto=positions[0])
        for position, workflow, text in zip(
            positions, message["workflows"], message["texts"], strict=True
        ):
            if self.last_sent is None or position <= self.last_sent:
                continue
            if self.refused:
                return
            if await self._may_see(workflow):
                await self.send(text_data=text)
            self.last_sent = position

    async def disconnect(self, code: int) -> None:
        self.refused = True
        task = getattr(self, "recheck_task", None)
        if task is not None:
            task.cancel()
        await self.channel_layer.group_discard(self.group_name(), self.channel_name)
        user_id = getattr(self, "user_id", None)
        if user_id is not None:
            await self.channel_layer.group_discard(
                user_group(user_id), self.channel_name
            )


class BoardConsumer(EventStreamConsumer):
    """Every event, for the operations board."""


class RunConsumer(EventStreamConsumer):
    """One run's events, for the run page."""

    async def connect(self) -> None:
        self.run_id = int(self.scope["url_route"]["kwargs"]["run_id"])
        await super().connect()

    def group_name(self) -> str:
        return f"run_{self.run_id}"

    async def allowed(self) -> bool:
        return bool(await database_sync_to_async(self._allowed_now)())

    def _allowed_now(self) -> bool:
        user = self.scope["user"]
        return (
            Run.objects.filter(pk=self.run_id)
            .filter(access.visible_q(user, "workflow__"))
            .exists()
        )
