"""Scorecard metrics on a fixture with hand-computed answers, and /metrics."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from designer import services as designer
from runs import metrics, releases
from runs.models import Attempt, Event, Run, StepRun
from tests.support import linear_graph

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def _run(version: Any, state: str, finished_ago_h: float | None) -> Run:
    finished = None if finished_ago_h is None else NOW - timedelta(hours=finished_ago_h)
    run = Run.objects.create(
        workflow=version.workflow, version=version, state=state, finished_at=finished
    )
    return run


def _attempt(run: Run, number: int, delay_s: float, started_ago_h: float = 1) -> None:
    step, _ = StepRun.objects.get_or_create(
        run=run, node_id="s1", seq=1, defaults={"node_type": "task"}
    )
    started = NOW - timedelta(hours=started_ago_h)
    Attempt.objects.create(
        step=step,
        run=run,
        number=number,
        state="succeeded",
        due_at=started - timedelta(seconds=delay_s),
        started_at=started,
        finished_at=started,
    )


@pytest.fixture
def fixture(workflow_factory: Any) -> dict[str, Any]:
    workflow = workflow_factory(linear_graph(1), slug="shop")
    v1 = workflow.live_version
    v2, _ = designer.version_create(workflow=workflow, graph=linear_graph(1))
    v2 = releases.version_publish(version=v2)
    # v1: 3 succeeded + 1 failed in the window, 1 running, 1 finished long ago.
    r1, r2, r3 = (_run(v1, "succeeded", h) for h in (1, 2, 3))
    r4 = _run(v1, "failed", 4)
    _run(v1, "running", None)
    _run(v1, "succeeded", 24 * 30)
    # Attempts: numbers 1, 1, 1, 2, 3 (two retries over three runs); delays 1..4, 10 s.
    _attempt(r1, 1, 1.0)
    _attempt(r2, 1, 2.0)
    _attempt(r3, 1, 3.0)
    _attempt(r3, 2, 4.0)
    _attempt(r3, 3, 10.0)
    # v2: 1 succeeded + 1 failed; attempts with delays 0.5 and 1.5 s, no retries.
    s1 = _run(v2, "succeeded", 1)
    f1 = _run(v2, "failed", 1)
    _attempt(s1, 1, 0.5)
    _attempt(f1, 1, 1.5)
    del r4
    return {"workflow": workflow, "v1": v1, "v2": v2}


def _window(days: float = 1) -> metrics.Window:
    return metrics.Window(since=NOW - timedelta(days=days), until=NOW)


def test_scorecard_of_a_version_matches_the_hand_count(fixture: dict) -> None:
    card = metrics.scorecard(
        window=_window(), workflow=fixture["workflow"], version=fixture["v1"]
    )
    assert card["runs"] == {
        "finished": 4,
        "succeeded": 3,
        "by_trigger": {"api": {"finished": 4, "succeeded": 3, "success_rate": 0.75}},
    }
    assert card["success_rate"] == 0.75
    assert (card["attempts"], card["retries"]) == (5, 2)
    assert card["retry_burden"] == pytest.approx(0.4)
    assert card["retries_per_run"] == pytest.approx(2 / 3)
    delay = card["queue_delay"]
    assert delay["count"] == 5
    assert delay["p50"] == pytest.approx(3.0)
    assert delay["p95"] == pytest.approx(8.8)  # 4 + (10 - 4) * 0.8
    assert delay["max"] == pytest.approx(10.0)
    assert card["handoff_accuracy"]["value"] is None


def test_whole_workflow_counts_both_versions(fixture: dict) -> None:
    card = metrics.scorecard(window=_window(), workflow=fixture["workflow"])
    assert (card["runs"]["finished"], card["runs"]["succeeded"]) == (6, 4)
    assert card["runs"]["by_trigger"]["api"]["finished"] == 6
    assert card["retry_burden"] == pytest.approx(2 / 7)


def test_empty_window_and_zero_denominators_are_no_data(fixture: dict) -> None:
    long_ago = metrics.Window(
        since=NOW - timedelta(days=400), until=NOW - timedelta(days=300)
    )
    card = metrics.scorecard(
        window=long_ago, workflow=fixture["workflow"], version=fixture["v1"]
    )
    assert card["success_rate"] is None
    assert card["retry_burden"] is None
    assert card["retries_per_run"] is None
    assert card["queue_delay"] == {"count": 0, "max": None, "p50": None, "p95": None}


def test_two_versions_side_by_side_mark_the_differences(fixture: dict) -> None:
    result = metrics.compare(
        window=_window(), workflow=fixture["workflow"], a=fixture["v1"], b=fixture["v2"]
    )
    assert (result["a"]["success_rate"], result["b"]["success_rate"]) == (0.75, 0.5)
    assert result["b"]["retry_burden"] == 0.0  # two attempts, no retry: 0 %, not None
    assert result["b"]["queue_delay"]["p95"] == pytest.approx(1.45)
    differences = result["differences"]
    assert differences["success_rate"]["verdict"] == "worse"
    assert differences["success_rate"]["delta"] == pytest.approx(-0.25)
    assert differences["retry_burden"]["verdict"] == "better"
    assert differences["queue_delay_p95"]["verdict"] == "better"


def test_daily_trend_has_a_point_per_day(fixture: dict) -> None:
    points = metrics.daily_trend(window=_window(days=3), workflow=fixture["workflow"])
    assert len(points) >= 3
    assert sum(p["finished"] for p in points) == 6
    assert sum(p["attempts"] for p in points) == 7
    empty = [p for p in points if p["finished"] == 0]
    assert all(p["success_rate"] is None for p in empty)


def test_metrics_api_validates_and_compares(api: Any, fixture: dict) -> None:
    since = (NOW - timedelta(days=1)).isoformat()
    until = NOW.isoformat()
    response = api.get(
        "/api/v1/metrics/",
        {
            "workflow": "shop",
            "version": 1,
            "compare": 2,
            "since": since,
            "until": until,
        },
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["scorecard"]["success_rate"] == 0.75
    assert body["comparison"]["b"]["success_rate"] == 0.5
    assert body["scorecard"]["branch_coverage"]["total"] == 2
    bad = api.get("/api/v1/metrics/", {"since": until, "until": since})
    assert bad.status_code == 400
    assert api.get("/api/v1/metrics/", {"version": 1}).status_code == 400
    assert api.get("/api/v1/metrics/", {"workflow": "nope"}).status_code == 404


def test_prometheus_text_needs_auth_and_lists_the_families(
    api: Any, client: Any, fixture: dict
) -> None:
    Event.objects.create(kind="retry_deferred", workflow=fixture["workflow"])
    assert client.get("/metrics").status_code in (401, 403)
    text = api.get("/metrics").content.decode()
    assert 'switchyard_runs{workflow="shop",state="succeeded"} 5' in text
    assert 'switchyard_retries_total{queue="default"} 2' in text
    assert 'switchyard_queue_delay_seconds_bucket{queue="default",le="+Inf"} 7' in text
    assert 'switchyard_queue_delay_seconds_bucket{queue="default",le="1"} 2' in text
    assert "switchyard_retry_deferrals_total 1" in text
