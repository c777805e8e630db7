"""Settings shared by every deployment; services come from the environment."""

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from dj_database_url import DBConfig

from config.env import BASE_DIR, read_environment

ENV = read_environment()
VAR_DIR: Path = ENV.var_dir


# The web server's connection pool (config/asgi.py turns it on for its process).
# Under ASGI each request runs its Django code in a thread of its own, and Django's
# connections are per thread: without a pool every request opened a new PostgreSQL
# connection (about 10 ms here). Workers keep one connection per process instead.
POOL_OPTIONS = {"min_size": 2, "max_size": 20, "timeout": 10, "max_idle": 300}


def database_config(url: str | None, var_dir: Path, *, pool: bool = False) -> DBConfig:
    """Return the default database: PostgreSQL from a URL, else SQLite in var/.

    With `pool`, PostgreSQL connections come from psycopg's pool (Django's
    `OPTIONS["pool"]`, which needs `CONN_MAX_AGE` 0); else each process or thread
    keeps its connection for 60 s.
    """
    if url:
        if pool:
            db = dj_database_url.parse(url, conn_max_age=0)
            db.setdefault("OPTIONS", {})["pool"] = dict(POOL_OPTIONS)
            return db
        db = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        db.setdefault("OPTIONS", {})
        return db
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(var_dir / "switchyard.sqlite3"),
        "OPTIONS": {
            # IMMEDIATE takes the write lock at BEGIN, so two processes never deadlock
            # upgrading read locks; WAL lets the web process read while a worker writes.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def broker_config(redis_url: str | None, var_dir: Path) -> tuple[str, dict[str, Any]]:
    """Return the Celery broker URL and transport options."""
    if redis_url:
        return redis_url, {
            "visibility_timeout": 3600,
            "priority_steps": list(range(10)),
            "sep": ":",
            "queue_order_strategy": "priority",
        }
    folder = var_dir / "broker"
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    # config.broker: kombu's filesystem transport with atomic writes.
    return "switchyardfs://", {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
        # The 1 s default makes every step wait up to a second for the next poll.
        "polling_interval": 0.02,
    }


def channel_layer_config(redis_url: str | None) -> dict[str, Any]:
    """Return the Channels layer: Redis across processes, else in-process memory."""
    if redis_url:
        return {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    # channels_redis blocks 5 s on BZPOPMIN waiting for a message;
                    # redis-py 8 times reads out at 5 s by default, which closed
                    # every idle WebSocket (1011) every 5 s. Bounded, but above it.
                    "hosts": [{"address": redis_url, "socket_timeout": 30}],
                    "capacity": 2000,
                    "expiry": 30,
                },
            }
        }
    return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def secret_key(configured: str | None, var_dir: Path) -> str:
    """Return the configured secret, or one generated once and kept in var/."""
    if configured:
        return configured
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = secret_key(ENV.secret_key, VAR_DIR)
DEBUG = ENV.debug
ALLOWED_HOSTS = ENV.allowed_hosts

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI files for /api/docs/, served from here
    "channels",
    "designer",
    "runs",
    "engine",
]

