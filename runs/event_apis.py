"""HTTP API of recent events across workflows (the board feeds' history)."""

import re
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import EventSchema, results
from config.pagination import bounded_int
from designer import access
from runs import selectors
from runs.models import Event
from runs.run_filters import RunFilterError
from runs.serializers import event_dict

MAX_RECENT = 200
DEFAULT_RECENT = 50
MAX_TYPES = 30
_KIND = re.compile(r"[a-z][a-z0-9_]{0,47}")


def event_types(raw: str) -> list[str]:
    """Return the event kinds of a `type=a,b` parameter, refusing malformed ones."""
    kinds = [part.strip() for part in raw.split(",") if part.strip()]
    if len(kinds) > MAX_TYPES:
        raise RunFilterError("bad_filter", f"type: at most {MAX_TYPES} event types")
    for kind in kinds:
        if not _KIND.fullmatch(kind):
            raise RunFilterError(
                "bad_filter", f"type: {kind[:60]!r} is not an event type"
            )
    return list(dict.fromkeys(kinds))


def _visible(user: Any) -> QuerySet[Event]:
    qs = Event.objects.select_related("workflow", "version").defer("version__graph")
    if access.sees_all(user):
        return qs
    # Events of no workflow are for those who see all, as on the live stream.
    return qs.filter(access.visible_q(user, "workflow__"), workflow__isnull=False)


def recent_events(*, user: Any, kinds: list[str], limit: int) -> list[Event]:
    """Return the newest `limit` events of the given kinds the user sees, newest first.

    One query per kind, each reading the (kind, created_at) index backwards and
    stopping at `limit`, then merged: a single `kind IN (…)` query would read every
    event of those kinds to sort them.
    """
    base = _visible(user)
    if not kinds:
        return list(base.order_by("-id")[:limit])
    found: list[Event] = []
    for kind in kinds:
        found.extend(base.filter(kind=kind).order_by("-created_at", "-id")[:limit])
    found.sort(key=lambda e: (e.created_at, e.pk), reverse=True)
    return found[:limit]


class RecentEventsApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "type",
                str,
                description=(
                    "comma-separated event kinds (at most "
                    f"{MAX_TYPES}); all kinds when absent"
                ),
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_RECENT},
                description=f"1 to {MAX_RECENT} (default {DEFAULT_RECENT})",
            ),
        ],
        responses=results(
            "RecentEvents",
            EventSchema(),
            last_event_id=serializers.IntegerField(),
            last_event_tx=serializers.IntegerField(),
        ),
        operation_id="api_v1_events_list",
    )
    def get(self, request: Request) -> Response:
        kinds = event_types(request.query_params.get("type", ""))
        limit = bounded_int(
            request,
            "limit",
            default=DEFAULT_RECENT,
            low=1,
            high=MAX_RECENT,
            code="invalid_limit",
        )
        # Read the position first: the events found are at least as new as it, so a
        # stream resumed after it misses none (duplicates are dropped by id).
        last_tx, last_event = selectors.last_event_position()
        events = recent_events(user=request.user, kinds=kinds, limit=limit)
        return Response(
            {
                "results": [event_dict(e) for e in events],
                "last_event_id": last_event,
                "last_event_tx": last_tx,
            }
        )
