"""WebSocket consumers: backfill missed events from the database, then stream live."""

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from runs.models import Run
from runs.relay import ensure_relay_running
from runs.selectors import event_list
from runs.serializers import event_dict

BACKFILL_PAGE = 500


class EventStreamConsumer(AsyncJsonWebsocketConsumer):
    """Stream events of one group; the client first sends `{"after": <event id>}`."""

    run_id: int | None = None

    def group_name(self) -> str:
        return "board"

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        if not await self.allowed():
            await self.close(code=4404)
            return
        self.last_sent: int | None = None
        ensure_relay_running()
        await self.accept()

    async def allowed(self) -> bool:
        return True

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if self.last_sent is not None:
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
        for event_id, text in zip(ids, message["texts"], strict=True):
            if event_id <= self.last_sent:
                continue
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
        return await database_sync_to_async(Run.objects.filter(pk=self.run_id).exists)()