MIDDLEWARE = [
    # The security headers first, so that early refusals (413) carry them too.
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.SecurityHeadersMiddleware",
    # WhiteNoise, able to run as a coroutine under daphne (no thread hop per request).
    "config.middleware.StaticFilesMiddleware",
    "config.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who acts, for audit records of changes made without it (designer/audit.py).
    "designer.audit.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

# Security headers on every answer, pages and API alike. The pages load only their own
# scripts and styles (templates/base.html links static/switchyard/base.css; Vite's
# build is served from /static/); an inline <style> needs the request's nonce
# (`nonce="{{ request.csp_nonce }}"`); live views open WebSockets to this host.
SWITCHYARD_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self' ws: wss:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SWITCHYARD_PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=()"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": database_config(
        ENV.database_url, VAR_DIR, pool=os.environ.get("SWITCHYARD_DB_POOL") == "1"
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
FRONTEND_DIST = BASE_DIR / "frontend" / "dist"
# static/: the pages' own CSS (no inline styles, for the Content-Security-Policy).
STATICFILES_DIRS = [BASE_DIR / "static", FRONTEND_DIST]
WHITENOISE_USE_FINDERS = True

# Limits on hostile input (docs/api-contract.md, "Limits"). Above a size limit the API
# answers 413 `too_large` and stores nothing.
# Request bodies above this get 413 before any view reads them.
SWITCHYARD_MAX_REQUEST_BYTES = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = SWITCHYARD_MAX_REQUEST_BYTES
# JSON bodies nested deeper than this are refused (400 parse_error).
SWITCHYARD_MAX_JSON_DEPTH = 100
# A workflow graph: its compact JSON, its nodes and its edges.
SWITCHYARD_MAX_GRAPH_BYTES = 2 * 1024 * 1024
SWITCHYARD_MAX_GRAPH_NODES = 2000
SWITCHYARD_MAX_GRAPH_EDGES = 5000
# An action's output, as JSON: larger fails the attempt with OutputTooLarge (not
# retried); the output is not stored.
SWITCHYARD_MAX_OUTPUT_BYTES = 256 * 1024
# What actions may reach besides public addresses (engine/egress.py): CIDRs and host
# names, from SWITCHYARD_EGRESS_ALLOW. Empty in every settings module by default.
SWITCHYARD_EGRESS_ALLOW = ENV.egress_allow
# Fernet keys for secrets stored in the database (webhook secrets), newest first: the
# first encrypts, every one decrypts (rotation). Unset: one key derived from
# SECRET_KEY (config/crypto.py).
SWITCHYARD_ENCRYPTION_KEYS = ENV.encryption_keys
# The links in notifications point here (runs/notifications.py).
SWITCHYARD_BASE_URL = ENV.base_url
# How long a webhook delivery may wait for its run's output (`?wait=`), in seconds.
SWITCHYARD_WEBHOOK_MAX_WAIT_S = 30.0
# Backfilled schedule slots started per schedule per second.
SWITCHYARD_BACKFILL_RATE = 10
# How long a message no run waits for is kept for a `receive` to take it, in seconds.
SWITCHYARD_MESSAGE_RETENTION_S = 86400.0
# Runs a bulk job changes per second at most, and the queue its worker takes it from.
SWITCHYARD_BULK_RATE = 200
SWITCHYARD_BULK_QUEUE = "default"

REST_FRAMEWORK = {
    # Token first: an unauthenticated request then gets 401 with
    # `WWW-Authenticate: Token` (not 403), and a bad or revoked token says so.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.login_throttle.ThrottledTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "designer.access.RolePermission",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.LimitedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "config.openapi.SwitchyardAutoSchema",
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
    # limit 1-500, offset 0-1,000,000; outside: 400 invalid_limit / invalid_offset.
    "DEFAULT_PAGINATION_CLASS": "config.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
}
# Simulating requests (validate, test cases, coverage, a publish gate; see
# designer/limits.py): each may spend this many evaluation steps and seconds; a user's
# may take this many seconds a minute together, and a user may send this many a minute.
SWITCHYARD_SIMULATION_BUDGET = {
    "steps": 1_000_000,
    "seconds": 3.0,
    "user_seconds_per_minute": 20.0,
}
SWITCHYARD_SIMULATION_RATE = "60/min"
# Failed password logins and API token attempts (config/login_throttle.py): past this
# many within the window, per client address and per username, attempts get 429 until
# the window (from the first failure) ends.
SWITCHYARD_LOGIN_THROTTLE_FAILURES = 10
SWITCHYARD_LOGIN_THROTTLE_WINDOW_S = 300
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchyard API",
    # /api/docs/ loads Swagger UI from this host (drf-spectacular-sidecar), no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Several models have a `state`: name each enum after its state machine.
    "ENUM_NAME_OVERRIDES": {
        "RunStateEnum": "runs.models.RunState",
        "StepStateEnum": "runs.models.StepState",
        "AttemptStateEnum": "runs.models.AttemptState",
        "HandoffStateEnum": "runs.models.HandoffState",
        "VersionStatusEnum": "designer.models.VersionStatus",
    },
}

SWITCHYARD_REDIS_URL = ENV.redis_url
CHANNEL_LAYERS = channel_layer_config(ENV.redis_url)

CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = broker_config(
    ENV.redis_url, VAR_DIR
)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Keep database connections across tasks; config.celery drops broken or old ones.
CELERY_DB_REUSE_MAX = 1_000_000_000
# Timers and the sweeper jump the queue (priority 0 is served first on Redis), so a
# backlog of attempts cannot delay the recovery of lost ones.
CELERY_BEAT_SCHEDULE: dict[str, Any] = {
    "enqueue-due": {
        "task": "engine.enqueue_due",
        "schedule": 1.0,
        "options": {"priority": 0, "expires": 5},
    },
    "sweep": {
        "task": "engine.sweep",
        "schedule": 5.0,
        "options": {"priority": 0, "expires": 10},
    },
    # Canaries and newly live versions that break their workflow's rollback criteria.
    "rollbacks": {
        "task": "engine.evaluate_rollbacks",
        "schedule": 30.0,
        "options": {"priority": 0, "expires": 30},
    },
    # Finished runs past their workflow's retention_days (runs/retention.py).
    "prune-runs": {
        "task": "engine.prune_runs",
        "schedule": 60.0,
        "options": {"priority": 9, "expires": 60},
    },
}
# Retention: where archives go (gzip JSON Lines) and how long a run's newest event
# is kept from pruning for streams that resume (docs/engine.md, "Retention").
SWITCHYARD_ARCHIVE_DIR = os.environ.get("SWITCHYARD_ARCHIVE_DIR") or str(
    VAR_DIR / "archive"
)
SWITCHYARD_RETENTION_STREAM_GRACE_S = 3600

# Event relay: how often each web process tails the Event table.
SWITCHYARD_RELAY_INTERVAL_S = 0.025
# Open WebSocket streams check their user's access again at least this often (and at
# once on a change; runs.access_signals), closing with 4403 when it ended.
SWITCHYARD_WS_ACCESS_RECHECK_S = 30.0
# Queues a worker started by `standalone` consumes.
SWITCHYARD_QUEUES = ["default"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"switchyard": {"level": "INFO"}},
}
