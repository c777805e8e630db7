"""Connections: create, change and delete them; check a graph's use of them; resolve
one on a worker, its secrets from their backend.

Secrets are written, never read back through here except by `connection_resolve`,
which only a worker calls to run an action. Secret backends share one interface
(`SecretBackend.read`): stored (Fernet, config.crypto), the workers' environment
(`SWITCHYARD_SECRET_<PREFIX>_<FIELD>`), or HashiCorp Vault's KV v2 through `hvac`.
"""

import json
import os
import re
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.shortcuts import get_object_or_404

from config import crypto
from designer import access, audit
from designer.models import Connection, SecretSource, Workflow
from designer.signals import connection_changed
from engine.actions import registered_actions
from engine.connections import KINDS, NAME_PATTERN, ResolvedConnection, kind_problems
from engine.errors import CONFLICT, INVALID, DomainError
from engine.graph.issues import Issue

CONNECTION_PARAM = "connection"
MAX_LISTED = 500
# An action's params schema marks its connection param with the kinds it takes:
# {"connection": {"type": "string", "x-connection": ["http"]}}.
CONNECTION_KINDS_KEY = "x-connection"


class ConnectionInvalid(DomainError):
    kind = INVALID

    def __init__(self, code: str, message: str, problems: list[str] | None = None):
        super().__init__(code, message)
        self.problems = problems or [message]

    def errors(self) -> list[dict[str, Any]]:
        return [{"code": self.code, "message": p} for p in self.problems]


class ConnectionExists(DomainError):
    kind = CONFLICT


class SecretBackendError(Exception):
    """A secret backend could not give a connection's secrets (named, no values)."""

    error_type = "SecretUnavailable"
    retryable = True


# ------------------------------------------------------------ secret backends


class SecretBackend(Protocol):
    def read(self, connection: Connection) -> dict[str, str]: ...


class StoredSecrets:
    def read(self, connection: Connection) -> dict[str, str]:
        if not connection.secrets_encrypted:
            return {}
        try:
            values = json.loads(crypto.decrypt(connection.secrets_encrypted))
        except crypto.SecretUnreadable as exc:
            raise SecretBackendError(f"connection {connection.name!r}: {exc}") from None
        return {str(k): str(v) for k, v in values.items()}


class EnvSecrets:
    """SWITCHYARD_SECRET_<PREFIX>_<FIELD>, upper case, '-' as '_'."""

    def read(self, connection: Connection) -> dict[str, str]:
        prefix = re.sub(
            r"[^A-Z0-9]", "_", (connection.secret_path or connection.name).upper()
        )
        found = {}
        for name in KINDS[connection.kind].secrets:
            value = os.environ.get(f"SWITCHYARD_SECRET_{prefix}_{name.upper()}")
            if value is not None:
                found[name] = value
        return found


class VaultSecrets:
    """KV v2 at SWITCHYARD_VAULT_URL with SWITCHYARD_VAULT_TOKEN (operator settings,
    not author input: the Vault address is not subject to the egress policy)."""

    def read(self, connection: Connection) -> dict[str, str]:
        try:
            import hvac
        except ImportError:
            raise SecretBackendError(
                "the vault secret source needs the hvac package on the workers"
            ) from None
        url = getattr(settings, "SWITCHYARD_VAULT_URL", "")
        if not url:
            raise SecretBackendError("SWITCHYARD_VAULT_URL is not set")
        client = hvac.Client(
            url=url, token=getattr(settings, "SWITCHYARD_VAULT_TOKEN", ""), timeout=10
        )
        mount = getattr(settings, "SWITCHYARD_VAULT_MOUNT", "secret")
        try:
            answer = client.secrets.kv.v2.read_secret_version(
                path=connection.secret_path,
                mount_point=mount,
                raise_on_deleted_version=True,
            )
        except Exception as exc:  # noqa: BLE001 - hvac raises many types; name it
            raise SecretBackendError(
                f"vault: cannot read {connection.secret_path!r} ({type(exc).__name__})"
            ) from None
        data = answer.get("data", {}).get("data", {})
        allowed = set(KINDS[connection.kind].secrets)
        return {str(k): str(v) for k, v in data.items() if k in allowed}


BACKENDS: dict[str, SecretBackend] = {
    SecretSource.STORED: StoredSecrets(),
    SecretSource.ENV: EnvSecrets(),
    SecretSource.VAULT: VaultSecrets(),
}


