"""Step logs: what an action writes (context.log, its module's logging) is kept per
attempt, redacted, bounded with a marker, stored in a few chunks (live while it runs),
searched, exported and shown only to those who see the run."""

import logging
import threading
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import DatabaseError, connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from designer.models import Workflow
from engine.actions import ActionContext, action
from engine.tasks import execute
from runs import logs
from runs.models import Attempt, MapItem, Run, RunState, StepLog
from runs.services.dispatching import AttemptWork
from runs.services.starting import run_start
from tests.support import drive, grant, linear_graph, wait_for

pytestmark = pytest.mark.django_db

module_logger = logging.getLogger(__name__)
SECRET = "tok-5ecret-value"
# Released by live tests: the action waits for it while its first lines are stored.
GATE = threading.Event()


@action(
    "tests.step_logs.chatty",
    params_schema={
        "type": "object",
        "properties": {
            "lines": {"type": "integer"},
            "width": {"type": "integer"},
            "wait": {"type": "boolean"},
        },
    },
)
def chatty(params: dict[str, Any], context: ActionContext) -> dict[str, Any]:
    """Log numbered lines through context.log and the module's logger."""
    module_logger.info("starting %s", context.node_id)
    module_logger.debug("debug is below the captured level")
    width = params.get("width", 0)
    for n in range(1, params.get("lines", 3) + 1):
        context.log(f"line {n:05d} " + "x" * width)
    if params.get("wait"):
        assert GATE.wait(30), "the test never opened the gate"
    module_logger.warning("done with %s", context.node_id)
    return {"lines": params.get("lines", 3)}


def _work(run: Run, **params: Any) -> AttemptWork:
    attempt = Attempt.objects.filter(run=run).order_by("id").first()
    return AttemptWork(
        attempt_id=attempt.pk if attempt else 0,
        run_id=run.pk,
        action="tests.step_logs.chatty",
        params=params,
        context=ActionContext(
            run_id=run.pk,
            node_id="s1",
            attempt=1,
            idempotency_key="k",
            input={},
            timeout_s=30,
        ),
    )


def _run(workflow_factory: Any, slug: str = "chatty", **params: Any) -> Run:
    graph = linear_graph(1, action="tests.step_logs.chatty", params=params)
    run, _ = run_start(
        workflow=workflow_factory(graph, slug=slug), input={}, actor="test"
    )
    return run


def _text(**owner: Any) -> list[str]:
    chunks = StepLog.objects.filter(**owner).order_by("seq")
    return "\n".join(c.text for c in chunks).split("\n")


def test_context_log_and_module_logging_are_kept_per_attempt(
    workflow_factory: Any,
) -> None:
    run = _run(workflow_factory, lines=3)
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    attempt = Attempt.objects.get(run=run)
    assert _text(attempt_id=attempt.pk) == [
        f"INFO {__name__}: starting s1",
        "line 00001 ",
        "line 00002 ",
        "line 00003 ",
        f"WARNING {__name__}: done with s1",
    ]
    chunk = StepLog.objects.get(attempt=attempt)
    assert (chunk.run_id, chunk.number, chunk.node_id) == (run.pk, 1, "s1")
    assert (chunk.seq, chunk.first_line, chunk.lines) == (1, 1, 5)
    # The handler is gone and the module's level is its own again.
    assert not any(isinstance(h, logs._RecordHandler) for h in module_logger.handlers)
    assert module_logger.level == logging.NOTSET


def test_secrets_are_redacted_before_a_line_is_stored(
    workflow_factory: Any,
) -> None:
    run = _run(workflow_factory)
    with logs.capture(_work(run), secrets=[SECRET]) as log:
        log(f"Authorization: Bearer {SECRET}")
        module_logger.error("refused %s", SECRET)
        log(f"two lines\nthe second has {SECRET}")
    text = "\n".join(StepLog.objects.values_list("text", flat=True))
    assert SECRET not in text
    assert text.count("[redacted]") == 3
    assert "the second has [redacted]" in text


def test_past_the_bound_lines_are_counted_and_one_marker_is_stored(
    workflow_factory: Any, settings: Any
) -> None:
    settings.SWITCHYARD_MAX_LOG_BYTES = 1000
    run = _run(workflow_factory)
    with logs.capture(_work(run), secrets=[]) as log:
        for n in range(100):
            log(f"line {n:03d} " + "y" * 40)  # 50 bytes with its newline
    chunks = list(StepLog.objects.order_by("seq"))
    kept, marker = chunks[:-1], chunks[-1]
    assert sum(c.bytes for c in kept) == 1000
    assert sum(c.lines for c in kept) == 20
    assert marker.truncated and marker.first_line == 21
    assert marker.text == "… log truncated: 80 more lines (4000 bytes) not kept"
    assert not any(c.truncated for c in kept)


