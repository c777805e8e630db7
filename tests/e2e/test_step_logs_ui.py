"""People read a step's log on the run page: its lines arrive while the step runs,
follow mode keeps the end in view, the size bound's marker shows, a search finds a
line and the export downloads the whole log."""

import logging
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from engine.actions import ActionContext, ActionError, action

pytestmark = pytest.mark.e2e
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var/screenshots"
QUEUE = "step-logs"
LINES = 10_000
BEFORE_GATE = 4_000
# 132 bytes a line: 10,000 lines are 1.32 MB, past the default bound of 1 MiB.
WIDTH = 120
NEEDLE = "order 4711 charged"

module_logger = logging.getLogger(__name__)


@action(
    "tests.step_logs_ui.chatter",
    params_schema={
        "type": "object",
        "properties": {"gate": {"type": "string"}},
        "required": ["gate"],
    },
)
def chatter(params: dict[str, Any], context: ActionContext) -> dict[str, Any]:
    """Log 4,000 lines, wait until the test opens the gate, then log 6,000 more."""
    module_logger.info("chatter starts on %s", context.node_id)
    for n in range(1, LINES + 1):
        text = NEEDLE if n == 100 else "x" * WIDTH
        context.log(f"line {n:05d} {text}")
        if n == BEFORE_GATE:
            deadline = time.monotonic() + 120
            while not os.path.exists(params["gate"]):
                if time.monotonic() > deadline:
                    raise ActionError("the test never opened the gate")
                time.sleep(0.05)
    return {"lines": LINES}


def _start_worker(tmp_path: Path) -> subprocess.Popen[bytes]:
    """Start a worker on QUEUE that has this module's action registered."""
    from tests.conftest import _test_db_env
    from tests.servers import start_worker

    return start_worker(
        tmp_path / "step-logs-worker.log",
        env=_test_db_env(),
        what="the step logs worker",
        queues=[QUEUE],
        concurrency=1,
        name=f"step-logs-{os.getpid()}",
        include=[__name__],
        loglevel="INFO",
    )


def test_a_step_logging_ten_thousand_lines_shows_them_live_within_the_bound(
    logged_in: Any, asgi_server: str, workflow_factory: Any, tmp_path: Path
) -> None:
    from runs.models import Attempt, AttemptState, StepLog
    from runs.services.starting import run_start
    from tests.servers import stop_process
    from tests.support import linear_graph

    gate = tmp_path / "gate"
    graph = linear_graph(
        1,
        action="tests.step_logs_ui.chatter",
        params={"gate": str(gate)},
        queue=QUEUE,
        timeout_s=300,
    )
    graph["nodes"][1]["label"] = "Chatter"
    worker = _start_worker(tmp_path)
    try:
        workflow = workflow_factory(graph, slug="chatter")
        run, _ = run_start(workflow=workflow, input={}, actor="test")
        attempt = Attempt.objects.get(run=run)
        panel = f"[data-testid=attempt-log-{attempt.pk}]"
        page = logged_in
        page.goto(f"{asgi_server}/runs/{run.pk}/")

        # The first 4,000 lines (and the module's INFO line) arrive while the step
        # waits at the gate: it is still running, and follow mode shows the end.
        page.wait_for_selector(f"{panel}[data-open=true][data-lines='4001']")
        attempt.refresh_from_db()
        assert attempt.state == AttemptState.RUNNING
        running = page.get_by_test_id(f"attempt-{attempt.pk}")
        assert running.get_attribute("data-state") == "running"
        assert (
            "live"
            in page.get_by_test_id(f"attempt-log-count-{attempt.pk}").inner_text()
        )
        view = page.get_by_test_id(f"attempt-log-lines-{attempt.pk}")
        page.wait_for_selector(f"{panel}[data-follow=true]")
        assert view.locator("[data-line='4001']").is_visible()
        # Only the rows in sight are drawn, not 4,001.
        assert view.locator(".log-line").count() < 200
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        view.screenshot(path=str(SCREENSHOTS / "step-logs-live.png"))

        # Scrolling up stops following; the checkbox turns it back on.
        view.evaluate("element => { element.scrollTop = 0; }")
        page.wait_for_selector(f"{panel}[data-follow=false]")
        assert (
            view.locator("[data-line='1']")
            .inner_text()
            .endswith(f"INFO {__name__}: chatter starts on s1")
        )
        page.get_by_test_id(f"attempt-log-follow-{attempt.pk}").check()
        page.wait_for_selector(f"{panel}[data-follow=true]")
        assert view.locator("[data-line='4001']").is_visible()

        # The rest comes; past the bound one marker says what was not kept.
        gate.touch()
        page.wait_for_selector(
            f"[data-testid=attempt-{attempt.pk}][data-state=succeeded]", timeout=60_000
        )
        marker = page.get_by_test_id(f"attempt-log-truncated-{attempt.pk}")
        marker.wait_for(timeout=30_000)
        chunks = StepLog.objects.filter(attempt=attempt)
        kept = sum(chunks.values_list("lines", flat=True))
        stored = sum(chunks.filter(truncated=False).values_list("bytes", flat=True))
        assert stored <= 1024 * 1024 and kept < LINES
        dropped = LINES + 1 - (kept - 1)
        assert marker.inner_text() == (
            f"… log truncated: {dropped} more lines ({dropped * 132} bytes) not kept"
        )
        page.wait_for_selector(f"{panel}[data-done=true][data-lines='{kept}']")
        assert (
            view.locator(f"[data-line='{kept}']")
            .inner_text()
            .endswith(marker.inner_text())
        )

        # A search over the run's logs finds the line, with its line number.
        page.get_by_test_id("run-log-search").fill("ORDER 4711")
        match = page.get_by_test_id("run-log-match")
        match.first.wait_for()
        assert match.count() == 1
        assert match.get_attribute("data-line") == "101"
        assert "s1 · attempt 1 · line 101" in match.inner_text()
        assert NEEDLE in match.inner_text()

        # The export downloads the whole log as text.
        with page.expect_download() as download:
            page.get_by_test_id("run-log-export").click()
        text = Path(download.value.path()).read_text()
        assert download.value.suggested_filename == f"run-{run.pk}-logs.txt"
        assert text.startswith(f"=== s1 · attempt 1 (attempt id {attempt.pk}) ===\n")
        assert f"line 00100 {NEEDLE}\n" in text
        assert text.rstrip().endswith("bytes) not kept")
        # Last: a full-page screenshot resizes the viewport, and Chrome then scrolls
        # the focused search box into view at the next click.
        page.screenshot(path=str(SCREENSHOTS / "step-logs.png"), full_page=True)
    finally:
        gate.touch()
        stop_process(worker)
