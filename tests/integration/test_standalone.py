"""`manage.py standalone` runs a demo workflow with no PostgreSQL or Redis settings."""

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support import free_port, wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _call(url: str, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode() if body is not None else None,
        method="POST" if body is not None else "GET",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_standalone_runs_a_demo_workflow_without_services(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL"}
        and not k.startswith("SWITCHYARD_TEST")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        SWITCHYARD_VAR_DIR=str(tmp_path / "var"),
        PYTHONUNBUFFERED="1",
    )
    port = free_port()
    log = tmp_path / "standalone.log"
    process = subprocess.Popen(
        [sys.executable, "manage.py", "standalone", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        password = wait_for(
            lambda: re.search(r"password: (\S+)", log.read_text()),
            timeout=120,
            what="standalone to print the admin password",
        ).group(1)
        assert password
        assert (tmp_path / "var" / "switchyard.sqlite3").exists()
        token = subprocess.run(
            [sys.executable, "manage.py", "drf_create_token", "admin"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[2]
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                _call(f"{base}/api/v1/workflows/", token)
                return True
            except OSError:
                return False

        wait_for(up, timeout=60, what="web server")
        slugs = [
            w["slug"] for w in _call(f"{base}/api/v1/workflows/", token)["results"]
        ]
        assert {"order-fulfilment", "nightly-report"} <= set(slugs)
        run = _call(
            f"{base}/api/v1/workflows/order-fulfilment/runs/",
            token,
            {"input": {"amount": 5}},
        )
        finished = wait_for(
            lambda: (
                (r := _call(f"{base}/api/v1/runs/{run['id']}/", token))["state"]
                in {"succeeded", "failed"}
                and r
            ),
            timeout=120,
            what="demo run to finish",
        )
        assert finished["state"] == "succeeded", finished
        states = {s["node_id"]: s["state"] for s in finished["steps"]}
        assert states["review"] == "skipped"

        # Many runs at once through the file broker: every message is read whole.
        ids = [
            _call(f"{base}/api/v1/workflows/{slug}/runs/", token, {"input": {}})["id"]
            for slug in ["order-fulfilment", "nightly-report"] * 20
        ]

        def all_finished() -> list[str] | None:
            states = [_call(f"{base}/api/v1/runs/{i}/", token)["state"] for i in ids]
            done = all(s in {"succeeded", "failed"} for s in states)
            return states if done else None

        final = wait_for(all_finished, timeout=180, interval=0.5, what="40 runs")
        assert final == ["succeeded"] * 40
        assert process.poll() is None, log.read_text()[-3000:]
        assert "Unrecoverable error" not in log.read_text()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert code == 0, log.read_text()[-3000:]
    assert "stopped" in log.read_text()
