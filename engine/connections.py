"""Connection kinds and what a worker hands an action: fields, secrets, redaction.

A connection (designer.models.Connection) is a named set of settings for reaching an
outside system: non-secret fields (a base URL, a host) and secret fields (a token, a
password), stored encrypted and decrypted on the worker only. An action that takes a
`connection` param gets the connection as `context.connection`; whatever it returns,
raises or logs has every secret value of that connection replaced by `REDACTED`.
"""

from dataclasses import dataclass, field
from typing import Any

REDACTED = "[redacted]"
# A secret shorter than this is not searched for in outputs (it would redact "a").
MIN_REDACTED_LENGTH = 4
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
MAX_FIELD_LENGTH = 2000


@dataclass(frozen=True)
class Kind:
    """A kind of connection: its fields, which are secret, which are required."""

    name: str
    title: str
    fields: dict[str, dict[str, Any]]
    secrets: tuple[str, ...]
    required: tuple[str, ...] = ()
    required_secrets: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "fields": self.fields,
            "secrets": list(self.secrets),
            "required": list(self.required),
            "required_secrets": list(self.required_secrets),
        }


_TEXT = {"type": "string", "maxLength": MAX_FIELD_LENGTH}
KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "http",
            "HTTP API",
            {
                "base_url": {**_TEXT, "description": "https://api.example.com/v1"},
                "auth": {
                    "type": "string",
                    "enum": ["none", "bearer", "basic", "api_key"],
                    "default": "none",
                },
                "username": {**_TEXT, "description": "For basic auth"},
                "header": {
                    **_TEXT,
                    "description": "For api_key auth: the header, e.g. X-API-Key",
                },
            },
            secrets=("token", "password", "api_key"),
            required=("base_url",),
        ),
        Kind(
            "smtp",
            "SMTP mail server",
            {
                "host": _TEXT,
                "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                "username": _TEXT,
                "use_tls": {"type": "boolean"},
                "from_email": {**_TEXT, "description": "The sender address"},
            },
            secrets=("password",),
            required=("host", "from_email"),
        ),
        Kind(
            "slack",
            "Slack incoming webhook",
            {},
            secrets=("webhook_url",),
            required_secrets=("webhook_url",),
        ),
        Kind(
            "webhook",
            "Outgoing webhook",
            {
                "url": _TEXT,
                "header": {
                    **_TEXT,
                    "description": "A header carrying the token, e.g. Authorization",
                },
            },
            secrets=("token",),
            required=("url",),
        ),
        Kind(
            "postgres",
            "PostgreSQL database",
            {
                "host": _TEXT,
                "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                "dbname": _TEXT,
                "user": _TEXT,
                "sslmode": {
                    "type": "string",
                    "enum": ["disable", "prefer", "require", "verify-full"],
                },
                "read_only": {"type": "boolean", "default": True},
            },
            secrets=("password",),
            required=("host", "dbname", "user"),
        ),
    )
}


def kind_problems(
    kind: str, fields: Any, secrets: Any, *, partial: bool = False
) -> list[str]:
    """Return what is wrong with a connection's fields and secrets for its kind.

    `partial`: secrets not given are kept from before (an update), so a required
    secret need not be given again.
    """
    spec = KINDS.get(kind)
    if spec is None:
        return [f"kind: one of {', '.join(sorted(KINDS))}"]
    problems = []
    if not isinstance(fields, dict):
        return ["fields: an object"]
    if not isinstance(secrets, dict):
        return ["secrets: an object"]
    for name, value in fields.items():
        schema = spec.fields.get(name)
        if schema is None:
            problems.append(
                f"fields.{name}: not a field of {kind}"
                + (
                    " (it is a secret: put it in secrets)"
                    if name in spec.secrets
                    else ""
                )
            )
            continue
        problem = _value_problem(schema, value)
        if problem:
            problems.append(f"fields.{name}: {problem}")
    for name in spec.required:
        if fields.get(name) in (None, ""):
            problems.append(f"fields.{name}: required for {kind}")
    for name, value in secrets.items():
        if name not in spec.secrets:
            problems.append(f"secrets.{name}: not a secret of {kind}")
        elif not isinstance(value, str) or len(value) > MAX_FIELD_LENGTH:
            problems.append(f"secrets.{name}: text of at most {MAX_FIELD_LENGTH}")
    if not partial:
        for name in spec.required_secrets:
            if not secrets.get(name):
                problems.append(f"secrets.{name}: required for {kind}")
    return problems


def _value_problem(schema: dict[str, Any], value: Any) -> str | None:
    kind = schema["type"]
    if kind == "string":
        if not isinstance(value, str) or len(value) > MAX_FIELD_LENGTH:
            return f"text of at most {MAX_FIELD_LENGTH} characters"
        if "enum" in schema and value not in schema["enum"]:
            return f"one of {', '.join(schema['enum'])}"
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return "an integer"
        if not schema["minimum"] <= value <= schema["maximum"]:
            return f"from {schema['minimum']} to {schema['maximum']}"
    elif kind == "boolean" and not isinstance(value, bool):
        return "true or false"
    return None


@dataclass(frozen=True)
class ResolvedConnection:
    """A connection as an action sees it on the worker."""

    name: str
    kind: str
    fields: dict[str, Any]
    secrets: dict[str, str] = field(repr=False)

    def __repr__(self) -> str:  # never the secrets, even in a traceback
        return f"ResolvedConnection(name={self.name!r}, kind={self.kind!r})"

    def field(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)

    def secret(self, name: str) -> str:
        return self.secrets.get(name, "")

    def secret_values(self) -> list[str]:
        """The values to redact, longest first (one may contain another)."""
        values = {v for v in self.secrets.values() if len(v) >= MIN_REDACTED_LENGTH}
        return sorted(values, key=len, reverse=True)


def redact_text(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact(value: Any, secrets: list[str]) -> Any:
    """Return `value` (JSON-like) with every secret replaced, in keys and strings."""
    if not secrets:
        return value
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, dict):
        return {
            redact_text(str(k), secrets): redact(v, secrets) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v, secrets) for v in value]
    return value
