"""Retention: pruning finished runs past their window, archiving them, the stream."""

import gzip
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.models import ForeignKey, OneToOneField
from django.utils import timezone

from runs import retention
from runs.models import Event, PruneTally, Run, StepRun
from runs.selectors import event_list, last_event_position
from runs.services.starting import run_start
from tests.support import drive, linear_graph

pytestmark = pytest.mark.django_db

_RUN_MODELS = (
    "runs.Run",
    "runs.StepRun",
    "runs.Attempt",
    "runs.MapItem",
    "runs.Handoff",
)


@pytest.fixture(autouse=True)
def _archive_dir(settings: Any, tmp_path: Path) -> Path:
    settings.SWITCHYARD_ARCHIVE_DIR = str(tmp_path / "archive")
    return tmp_path / "archive"


@pytest.fixture(autouse=True)
def _no_relay_position() -> Any:
    client = redis.Redis.from_url(settings.SWITCHYARD_REDIS_URL)
    client.delete("switchyard:relay:position")
    yield client
    client.delete("switchyard:relay:position")
    client.close()


def orphans() -> dict[str, int]:
    """Count rows whose reference to a run, step, attempt, item or handoff dangles.

    Check the foreign keys now, too: they are deferred, and a test never commits.
    """
    connection.check_constraints()
    found = {}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, ForeignKey | OneToOneField):
                continue
            target = field.related_model
            if target._meta.label not in _RUN_MODELS:
                continue
            count = (
                model._default_manager.filter(**{f"{field.attname}__isnull": False})
                .exclude(
                    **{f"{field.attname}__in": target._default_manager.values("pk")}
                )
                .count()
            )
            if count:
                found[f"{model._meta.label}.{field.name}"] = count
    return found


def _age(run_ids: list[int], days: int) -> None:
    """Move runs (and their events) back in time by `days`."""
    shift = timedelta(days=days)
    for run in Run.objects.filter(pk__in=run_ids):
        Run.objects.filter(pk=run.pk).update(
            created_at=run.created_at - shift,
            finished_at=(run.finished_at - shift) if run.finished_at else None,
        )
    for event in Event.objects.filter(run_id__in=run_ids):
        Event.objects.filter(pk=event.pk).update(created_at=event.created_at - shift)


def _workflow(factory: Any, slug: str, *, days: int | None, archive: bool) -> Any:
    workflow = factory(linear_graph(2), slug=slug)
    workflow.retention_days = days
    workflow.retention_archive = archive
    workflow.business_key = "=input.n"
    workflow.save()
    return workflow


def _finished_runs(workflow: Any, count: int) -> list[int]:
    ids = []
    for n in range(count):
        run, _ = run_start(workflow=workflow, input={"n": n}, actor="t")
        drive(run)
        ids.append(run.pk)
    return ids


def _read_archive(folder: Path) -> list[dict[str, Any]]:
    lines = []
    for path in sorted(folder.rglob("*.jsonl.gz")):
        with gzip.open(path, "rt") as f:
            lines += [json.loads(line) for line in f]
    return lines