def test_a_long_line_is_cut_with_what_it_lost(
    workflow_factory: Any, settings: Any
) -> None:
    settings.SWITCHYARD_MAX_LOG_LINE_CHARS = 50
    run = _run(workflow_factory)
    with logs.capture(_work(run), secrets=[]) as log:
        log("z" * 80)
        log("nul\x00byte")
    assert _text(run=run) == ["z" * 50 + "… (30 more characters)", "nulbyte"]


def test_ten_thousand_lines_are_a_few_chunks(workflow_factory: Any) -> None:
    run = _run(workflow_factory, lines=10_000, width=40)
    drive(run)
    chunks = list(StepLog.objects.filter(run=run).order_by("seq"))
    # ~520 KB of lines: 9 chunks of at most 64 KB, not 10,002 rows.
    assert len(chunks) <= 10
    assert all(c.bytes <= logs.CHUNK_BYTES + 100 for c in chunks)
    assert sum(c.lines for c in chunks) == 10_002
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert after.first_line == before.first_line + before.lines
        assert after.seq == before.seq + 1
    assert _text(run=run)[10_000] == "line 10000 " + "x" * 40


def test_a_failing_log_write_does_not_fail_the_attempt(
    workflow_factory: Any, monkeypatch: Any, caplog: Any
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise DatabaseError("disk full")

    monkeypatch.setattr(StepLog.objects, "bulk_create", broken)
    run = _run(workflow_factory, lines=5)
    with caplog.at_level(logging.WARNING, logger="switchyard.steps"):
        drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    assert run.steps.get(node_id="s1").output == {"lines": 5}
    assert "dropped 1 step log chunk(s)" in caplog.text
    assert not StepLog.objects.exists()


def test_a_map_items_log_is_its_own(workflow_factory: Any, api: APIClient) -> None:
    graph = {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "each",
                "type": "map",
                "items": "input.items",
                "action": "tests.step_logs.chatty",
                "params": {"lines": "=item"},
            },
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "each"},
            {"id": "e2", "source": "each", "target": "done"},
        ],
    }
    run, _ = run_start(
        workflow=workflow_factory(graph, slug="mapped"),
        input={"items": [1, 2]},
        actor="test",
    )
    drive(run)
    items = {i.index: i for i in MapItem.objects.filter(run=run)}
    assert not StepLog.objects.filter(run=run, attempt__isnull=False).exists()
    assert _text(map_item=items[1])[1:3] == ["line 00001 ", "line 00002 "]
    answer = api.get(
        f"/api/v1/runs/{run.pk}/logs/", {"map_item": items[0].pk, "number": 1}
    ).json()
    assert answer["finished"] is True
    assert [r["map_item"] for r in answer["results"]] == [items[0].pk]
    assert "line 00001 " in answer["results"][0]["text"]


@pytest.mark.django_db(transaction=True)
def test_lines_are_stored_while_the_action_runs(
    workflow_factory: Any, settings: Any
) -> None:
    """The writer thread stores pending lines every flush interval, on its own
    connection (the action is still running: this test holds it at the gate)."""
    settings.SWITCHYARD_LOG_FLUSH_S = 0.05
    run = _run(workflow_factory, slug="live", lines=2_000, wait=True)
    GATE.clear()
    attempt = Attempt.objects.get(run=run)

    def work() -> None:
        try:
            execute(_work(run, lines=2_000, wait=True))
        finally:
            connection.close()  # this thread's own

    worker = threading.Thread(target=work)
    worker.start()
    try:
        stored = wait_for(
            lambda: (
                StepLog.objects.filter(attempt=attempt).aggregate(n=Sum("lines"))["n"]
                == 2_001
            ),
            what="the first 2,001 lines stored while the action waits",
        )
        assert stored
        assert worker.is_alive()
    finally:
        GATE.set()
        worker.join(30)
    lines = _text(attempt_id=attempt.pk)
    assert len(lines) == 2_002 and lines[-1].startswith("WARNING")


def test_a_page_of_an_attempt_continues_after_a_seq(
    workflow_factory: Any, api: APIClient, settings: Any
) -> None:
    settings.SWITCHYARD_MAX_LOG_BYTES = 4 * 1024 * 1024
    run = _run(workflow_factory, lines=20_000, width=60)
    drive(run)
    attempt = Attempt.objects.get(run=run)
    path = f"/api/v1/runs/{run.pk}/logs/"
    first = api.get(path, {"attempt": attempt.pk}).json()
    assert len(first["results"]) == logs.PAGE_CHUNKS
    assert first["next"] == logs.PAGE_CHUNKS and first["finished"] is True
    rest = api.get(path, {"attempt": attempt.pk, "after": first["next"]}).json()
    assert rest["next"] is None
    seqs = [c["seq"] for c in first["results"] + rest["results"]]
    assert seqs == list(range(1, len(seqs) + 1))
    assert rest["results"][-1]["truncated"] is False
    assert sum(c["lines"] for c in first["results"] + rest["results"]) == 20_002


