"""Actions slack.post and webhook.post: a JSON POST to a URL a connection keeps."""

from __future__ import annotations

from typing import Any

from engine.actions import ActionContext, ActionError, action
from engine.connections import ResolvedConnection
from engine.connectors.base import (
    DEFAULT_TIMEOUT_S,
    connection_param,
    post_json,
    require_kind,
    response_body,
)

MAX_TEXT = 40_000  # Slack truncates a message's text past this
MAX_BLOCKS = 50  # Slack refuses a message with more blocks


def slack_post(
    connection: ResolvedConnection,
    *,
    text: str,
    blocks: list[Any] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> None:
    """Post a message to the connection's Slack incoming webhook."""
    require_kind(connection, "slack")
    url = connection.secret("webhook_url")
    if not url:
        raise ActionError(
            f"connection {connection.name!r} has no webhook_url",
            error_type="ConnectionError",
            retryable=False,
        )
    payload: dict[str, Any] = {"text": text}
    if blocks:
        payload["blocks"] = blocks
    # The webhook URL is the secret: no error quotes it.
    post_json(url, payload, what="the Slack webhook", timeout_s=timeout_s, hide=[url])


def webhook_post(
    connection: ResolvedConnection,
    payload: Any,
    *,
    idempotency_key: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> dict[str, Any]:
    """POST `payload` as JSON to the connection's URL; return the answer's body.

    The token goes in the connection's `header` as is, or, with no header named,
    as `Authorization: Bearer <token>`.
    """
    require_kind(connection, "webhook")
    url = connection.field("url") or ""
    headers: dict[str, str] = {}
    credential_headers: list[str] = []
    token = connection.secret("token")
    if token:
        header = connection.field("header") or ""
        if header:
            headers[header] = token
            credential_headers.append(header)
        else:
            headers["Authorization"] = f"Bearer {token}"
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    response = post_json(
        url,
        payload,
        what=f"webhook {connection.name!r}",
        headers=headers,
        credential_headers=credential_headers,
        timeout_s=timeout_s,
    )
    return {"status": response.status, "body": response_body(response)}


@action(
    "slack.post",
    params_schema={
        "type": "object",
        "properties": {
            "connection": connection_param(
                "slack", description="The Slack connection (its incoming webhook)"
            ),
            "text": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_TEXT,
                "description": "The message (Slack mrkdwn); the notification text "
                "when blocks are given",
            },
            "blocks": {
                "type": "array",
                "maxItems": MAX_BLOCKS,
                "items": {"type": "object"},
                "description": "Optional Block Kit blocks, as Slack documents them",
            },
        },
        "required": ["connection", "text"],
        "additionalProperties": False,
    },
    description="Post a message to a Slack channel through an incoming webhook",
    side_effects=True,
)
def slack_post_action(params: dict[str, Any], context: ActionContext) -> dict[str, Any]:
    """Post a message to a Slack channel through an incoming webhook."""
    slack_post(
        context.connection,
        text=params["text"],
        blocks=params.get("blocks"),
        timeout_s=context.timeout_s,
    )
    context.log("posted to Slack")
    return {"ok": True}


@action(
    "webhook.post",
    params_schema={
        "type": "object",
        "properties": {
            "connection": connection_param(
                "webhook", description="The webhook connection (its URL and token)"
            ),
            "payload": {"description": "The JSON body to send (any JSON value)"},
        },
        "required": ["connection", "payload"],
        "additionalProperties": False,
    },
    description="POST a JSON payload to the URL of a webhook connection",
    side_effects=True,
)
def webhook_post_action(
    params: dict[str, Any], context: ActionContext
) -> dict[str, Any]:
    """POST a JSON payload to the URL of a webhook connection."""
    answer = webhook_post(
        context.connection,
        params["payload"],
        idempotency_key=context.idempotency_key,
        timeout_s=context.timeout_s,
    )
    context.log(f"webhook answered HTTP {answer['status']}")
    return dict(answer)
