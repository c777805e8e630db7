"""Parse API request bodies as JSON that PostgreSQL can store, within size limits."""

import io
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# The largest id a bigint column holds.
MAX_ID = 2**63 - 1


def as_id(value: Any) -> int | None:
    """Return a text value (a query parameter, a name) as a database id, else None.

    Only ASCII digits within bigint: `"²".isdigit()` is true but int() refuses it,
    and a longer number fails in the database; both were 500s.
    """
    if not (isinstance(value, str) and value.isascii() and value.isdigit()):
        return None
    if len(value) > len(str(MAX_ID)) or int(value) > MAX_ID:
        return None
    return int(value)


class LimitedJSONParser(JSONParser):
    """DRF's JSON parser, refusing what would fail later as a 500.

    - a body above SWITCHYARD_MAX_REQUEST_BYTES (413; the middleware refuses most
      by Content-Length first, and DRF reads the stream past Django's own
      DATA_UPLOAD_MAX_MEMORY_SIZE check);
    - nesting deeper than SWITCHYARD_MAX_JSON_DEPTH (Python's decoder raises
      RecursionError, not ValueError, on very deep documents);
    - strings with NUL (PostgreSQL's jsonb and text refuse `\\u0000`) or with a lone
      surrogate half (not encodable as UTF-8).
    """

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: dict[str, Any] | None = None,
    ) -> Any:
        limit = settings.SWITCHYARD_MAX_REQUEST_BYTES
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise RequestDataTooBig(f"request body is larger than {limit} bytes")
        try:
            data = super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply")
        problem = storable_problem(data, settings.SWITCHYARD_MAX_JSON_DEPTH)
        if problem:
            raise ParseError(f"JSON parse error - {problem}")
        return data


def storable_problem(data: Any, max_depth: int) -> str | None:
    """Return why PostgreSQL could not store a JSON document, or None."""
    # Iterative: a document is as deep as the decoder allowed.
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return "strings may not contain NUL (\\u0000)"
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return "strings may not contain lone surrogates (\\ud800-\\udfff)"
        elif isinstance(value, dict | list):
            if depth > max_depth:
                return f"nested deeper than {max_depth} levels"
            items = (
                [*value.keys(), *value.values()] if isinstance(value, dict) else value
            )
            stack.extend((item, depth + 1) for item in items)
    return None
