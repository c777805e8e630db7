"""email.send: the default backend's outbox, or an SMTP connection's server (a small
SMTP server in a thread), its host checked by the egress policy."""

import base64
import socketserver
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from django.core import mail

from engine.actions import ActionContext, ActionError, get_action
from engine.connections import ResolvedConnection
from engine.connectors.deliver import deliver
from engine.connectors.email import CheckedSMTPBackend, smtp_backend

PASSWORD = "smtp-pw-5e1b7c2d"


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP: EHLO, AUTH PLAIN, MAIL, RCPT (refused@ 550, later@ 451),
    DATA, QUIT; each message and login recorded."""

    messages: ClassVar[list[dict[str, Any]]] = []
    logins: ClassVar[list[str]] = []

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 test SMTP")
        envelope: dict[str, Any] = {"rcpt": []}
        while line := self.rfile.readline().decode().rstrip("\r\n"):
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-test\r\n250 AUTH PLAIN")
            elif verb == "AUTH":
                _SMTPHandler.logins.append(base64.b64decode(line.split()[2]).decode())
                self.reply("235 ok")
            elif verb == "MAIL":
                envelope = {"from": line[10:].strip("<>"), "rcpt": []}
                self.reply("250 ok")
            elif verb == "RCPT":
                address = line[8:].strip("<>")
                if address.startswith("refused@"):
                    self.reply("550 no such user")
                elif address.startswith("later@"):
                    self.reply("451 try later")
                else:
                    envelope["rcpt"].append(address)
                    self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go on")
                body = []
                while (data := self.rfile.readline().decode()) not in (".\r\n", ""):
                    body.append(data)
                _SMTPHandler.messages.append({**envelope, "data": "".join(body)})
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


@pytest.fixture
def smtp_port(settings: Any) -> Iterator[int]:
    settings.SWITCHYARD_EGRESS_ALLOW = ["127.0.0.1/32"]
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    _SMTPHandler.messages, _SMTPHandler.logins = [], []
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def _smtp(port: int = 2525, **fields: Any) -> ResolvedConnection:
    return ResolvedConnection(
        name="mail",
        kind="smtp",
        fields={
            "host": "127.0.0.1",
            "port": port,
            "username": "robot",
            "from_email": "robot@example.com",
            **fields,
        },
        secrets={"password": PASSWORD},
    )


def _send(connection: Any = None, **params: Any) -> Any:
    context = ActionContext(
        run_id=1,
        node_id="mail",
        attempt=1,
        idempotency_key="1:mail:1",
        input={},
        timeout_s=10.0,
        connection=connection,
    )
    if connection is not None:
        params = {"connection": "mail", **params}
    message = {"to": ["ada@example.com"], "subject": "Hello", "text": "Hi Ada"}
    return get_action("email.send").func({**message, **params}, context)


def test_without_a_connection_the_default_backend_sends(settings: Any) -> None:
    settings.DEFAULT_FROM_EMAIL = "switchyard@example.com"
    output = _send(to=["ada@example.com", "bob@example.com"], html="<b>Hi</b>")
    assert output == {"sent": 1, "to": ["ada@example.com", "bob@example.com"]}
    (sent,) = mail.outbox
    assert sent.to == ["ada@example.com", "bob@example.com"]
    assert sent.from_email == "switchyard@example.com"
    assert (sent.subject, sent.body) == ("Hello", "Hi Ada")
    assert sent.alternatives[0][0] == "<b>Hi</b>"


def test_the_smtp_backend_is_built_from_the_connection(settings: Any) -> None:
    settings.SWITCHYARD_EGRESS_ALLOW = ["127.0.0.1/32"]
    backend = smtp_backend(_smtp(port=2587, use_tls=True), timeout_s=7.0)
    assert (backend.host, backend.port, backend.address) == (
        "127.0.0.1",
        2587,
        "127.0.0.1",
    )
    assert (backend.username, backend.password) == ("robot", PASSWORD)
    assert (backend.use_tls, backend.use_ssl, backend.timeout) == (True, False, 7.0)
    assert smtp_backend(_smtp(port=None, use_tls=True)).port == 587


def test_an_smtp_connection_sends_through_its_server(smtp_port: int) -> None:
    assert _send(_smtp(smtp_port)) == {"sent": 1, "to": ["ada@example.com"]}
    assert _SMTPHandler.logins == [f"\x00robot\x00{PASSWORD}"]
    (message,) = _SMTPHandler.messages
    assert message["from"] == "robot@example.com"
    assert message["rcpt"] == ["ada@example.com"]
    assert "Subject: Hello" in message["data"] and "Hi Ada" in message["data"]
    assert mail.outbox == []


def test_the_backend_connects_to_the_checked_address_not_the_name(
    smtp_port: int,
) -> None:
    """A DNS answer that changes after the check cannot steer the connection: the
    socket goes to the address checked (192.0.2.1 is unreachable TEST-NET-1)."""
    backend = CheckedSMTPBackend(
        address="127.0.0.1", host="192.0.2.1", port=smtp_port, timeout=5
    )
    message = mail.EmailMessage("Pinned", "body", "a@example.com", ["b@example.com"])
    assert backend.send_messages([message]) == 1
    assert _SMTPHandler.messages[0]["rcpt"] == ["b@example.com"]


@pytest.mark.parametrize(("user", "retryable"), [("refused", False), ("later", True)])
def test_a_refused_recipient_is_retried_only_when_the_server_says_later(
    smtp_port: int, user: str, retryable: bool
) -> None:
    with pytest.raises(ActionError) as caught:
        _send(_smtp(smtp_port), to=[f"{user}@example.com"])
    assert caught.value.error_type == "SmtpError"
    assert caught.value.retryable is retryable
    assert PASSWORD not in str(caught.value)


def test_the_smtp_host_goes_through_the_egress_policy() -> None:
    with pytest.raises(ActionError) as caught:
        _send(_smtp())
    assert caught.value.error_type == "EgressDenied"
    assert mail.outbox == []


@pytest.mark.parametrize(
    "params",
    [
        {"to": ["not-an-address"]},
        {"to": []},
        {"to": [f"u{n}@example.com" for n in range(51)]},
        {"subject": "two\nlines"},
    ],
)
def test_a_message_that_cannot_be_sent_is_refused(params: dict[str, Any]) -> None:
    with pytest.raises(ActionError) as caught:
        _send(**params)
    assert caught.value.error_type == "InvalidEmail"
    assert caught.value.retryable is False
    assert mail.outbox == []


def test_a_connection_of_another_kind_is_refused() -> None:
    slack = ResolvedConnection("mail", "slack", {}, {"webhook_url": "https://x"})
    with pytest.raises(ActionError) as caught:
        _send(slack)
    assert caught.value.error_type == "ConnectionError"


def test_deliver_emails_the_recipients_with_the_link(smtp_port: int) -> None:
    deliver(
        _smtp(smtp_port),
        subject="Run 7 failed",
        text="Step charge failed",
        link="https://sw.example/runs/7",
        data={},
        to=["ops@example.com"],
    )
    (message,) = _SMTPHandler.messages
    assert message["rcpt"] == ["ops@example.com"]
    assert "Subject: Run 7 failed" in message["data"]
    assert "Step charge failed\n\nhttps://sw.example/runs/7" in message["data"].replace(
        "\r\n", "\n"
    )
