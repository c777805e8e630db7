"""Send a notification through a slack, webhook or smtp connection."""

from __future__ import annotations

from typing import Any

from engine.actions import ActionError
from engine.connections import ResolvedConnection
from engine.connectors.base import DEFAULT_TIMEOUT_S
from engine.connectors.email import send_email
from engine.connectors.slack import slack_post, webhook_post

KINDS = ("slack", "webhook", "smtp")


def deliver(
    connection: ResolvedConnection,
    *,
    subject: str,
    text: str,
    link: str,
    data: dict[str, Any],
    to: list[str] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> None:
    """Send a notification with the code the slack.post, webhook.post and
    email.send actions use; raise ActionError when it cannot be sent.

    slack: the subject in bold, the text and the link; webhook: the JSON object
    {subject, text, link, data}; smtp: an email to `to` with the link under the text.
    """
    if connection.kind == "slack":
        lines = [f"*{_slack_escaped(subject)}*", _slack_escaped(text)]
        if link:
            lines.append(f"<{link}|Open in Switchyard>")
        slack_post(connection, text="\n".join(lines), timeout_s=timeout_s)
    elif connection.kind == "webhook":
        webhook_post(
            connection,
            {"subject": subject, "text": text, "link": link, "data": data},
            timeout_s=timeout_s,
        )
    elif connection.kind == "smtp":
        if not to:
            raise ActionError(
                "an email notification needs recipients",
                error_type="InvalidEmail",
                retryable=False,
            )
        body = f"{text}\n\n{link}" if link else text
        send_email(
            connection,
            to=to,
            subject=subject.replace("\r", " ").replace("\n", " "),
            text=body,
            timeout_s=timeout_s,
        )
    else:
        raise ActionError(
            f"a {connection.kind} connection cannot send notifications; "
            f"use one of {', '.join(KINDS)}",
            error_type="ConnectionError",
            retryable=False,
        )


def _slack_escaped(text: str) -> str:
    """Escape the three characters Slack's mrkdwn reads as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
