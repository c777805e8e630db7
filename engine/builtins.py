"""Built-in actions: noop, echo, sleep, fail, ledger, http."""

import json
import time
from typing import Any

from engine import egress
from engine.actions import ActionContext, ActionError, action


class HttpError(ActionError):
    """A 5xx answer or a timeout: worth retrying."""


class HttpClientError(ActionError):
    """A 4xx answer: retrying will not help."""


@action("builtin.noop", params_schema={"type": "object", "properties": {}})
def noop(params: dict[str, Any], context: ActionContext) -> dict[str, Any]:
    """Do nothing and return an empty object."""
    return {}


@action("builtin.echo", params_schema={"type": "object"})
def echo(params: dict[str, Any], context: ActionContext) -> dict[str, Any]:
    """Return the params and the run input."""
    return {"params": params, "input": context.input}


@action(
    "builtin.sleep",
    params_schema={
        "type": "object",
        "properties": {"seconds": {"type": "number", "minimum": 0, "maximum": 3600}},
        "required": ["seconds"],
    },
)
def sleep(params: dict[str, Any], context: ActionContext) -> dict[str, Any]:
    """Sleep for `seconds` (bounded by the attempt's timeout)."""
    seconds = min(float(params["seconds"]), context.timeout_s)
    time.sleep(seconds)
    return {"slept": seconds}


@action(
    "builtin.fail",
    params_schema={
        "type": "object",
        "properties": {
            "until_attempt": {"type": "integer", "minimum": 1},
            "error": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$"},
            "message": {"type": "string", "maxLength": 500},
        },
    },
)
def fail(params: dict[str, Any], context: ActionContext) -> dict[str, Any]:
    """Fail with the named error while the attempt is below `until_attempt`."""
    until = params.get("until_attempt")
    if until is None or context.attempt < int(until):
        error = params.get("error") or "StepFailed"
        message = params.get("message") or f"{error} on attempt {context.attempt}"
        raise ActionError(message, error_type=error)
    return {"attempt": context.attempt}


@action(
    "builtin.ledger",
    params_schema={"type": "object", "properties": {}},
    side_effects=True,
)
def ledger(params: dict[str, Any], context: ActionContext) -> dict[str, Any]:
    """Record one effect per idempotency key; a repeated key changes nothing."""
    from runs.models import LedgerEntry

    LedgerEntry.objects.get_or_create(
        key=context.idempotency_key,
        defaults={"run_id": context.run_id, "node_id": context.node_id},
    )
    return {"key": context.idempotency_key}


@action(
    "builtin.http",
    params_schema={
        "type": "object",
        "properties": {
            "method": {
                "type": "string",
                "enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"],
            },
            "url": {"type": "string", "pattern": "^https?://", "maxLength": 2000},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "json": {},
            "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 300},
        },
        "required": ["method", "url"],
    },
    side_effects=True,
)
def http(params: dict[str, Any], context: ActionContext) -> dict[str, Any]:
    """Send an HTTP request carrying the step's Idempotency-Key (egress policy)."""
    # The step's key, not one the author wrote (in any spelling), reaches the server.
    headers = {
        name: value
        for name, value in params.get("headers", {}).items()
        if name.lower() != "idempotency-key"
    }
    headers["Idempotency-Key"] = context.idempotency_key
    url = params["url"]
    body = None
    if "json" in params:
        body = json.dumps(params["json"]).encode()
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "application/json"
    try:
        response = egress.request(
            params["method"],
            url,
            headers=headers,
            content=body,
            timeout_s=min(float(params.get("timeout_s", 30)), context.timeout_s),
        )
    except egress.ResponseTooLarge:
        raise HttpClientError(
            f"response from {url} larger than {egress.MAX_RESPONSE_BYTES} bytes",
            retryable=False,
        ) from None
    if response.status >= 500:
        raise HttpError(f"HTTP {response.status} from {url}")
    if response.status >= 400:
        raise HttpClientError(f"HTTP {response.status} from {url}", retryable=False)
    text = response.body.decode("utf-8", errors="replace")
    try:
        payload: Any = json.loads(text) if text else None
    except json.JSONDecodeError:
        payload = text
    return {"status": response.status, "body": payload}
