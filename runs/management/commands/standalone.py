"""Run the embedded default: web server, one Celery worker with beat, demo data."""

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand

from config.processes import web_command, worker_command
from runs.demo import DEMO_GROUP, DemoLoad, demo_load


class Command(BaseCommand):
    help = "Start Switchyard here with no external services (like airflow standalone)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--concurrency", type=int, default=2)
        parser.add_argument(
            "--no-demo", action="store_true", help="skip demo workflows"
        )
        parser.add_argument(
            "--demo-load",
            action="store_true",
            help="keep starting demo runs (some retry, some fail and compensate, "
            "some wait on timers) so the board is alive",
        )
        parser.add_argument(
            "--demo-every",
            type=float,
            default=2.0,
            help="seconds between demo runs with --demo-load (default 2)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        var_dir = Path(settings.VAR_DIR)
        var_dir.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        password = self.ensure_admin(var_dir)
        if not options["no_demo"]:
            for workflow in demo_load():
                self.stdout.write(f"loaded demo workflow {workflow.slug}")
            # The admin works the demo's handoffs in the inbox (/handoffs/).
            admin = get_user_model().objects.get(username="admin")
            admin.groups.add(Group.objects.get(name=DEMO_GROUP))
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"],
        }
        worker = subprocess.Popen(
            worker_command(
                queues=settings.SWITCHYARD_QUEUES,
                concurrency=options["concurrency"],
                name="standalone",
                beat_schedule=var_dir / "celerybeat-schedule",
            ),
            env=env,
        )
        web = subprocess.Popen(
            web_command(host=options["host"], port=options["port"]), env=env
        )
        children = [web, worker]
        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(self.style.SUCCESS(f"Switchyard is running at {url}"))
        if password:
            self.stdout.write(f"Log in as admin with password: {password}")
        load = None
        if options["demo_load"]:
            load = DemoLoad(every_s=max(0.2, options["demo_every"]))
            self.stdout.write(
                f"demo load: a new demo run every {load.every_s:g}s (see /board/)"
            )
        self.stdout.write("Press Ctrl-C to stop.")
        sys.stdout.flush()
        self.supervise(children, load)

    def ensure_admin(self, var_dir: Path) -> str | None:
        """Create the admin user once; return its password while still generated."""
        user_model = get_user_model()
        password_file = var_dir / "admin_password"
        user = user_model.objects.filter(username="admin").first()
        if user is None:
            password = secrets.token_urlsafe(12)
            user_model.objects.create_superuser("admin", "admin@localhost", password)
            password_file.write_text(password)
            password_file.chmod(0o600)
            return password
        if password_file.exists():
            password = password_file.read_text().strip()
            if user.check_password(password):
                return password
        self.stdout.write(
            "admin user exists; its password was changed from the one generated"
        )
        return None

    def supervise(
        self, children: list[subprocess.Popen[bytes]], load: DemoLoad | None = None
    ) -> None:
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for child in children:
                if child.poll() is not None:
                    # Started from lists of strings (config.processes).
                    args = cast(list[str], child.args)
                    self.stderr.write(
                        f"process {args[2:5]} exited ({child.returncode})"
                    )
                    stopping, exit_code = True, 1
            if load is not None and not stopping:
                try:
                    load.tick(time.monotonic())
                except Exception as exc:  # noqa: BLE001 - the demo must not stop us
                    self.stderr.write(f"demo load: {exc}")
            time.sleep(0.2)
        self.stdout.write("stopping…")
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self.stdout.write("stopped")
        if exit_code:
            sys.exit(exit_code)
