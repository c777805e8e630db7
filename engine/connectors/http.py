"""Action http.request: call an API on an http connection (its base URL and auth)."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from engine.actions import ActionContext, ActionError, action
from engine.connections import ResolvedConnection
from engine.connectors.base import (
    attempt_timeout,
    check_status,
    connection_param,
    require_kind,
    response_body,
    send,
)

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]
RESPONSES = ["full", "body", "json", "status"]
MAX_PATH = 2000
_SCALAR = {"type": ["string", "number", "boolean"]}


def auth_headers(connection: ResolvedConnection) -> dict[str, str]:
    """Return the headers that authenticate a request as the connection says."""
    auth = connection.field("auth") or "none"
    if auth == "none":
        return {}
    if auth == "bearer":
        return {"Authorization": f"Bearer {_needed(connection, 'token')}"}
    if auth == "basic":
        pair = f"{connection.field('username') or ''}:{_needed(connection, 'password')}"
        encoded = base64.b64encode(pair.encode()).decode("ascii")
        return {"Authorization": f"Basic {encoded}"}
    if auth == "api_key":
        header = connection.field("header") or ""
        if not header:
            raise _connection_error(connection, "api_key auth needs the header field")
        return {header: _needed(connection, "api_key")}
    raise _connection_error(connection, f"unknown auth {auth!r}")


def _needed(connection: ResolvedConnection, secret: str) -> str:
    value = connection.secret(secret)
    if not value:
        raise _connection_error(connection, f"its auth needs the secret {secret!r}")
    return value


def _connection_error(connection: ResolvedConnection, problem: str) -> ActionError:
    return ActionError(
        f"connection {connection.name!r}: {problem}",
        error_type="ConnectionError",
        retryable=False,
    )


def request_url(base_url: str, path: str, query: dict[str, Any] | None) -> str:
    """Return `path` appended to the base URL, with `query` added to its query.

    The path is always below the base URL's host: it cannot name another host.
    """
    try:
        base = httpx.URL(base_url)
        url = httpx.URL(
            base_url.rstrip("/") + "/" + path.lstrip("/") if path else base_url
        )
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise ActionError(
            f"cannot build the URL: {exc}", error_type="InvalidRequest", retryable=False
        ) from None
    if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
        raise ActionError(
            "the path leaves the connection's base URL",
            error_type="InvalidRequest",
            retryable=False,
        )
    if query:
        pairs: list[tuple[str, str | int | float | bool | None]] = []
        for name, value in query.items():
            for item in value if isinstance(value, list) else [value]:
                pairs.append((name, _query_text(item)))
        url = url.copy_merge_params(pairs)
    return str(url)


def _query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def select(body: Any, pointer: str) -> Any:
    """Return the value at a JSON Pointer (RFC 6901) in a parsed JSON body."""
    current = body
    for raw in pointer.split("/")[1:] if pointer else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(current, dict) and token in current:
            current = current[token]
        elif (
            isinstance(current, list) and token.isdigit() and int(token) < len(current)
        ):
            current = current[int(token)]
        else:
            raise ActionError(
                f"the response has nothing at {pointer!r}",
                error_type="ResponseMismatch",
                retryable=False,
            )
    return current


@action(
    "http.request",
    params_schema={
        "type": "object",
        "properties": {
            "connection": connection_param(
                "http", description="The HTTP connection: base URL and auth"
            ),
            "method": {"type": "string", "enum": METHODS, "default": "GET"},
            "path": {
                "type": "string",
                "maxLength": MAX_PATH,
                "description": "Appended to the connection's base URL, e.g. /orders/42",
            },
            "query": {
                "type": "object",
                "maxProperties": 100,
                "additionalProperties": {
                    "anyOf": [
                        _SCALAR,
                        {"type": "array", "items": _SCALAR, "maxItems": 100},
                    ]
                },
                "description": 'Query parameters, e.g. {"status": "open"}',
            },
            "headers": {
                "type": "object",
                "maxProperties": 50,
                "additionalProperties": {"type": "string", "maxLength": 8000},
                "description": "Extra headers (auth comes from the connection)",
            },
            "json": {"description": "A JSON body to send (any JSON value)"},
            "expect_status": {
                "type": "array",
                "items": {"type": "integer", "minimum": 100, "maximum": 599},
                "minItems": 1,
                "maxItems": 20,
                "description": "The statuses that count as success (default: any 2xx)",
            },
            "response": {
                "type": "string",
                "enum": RESPONSES,
                "default": "full",
                "description": "The output: full ({status, headers, body}), body, "
                "json (fails unless the body is JSON) or status",
            },
            "select": {
                "type": "string",
                "maxLength": 500,
                "pattern": "^(/.*)?$",
                "description": "A JSON Pointer into the JSON body, e.g. /data/0/id; "
                "the output is the value there",
            },
            "timeout_s": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": 300,
                "description": "Seconds the request may take (within the attempt's)",
            },
        },
        "required": ["connection", "method"],
        "additionalProperties": False,
    },
    description="Call an API on an HTTP connection (base URL, auth, JSON body)",
    side_effects=True,
)
def http_request(params: dict[str, Any], context: ActionContext) -> Any:
    """Call an API on an HTTP connection (base URL, auth, JSON body)."""
    connection = require_kind(context.connection, "http")
    url = request_url(
        connection.field("base_url") or "", params.get("path", ""), params.get("query")
    )
    auth = auth_headers(connection)
    # The connection's auth and the step's key win over an author's header.
    replaced = {name.lower() for name in auth} | {"idempotency-key"}
    headers = {
        name: value
        for name, value in (params.get("headers") or {}).items()
        if name.lower() not in replaced
    }
    headers["Idempotency-Key"] = context.idempotency_key
    headers.update(auth)
    method = params["method"]
    response = send(
        method,
        url,
        what=f"{method} {url}",
        headers=headers,
        json_body=params.get("json"),
        credential_headers=list(auth),
        timeout_s=attempt_timeout(params.get("timeout_s"), context.timeout_s),
    )
    context.log(f"{method} {url} answered HTTP {response.status}")
    check_status(response, what=f"{method} {url}", accepted=params.get("expect_status"))
    return mapped(response, params.get("response", "full"), params.get("select"))


def mapped(response: Any, shape: str, pointer: str | None) -> Any:
    """Return the part of the response the `response` and `select` params ask for."""
    if shape == "status" and pointer is None:
        return response.status
    if shape == "json" or pointer is not None:
        try:
            body = json.loads(response.body)
        except ValueError:
            raise ActionError(
                f"the response (HTTP {response.status}) is not JSON",
                error_type="ResponseMismatch",
                retryable=False,
            ) from None
        return select(body, pointer) if pointer is not None else body
    body = response_body(response)
    if shape == "body":
        return body
    # A cookie the API sets is its session, not something to keep in a step output.
    headers = {k: v for k, v in response.headers.items() if k.lower() != "set-cookie"}
    return {"status": response.status, "headers": headers, "body": body}