def test_prune_deletes_due_runs_with_their_rows_and_archives_them(
    api, workflow_factory, _archive_dir
):
    workflow = _workflow(workflow_factory, "keep30", days=30, archive=True)
    old = _finished_runs(workflow, 3)
    recent = _finished_runs(workflow, 1)
    running, _ = run_start(workflow=workflow, input={"n": 9}, actor="t")
    _age(old + [running.pk], 40)
    assert retention.due_count(workflow, timezone.now()) == 3
    row = api.get("/api/v1/retention/").json()["results"][0]
    assert (row["workflow"], row["due"], row["pruned_total"]) == ("keep30", 3, 0)

    steps = StepRun.objects.filter(run_id=old[0]).count()
    assert retention.prune_tick() == 3

    assert set(Run.objects.values_list("pk", flat=True)) == {*recent, running.pk}
    assert not StepRun.objects.filter(run_id__in=old).exists()
    assert not Event.objects.filter(run_id__in=old).exists()
    assert orphans() == {}
    archived = _read_archive(_archive_dir)
    assert sorted(line["run"]["id"] for line in archived) == sorted(old)
    first = next(line for line in archived if line["run"]["id"] == old[0])
    assert first["run"]["business_key"] == "0"
    assert len(first["rows"]["runs.steprun"]) == steps
    assert len(first["rows"]["runs.attempt"]) == steps - 2  # not start and end
    assert {e["kind"] for e in first["rows"]["runs.event"]} >= {"run_created"}
    tally = PruneTally.objects.get(workflow=workflow)
    assert (tally.pruned_total, tally.archived_total) == (3, 3)
    pruned = Event.objects.get(workflow=workflow, kind="runs_pruned")
    assert pruned.data["runs"] == 3 and pruned.data["archive"].endswith(".jsonl.gz")
    row = api.get("/api/v1/retention/").json()["results"][0]
    assert (row["due"], row["pruned_total"], row["archive"]) == (0, 3, True)
    assert retention.prune_tick() == 0


def test_one_failing_workflow_does_not_stop_the_others(workflow_factory, _archive_dir):
    broken = _workflow(workflow_factory, "broken", days=1, archive=True)
    fine = _workflow(workflow_factory, "fine", days=1, archive=False)
    broken_runs = _finished_runs(broken, 1)
    fine_runs = _finished_runs(fine, 2)
    _age(broken_runs + fine_runs, 3)
    # The broken workflow's archive folder cannot be made: a file is in the way.
    _archive_dir.mkdir(parents=True)
    (_archive_dir / "broken").write_text("not a folder")

    assert retention.prune_tick() == 2

    assert list(Run.objects.values_list("pk", flat=True)) == broken_runs
    failed = Event.objects.get(workflow=broken, kind="runs_prune_failed")
    assert "retention could not process it" in failed.reason
    assert not PruneTally.objects.filter(workflow=broken).exists()
    assert orphans() == {}


def test_runs_without_a_window_or_still_active_are_kept(workflow_factory):
    forever = _workflow(workflow_factory, "forever", days=None, archive=False)
    runs = _finished_runs(forever, 2)
    _age(runs, 4000)
    assert retention.prune_tick() == 0
    assert Run.objects.count() == 2


def test_events_after_the_relay_position_are_never_deleted(
    workflow_factory, _no_relay_position
):
    workflow = _workflow(workflow_factory, "relayed", days=1, archive=False)
    first = _finished_runs(workflow, 2)
    tx, event_id = last_event_position()
    _no_relay_position.set("switchyard:relay:position", f"{tx}:{event_id}")
    later = _finished_runs(workflow, 2)
    _age(first + later, 3)

    assert retention.prune_tick() == 2

    assert sorted(Run.objects.values_list("pk", flat=True)) == sorted(later)
    assert Event.objects.filter(run_id__in=later).count() > 0


def test_recent_events_are_kept_for_resuming_streams(workflow_factory):
    workflow = _workflow(workflow_factory, "grace", days=1, archive=False)
    runs = _finished_runs(workflow, 1)
    # The run is past its window, but its events were written within the grace.
    Run.objects.filter(pk=runs[0]).update(
        created_at=timezone.now() - timedelta(days=3),
        finished_at=timezone.now() - timedelta(days=2),
    )
    assert retention.prune_tick() == 0
    Event.objects.filter(run_id=runs[0]).update(
        created_at=timezone.now() - timedelta(hours=2)
    )
    assert retention.prune_tick() == 1


def test_bad_retention_counts_request_needs_login(client):
    assert client.get("/api/v1/retention/").status_code in (401, 403)


# ------------------------------------------------------------------ 100k runs

OLD_RUNS = 100_000
RECENT_RUNS = 2_000
LATE_RUNS = 100


