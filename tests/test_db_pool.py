"""The web process pools its PostgreSQL connections; workers keep one each."""

import os
import subprocess
import sys

from config.settings.base import POOL_OPTIONS, database_config
from tests.conftest import ROOT

URL = "postgres://postgres@127.0.0.1:5432/switchyard"


def test_database_config_pools_only_when_asked(tmp_path: object) -> None:
    kept = database_config(URL, tmp_path)  # type: ignore[arg-type]
    assert kept["CONN_MAX_AGE"] == 60
    assert "pool" not in kept["OPTIONS"]
    pooled = database_config(URL, tmp_path, pool=True)  # type: ignore[arg-type]
    # Django refuses a pool with persistent connections.
    assert pooled["CONN_MAX_AGE"] == 0
    assert pooled["OPTIONS"]["pool"] == POOL_OPTIONS
    sqlite = database_config(None, tmp_path, pool=True)  # type: ignore[arg-type]
    assert sqlite["ENGINE"] == "django.db.backends.sqlite3"


def test_the_asgi_entry_point_turns_the_pool_on_and_a_worker_does_not() -> None:
    probe = (
        "import config.asgi; from django.conf import settings; "
        "print(bool(settings.DATABASES['default']['OPTIONS'].get('pool')))"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SWITCHYARD_DB_POOL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(DATABASE_URL=URL, DJANGO_SETTINGS_MODULE="config.settings.local")
    web = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert web.stdout.strip() == "True", web.stderr[-2000:]
    worker_probe = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
        "'config.settings.local'); import config.celery; django.setup(); "
        "from django.conf import settings; "
        "print(bool(settings.DATABASES['default']['OPTIONS'].get('pool')))"
    )
    worker = subprocess.run(
        [sys.executable, "-c", worker_probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert worker.stdout.strip() == "False", worker.stderr[-2000:]
