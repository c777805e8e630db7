"""Authenticate WebSocket clients by `Authorization: Token <key>` when no session.

The key stays in the scope (`token_key`) so a stream can check later that it was not
revoked (runs.consumers). Bad keys count toward the same per-address limit as the
API's (config.login_throttle); an address over it is not authenticated at all.
"""

from typing import Any

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware

from config import login_throttle


@database_sync_to_async
def _user_for_token(key: str, address: str) -> Any:
    from rest_framework.authtoken.models import Token

    if login_throttle.retry_after(address=address) is not None:
        return None
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        login_throttle.record_failure(address=address)
        return None
    return token.user


def _client_address(scope: Any) -> str:
    client = scope.get("client") or ()
    return login_throttle.client_address({"REMOTE_ADDR": client[0] if client else ""})


class TokenAuthMiddleware(BaseMiddleware):
    """Set scope["user"] from an API token header when the session has no user."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        user = scope.get("user")
        if user is None or not user.is_authenticated:
            headers = dict(scope.get("headers") or [])
            value = headers.get(b"authorization", b"").decode("latin-1")
            if value.lower().startswith("token "):
                key = value[6:].strip()
                found = await _user_for_token(key, _client_address(scope))
                if found is not None:
                    scope = {**scope, "user": found, "token_key": key}
        return await super().__call__(scope, receive, send)
