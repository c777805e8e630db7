"""What the connector actions share: the connection check, HTTP answers, timeouts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from engine import egress
from engine.actions import ActionError
from engine.builtins import HttpClientError, HttpError
from engine.connections import ResolvedConnection

# How long a send may take when no attempt bounds it (a notification).
DEFAULT_TIMEOUT_S = 30.0
# How much of a refusing server's answer an error quotes.
QUOTED_BODY_CHARS = 200


def connection_param(*kinds: str, description: str = "") -> dict[str, Any]:
    """Return the JSON Schema of a `connection` param that takes `kinds`."""
    return {
        "type": "string",
        "x-connection": list(kinds),
        "maxLength": 64,
        "description": description
        or f"The {' or '.join(kinds)} connection to use (picked by name)",
    }


def require_kind(connection: Any, *kinds: str) -> ResolvedConnection:
    """Return the connection if it is of one of `kinds`; raise ConnectionError."""
    if not isinstance(connection, ResolvedConnection):
        raise ActionError(
            f"this action needs a {' or '.join(kinds)} connection in its "
            "`connection` param",
            error_type="ConnectionError",
            retryable=False,
        )
    if connection.kind not in kinds:
        raise ActionError(
            f"connection {connection.name!r} is {connection.kind}; this action takes "
            f"{' or '.join(kinds)}",
            error_type="ConnectionError",
            retryable=False,
        )
    return connection


def attempt_timeout(requested: Any, bound: float) -> float:
    """Return the time a call may take: what the author asked, within `bound`."""
    if isinstance(requested, int | float) and not isinstance(requested, bool):
        return max(0.001, min(float(requested), bound))
    return bound


def post_json(
    url: str,
    payload: Any,
    *,
    what: str,
    headers: Mapping[str, str] | None = None,
    credential_headers: Iterable[str] = (),
    timeout_s: float = DEFAULT_TIMEOUT_S,
    hide: Iterable[str] = (),
) -> egress.EgressResponse:
    """POST a JSON body through the egress policy; raise unless the answer is 2xx.

    `what` names the target in errors; `hide` lists values (a secret URL) that an
    error from the egress policy must not quote.
    """
    response = send(
        "POST",
        url,
        what=what,
        headers=headers,
        json_body=payload,
        credential_headers=credential_headers,
        timeout_s=timeout_s,
        hide=hide,
    )
    check_status(response, what=what)
    return response


def send(
    method: str,
    url: str,
    *,
    what: str,
    headers: Mapping[str, str] | None = None,
    json_body: Any = None,
    credential_headers: Iterable[str] = (),
    timeout_s: float = DEFAULT_TIMEOUT_S,
    hide: Iterable[str] = (),
) -> egress.EgressResponse:
    """Send one request through the egress policy; errors never quote `hide`."""
    try:
        return egress.request(
            method,
            url,
            headers=headers,
            json=json_body,
            timeout_s=timeout_s,
            credential_headers=credential_headers,
        )
    except ActionError as exc:
        message = str(exc)
        # Longest first; the policy quotes a long URL cut at 200 characters.
        hidden = {value for h in hide if h for value in (h, h[:200])}
        for value in sorted(hidden, key=len, reverse=True):
            message = message.replace(value, f"<{what}>")
        raise ActionError(
            message, error_type=exc.error_type, retryable=exc.retryable
        ) from None


def check_status(
    response: egress.EgressResponse,
    *,
    what: str,
    accepted: Iterable[int] | None = None,
) -> None:
    """Raise unless the status is accepted (by default, any 2xx).

    5xx and 429 are HttpError (retryable); 4xx HttpClientError (not); any other
    status the caller did not accept is UnexpectedStatus (not retryable).
    """
    status = response.status
    wanted = set(accepted) if accepted is not None else set(range(200, 300))
    if status in wanted:
        return
    detail = f"HTTP {status} from {what}"
    quoted = response_text(response)[:QUOTED_BODY_CHARS].strip()
    if quoted:
        detail += f": {quoted}"
    if status >= 500 or status == 429:
        raise HttpError(detail, error_type="HttpError", retryable=True)
    if 400 <= status < 500:
        raise HttpClientError(detail, error_type="HttpClientError", retryable=False)
    raise ActionError(detail, error_type="UnexpectedStatus", retryable=False)


def response_text(response: egress.EgressResponse) -> str:
    return response.body.decode("utf-8", errors="replace")


def response_body(response: egress.EgressResponse) -> Any:
    """Return the body parsed as JSON when it is JSON, else as text (None if empty)."""
    text = response_text(response)
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
