"""The schedules API: create, preview, pause, resume, backfill, fires, and refusals."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from runs import schedules
from runs.models import Schedule
from tests.support import grant, linear_graph

pytestmark = pytest.mark.django_db

BODY = {
    "name": "nightly",
    "kind": "cron",
    "cron": "0 2 * * *",
    "timezone": "Europe/Paris",
    "input": {"region": "eu"},
    "overlap": "skip",
    "catchup": "latest",
}


def test_create_list_change_and_delete(api: Any, workflow_factory: Any) -> None:
    workflow_factory(linear_graph(1), slug="nightly")
    created = api.post("/api/v1/workflows/nightly/schedules/", BODY, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["state"] == "active"
    assert body["trigger"] == f"schedule:{body['id']}"
    assert len(body["next_fire_times"]) == 5
    # 02:00 in Paris is 01:00 or 00:00 UTC.
    assert all(t[11:16] in ("00:00", "01:00") for t in body["next_fire_times"])
    listed = api.get("/api/v1/workflows/nightly/schedules/").json()["results"]
    assert [s["id"] for s in listed] == [body["id"]]
    changed = api.patch(
        f"/api/v1/schedules/{body['id']}/",
        {"kind": "interval", "interval_s": 30},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["kind"], changed.json()["cron"]) == ("interval", "")
    assert api.delete(f"/api/v1/schedules/{body['id']}/").status_code == 204
    assert not Schedule.objects.exists()


def test_preview_shows_the_next_five_or_names_the_problem(api: Any) -> None:
    ok = api.post(
        "/api/v1/schedules/preview/",
        {"kind": "cron", "cron": "*/15 * * * * *"},
        format="json",
    )
    assert ok.status_code == 200
    assert len(ok.json()["next"]) == 5
    bad = api.post(
        "/api/v1/schedules/preview/",
        {"kind": "cron", "cron": "99 * * * *"},
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["code"] == "bad_timetable"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"cron": "not cron"}, 400, "bad_timetable"),
        ({"timezone": "Atlantis/Capital"}, 400, "bad_timetable"),
        ({"catchup_limit": 5000}, 400, "max_value"),
        ({"overlap": "sometimes"}, 400, "invalid_choice"),
        ({"input": {"blob": "x" * 70_000}}, 413, "too_large"),
    ],
)
def test_bad_schedules_are_refused_clearly(
    api: Any, workflow_factory: Any, change: dict, status: int, code: str
) -> None:
    workflow_factory(linear_graph(1), slug="refuse")
    response = api.post(
        "/api/v1/workflows/refuse/schedules/", {**BODY, **change}, format="json"
    )
    assert response.status_code == status, response.json()
    assert response.json()["errors"][0]["code"] == code
    assert not Schedule.objects.exists()


def test_pause_resume_backfill_and_fires(api: Any, workflow_factory: Any) -> None:
    workflow_factory(linear_graph(1), slug="ops")
    body = api.post(
        "/api/v1/workflows/ops/schedules/",
        {"name": "hourly", "kind": "cron", "cron": "0 * * * *"},
        format="json",
    ).json()
    url = f"/api/v1/schedules/{body['id']}/"
    assert api.post(url + "pause/").json()["state"] == "paused"
    assert api.post(url + "pause/").status_code == 409
    assert api.post(url + "resume/").json()["state"] == "active"
    end = timezone.now().replace(minute=0, second=0, microsecond=0)
    backfill = api.post(
        url + "backfill/",
        {"start": (end - timedelta(hours=4)).isoformat(), "end": end.isoformat()},
        format="json",
    )
    assert backfill.status_code == 202
    assert backfill.json()["slots"] == 5
    schedules.schedules_fire_due()
    fires = api.get(url + "fires/").json()
    assert fires["count"] == 5
    slots = [f["slot_at"] for f in fires["results"]]
    assert slots == sorted(slots, reverse=True), "newest first"
    assert all(f["state"] == "started" and f["run"] for f in fires["results"])
    run = api.get(f"/api/v1/runs/{fires['results'][0]['run']}/").json()
    assert run["trigger"] == f"schedule:{body['id']}"
    assert run["trigger_at"]


def test_roles_and_teams(workflow_factory: Any, django_user_model: Any) -> None:
    workflow_factory(linear_graph(1), slug="guarded")
    viewer = grant(
        django_user_model.objects.create_user("vera", password="x"), "viewer"
    )
    client = APIClient()
    client.force_authenticate(viewer)
    refused = client.post("/api/v1/workflows/guarded/schedules/", BODY, format="json")
    assert refused.status_code == 403
    assert client.get("/api/v1/workflows/guarded/schedules/").status_code == 200
    anonymous = APIClient()
    assert anonymous.get("/api/v1/workflows/guarded/schedules/").status_code in (
        401,
        403,
    )
    assert client.get("/api/v1/schedules/999999/").status_code == 404
