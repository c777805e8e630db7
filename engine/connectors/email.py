"""Action email.send: mail through an SMTP connection or the configured backend."""

from __future__ import annotations

import functools
import smtplib
import socket
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend
from django.core.validators import validate_email

from engine import egress
from engine.actions import ActionContext, ActionError, action
from engine.connections import ResolvedConnection
from engine.connectors.base import DEFAULT_TIMEOUT_S, connection_param, require_kind

MAX_RECIPIENTS = 50
MAX_SUBJECT = 500
MAX_TEXT = 200_000
MAX_HTML = 500_000
_EMAIL = {
    "type": "string",
    "maxLength": 254,
    "pattern": r"^[^@\s]+@[^@\s]+$",
    "description": "An email address",
}


class _CheckedSMTP(smtplib.SMTP):
    """SMTP that connects to the address the egress policy checked.

    The host name stays the connection's, so STARTTLS checks the certificate
    against it; only the socket goes to the checked address.
    """

    def __init__(self, host: str, port: int, *, address: str, **kwargs: Any) -> None:
        self._checked_address = address
        super().__init__(host, port, **kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return socket.create_connection(
            (self._checked_address, port), timeout, self.source_address
        )


class CheckedSMTPBackend(EmailBackend):
    """Django's SMTP backend, connecting to an address checked by the egress policy."""

    def __init__(self, *, address: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.address = address

    @property
    def connection_class(self) -> Any:
        return functools.partial(_CheckedSMTP, address=self.address)


def smtp_backend(
    connection: ResolvedConnection, *, timeout_s: float = DEFAULT_TIMEOUT_S
) -> CheckedSMTPBackend:
    """Build the SMTP backend of an smtp connection (its host checked for egress)."""
    require_kind(connection, "smtp")
    use_tls = bool(connection.field("use_tls", False))
    port = connection.field("port") or (587 if use_tls else 25)
    host = connection.field("host") or ""
    address = egress.check_host(host, port)
    return CheckedSMTPBackend(
        address=str(address),
        host=host,
        port=port,
        username=connection.field("username") or "",
        password=connection.secret("password"),
        use_tls=use_tls,
        use_ssl=False,
        timeout=timeout_s,
    )


def send_email(
    connection: ResolvedConnection | None,
    *,
    to: list[str],
    subject: str,
    text: str,
    html: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> int:
    """Send one email to `to`; return how many messages the backend sent.

    Through the connection's SMTP server, or with no connection through the
    deployment's mail backend (EMAIL_BACKEND) from DEFAULT_FROM_EMAIL.
    """
    recipients = checked_recipients(to)
    backend: BaseEmailBackend
    if connection is None:
        backend = get_connection(timeout=timeout_s)
        from_email = settings.DEFAULT_FROM_EMAIL
    else:
        backend = smtp_backend(connection, timeout_s=timeout_s)
        from_email = connection.field("from_email") or settings.DEFAULT_FROM_EMAIL
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=from_email,
        to=recipients,
        connection=backend,
    )
    if html:
        message.attach_alternative(html, "text/html")
    try:
        return message.send()
    except (BadHeaderError, ValueError) as exc:
        raise ActionError(
            f"the email cannot be sent: {exc}",
            error_type="InvalidEmail",
            retryable=False,
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(sorted(exc.recipients))[:500]
        codes = [code for code, _ in exc.recipients.values()]
        raise ActionError(
            f"the mail server refused {refused} ({', '.join(map(str, codes))})",
            error_type="SmtpError",
            # 4xx for every one: the server says "later" (greylisting, a full box).
            retryable=all(400 <= code < 500 for code in codes),
        ) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise ActionError(
            f"the mail server refused the login: {exc.smtp_code}",
            error_type="SmtpError",
            retryable=False,
        ) from None
    except smtplib.SMTPResponseException as exc:
        # 4xx is the server saying "later"; 5xx is a refusal.
        raise ActionError(
            f"the mail server answered {exc.smtp_code}: {_reply(exc.smtp_error)}",
            error_type="SmtpError",
            retryable=400 <= exc.smtp_code < 500,
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise ActionError(
            f"cannot reach the mail server: {type(exc).__name__}: {exc}"[:500],
            error_type="SmtpError",
            retryable=True,
        ) from None


def checked_recipients(to: Any) -> list[str]:
    """Return the recipients if they are 1 to MAX_RECIPIENTS valid addresses."""
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or not 0 < len(to) <= MAX_RECIPIENTS:
        raise ActionError(
            f"an email needs 1 to {MAX_RECIPIENTS} recipients",
            error_type="InvalidEmail",
            retryable=False,
        )
    for address in to:
        try:
            validate_email(address)
        except ValidationError:
            raise ActionError(
                f"{str(address)[:254]!r} is not an email address",
                error_type="InvalidEmail",
                retryable=False,
            ) from None
    return list(to)


def _reply(smtp_error: bytes | str) -> str:
    if isinstance(smtp_error, bytes):
        smtp_error = smtp_error.decode("utf-8", errors="replace")
    return smtp_error[:300]


@action(
    "email.send",
    params_schema={
        "type": "object",
        "properties": {
            "connection": connection_param(
                "smtp",
                description="An SMTP connection; without one, the deployment's "
                "mail backend sends",
            ),
            "to": {
                "type": "array",
                "items": _EMAIL,
                "minItems": 1,
                "maxItems": MAX_RECIPIENTS,
                "description": f"The recipients (1 to {MAX_RECIPIENTS})",
            },
            "subject": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_SUBJECT,
                "pattern": r"^[^\r\n]*$",
                "description": "The subject line",
            },
            "text": {
                "type": "string",
                "maxLength": MAX_TEXT,
                "description": "The plain-text body",
            },
            "html": {
                "type": "string",
                "maxLength": MAX_HTML,
                "description": "An optional HTML body (sent beside the text)",
            },
        },
        "required": ["to", "subject", "text"],
        "additionalProperties": False,
    },
    description="Send an email through an SMTP connection or the default mail backend",
    side_effects=True,
)
def email_send(params: dict[str, Any], context: ActionContext) -> dict[str, Any]:
    """Send an email through an SMTP connection or the default mail backend."""
    if "connection" in params:
        require_kind(context.connection, "smtp")
    sent = send_email(
        context.connection if "connection" in params else None,
        to=params["to"],
        subject=params["subject"],
        text=params["text"],
        html=params.get("html"),
        timeout_s=context.timeout_s,
    )
    context.log(f"sent an email to {len(params['to'])} recipient(s)")
    return {"sent": sent, "to": list(params["to"])}
