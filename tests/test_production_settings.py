"""The production settings refuse unsafe environments and pass Django's deploy check."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Nothing connects to these: importing settings and `check` never open a connection.
PROPER = {
    "DATABASE_URL": "postgres://switchyard:pw@db.internal:5432/switchyard",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "SWITCHYARD_SECRET_KEY": secrets.token_urlsafe(50),
    "SWITCHYARD_ALLOWED_HOSTS": "switchyard.example.com",
    "SWITCHYARD_CSRF_TRUSTED_ORIGINS": "https://switchyard.example.com",
}
# The deploy check's warnings that a default production environment keeps, and why:
# both reach beyond this host (every subdomain; the browsers' preload list), so the
# domain's owner opts in with SWITCHYARD_HSTS_INCLUDE_SUBDOMAINS / _PRELOAD.
EXPECTED_DEPLOY_WARNINGS = {"security.W005", "security.W021"}


def _environment(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    """Return a process environment: PROPER with overrides (None removes a variable)."""
    env = {
        key: value
        for key, value in os.environ.items()
        # The e2e suite sets DJANGO_ALLOW_ASYNC_UNSAFE for its own process; a
        # production start must not inherit it (the deploy check refuses it).
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
        and not key.startswith("SWITCHYARD_")
    }
    env.update(PROPER)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    env["SWITCHYARD_VAR_DIR"] = str(tmp_path / "var")
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _python(
    tmp_path: Path, code: str, **overrides: str | None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_environment(tmp_path, **overrides),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _case_id(value: object) -> str:
    """Name a refusal case after its environment: `DATABASE_URL=unset`."""
    if not isinstance(value, dict):
        return "refused"
    return ",".join(
        f"{key}={'unset' if v is None else repr(v)[:24]}" for key, v in value.items()
    )


def _import(
    tmp_path: Path, **overrides: str | None
) -> subprocess.CompletedProcess[str]:
    return _python(tmp_path, "import config.settings.production", **overrides)


def test_starts_with_a_proper_environment(tmp_path: Path) -> None:
    result = _import(tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SWITCHYARD_DEBUG": "1"}, "SWITCHYARD_DEBUG must be off"),
        ({"SWITCHYARD_DEBUG": "true"}, "SWITCHYARD_DEBUG must be off"),
        # Values env.py does not read as on are refused, not silently taken as off.
        ({"SWITCHYARD_DEBUG": "True"}, "SWITCHYARD_DEBUG must be off"),
        ({"SWITCHYARD_DEBUG": "on"}, "SWITCHYARD_DEBUG must be off"),
        ({"SWITCHYARD_SECRET_KEY": None}, "Set SWITCHYARD_SECRET_KEY"),
        ({"SWITCHYARD_SECRET_KEY": ""}, "Set SWITCHYARD_SECRET_KEY"),
        (
            {"SWITCHYARD_SECRET_KEY": secrets.token_urlsafe(30)},
            "SWITCHYARD_SECRET_KEY is too short or a placeholder",
        ),
        (
            {"SWITCHYARD_SECRET_KEY": "django-insecure-" + secrets.token_urlsafe(50)},
            "SWITCHYARD_SECRET_KEY is too short or a placeholder",
        ),
        (
            {"SWITCHYARD_SECRET_KEY": "change-me" * 8},
            "SWITCHYARD_SECRET_KEY is too short or a placeholder",
        ),
        (
            {"SWITCHYARD_SECRET_KEY": "x" * 64},
            "SWITCHYARD_SECRET_KEY is too short or a placeholder",
        ),
        ({"DATABASE_URL": None}, "Set DATABASE_URL"),
        (
            {"DATABASE_URL": "sqlite:////tmp/switchyard.sqlite3"},
            "DATABASE_URL must point to PostgreSQL",
        ),
        ({"REDIS_URL": None}, "Set REDIS_URL"),
        ({"SWITCHYARD_ALLOWED_HOSTS": None}, "Set SWITCHYARD_ALLOWED_HOSTS"),
        ({"SWITCHYARD_ALLOWED_HOSTS": " , "}, "Set SWITCHYARD_ALLOWED_HOSTS"),
        (
            {"SWITCHYARD_ALLOWED_HOSTS": "switchyard.example.com,*"},
            "SWITCHYARD_ALLOWED_HOSTS must not contain '*'",
        ),
        (
            {"SWITCHYARD_CSRF_TRUSTED_ORIGINS": None},
            "Set SWITCHYARD_CSRF_TRUSTED_ORIGINS",
        ),
        (
            {"SWITCHYARD_CSRF_TRUSTED_ORIGINS": "http://switchyard.example.com"},
            "SWITCHYARD_CSRF_TRUSTED_ORIGINS must all start with https://",
        ),
        ({"SWITCHYARD_HSTS_SECONDS": "a year"}, "whole number of seconds"),
        ({"SWITCHYARD_HSTS_SECONDS": "-1"}, "whole number of seconds"),
        ({"SWITCHYARD_SSL_REDIRECT": "maybe"}, "SWITCHYARD_SSL_REDIRECT='maybe'"),
    ],
    ids=_case_id,
)
def test_refuses_an_unsafe_environment(
    tmp_path: Path, overrides: dict[str, str | None], message: str
) -> None:
    result = _import(tmp_path, **overrides)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_lists_every_problem_at_once(tmp_path: Path) -> None:
    result = _import(
        tmp_path,
        SWITCHYARD_DEBUG="1",
        SWITCHYARD_SECRET_KEY=None,
        DATABASE_URL=None,
        REDIS_URL=None,
        SWITCHYARD_ALLOWED_HOSTS=None,
        SWITCHYARD_CSRF_TRUSTED_ORIGINS=None,
    )
    assert result.returncode != 0
    problems = re.findall(r"^- (.*)$", result.stderr, flags=re.MULTILINE)
    assert len(problems) == 6, result.stderr


_SHOW = """
import json
from config.settings import production as s
names = [
    "DEBUG", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD", "X_FRAME_OPTIONS", "SECURE_CONTENT_TYPE_NOSNIFF",
]
print(json.dumps({name: getattr(s, name) for name in names}))
"""


def _settings(tmp_path: Path, **overrides: str | None) -> dict[str, object]:
    result = _python(tmp_path, _SHOW, **overrides)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_secure_defaults(tmp_path: Path) -> None:
    assert _settings(tmp_path) == {
        "DEBUG": False,
        "ALLOWED_HOSTS": ["switchyard.example.com"],
        "CSRF_TRUSTED_ORIGINS": ["https://switchyard.example.com"],
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
    }


def test_redirect_and_hsts_are_configurable(tmp_path: Path) -> None:
    values = _settings(
        tmp_path,
        SWITCHYARD_SSL_REDIRECT="0",
        SWITCHYARD_HSTS_SECONDS="300",
        SWITCHYARD_HSTS_INCLUDE_SUBDOMAINS="yes",
        SWITCHYARD_HSTS_PRELOAD="true",
        SWITCHYARD_ALLOWED_HOSTS="a.example.com, b.example.com",
        SWITCHYARD_CSRF_TRUSTED_ORIGINS="https://a.example.com,https://b.example.com",
    )
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 300
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is True
    assert values["ALLOWED_HOSTS"] == ["a.example.com", "b.example.com"]
    assert values["CSRF_TRUSTED_ORIGINS"] == [
        "https://a.example.com",
        "https://b.example.com",
    ]


def _deploy_check(tmp_path: Path, **overrides: str | None) -> set[str]:
    """Run `manage.py check --deploy`; return the ids of its security warnings."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=_environment(tmp_path, **overrides),
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return set(re.findall(r"\((security\.[A-Z]\d+)\)", output))


def test_deploy_check_passes_with_a_proper_environment(tmp_path: Path) -> None:
    assert _deploy_check(tmp_path) == EXPECTED_DEPLOY_WARNINGS


def test_deploy_check_is_clean_with_hsts_on_subdomains_and_preload(
    tmp_path: Path,
) -> None:
    warnings = _deploy_check(
        tmp_path,
        SWITCHYARD_HSTS_INCLUDE_SUBDOMAINS="1",
        SWITCHYARD_HSTS_PRELOAD="1",
    )
    assert warnings == set()
