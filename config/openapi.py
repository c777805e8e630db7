"""Describe the v1 API in OpenAPI: the error answers of every operation, list pages."""

import copy
from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers


class ErrorItem(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(required=False)
    node_id = serializers.CharField(required=False)
    edge_id = serializers.CharField(required=False)


class ErrorBody(serializers.Serializer):
    errors = ErrorItem(many=True)
    # Graph validation errors come with the graph's warnings.
    warnings = ErrorItem(many=True, required=False)


# {status: what it means}: see config/errors.py, which answers all of them.
ERROR_RESPONSES: dict[int, str] = {
    400: "The request is invalid (validation errors, bad JSON).",
    401: "No credentials, or a bad or revoked token.",
    403: "The user's role may not do this.",
    404: "No such object, or one the user may not see.",
    405: "The method is not allowed here.",
    409: "The object's state does not allow this now.",
    413: "The request, or a part of it, is larger than its limit (`too_large`).",
    422: "The request is well formed but cannot be carried out as asked.",
    429: "Too many requests or failed sign-ins; wait `Retry-After` seconds.",
}


class SwitchyardAutoSchema(AutoSchema):
    """Add the error answers, in the error format, to every operation."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status, description in ERROR_RESPONSES.items():
            responses.setdefault(
                str(status),
                self._get_response_for_code(
                    OpenApiResponse(ErrorBody, description=description), str(status)
                ),
            )
        return responses


def paginated(
    name: str, item: serializers.BaseSerializer | serializers.Field, **extra: Any
) -> serializers.Serializer:
    """Return the schema of a LimitOffsetPagination page of `item`, plus `extra`."""
    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            # A field instance binds to one parent: each list gets its own copy.
            "results": serializers.ListField(child=copy.deepcopy(item)),
            **extra,
        },
    )


def results(
    name: str, item: serializers.BaseSerializer | serializers.Field, **extra: Any
) -> Any:
    """Return the schema of `{"results": [item, ...]}`, unpaginated, plus `extra`."""
    return inline_serializer(
        name=name,
        fields={"results": serializers.ListField(child=copy.deepcopy(item)), **extra},
    )


class EventSchema(serializers.Serializer):
    """An event as runs.serializers.event_dict writes it (schema only)."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    run_id = serializers.IntegerField(allow_null=True)
    step_id = serializers.IntegerField(allow_null=True)
    attempt_id = serializers.IntegerField(allow_null=True)
    handoff_id = serializers.IntegerField(allow_null=True)
    workflow = serializers.CharField(allow_null=True)
    version = serializers.IntegerField(allow_null=True)
    node_id = serializers.CharField(allow_blank=True)
    from_state = serializers.CharField(allow_blank=True)
    to_state = serializers.CharField(allow_blank=True)
    actor = serializers.CharField(allow_blank=True)
    reason = serializers.CharField(allow_blank=True)
    data = serializers.JSONField()
    created_at = serializers.DateTimeField()