def test_a_page_needs_an_attempt_of_this_run(
    workflow_factory: Any, api: APIClient
) -> None:
    run = _run(workflow_factory)
    other = _run(workflow_factory, slug="other")
    attempt = Attempt.objects.get(run=other)
    path = f"/api/v1/runs/{run.pk}/logs/"
    assert api.get(path).status_code == 400
    assert api.get(path, {"attempt": "x"}).status_code == 400
    assert api.get(path, {"attempt": attempt.pk}).status_code == 404
    assert api.get(path, {"map_item": attempt.pk}).status_code == 404
    mine = Attempt.objects.get(run=run)
    answer = api.get(path, {"attempt": mine.pk}).json()
    assert answer == {"results": [], "next": None, "finished": False, "clipped": False}


def test_search_finds_lines_in_any_case_with_their_attempt_and_number(
    workflow_factory: Any, api: APIClient
) -> None:
    run = _run(workflow_factory, lines=3000, width=10)
    drive(run)
    attempt = Attempt.objects.get(run=run)
    path = f"/api/v1/runs/{run.pk}/logs/"
    answer = api.get(path, {"q": "LINE 02500"}).json()
    assert [(r["attempt"], r["first_line"], r["text"]) for r in answer["results"]] == [
        (attempt.pk, 2501, "line 02500 " + "x" * 10)
    ]
    assert answer["next"] is None and answer["clipped"] is False
    # Many matches come a bounded answer at a time, then the next.
    many = api.get(path, {"q": "line 0"}).json()
    assert len(many["results"]) <= logs.SEARCH_MATCHES
    after = api.get(path, {"q": "line 0", "after": many["next"]}).json()
    numbers = [r["first_line"] for r in many["results"] + after["results"]]
    assert numbers == sorted(set(numbers))
    assert api.get(path, {"q": "done WITH s1"}).json()["results"][0]["text"] == (
        f"WARNING {__name__}: done with s1"
    )
    assert api.get(path, {"q": "%"}).json()["results"] == []
    assert api.get(path, {"q": "a\x00b"}).status_code == 400
    assert api.get(path, {"q": "q" * 201}).status_code == 400


def test_export_streams_every_attempts_lines_under_a_header(
    workflow_factory: Any, api: APIClient
) -> None:
    run = _run(workflow_factory, lines=1000)
    drive(run)
    attempt = Attempt.objects.get(run=run)
    response = api.get(f"/api/v1/runs/{run.pk}/logs/export/")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert f'filename="run-{run.pk}-logs.txt"' in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    lines = text.splitlines()
    assert lines[0] == f"=== s1 · attempt 1 (attempt id {attempt.pk}) ==="
    assert lines[2:1002] == [f"line {n:05d} " for n in range(1, 1001)]
    empty = _run(workflow_factory, slug="quiet")
    answer = api.get(f"/api/v1/runs/{empty.pk}/logs/export/")
    assert b"".join(answer.streaming_content).decode() == (
        f"Run {empty.pk} has no step logs.\n"
    )


def test_logs_are_seen_only_by_those_who_see_the_run(
    workflow_factory: Any, django_user_model: Any, api: APIClient
) -> None:
    run = _run(workflow_factory)
    drive(run)
    red = Group.objects.create(name="red")
    blue = Group.objects.create(name="blue")
    Workflow.objects.filter(pk=run.workflow_id).update(owner_group=red)
    outsider = grant(django_user_model.objects.create_user("bob"), "viewer")
    outsider.groups.add(blue)
    client = APIClient()
    client.force_authenticate(outsider)
    attempt = Attempt.objects.get(run=run)
    for path, params in (
        (f"/api/v1/runs/{run.pk}/logs/", {"attempt": attempt.pk}),
        (f"/api/v1/runs/{run.pk}/logs/", {"q": "line"}),
        (f"/api/v1/runs/{run.pk}/logs/export/", {}),
    ):
        assert client.get(path, params).status_code == 404
        assert APIClient().get(path, params).status_code in (401, 403)
        assert api.get(path, params).status_code == 200
    outsider.groups.add(red)
    outsider = django_user_model.objects.get(pk=outsider.pk)
    client.force_authenticate(outsider)
    assert client.get(f"/api/v1/runs/{run.pk}/logs/", {"q": "line"}).status_code == 200


def test_a_runs_logs_go_with_it(workflow_factory: Any) -> None:
    run = _run(workflow_factory, lines=10)
    drive(run)
    assert StepLog.objects.filter(run=run).exists()
    run.delete()
    assert not StepLog.objects.exists()


def test_the_run_list_stays_within_its_query_budget_and_reads_no_log(
    workflow_factory: Any, api: APIClient, django_assert_max_num_queries: Any
) -> None:
    for n in range(5):
        drive(_run(workflow_factory, slug=f"wf{n}", lines=2000, width=50))
    assert StepLog.objects.count() >= 10
    with django_assert_max_num_queries(6), CaptureQueriesContext(connection) as seen:
        answer = api.get("/api/v1/runs/")
    assert answer.status_code == 200 and answer.json()["count"] == 5
    assert not [q for q in seen.captured_queries if "steplog" in q["sql"]]
