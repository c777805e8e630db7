"""Refuse hostile requests early; add the security headers to every answer; serve
static files.

Each middleware here runs in the mode of the handler it wraps: synchronously under
WSGI and the test client, as a coroutine under ASGI (daphne). A synchronous-only
middleware in an ASGI stack makes Django hop between the event loop and a thread
around it (three hops per request with these three), a few milliseconds each on
a busy machine; now the only hop left is the one into the synchronous view.
"""

import secrets
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from whitenoise.middleware import WhiteNoiseMiddleware


def _api_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"errors": [{"code": code, "message": message}]}, status=status)


class _EitherMode:
    """A middleware that answers early (`before`) or edits the answer (`after`),
    in whichever mode the handler it wraps runs."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[..., Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        early = self.before(request)
        if early is not None:
            return early
        return self.after(request, self.get_response(request))

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        early = self.before(request)
        if early is not None:
            return early
        return self.after(request, await self.get_response(request))

    def before(self, request: HttpRequest) -> HttpResponse | None:
        return None

    def after(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        return response


class RequestSizeLimitMiddleware(_EitherMode):
    """Answer 413 when Content-Length is above the limit, 400 for NUL in the query.

    PostgreSQL refuses NUL in text, so a query parameter with one that reaches a
    filter would otherwise end as a 500.
    """

    def before(self, request: HttpRequest) -> HttpResponse | None:
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
        return None


class SecurityHeadersMiddleware(_EitherMode):
    """Add Content-Security-Policy and Permissions-Policy to every answer.

    Each request gets a nonce (`request.csp_nonce`) for the few inline <style>
    blocks a template may need; `{nonce}` in the policy stands for it. Django's
    SecurityMiddleware sends X-Content-Type-Options, Referrer-Policy and
    Cross-Origin-Opener-Policy; XFrameOptionsMiddleware sends X-Frame-Options.
    """

    def before(self, request: HttpRequest) -> HttpResponse | None:
        request.csp_nonce = secrets.token_urlsafe(16)  # type: ignore[attr-defined]
        return None

    def after(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        nonce = request.csp_nonce  # type: ignore[attr-defined]
        policy = settings.SWITCHYARD_CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy.replace("{nonce}", nonce)
        permissions = settings.SWITCHYARD_PERMISSIONS_POLICY
        if permissions and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = permissions
        return response


class StaticFilesMiddleware(WhiteNoiseMiddleware):  # type: ignore[misc]
    """WhiteNoise, able to run as a coroutine too: a request that is not for a
    static file passes through without a thread hop; serving one (opening the file)
    runs in a thread."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[..., Any], *args: Any, **kwargs: Any):
        super().__init__(get_response, *args, **kwargs)
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        return super().__call__(request)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        if self.autorefresh:  # development: looks on disk
            static_file = await sync_to_async(self.find_file)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return await sync_to_async(self.serve)(static_file, request)
        return await self.get_response(request)
