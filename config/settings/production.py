"""Settings for production: PostgreSQL and Redis required, refuses unsafe defaults."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import ENV

if ENV.debug:
    raise ImproperlyConfigured("SWITCHYARD_DEBUG must be off in production.")
if not ENV.secret_key or len(ENV.secret_key) < 40:
    raise ImproperlyConfigured("Set SWITCHYARD_SECRET_KEY (40+ characters).")
if not ENV.database_url or not ENV.redis_url:
    raise ImproperlyConfigured("Set DATABASE_URL and REDIS_URL in production.")

DEBUG = False
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
