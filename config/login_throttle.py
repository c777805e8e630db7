"""Slow down password and token guessing: failed attempts per client address and user.

After SWITCHYARD_LOGIN_THROTTLE_FAILURES failures within
SWITCHYARD_LOGIN_THROTTLE_WINDOW_S seconds, from one client address or for one
username, every further attempt is refused with 429 until the window ends, a right
password or token included (otherwise the answer would still tell a guess right from
wrong). The window starts at the first failure and is not extended by later ones.

- Password logins (the login page and the admin's) are counted through Django's
  `user_login_failed` signal, so every `authenticate()` with a request counts; a
  successful login clears its username's count (not its address's: someone with an
  account of their own must not reset the count of the address they guess from).
- API tokens (`Authorization: Token <key>`, the API and WebSockets) count per address
  only: a bad key names no user.

Counters live in Django's cache. The default local-memory cache counts per process,
so N web processes allow up to N times the failures; a shared cache (Redis, in a
database of its own) makes the limit exact.
"""

import hashlib
import time
import unicodedata
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.request import Request

_PREFIX = "switchyard:auth-failures"


def client_address(meta: dict[str, Any]) -> str:
    """Return the client's address (daphne's --proxy-headers sets it behind a proxy)."""
    return str(meta.get("REMOTE_ADDR") or "unknown")


def _keys(address: str | None, username: str | None) -> list[str]:
    keys = []
    if address:
        keys.append(f"{_PREFIX}:address:{address}")
    if username:
        # Hashed: a username may hold characters a cache key may not.
        name = unicodedata.normalize("NFKC", username)
        keys.append(f"{_PREFIX}:user:{hashlib.sha256(name.encode()).hexdigest()}")
    return keys


def retry_after(*, address: str | None, username: str | None = None) -> int | None:
    """Return the seconds until the next attempt is allowed, or None if it is now."""
    limit = settings.SWITCHYARD_LOGIN_THROTTLE_FAILURES
    keys = _keys(address, username)
    found = cache.get_many([*keys, *(f"{key}:until" for key in keys)])
    waits = [
        max(1, int(found.get(f"{key}:until", time.time() + 1) - time.time()))
        for key in keys
        if found.get(key, 0) >= limit
    ]
    return max(waits) if waits else None


def record_failure(*, address: str | None, username: str | None = None) -> None:
    """Count one failed attempt for the address and the username."""
    window = settings.SWITCHYARD_LOGIN_THROTTLE_WINDOW_S
    for key in _keys(address, username):
        # add() only sets a missing key: the first failure starts the window.
        cache.add(f"{key}:until", time.time() + window, window)
        cache.add(key, 0, window)
        try:
            cache.incr(key)
        except ValueError:  # the window ended between add() and incr()
            cache.set(key, 1, window)


def clear_user(username: str) -> None:
    """Forget a username's failures (after it logged in)."""
    for key in _keys(None, username):
        cache.delete_many([key, f"{key}:until"])


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    """Count a failed password login (`user_login_failed` receiver)."""
    if request is None:
        return
    username = credentials.get("username")
    record_failure(
        address=client_address(request.META),
        username=username if isinstance(username, str) else None,
    )


def on_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Clear the user's failures after a successful login (`user_logged_in`)."""
    clear_user(user.get_username())


def connect_signals() -> None:
    """Connect the receivers (from an AppConfig's ready())."""
    from django.contrib.auth.signals import user_logged_in, user_login_failed

    user_login_failed.connect(on_login_failed, dispatch_uid="switchyard-login-failed")
    user_logged_in.connect(on_logged_in, dispatch_uid="switchyard-logged-in")


def _throttled_page(request: HttpRequest, wait: int) -> HttpResponse:
    """Render the login page with the reason for a 429 and when to try again."""
    view = LoginView()
    view.setup(request)
    context = view.get_context_data(form=view.get_form_class()(request))
    context["throttled_minutes"] = max(1, -(-wait // 60))
    response = view.render_to_response(context, status=429)
    response["Retry-After"] = str(wait)
    return response


def _attempt_wait(request: HttpRequest) -> int | None:
    if request.method != "POST":
        return None
    username = request.POST.get("username")
    return retry_after(
        address=client_address(request.META),
        username=username if isinstance(username, str) else None,
    )


class ThrottledLoginView(LoginView):
    """Django's login view, answering 429 while the address or username is locked."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        wait = _attempt_wait(request)
        if wait is not None:
            return _throttled_page(request, wait)
        return super().post(request, *args, **kwargs)


def throttled_admin_login(request: HttpRequest) -> HttpResponse:
    """Serve the admin's login view under the same limit (it takes passwords too)."""
    wait = _attempt_wait(request)
    if wait is not None:
        return _throttled_page(request, wait)
    return admin.site.login(request)


class ThrottledTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing (429) addresses that failed too often."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        address = client_address(request.META)
        wait = retry_after(address=address)
        if wait is not None:
            raise exceptions.Throttled(
                wait=wait,
                # DRF adds "Expected available in N seconds."
                detail="Too many failed token attempts from this address.",
            )
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            record_failure(address=address)
            raise
