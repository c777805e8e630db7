"""Connections: secrets encrypted at rest and never shown, team scoping, validation,
injection on the worker with redaction, key rotation."""

import json
from http.server import BaseHTTPRequestHandler
from io import StringIO
from typing import Any, ClassVar

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from designer import connections
from designer.models import Connection
from engine.actions import ActionContext, action
from engine.connections import REDACTED
from engine.tasks import execute
from runs.models import Event
from runs.services.dispatching import AttemptWork
from runs.services.starting import run_start
from tests.servers import http_server
from tests.support import grant

pytestmark = pytest.mark.django_db
TOKEN = "tok-3f9a1c77e2b54d1d"


@action(
    "tests.leaky",
    params_schema={
        "type": "object",
        "properties": {"connection": {"type": "string", "x-connection": ["http"]}},
    },
)
def leaky(params: dict[str, Any], context: ActionContext) -> dict[str, Any]:
    """Echo the connection's token (a careless action)."""
    token = context.connection.secret("token")
    context.log(f"calling with {token}")
    if params.get("fail"):
        raise RuntimeError(f"refused token {token}")
    return {"sent": f"Bearer {token}", "base": context.connection.field("base_url")}


def _create(api: Any, **extra: Any) -> Any:
    body = {
        "name": "crm",
        "kind": "http",
        "fields": {"base_url": "https://crm.example.com", "auth": "bearer"},
        "secrets": {"token": TOKEN},
        **extra,
    }
    return api.post("/api/v1/connections/", body, format="json")


def _graph(connection: str = "crm") -> dict[str, Any]:
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "call",
                "type": "task",
                "action": "tests.leaky",
                "params": {"connection": connection},
            },
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "call"},
            {"id": "e2", "source": "call", "target": "done"},
        ],
    }


def test_a_secret_goes_in_and_never_comes_out(api: Any) -> None:
    created = _create(api)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["secrets"] == {"token": True, "password": False, "api_key": False}
    assert TOKEN not in created.content.decode()
    stored = Connection.objects.get(name="crm")
    assert TOKEN not in stored.secrets_encrypted
    assert stored.secret_names == ["token"]
    for url in ("/api/v1/connections/", f"/api/v1/connections/{stored.pk}/"):
        answer = api.get(url)
        assert answer.status_code == 200
        assert TOKEN not in answer.content.decode()
    # A change keeps secrets not given, removes one given as "".
    changed = api.patch(
        f"/api/v1/connections/{stored.pk}/",
        {"secrets": {"api_key": "key-123456"}, "fields": {"base_url": "https://x.io"}},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["secrets"] == {
        "token": True,
        "password": False,
        "api_key": True,
    }
    assert connections.StoredSecrets().read(Connection.objects.get(pk=stored.pk)) == {
        "token": TOKEN,
        "api_key": "key-123456",
    }
    events = Event.objects.filter(kind__startswith="connection_")
    assert [e.kind for e in events.order_by("id")] == [
        "connection_created",
        "connection_updated",
    ]
    assert events.last().data["secrets_changed"] == ["api_key"]
    assert TOKEN not in str(list(events.values()))


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [
        ({"kind": "ftp"}, 400, "invalid_choice"),
        ({"name": "Bad Name"}, 400, "bad_connection"),
        ({"fields": {"token": "x"}}, 400, "bad_connection"),
        ({"fields": {"base_url": 7}}, 400, "bad_connection"),
        ({"secrets": {"password2": "x"}}, 400, "bad_connection"),
        ({"owner_group": "nobody-has-this"}, 400, "unknown_group"),
    ],
)
def test_bad_connections_are_refused(
    api: Any, extra: dict[str, Any], status: int, code: str
) -> None:
    answer = _create(api, **extra)
    assert answer.status_code == status, answer.json()
    assert answer.json()["errors"][0]["code"] == code
    assert not Connection.objects.exists()


def test_a_taken_name_is_a_conflict(api: Any) -> None:
    assert _create(api).status_code == 201
    assert _create(api).status_code == 409


def test_teams_see_and_use_only_their_own_connections(
    api: Any, django_user_model: Any, workflow_factory: Any
) -> None:
    red, blue = Group.objects.create(name="red"), Group.objects.create(name="blue")
    connections.connection_create(
        name="red-crm",
        kind="http",
        fields={"base_url": "https://red.example"},
        owner_group=red,
    )
    member = django_user_model.objects.create_user("bluey")
    grant(member, "editor")
    member.groups.add(blue)
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(member)
    assert client.get("/api/v1/connections/").json()["results"] == []
    red_id = Connection.objects.get(name="red-crm").pk
    assert client.get(f"/api/v1/connections/{red_id}/").status_code == 404
    # A blue workflow naming red's connection does not validate.
    from designer import services

    workflow = services.workflow_create(slug="blue-wf", name="Blue", owner_group=blue)
    with pytest.raises(services.GraphInvalid) as caught:
        services.version_create(workflow=workflow, graph=_graph("red-crm"))
    codes = [i.code for i in caught.value.result.errors]
    assert codes == ["connection_not_allowed"]
    with pytest.raises(services.GraphInvalid) as missing:
        services.version_create(workflow=workflow, graph=_graph("nope"))
    assert [i.code for i in missing.value.result.errors] == ["connection_missing"]