def _seed(workflow: Any, version: Any) -> None:
    """Insert OLD_RUNS finished runs 40 days old and RECENT_RUNS of today, with 2
    steps and attempts, 3 events and a log chunk each, a join row on every tenth, and
    a recent child run of every thousandth old run; bulk SQL (generate_series)."""
    ago = "now() - interval '40 days'"
    with connection.cursor() as cursor:
        for count, when in ((OLD_RUNS, ago), (RECENT_RUNS, "now()")):
            cursor.execute(
                f"""
                INSERT INTO runs_run (workflow_id, version_id, state, input, output,
                  error, trigger, call_depth, reruns, business_key, created_at,
                  started_at, finished_at)
                SELECT %s, %s, 'succeeded', jsonb_build_object('n', g), '{{}}'::jsonb,
                  NULL, 'api', 0, '[]'::jsonb, 'K-' || g, {when}, {when}, {when}
                FROM generate_series(1, %s) g
                """,  # noqa: S608
                [workflow.pk, version.pk, count],
            )
        cursor.execute(
            """
            INSERT INTO runs_steprun (run_id, node_id, seq, node_type, state, output,
              taken_edges, created_at, started_at, finished_at)
            SELECT r.id, 's' || s, 1, 'task', 'succeeded', '{}'::jsonb, '[]'::jsonb,
              r.created_at, r.created_at, r.created_at
            FROM runs_run r CROSS JOIN generate_series(1, 2) s
            """
        )
        cursor.execute(
            """
            INSERT INTO runs_attempt (step_id, run_id, number, state, queue, priority,
              due_at, finished_at, publish_count, worker)
            SELECT id, run_id, 1, 'succeeded', 'default', 5, created_at, created_at, 1,
              'w'
            FROM runs_steprun
            """
        )
        cursor.execute(
            """
            INSERT INTO runs_event (workflow_id, version_id, run_id, node_id, kind,
              from_state, to_state, actor, reason, data, created_at)
            SELECT r.workflow_id, r.version_id, r.id, '', k, '', '', 'seed', '',
              '{}'::jsonb, r.created_at
            FROM runs_run r CROSS JOIN unnest(
              ARRAY['run_created', 'run_started', 'run_succeeded']) k
            ORDER BY r.id
            """
        )
        cursor.execute(
            """
            INSERT INTO runs_steplog (run_id, attempt_id, number, node_id, seq,
              first_line, lines, bytes, text, truncated, created_at)
            SELECT run_id, id, 1, 's1', 1, 1, 1, 5, 'hello', false, finished_at
            FROM runs_attempt WHERE id % 2 = 0
            """
        )
        cursor.execute(
            """
            INSERT INTO runs_joinprogress (run_id, node_id, arrived, taken)
            SELECT id, 'join', 2, 2 FROM runs_run WHERE id % 10 = 0
            """
        )
        cursor.execute(
            """
            INSERT INTO runs_run (workflow_id, version_id, state, input, trigger,
              call_depth, reruns, business_key, created_at, parent_run_id)
            SELECT workflow_id, version_id, 'succeeded', '{}'::jsonb, 'call', 1,
              '[]'::jsonb, '', now(), id
            FROM runs_run WHERE id % 1000 = 0 AND created_at < now() - interval '1 day'
            """
        )
        cursor.execute("ANALYZE runs_run, runs_steprun, runs_attempt, runs_event")


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="bulk seeding with generate_series",
)
def test_pruning_100k_runs_keeps_the_database_consistent_and_the_stream_intact(
    workflow_factory, _archive_dir, _no_relay_position
):
    workflow = _workflow(workflow_factory, "bulk", days=30, archive=True)
    _seed(workflow, workflow.live_version)
    old_ids = set(
        Run.objects.filter(
            created_at__lt=timezone.now() - timedelta(days=30)
        ).values_list("pk", flat=True)
    )
    assert len(old_ids) == OLD_RUNS
    # A board consumer's position before the prune, and events after it: late
    # events of some old runs, which the relay has not sent yet.
    resume_from = last_event_position()
    late = sorted(old_ids)[:LATE_RUNS]
    _no_relay_position.set(
        "switchyard:relay:position", f"{resume_from[0]}:{resume_from[1]}"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO runs_event (workflow_id, run_id, node_id, kind, from_state,
              to_state, actor, reason, data, created_at)
            SELECT %s, id, '', 'late', '', '', 'seed', '', '{}'::jsonb,
              now() - interval '40 days'
            FROM runs_run WHERE id = ANY(%s)
            """,
            [workflow.pk, late],
        )
    stream_before = [e.pk for e in event_list(after=resume_from, limit=10_000)]
    assert len(stream_before) == LATE_RUNS
    total_before = Run.objects.count()

    pruned = 0
    for _ in range(100):  # bounded: 40 batches of 500 a tick
        done = retention.prune_tick()
        pruned += done
        if not done:
            break

    expected = OLD_RUNS - LATE_RUNS
    assert pruned == expected
    remaining = set(Run.objects.values_list("pk", flat=True))
    assert len(remaining) == total_before - expected
    assert remaining & old_ids == set(late)
    assert orphans() == {}
    assert not Run.objects.filter(parent_run_id__in=old_ids - set(late)).exists()
    assert Run.objects.filter(trigger="call", parent_run__isnull=True).count() > 0
    stream_after = [e.pk for e in event_list(after=resume_from, limit=10_000)]
    runs_pruned = Event.objects.filter(kind="runs_pruned").values_list("pk", flat=True)
    assert [e for e in stream_after if e not in set(runs_pruned)] == stream_before
    archived_ids = [line["run"]["id"] for line in _read_archive(_archive_dir)]
    assert len(archived_ids) == expected
    assert set(archived_ids) == old_ids - set(late)
    tally = PruneTally.objects.get(workflow=workflow)
    assert tally.pruned_total == tally.archived_total == expected
    assert (
        sum(
            Event.objects.filter(kind="runs_pruned").values_list(
                "data__runs", flat=True
            )
        )
        == expected
    )


def test_retention_counts_list_only_workflows_the_user_sees(
    workflow_factory, django_user_model
):
    from django.contrib.auth.models import Group
    from rest_framework.test import APIClient

    from tests.support import grant

    team = Group.objects.create(name="payments-team")
    hidden = _workflow(workflow_factory, "team-only", days=7, archive=False)
    hidden.owner_group = team
    hidden.save(update_fields=["owner_group"])
    _workflow(workflow_factory, "shared", days=7, archive=False)
    viewer = grant(django_user_model.objects.create_user("vera"), "viewer")
    client = APIClient()
    client.force_authenticate(viewer)
    slugs = [r["workflow"] for r in client.get("/api/v1/retention/").json()["results"]]
    assert slugs == ["shared"]
    viewer.groups.add(team)
    client.force_authenticate(django_user_model.objects.get(pk=viewer.pk))
    slugs = [r["workflow"] for r in client.get("/api/v1/retention/").json()["results"]]
    assert slugs == ["shared", "team-only"]


def test_pruning_a_test_run_drops_its_idle_snapshot(
    api: Any, workflow_factory: Any
) -> None:
    from designer import services
    from designer.models import WorkflowVersion
    from tests.runs.test_test_runs import order_graph

    workflow = workflow_factory(order_graph())
    failed, _ = run_start(workflow=workflow, input={"order": {}}, actor="t")
    drive(failed)
    draft, _ = services.version_create(
        workflow=workflow, graph=order_graph("builtin.echo")
    )
    answer = api.post(
        f"/api/v1/workflows/{workflow.slug}/versions/{draft.number}/test-runs/",
        {"run": failed.pk, "node": "charge"},
        "json",
    )
    test_run = Run.objects.get(pk=answer.json()["id"])
    drive(test_run)
    workflow.retention_days = 1
    workflow.save(update_fields=["retention_days"])
    _age([failed.pk, test_run.pk], 5)
    assert retention.prune_tick() == 2
    assert not WorkflowVersion.snapshots.exists()
    assert WorkflowVersion.objects.filter(workflow=workflow).count() == 2
