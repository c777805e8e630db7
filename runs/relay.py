"""Tail the Event table and fan new events out to Channels groups.

The relay reads final events in stream order, (tx, id) after its position (see
`runs.selectors.event_list`): only events of transactions older than every
transaction still in flight, so no event can later commit behind the position and
tailing never skips one. One relay runs per web process with the in-memory channel
layer (embedded default); with Redis, the web processes elect one leader through a
Redis lease so each event is sent once, and the leader's position is kept in Redis so
a new leader resumes where the old one stopped.

Each message carries the events of one batch for one group, their positions and
`prev`, the position of the previous event sent to that group (or, for a group's
first message, the position this relay started from), so a consumer that finds a hole
(a message dropped by a full channel, events a lost relay position skipped) refills it
from the database.
"""

import asyncio
import json
import logging
import secrets
from collections import OrderedDict
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from runs.selectors import Position, event_list, event_position, last_event_position
from runs.serializers import event_dict

logger = logging.getLogger("switchyard.relay")

BATCH = 500
LEASE_MS = 5000
_LEASE_KEY = "switchyard:relay:lease"
_POSITION_KEY = "switchyard:relay:position"
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


def _read_events(after: Position) -> list[dict[str, Any]]:
    return [event_dict(e) for e in event_list(after=after, limit=BATCH)]


def _decode_position(stored: bytes | str) -> Position | None:
    """Read a position kept in Redis: "tx:id", or an event id (before positions)."""
    text = stored.decode() if isinstance(stored, bytes) else stored
    try:
        if ":" in text:
            tx, event_id = text.split(":", 1)
            return (int(tx), int(event_id))
        return event_position(int(text))
    except ValueError:
        return None


def groups_for(event: dict[str, Any]) -> list[str]:
    """Return the Channels groups an event belongs to."""
    groups = ["board"]
    if event["workflow"]:
        groups.append(f"workflow_{event['workflow']}")
    if event["run_id"]:
        groups.append(f"run_{event['run_id']}")
    return groups


class EventRelay:
    """Send every committed event to its groups, once, in id order."""

    def __init__(self, *, redis_url: str | None, interval_s: float) -> None:
        self.redis_url = redis_url
        self.interval_s = interval_s
        self.position: Position | None = None
        # Where this relay's stream began. Below it, a consumer may lack events that
        # no relay sent to its group (a position lost with a Redis restart makes the
        # new stream begin at the table's head), so it is the `prev` of a group's
        # first message: a consumer behind it refills the hole from the database.
        self.origin: Position = (0, 0)
        # {group: position of the last event sent to it}; bounded, oldest dropped.
        self.last_sent: OrderedDict[str, Position] = OrderedDict()
        self._redis: Any = None
        self._renew: Any = None
        self._token = secrets.token_hex(8)
        self._leader = False

    async def run_forever(self) -> None:
        """Relay until cancelled; survive database and Redis hiccups."""
        layer = get_channel_layer()
        while True:
            try:
                if not await self._hold_lease():
                    await asyncio.sleep(1.0)
                    continue
                sent = await self.relay_once(layer)
                if sent < BATCH:
                    await asyncio.sleep(self.interval_s)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("event relay failed; retrying")
                self.position = None
                await asyncio.sleep(1.0)

    async def relay_once(self, layer: Any) -> int:
        """Send the next batch of events; return how many were sent.

        Each group gets one message per batch, holding every event of the batch
        that belongs to it, already encoded as the WebSocket frame: the consumers
        (fifty boards, say) forward the text instead of encoding it again each.
        """
        if self.position is None:
            self.position = await self._load_position()
            self.origin = self.position
        events = await database_sync_to_async(_read_events)(self.position)
        # {group: ([[tx, event id], ...], [workflow slug, ...], [frame text, ...])}
        batches: dict[str, tuple[list[list[int]], list[str | None], list[str]]] = {}
        for payload in events:
            text = json.dumps({"type": "event", "event": payload})
            position = [payload["tx"], payload["id"]]
            for group in groups_for(payload):
                positions, workflows, texts = batches.setdefault(group, ([], [], []))
                positions.append(position)
                workflows.append(payload["workflow"])
                texts.append(text)
        for group, (positions, workflows, texts) in batches.items():
            message = {
                "type": "event.batch",
                "positions": positions,
                # Consumers show each event only to users who see its workflow.
                "workflows": workflows,
                "texts": texts,
                "prev": list(self.last_sent.get(group, self.origin)),
            }
            await layer.group_send(group, message)
            self.last_sent[group] = (positions[-1][0], positions[-1][1])
            self.last_sent.move_to_end(group)
        if events:
            self.position = (events[-1]["tx"], events[-1]["id"])
        while len(self.last_sent) > 10_000:
            self.last_sent.popitem(last=False)
        if events:
            await self._save_position()
        return len(events)

    async def _redis_client(self, url: str) -> Any:
        """Return the relay's Redis client, connecting to `url` (its redis_url) once."""
        if self._redis is None:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(url)
            # Renews the lease only while this relay still holds it (EVALSHA).
            self._renew = self._redis.register_script(_RENEW)
        return self._redis

    async def _hold_lease(self) -> bool:
        if not self.redis_url:
            return True
        client = await self._redis_client(self.redis_url)
        if self._leader:
            renewed = await self._renew(keys=[_LEASE_KEY], args=[self._token, LEASE_MS])
            if renewed:
                return True
            self._leader = False
            self.position = None
        acquired = await client.set(_LEASE_KEY, self._token, nx=True, px=LEASE_MS)
        if acquired:
            self._leader = True
            self.position = None
            self.last_sent.clear()
        return bool(acquired)

    async def _load_position(self) -> Position:
        if self.redis_url:
            client = await self._redis_client(self.redis_url)
            stored = await client.get(_POSITION_KEY)
            if stored is not None:
                found = await database_sync_to_async(_decode_position)(stored)
                if found is not None:
                    return found
        return await database_sync_to_async(last_event_position)()

    async def _save_position(self) -> None:
        if self.redis_url and self.position is not None:
            client = await self._redis_client(self.redis_url)
            tx, event_id = self.position
            await client.set(_POSITION_KEY, f"{tx}:{event_id}", ex=86400)


_relay_task: asyncio.Task[None] | None = None


def ensure_relay_running() -> None:
    """Start this process's relay on the running event loop if it is not running."""
    global _relay_task
    if _relay_task is not None and not _relay_task.done():
        return
    relay = EventRelay(
        redis_url=settings.SWITCHYARD_REDIS_URL,
        interval_s=settings.SWITCHYARD_RELAY_INTERVAL_S,
    )
    _relay_task = asyncio.get_running_loop().create_task(relay.run_forever())