def _work(run: Any, params: dict[str, Any]) -> AttemptWork:
    return AttemptWork(
        attempt_id=0,
        run_id=run.pk,
        action="tests.leaky",
        params=params,
        context=ActionContext(
            run_id=run.pk,
            node_id="call",
            attempt=1,
            idempotency_key="k",
            input={},
            timeout_s=30,
        ),
    )


def test_the_worker_injects_the_secret_and_redacts_what_echoes_it(
    api: Any, workflow_factory: Any
) -> None:
    _create(api)
    run, _ = run_start(
        workflow=workflow_factory(_graph(), slug="uses-crm"), input={}, actor="test"
    )
    output, error = execute(_work(run, {"connection": "crm"}))
    assert error is None
    assert output == {"sent": f"Bearer {REDACTED}", "base": "https://crm.example.com"}
    output, error = execute(_work(run, {"connection": "crm", "fail": True}))
    assert output is None and TOKEN not in error["message"]
    assert REDACTED in error["message"]
    output, error = execute(_work(run, {"connection": "gone"}))
    assert error["type"] == "ConnectionError" and error["retryable"] is False


def test_a_rotated_out_key_fails_clearly_and_reencrypt_moves_secrets(
    api: Any, settings: Any, workflow_factory: Any
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SWITCHYARD_ENCRYPTION_KEYS = [old]
    _create(api)
    run, _ = run_start(
        workflow=workflow_factory(_graph(), slug="uses-crm"), input={}, actor="test"
    )
    # Both keys: the old decrypts; re-encryption moves every secret to the new one.
    settings.SWITCHYARD_ENCRYPTION_KEYS = [new, old]
    out = StringIO()
    call_command("reencrypt_secrets", stdout=out)
    assert "secrets of 1 connections" in out.getvalue()
    settings.SWITCHYARD_ENCRYPTION_KEYS = [new]
    assert execute(_work(run, {"connection": "crm"}))[1] is None
    # A key rotated out before re-encrypting: the step fails naming why, no secret.
    settings.SWITCHYARD_ENCRYPTION_KEYS = [old]
    output, error = execute(_work(run, {"connection": "crm"}))
    assert output is None
    assert error["type"] == "SecretUnavailable"
    assert "SWITCHYARD_ENCRYPTION_KEYS" in error["message"]
    # Re-encrypting with only an unrelated key fails clearly, changing nothing.
    settings.SWITCHYARD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("reencrypt_secrets", stdout=StringIO())


def test_env_secrets_are_read_on_the_worker(
    api: Any, monkeypatch: Any, workflow_factory: Any
) -> None:
    answer = _create(api, secrets={}, secret_source="env", secret_path="crm-prod")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["secrets"]["token"] is None  # not known here
    monkeypatch.setenv("SWITCHYARD_SECRET_CRM_PROD_TOKEN", TOKEN)
    run, _ = run_start(
        workflow=workflow_factory(_graph(), slug="uses-crm"), input={}, actor="test"
    )
    output, error = execute(_work(run, {"connection": "crm"}))
    assert error is None and output["sent"] == f"Bearer {REDACTED}"
    given = _create(api, name="crm2", secret_source="env")
    assert given.status_code == 400  # secrets belong in the environment


class _Vault(BaseHTTPRequestHandler):
    """Vault's KV v2 read, as hvac calls it: GET /v1/<mount>/data/<path>."""

    seen: ClassVar[list[tuple[str, str]]] = []

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self.seen.append((self.path, self.headers.get("X-Vault-Token", "")))
        if self.path != "/v1/secret/data/teams/crm":
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b'{"errors": []}')
            return
        body = {
            "data": {
                "data": {"token": TOKEN, "unrelated": "kept out"},
                "metadata": {"version": 3, "deletion_time": "", "destroyed": False},
            }
        }
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        pass


def test_vault_secrets_are_read_on_the_worker_through_hvac(
    api: Any, settings: Any, workflow_factory: Any
) -> None:
    with http_server(_Vault) as vault:
        settings.SWITCHYARD_VAULT_URL = vault
        settings.SWITCHYARD_VAULT_TOKEN = "vault-root-token"
        answer = _create(
            api, secrets={}, secret_source="vault", secret_path="teams/crm"
        )
        assert answer.status_code == 201, answer.json()
        run, _ = run_start(
            workflow=workflow_factory(_graph(), slug="uses-crm"), input={}, actor="t"
        )
        output, error = execute(_work(run, {"connection": "crm"}))
        assert error is None and output["sent"] == f"Bearer {REDACTED}"
        assert _Vault.seen[-1] == ("/v1/secret/data/teams/crm", "vault-root-token")
        # A path Vault does not have: the attempt fails naming it, retryable.
        Connection.objects.filter(name="crm").update(secret_path="teams/gone")
        output, error = execute(_work(run, {"connection": "crm"}))
        assert error["type"] == "SecretUnavailable" and error["retryable"] is True
        assert "teams/gone" in error["message"]
