"""Settings for production: PostgreSQL and Redis required, refuses unsafe defaults.

Importing this module raises `ImproperlyConfigured`, listing every problem at once,
when debug is on, the secret key is missing, short or a placeholder, `DATABASE_URL`
is not PostgreSQL, `REDIS_URL` is missing, or the host names and trusted origins are
not configured. A web process, worker or beat with such an environment never starts.
See docs/deploy.md for every variable.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, ENV

# The variables below only matter in production, so they are read here rather than in
# config/env.py; base settings ignore them.
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}

_problems: list[str] = []


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE or raw in _FALSE:
        return raw in _TRUE
    _problems.append(f"{name}={raw!r} is not one of 1/0, true/false, yes/no, on/off.")
    return default


def _seconds(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        _problems.append(
            f"{name}={raw!r} must be a whole number of seconds, 0 or more."
        )
        return default
    return value


def _list(name: str) -> list[str]:
    items = os.environ.get(name, "").split(",")
    return [item.strip() for item in items if item.strip()]


# env.py reads only "1", "true" and "yes" as on; any other value that is not plainly
# off ("True", "on") is refused rather than silently read as off.
_debug = os.environ.get("SWITCHYARD_DEBUG", "")
if ENV.debug or _debug.strip().lower() not in _FALSE:
    _problems.append(f"SWITCHYARD_DEBUG must be off in production (it is {_debug!r}).")

# Django's own deploy check (security.W009) asks for 50+ characters, 5+ distinct ones
# and not the `django-insecure-` prefix that startproject writes; a key that repeats
# a shorter string ("change-me" eight times) is a placeholder too.
_key = ENV.secret_key or ""
_repeats = bool(_key) and _key in (_key + _key)[1:-1]
if not _key:
    _problems.append(
        "Set SWITCHYARD_SECRET_KEY: 50+ random characters, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )
elif (
    len(_key) < 50
    or len(set(_key)) < 5
    or _repeats
    or _key.startswith("django-insecure-")
):
    _problems.append(
        "SWITCHYARD_SECRET_KEY is too short or a placeholder: use 50+ random "
        "characters."
    )

if not ENV.database_url:
    _problems.append("Set DATABASE_URL to the PostgreSQL database.")
elif DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    # The live stream's order relies on PostgreSQL transaction ids (runs.selectors).
    _problems.append("DATABASE_URL must point to PostgreSQL in production.")
if not ENV.redis_url:
    _problems.append(
        "Set REDIS_URL: Celery broker, channel layer, relay lease and retry budget."
    )

# env.py falls back to localhost when SWITCHYARD_ALLOWED_HOSTS is unset; production
# needs the real names (they also check the Origin of every WebSocket).
if not _list("SWITCHYARD_ALLOWED_HOSTS"):
    _problems.append(
        "Set SWITCHYARD_ALLOWED_HOSTS to the host names users reach (comma-separated)."
    )
elif "*" in ENV.allowed_hosts:
    _problems.append(
        "SWITCHYARD_ALLOWED_HOSTS must not contain '*': it turns off the Host "
        "header and WebSocket Origin checks."
    )

CSRF_TRUSTED_ORIGINS = _list("SWITCHYARD_CSRF_TRUSTED_ORIGINS")
if not CSRF_TRUSTED_ORIGINS:
    _problems.append(
        "Set SWITCHYARD_CSRF_TRUSTED_ORIGINS to the public origins "
        "(comma-separated, e.g. https://switchyard.example.com)."
    )
elif any(not origin.startswith("https://") for origin in CSRF_TRUSTED_ORIGINS):
    _problems.append("SWITCHYARD_CSRF_TRUSTED_ORIGINS must all start with https://.")

# A proxy terminating TLS must send `X-Forwarded-Proto: https`; then the redirect
# only affects plain-HTTP requests. Turn it off when the proxy redirects itself and
# a health check speaks plain HTTP to the web process.
SECURE_SSL_REDIRECT = _flag("SWITCHYARD_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = _seconds("SWITCHYARD_HSTS_SECONDS", 31_536_000)
# Both reach beyond this host (other subdomains; browsers' built-in list), so the
# owner of the domain opts in.
SECURE_HSTS_INCLUDE_SUBDOMAINS = _flag("SWITCHYARD_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = _flag("SWITCHYARD_HSTS_PRELOAD", False)

if _problems:
    raise ImproperlyConfigured(
        "config.settings.production refuses to start:\n"
        + "\n".join(f"- {problem}" for problem in _problems)
    )

DEBUG = False
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
# CSRF_COOKIE_HTTPONLY stays False: the frontend reads `csrftoken` for its header.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
