"""ASGI entry point: Django for HTTP, Channels consumers for WebSockets."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# The web process serves each request's Django code in a thread of its own: pool
# its PostgreSQL connections (config.settings.base.database_config).
os.environ.setdefault("SWITCHYARD_DB_POOL", "1")
django_asgi_app = get_asgi_application()

from config import tracing  # noqa: E402

# OpenTelemetry from OTEL_* (off by default; docs/tracing.md).
tracing.setup("web")

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.ws_auth import TokenAuthMiddleware  # noqa: E402
from runs.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)
