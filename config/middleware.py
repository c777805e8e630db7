"""Refuse hostile requests early; add the security headers to every answer."""

import secrets
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse


def _api_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"errors": [{"code": code, "message": message}]}, status=status)


class RequestSizeLimitMiddleware:
    """Answer 413 when Content-Length is above the limit, 400 for NUL in the query.

    PostgreSQL refuses NUL in text, so a query parameter with one that reaches a
    filter would otherwise end as a 500.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        api = request.path.startswith("/api/")
        limit = settings.SWITCHYARD_MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit and api:
            return _api_error(
                413,
                "too_large",
                f"request body is {length} bytes; the limit is {limit} bytes",
            )
        if any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            message = "query parameters may not contain NUL (%00)"
            if api:
                return _api_error(400, "bad_query", message)
            return HttpResponseBadRequest(message)
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Add Content-Security-Policy and Permissions-Policy to every answer.

    Each request gets a nonce (`request.csp_nonce`) for the few inline <style>
    blocks a template may need; `{nonce}` in the policy stands for it. Django's
    SecurityMiddleware sends X-Content-Type-Options, Referrer-Policy and
    Cross-Origin-Opener-Policy; XFrameOptionsMiddleware sends X-Frame-Options.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(16)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        policy = settings.SWITCHYARD_CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy.replace("{nonce}", nonce)
        permissions = settings.SWITCHYARD_PERMISSIONS_POLICY
        if permissions and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = permissions
        return response
