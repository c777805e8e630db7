"""WebSocket consumers: backfill missed events from the database, then stream live."""

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from designer import access
from runs.models import Run
from runs.relay import ensure_relay_running
from runs.selectors import event_list
from runs.serializers import event_dict

BACKFILL_PAGE = 500


class EventStreamConsumer(AsyncJsonWebsocketConsumer):
    """Stream events of one group; the client first sends `{"after": <event id>}`."""

    run_id: int | None = None
    refused = True

    def group_name(self) -> str:
        return "board"

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.last_sent: int | None = None
        self.refused = True
        # A signed-in user learns why: 4403 without a role, 4404 for a run they may
        # not see (as if it did not exist).
        if not await database_sync_to_async(user.has_perm)(access.VIEW):
            await self.accept()
            await self.close(code=4403)
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

    async def allowed(self) -> bool:
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
        self.last_sent = after
        await self.backfill(upto=None)
        await self.send_json({"type": "ready", "last_id": self.last_sent})

    async def backfill(self, *, upto: int | None) -> None:
        while True:
            events = await database_sync_to_async(self._read)(self.last_sent)
            for event in events:
                if upto is not None and event["id"] >= upto:
                    return
                if await self._may_see(event["workflow"]):
                    await self.send_json({"type": "event", "event": event})
                self.last_sent = event["id"]
            if len(events) < BACKFILL_PAGE:
                return

    def _read(self, after: int) -> list[dict[str, Any]]:
        return [
            event_dict(e)
            for e in event_list(run_id=self.run_id, after=after, limit=BACKFILL_PAGE)
        ]

    async def event_batch(self, message: dict[str, Any]) -> None:
        """Forward a relay batch: the events' frames, each once, in id order."""
        if self.last_sent is None:
            return
        ids: list[int] = message["ids"]
        prev_id = message.get("prev_id")
        if prev_id is not None and prev_id > self.last_sent:
            # A message was lost on the way (full channel): refill from the database.
            await self.backfill(upto=ids[0])
        for event_id, workflow, text in zip(
            ids, message["workflows"], message["texts"], strict=True
        ):
            if event_id <= self.last_sent:
                continue
            if await self._may_see(workflow):
                await self.send(text_data=text)
            self.last_sent = event_id

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group_name(), self.channel_name)


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
        def visible() -> bool:
            user = self.scope["user"]
            return (
                Run.objects.filter(pk=self.run_id)
                .filter(access.visible_q(user, "workflow__"))
                .exists()
            )

        return await database_sync_to_async(visible)()
