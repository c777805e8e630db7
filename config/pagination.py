"""Paginate API lists by `limit` and `offset` within bounds; outside them answer 400.

Without bounds a huge `limit` or `offset` reached the database as a number no
`bigint` holds (a 500), and a large one read the whole table. Both parameters are
ASCII digits: `limit` from 1 to MAX_LIMIT (default PAGE_SIZE), `offset` from 0 to
MAX_OFFSET (default 0); anything else is refused with 400 `invalid_limit` or
`invalid_offset` naming the parameter, before any query runs.
"""

from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

MAX_LIMIT = 500
# Deeper than this, filter the list instead (OFFSET reads and drops every row before).
MAX_OFFSET = 1_000_000

# The query parameters of every paginated list, for the OpenAPI schema.
PAGINATION_PARAMETERS = [
    OpenApiParameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        description=f"page size, 1 to {MAX_LIMIT} (default 50)",
    ),
    OpenApiParameter(
        "offset",
        {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
        description=f"rows to skip, 0 to {MAX_OFFSET}",
    ),
]


def bounded_int(
    request: Request, name: str, *, default: int, low: int, high: int, code: str
) -> int:
    """Return a query parameter as an int in [low, high], its default when absent.

    Raise a 400 ValidationError with `code` for anything else: not digits, signs,
    spaces, numbers out of range.
    """
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    if (
        value.isascii()
        and value.isdigit()
        and len(value) <= len(str(high))
        and low <= int(value) <= high
    ):
        return int(value)
    raise exceptions.ValidationError(
        {
            name: [
                exceptions.ErrorDetail(
                    f"{name} must be a whole number from {low} to {high}; "
                    f"got {value[:40]!r}",
                    code=code,
                )
            ]
        }
    )


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """DRF's limit/offset pages, refusing limits and offsets out of bounds."""

    max_limit = MAX_LIMIT
    max_offset = MAX_OFFSET

    def paginate_queryset(
        self, queryset: Any, request: Request, view: Any = None
    ) -> list[Any]:
        # Check both before DRF counts the rows.
        self.get_limit(request)
        self.get_offset(request)
        page = super().paginate_queryset(queryset, request, view)
        # DRF answers None only when there is no limit; get_limit always has one.
        assert page is not None
        return page

    def get_limit(self, request: Request) -> int:
        return bounded_int(
            request,
            self.limit_query_param,
            default=self.default_limit or self.max_limit,
            low=1,
            high=self.max_limit,
            code="invalid_limit",
        )

    def get_offset(self, request: Request) -> int:
        return bounded_int(
            request,
            self.offset_query_param,
            default=0,
            low=0,
            high=self.max_offset,
            code="invalid_offset",
        )


class CappedCountPagination(BoundedLimitOffsetPagination):
    """Pages whose total is counted only so far: a broad search at a million runs
    spent most of its time counting every match for "1–50 of 312,448".

    The count reads at most `count_cap` rows past the page (from `count_queryset`,
    the bare filter, when given: no ordering, no annotations). Past that the answer
    says `count_capped: true` and `count` is a lower bound, one above the rows read,
    so the next link still follows.
    """

    count_cap = 10_000

    def __init__(self, count_queryset: Any = None) -> None:
        self.count_queryset = count_queryset
        self.count_capped = False

    def get_count(self, queryset: Any) -> int:
        source = self.count_queryset if self.count_queryset is not None else queryset
        offset = self.get_offset(self.request)
        bound = max(self.count_cap, offset + (self.limit or 0))
        counted = int(source.order_by().values("pk")[: bound + 1].count())
        self.count_capped = counted > bound
        return counted

    def get_paginated_response(self, data: Any) -> Any:
        response = super().get_paginated_response(data)
        response.data["count_capped"] = self.count_capped
        return response
