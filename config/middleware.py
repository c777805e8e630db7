"""Refuse oversized API requests with 413 before any view reads the body."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


class RequestSizeLimitMiddleware:
    """Answer 413 with the error format when Content-Length is above the limit."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.SWITCHYARD_MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit and request.path.startswith("/api/"):
            return JsonResponse(
                {
                    "errors": [
                        {
                            "code": "too_large",
                            "message": f"request body is {length} bytes; the limit is "
                            f"{limit} bytes",
                        }
                    ]
                },
                status=413,
            )
        return self.get_response(request)