# ------------------------------------------------------------ writing


def _check(
    *, name: Any, kind: Any, fields: Any, secrets: Any, source: Any, partial: bool
) -> None:
    problems = []
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
        problems.append(
            "name: 1 to 64 lower-case letters, digits, '_' or '-', starting with a "
            "letter or digit"
        )
    if source not in SecretSource.values:
        problems.append(f"secret_source: one of {', '.join(SecretSource.values)}")
    elif source != SecretSource.STORED and secrets:
        problems.append(f"secrets: kept in {source}, not given here")
    problems += kind_problems(
        kind, fields, secrets, partial=partial or source != SecretSource.STORED
    )
    if problems:
        raise ConnectionInvalid("bad_connection", "; ".join(problems), problems)


def _store_secrets(connection: Connection, secrets: dict[str, str]) -> None:
    kept = {k: v for k, v in secrets.items() if v != ""}
    connection.secrets_encrypted = crypto.encrypt(json.dumps(kept)) if kept else ""
    connection.secret_names = sorted(kept)


def connection_create(
    *,
    name: Any,
    kind: Any,
    fields: Any = None,
    secrets: Any = None,
    description: str = "",
    owner_group: Any = None,
    secret_source: str = SecretSource.STORED,
    secret_path: str = "",
    actor: Any = None,
) -> Connection:
    fields = {} if fields is None else fields
    secrets = {} if secrets is None else secrets
    _check(
        name=name,
        kind=kind,
        fields=fields,
        secrets=secrets,
        source=secret_source,
        partial=False,
    )
    if Connection.objects.filter(name=name).exists():
        raise ConnectionExists("connection_exists", f"a connection {name!r} exists")
    connection = Connection(
        name=name,
        kind=kind,
        fields=fields,
        description=description[:500],
        owner_group=owner_group,
        secret_source=secret_source,
        secret_path=secret_path[:200],
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    _store_secrets(connection, secrets)
    with transaction.atomic():
        connection.save()
        connection_changed.send(
            sender=Connection,
            connection=connection,
            change="created",
            actor=actor,
            changes=_audited({}, connection) | audit.secrets_changed(secrets),
        )
    return connection


def connection_update(
    *,
    connection: Connection,
    fields: Any = None,
    secrets: Any = None,
    description: str | None = None,
    actor: Any = None,
) -> Connection:
    """Change fields (replaced when given) and secrets (merged: a secret given as ""
    is removed, one not given is kept)."""
    new_fields = connection.fields if fields is None else fields
    given = {} if secrets is None else secrets
    _check(
        name=connection.name,
        kind=connection.kind,
        fields=new_fields,
        secrets=given,
        source=connection.secret_source,
        partial=True,
    )
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        before = _audited_values(locked)
        locked.fields = new_fields
        if description is not None:
            locked.description = description[:500]
        changed = sorted(given)
        if given:
            current = StoredSecrets().read(locked)
            _store_secrets(locked, {**current, **given})
            missing = [
                s
                for s in KINDS[locked.kind].required_secrets
                if s not in locked.secret_names
            ]
            if missing:
                raise ConnectionInvalid(
                    "bad_connection",
                    f"secrets.{missing[0]}: required for {locked.kind}",
                )
        locked.save()
        connection_changed.send(
            sender=Connection,
            connection=locked,
            change="updated",
            actor=actor,
            secrets_changed=changed,
            changes=_audited(before, locked) | audit.secrets_changed(changed),
        )
    return locked


def connection_delete(*, connection: Connection, actor: Any = None) -> None:
    with transaction.atomic():
        connection_changed.send(
            sender=Connection,
            connection=connection,
            change="deleted",
            actor=actor,
            changes=audit.diff(_audited_values(connection), {}),
        )
        connection.delete()


def _audited_values(connection: Connection) -> dict[str, Any]:
    """What the audit trail compares of a connection: never its secrets."""
    values = {f"fields.{k}": v for k, v in (connection.fields or {}).items()}
    values["description"] = connection.description
    values["kind"] = connection.kind
    return values


def _audited(before: dict[str, Any], connection: Connection) -> dict[str, Any]:
    return audit.diff(before, _audited_values(connection))


def connection_reencrypt() -> int:
    """Encrypt every stored secret again with the first configured key (after a new
    key was put in front of SWITCHYARD_ENCRYPTION_KEYS); return how many."""
    return crypto.reencrypt_rows(Connection, "secrets_encrypted")


def describe(connection: Connection) -> dict[str, Any]:
    """The connection as pages and the API show it: never a secret's value."""
    secrets = KINDS[connection.kind].secrets if connection.kind in KINDS else ()
    return {
        "id": connection.pk,
        "name": connection.name,
        "kind": connection.kind,
        "description": connection.description,
        "owner_group": connection.owner_group.name if connection.owner_group else None,
        "fields": connection.fields,
        "secret_source": connection.secret_source,
        "secret_path": connection.secret_path,
        "secrets": {
            name: (
                name in connection.secret_names
                if connection.secret_source == SecretSource.STORED
                else None
            )
            for name in secrets
        },
        "created_at": connection.created_at,
        "updated_at": connection.updated_at,
    }


# ------------------------------------------------------------ reading


def visible_connections(user: Any) -> Any:
    """Connections of the user's teams and of no team (all for a manager)."""
    return Connection.objects.select_related("owner_group").filter(
        access.visible_q(user)
    )


def connection_get(*, connection_id: int, user: Any) -> Connection:
    """One connection the user sees, or Http404."""
    return get_object_or_404(visible_connections(user), pk=connection_id)


def usable_by(connection: Connection, workflow: Workflow | None) -> bool:
    """A workflow may use its team's connections and those of no team."""
    team = workflow.owner_group_id if workflow is not None else None
    return connection.owner_group_id in (None, team)


def graph_connection_issues(
    graph: dict[str, Any], workflow: Workflow | None
) -> list[Issue]:
    """Errors for each task or map whose `connection` param names a connection that
    does not exist, is of a kind its action does not take, or belongs to another
    team. A param given as an =expression is checked on the worker instead."""
    actions = registered_actions()
    used: list[tuple[str, str, list[str]]] = []
    for node in graph.get("nodes", []):
        action = actions.get(node.get("action", "")) if isinstance(node, dict) else None
        if action is None:
            continue
        schema = (action.params_schema.get("properties") or {}).get(CONNECTION_PARAM)
        value = (node.get("params") or {}).get(CONNECTION_PARAM)
        if not isinstance(schema, dict) or not isinstance(value, str):
            continue
        if value.startswith("="):
            continue
        used.append((node["id"], value, list(schema.get(CONNECTION_KINDS_KEY) or [])))
    if not used:
        return []
    found = {
        c.name: c
        for c in Connection.objects.filter(name__in={name for _, name, _ in used})
    }
    issues = []
    for node_id, name, kinds in used:
        connection = found.get(name)
        if connection is None:
            issues.append(
                Issue(
                    "connection_missing",
                    f"node {node_id!r}: there is no connection {name!r}",
                    node_id=node_id,
                )
            )
        elif kinds and connection.kind not in kinds:
            issues.append(
                Issue(
                    "connection_kind",
                    f"node {node_id!r}: connection {name!r} is {connection.kind}; "
                    f"this action takes {' or '.join(kinds)}",
                    node_id=node_id,
                )
            )
        elif not usable_by(connection, workflow):
            issues.append(
                Issue(
                    "connection_not_allowed",
                    f"node {node_id!r}: connection {name!r} belongs to another team; a "
                    "workflow may use only its own team's connections and those of "
                    "no team",
                    node_id=node_id,
                )
            )
    return issues


def connection_resolve(*, name: Any, workflow_id: int | None) -> ResolvedConnection:
    """The connection `name` with its secrets, for a worker about to run an action of
    a run of `workflow_id`; raise ConnectionInvalid when it may not be used."""
    if not isinstance(name, str) or not name:
        raise ConnectionInvalid(
            "bad_connection", "the connection param names no connection"
        )
    connection = Connection.objects.filter(name=name[:64]).first()
    workflow = Workflow.objects.filter(pk=workflow_id).first() if workflow_id else None
    if connection is None:
        raise ConnectionInvalid(
            "connection_missing", f"there is no connection {name[:64]!r}"
        )
    if not usable_by(connection, workflow):
        raise ConnectionInvalid(
            "connection_not_allowed", f"connection {name!r} belongs to another team"
        )
    secrets = BACKENDS[connection.secret_source].read(connection)
    return ResolvedConnection(
        name=connection.name,
        kind=connection.kind,
        fields=dict(connection.fields),
        secrets=secrets,
    )
