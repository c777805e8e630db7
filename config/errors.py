"""Map every API error to 400/404/409/413/422/429 with `{"errors": [...]}`."""

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.validators import MaxLengthValidator
from django.http import Http404
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from engine import errors as domain
from engine.errors import DomainError

# The error code of every size limit; its status is 413.
TOO_LARGE = domain.TOO_LARGE
# The HTTP status of each kind of domain error.
DOMAIN_STATUS = {
    domain.INVALID: status.HTTP_400_BAD_REQUEST,
    domain.FORBIDDEN: status.HTTP_403_FORBIDDEN,
    domain.CONFLICT: status.HTTP_409_CONFLICT,
    domain.TOO_LARGE: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    domain.UNPROCESSABLE: status.HTTP_422_UNPROCESSABLE_ENTITY,
}


class LimitedCharField(serializers.CharField):
    """A text field whose max_length is a size limit: longer answers 413 too_large."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for validator in self.validators:
            if isinstance(validator, MaxLengthValidator):
                validator.code = TOO_LARGE


def error_response(
    http_status: int, errors: list[dict[str, Any]], **extra: Any
) -> Response:
    """Return the standard error body."""
    return Response({"errors": errors, **extra}, status=http_status)


def _flatten(detail: Any, field: str | None = None) -> list[dict[str, Any]]:
    # DRF details nest as {field: [ErrorDetail, ...]} or lists of them.
    if isinstance(detail, dict):
        out: list[dict[str, Any]] = []
        for key, value in detail.items():
            name = key if field is None else f"{field}.{key}"
            # A nested object's own errors belong to the object: its path, not none.
            out.extend(_flatten(value, field if key == "non_field_errors" else name))
        return out
    if isinstance(detail, list):
        return [item for value in detail for item in _flatten(value, field)]
    error: dict[str, Any] = {
        "code": getattr(detail, "code", "invalid"),
        "message": str(detail),
    }
    if field:
        error["field"] = field
    return [error]


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Translate domain and framework exceptions into the error format."""
    if isinstance(exc, DomainError):
        # Every service's error for the caller (engine/errors.py): one mapping.
        return error_response(
            DOMAIN_STATUS[exc.error_kind()], exc.errors(), **exc.extra()
        )
    if isinstance(exc, TransitionNotAllowed):
        return error_response(
            status.HTTP_409_CONFLICT,
            [{"code": "transition_not_allowed", "message": str(exc)}],
        )
    if isinstance(exc, ConcurrentTransition):
        return error_response(
            status.HTTP_409_CONFLICT,
            [{"code": "concurrent_transition", "message": "changed by someone else"}],
        )
    if isinstance(exc, RequestDataTooBig):
        return error_response(
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            [{"code": TOO_LARGE, "message": str(exc) or "request body is too large"}],
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.APIException):
        detail = exc.detail
        errors = _flatten(detail)
        if isinstance(exc, exceptions.ParseError):
            errors = [{"code": "parse_error", "message": str(detail)}]
        elif isinstance(exc, exceptions.ValidationError) and any(
            e["code"] == TOO_LARGE for e in errors
        ):
            # A field over its size limit (run input, a handoff's note): 413.
            response.status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        response.data = {"errors": errors}
    return response
