"""A run's step logs over HTTP: a page of one attempt's lines, a search within the
run, and the whole log as a text download. Whoever sees the run sees its logs.

- `GET /api/v1/runs/<id>/logs/?attempt=<id>&after=<seq>`: the attempt's chunks after
  `seq` (the run page polls this while the attempt runs); `map_item=<id>&number=<n>`
  for one attempt of a map item;
- `GET /api/v1/runs/<id>/logs/?q=<text>[&attempt=<id>][&after=<chunk id>]`: lines
  holding the text, any case, each with its attempt and line number;
- `GET /api/v1/runs/<id>/logs/export/`: text/plain, attempt by attempt, streamed.
"""

from collections.abc import AsyncIterator, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.pagination import bounded_int
from config.parsers import MAX_ID, as_id
from runs import logs, selectors
from runs.models import ATTEMPT_FINISHED, Attempt, ItemState, MapItem, Run

MAX_QUERY_CHARS = 200


class LogTextOutput(serializers.Serializer):
    """Lines of one attempt's log: a stored chunk, or one line a search found."""

    attempt = serializers.IntegerField(source="attempt_id", allow_null=True)
    map_item = serializers.IntegerField(source="map_item_id", allow_null=True)
    number = serializers.IntegerField()
    node_id = serializers.CharField()
    seq = serializers.IntegerField()
    first_line = serializers.IntegerField()
    lines = serializers.IntegerField()
    text = serializers.CharField(allow_blank=True)
    truncated = serializers.BooleanField()
    created_at = serializers.DateTimeField()


LOG_PAGE = inline_serializer(
    name="RunLogPage",
    fields={
        "results": LogTextOutput(many=True),
        # Send it back as `after` for what follows; null: nothing more for now.
        "next": serializers.IntegerField(allow_null=True),
        # The attempt has finished: no line will be added (null for a search).
        "finished": serializers.BooleanField(allow_null=True),
        # A search found more lines in one chunk than an answer holds.
        "clipped": serializers.BooleanField(),
    },
)


def _invalid(name: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError(
        {name: [exceptions.ErrorDetail(message, code=f"invalid_{name}")]}
    )


def _id_param(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    found = as_id(value)
    if found is None:
        raise _invalid(name, f"{name} must be an id; got {value[:40]!r}")
    return found


def _visible_run(request: Request, run_id: int) -> Run:
    return selectors.of_visible_workflow(
        Run.objects.defer("input", "output", "error", "reruns"),
        pk=run_id,
        user=request.user,
    )


def _search_line(match: logs.LogMatch) -> dict[str, Any]:
    chunk = match.chunk
    return {
        "attempt_id": chunk.attempt_id,
        "map_item_id": chunk.map_item_id,
        "number": chunk.number,
        "node_id": chunk.node_id,
        "seq": chunk.seq,
        "first_line": match.line,
        "lines": 1,
        "text": match.text,
        "truncated": chunk.truncated,
        "created_at": chunk.created_at,
    }


class RunLogsApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("attempt", int, description="one attempt's log"),
            OpenApiParameter("map_item", int, description="one map item's log"),
            OpenApiParameter(
                "number", int, description="the map item's attempt number"
            ),
            OpenApiParameter(
                "after",
                {"type": "integer", "minimum": 0},
                description="a page: chunks after this seq; a search: after this "
                "chunk id (the answer's `next`)",
            ),
            OpenApiParameter(
                "q",
                {"type": "string", "maxLength": MAX_QUERY_CHARS},
                description="search the run's log (or the attempt's) for this text",
            ),
        ],
        responses=LOG_PAGE,
    )
    def get(self, request: Request, run_id: int) -> Response:
        run = _visible_run(request, run_id)
        after = bounded_int(
            request, "after", default=0, low=0, high=MAX_ID, code="invalid_after"
        )
        attempt_id = _id_param(request, "attempt")
        query = request.query_params.get("q", "")
        if query:
            return Response(self._search(run, query, attempt_id, after))
        map_item_id = _id_param(request, "map_item")
        if attempt_id is not None:
            state = (
                Attempt.objects.filter(pk=attempt_id, run=run)
                .values_list("state", flat=True)
                .first()
            )
            if state is None:
                raise exceptions.NotFound("this run has no such attempt")
            owner = {"run_id": run.pk, "attempt_id": attempt_id}
            finished = state in ATTEMPT_FINISHED
        elif map_item_id is not None:
            number = _id_param(request, "number")
            item = MapItem.objects.filter(pk=map_item_id, run=run).first()
            if item is None:
                raise exceptions.NotFound("this run has no such map item")
            number = number or item.attempts
            owner = {"run_id": run.pk, "map_item_id": map_item_id, "number": number}
            finished = number < item.attempts or item.state != ItemState.RUNNING
        else:
            raise _invalid("attempt", "name an attempt (or a map_item), or search: q")
        chunks, more = logs.step_log_page(owner=owner, after=after)
        return Response(
            {
                "results": LogTextOutput(chunks, many=True).data,
                "next": chunks[-1].seq if more else None,
                "finished": finished,
                "clipped": False,
            }
        )

    def _search(
        self, run: Run, query: str, attempt_id: int | None, after: int
    ) -> dict[str, Any]:
        if len(query) > MAX_QUERY_CHARS or "\x00" in query:
            raise _invalid(
                "q", f"q is text without NUL, at most {MAX_QUERY_CHARS} characters"
            )
        page = logs.step_log_search(
            run_id=run.pk, text=query, attempt_id=attempt_id, after=after
        )
        return {
            "results": LogTextOutput(
                [_search_line(m) for m in page.matches], many=True
            ).data,
            "next": page.next_after,
            "finished": None,
            "clipped": page.clipped,
        }


class RunLogsExportApi(APIView):
    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request: Request, run_id: int) -> StreamingHttpResponse:
        run = _visible_run(request, run_id)
        parts = logs.step_log_export(run.pk)
        # Under ASGI a plain iterator would be read whole before the first byte.
        content = (
            _read_async(parts) if isinstance(request._request, ASGIRequest) else parts
        )
        response = StreamingHttpResponse(
            content, content_type="text/plain; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="run-{run.pk}-logs.txt"'
        )
        return response


def _next_part(parts: Iterator[str]) -> str | None:
    return next(parts, None)


async def _read_async(parts: Iterator[str]) -> AsyncIterator[str]:
    """Read a sync iterator that queries the database, a part at a time."""
    read = sync_to_async(_next_part, thread_sensitive=True)
    while (part := await read(parts)) is not None:
        yield part
