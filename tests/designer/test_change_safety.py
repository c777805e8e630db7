"""Change safety: test cases, coverage, lint, the publish gate, canaries, rollback."""

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.utils import timezone

from designer import services as designer
from designer import simulation, testing
from designer.models import Workflow, WorkflowTestCase
from runs import handoffs, releases
from runs.demo import DEMO_GROUP, DEMOS, demo_load
from runs.models import Event, Handoff, LedgerEntry, Run, RunState
from runs.services.starting import run_start
from tests.support import drive

pytestmark = pytest.mark.django_db


def sized_graph() -> dict[str, Any]:
    """start → charge (ledger) → size? small | medium | large → done / review → done."""
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 2}},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "charge", "type": "task", "action": "builtin.ledger"},
            {"id": "size", "type": "choice"},
            {"id": "small", "type": "task", "action": "builtin.ledger"},
            {"id": "medium", "type": "task", "action": "builtin.noop"},
            {"id": "large", "type": "task", "action": "builtin.ledger"},
            {"id": "done", "type": "end"},
            {"id": "declined", "type": "end", "status": "failed"},
        ],
        "edges": [
            {"id": "e_charge", "source": "start", "target": "charge"},
            {"id": "e_size", "source": "charge", "target": "size"},
            {
                "id": "e_declined",
                "source": "charge",
                "target": "declined",
                "on": "failure",
            },
            {
                "id": "e_small",
                "source": "size",
                "target": "small",
                "when": "input.amount < 100",
            },
            {
                "id": "e_large",
                "source": "size",
                "target": "large",
                "when": "input.amount >= 1000",
            },
            {"id": "e_medium", "source": "size", "target": "medium", "default": True},
            {"id": "e_small_done", "source": "small", "target": "done"},
            {"id": "e_medium_done", "source": "medium", "target": "done"},
            {"id": "e_large_done", "source": "large", "target": "done"},
        ],
    }


def _case(workflow: Workflow, name: str, **fields: Any) -> WorkflowTestCase:
    return WorkflowTestCase.objects.create(workflow=workflow, name=name, **fields)


def test_mocks_drive_a_run_to_its_end_without_calling_any_action(
    api: Any, workflow_factory: Any
) -> None:
    workflow = workflow_factory(sized_graph(), slug="sized")
    body = {
        "cases": [
            {
                "name": "big order",
                "input": {"amount": 5000},
                "mocks": {"charge": {"output": {"key": "k"}}},
                "expect": {
                    "end": "done",
                    "state": "succeeded",
                    "path": ["start", "charge", "size", "large", "done"],
                },
            },
            {
                "name": "card declined",
                "input": {"amount": 5},
                "mocks": {"charge": {"error": "HttpClientError"}},
                "expect": {"end": "declined", "state": "failed"},
            },
        ]
    }
    response = api.post("/api/v1/workflows/sized/versions/1/test/", body, format="json")
    assert response.status_code == 200, response.json()
    report = response.json()
    assert (report["passed"], report["failed"]) == (2, 0)
    declined = report["results"][1]["run"]
    charge = next(s for s in declined["steps"] if s["node_id"] == "charge")
    assert charge["attempts"] == 2  # the retry policy ran, in memory
    # Nothing ran for real: no effect, no run, no event of a run.
    assert LedgerEntry.objects.count() == 0
    assert Run.objects.filter(workflow=workflow).count() == 0


def test_a_failing_case_names_what_differs(workflow_factory: Any) -> None:
    workflow = workflow_factory(sized_graph(), slug="sized")
    case = _case(
        workflow, "wrong", input={"amount": 50}, expect={"path": ["start", "x"]}
    )
    report = testing.run_cases(workflow.live_version, [case])
    assert report["failed"] == 1
    (failure,) = report["results"][0]["failures"]
    assert "expected path start → x" in failure
    assert "charge → size → small → done" in failure


def test_publish_gate_blocks_a_draft_whose_case_fails(
    api: Any, workflow_factory: Any
) -> None:
    workflow = workflow_factory(sized_graph(), slug="sized")
    _case(
        workflow,
        "small orders end",
        input={"amount": 5},
        expect={"end": "done", "state": "succeeded"},
    )
    broken = sized_graph()
    # The draft routes small orders to a failing end: the case fails.
    broken["edges"][-3]["target"] = "declined"
    draft = api.post(
        "/api/v1/workflows/sized/versions/", {"graph": broken}, format="json"
    ).json()
    api.patch(
        "/api/v1/workflows/sized/settings/", {"publish_gate": "block"}, format="json"
    )
    response = api.post(f"/api/v1/workflows/sized/versions/{draft['number']}/publish/")
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert error["code"] == "publish_gate_failed"
    assert "small orders end" in error["message"]
    workflow.refresh_from_db()
    assert workflow.live_version.number == 1
    # Warn: it publishes, and says why it would not have.
    api.patch(
        "/api/v1/workflows/sized/settings/", {"publish_gate": "warn"}, format="json"
    )
    response = api.post(f"/api/v1/workflows/sized/versions/{draft['number']}/publish/")
    assert response.status_code == 200
    assert response.json()["gate"]["ok"] is False


def test_publish_gate_enforces_the_coverage_threshold(
    api: Any, workflow_factory: Any
) -> None:
    workflow = workflow_factory(sized_graph(), slug="sized")
    _case(workflow, "small", input={"amount": 5}, expect={"end": "done"})
    draft = api.post(
        "/api/v1/workflows/sized/versions/", {"graph": sized_graph()}, format="json"
    ).json()
    api.patch(
        "/api/v1/workflows/sized/settings/",
        {"publish_gate": "block", "coverage_threshold": 80},
        format="json",
    )
    response = api.post(f"/api/v1/workflows/sized/versions/{draft['number']}/publish/")
    assert response.status_code == 409
    assert "below the threshold 80 %" in response.json()["errors"][0]["message"]


def test_coverage_from_cases_and_from_runs_matches_a_hand_count(
    api: Any, workflow_factory: Any
) -> None:
    workflow = workflow_factory(sized_graph(), slug="sized")
    _case(workflow, "small", input={"amount": 5})
    _case(workflow, "large", input={"amount": 5000})
    _case(workflow, "declined", mocks={"charge": {"error": "HttpClientError"}})
    run, _ = run_start(workflow=workflow, input={"amount": 500}, actor="t")
    drive(run)
    body = api.get("/api/v1/workflows/sized/versions/1/coverage/").json()
    runs = {e["id"]: e["taken"] for e in body["edges"]}
    tests = {e["id"]: e["taken"] for e in body["tests"]["edges"]}
    # By hand: the real run (amount 500) went charge → size → medium → done.
    assert runs == {
        "e_charge": 1,
        "e_size": 1,
        "e_declined": 0,
        "e_small": 0,
        "e_large": 0,
        "e_medium": 1,
        "e_small_done": 0,
        "e_medium_done": 1,
        "e_large_done": 0,
    }
    # The three cases: small, large, declined (charge fails → declined).
    assert tests == {
        "e_charge": 3,
        "e_size": 2,
        "e_declined": 1,
        "e_small": 1,
        "e_large": 1,
        "e_medium": 0,
        "e_small_done": 1,
        "e_medium_done": 0,
        "e_large_done": 1,
    }
    assert (body["covered"], body["tests"]["covered"]) == (4, 7)
    assert body["tests"]["uncovered"] == ["e_medium", "e_medium_done"]
    assert body["combined"]["covered"] == 9
    assert body["combined"]["percent"] == 100.0


def test_lint_names_hidden_risks(api: Any, workflow_factory: Any) -> None:
    workflow = workflow_factory(sized_graph(), slug="sized")
    _case(workflow, "small", input={"amount": 5})
    graph = sized_graph()
    graph["nodes"][3]["side_effects_reason"] = "idempotent by order id"
    response = api.post(
        "/api/v1/workflows/sized/validate/",
        {"graph": graph, "cases": True},
        format="json",
    )
    warnings = {
        (w["code"], w.get("node_id") or w.get("edge_id"))
        for w in response.json()["warnings"]
    }
    assert ("side_effects_uncompensated", "charge") in warnings
    assert ("side_effects_uncompensated", "large") in warnings
    assert ("side_effects_uncompensated", "small") not in warnings  # a reason given
    assert ("choice_branch_untested", "e_large") in warnings
    assert ("choice_branch_untested", "e_medium") in warnings
    assert ("choice_branch_untested", "e_small") not in warnings


def test_test_workflows_command_fails_on_a_failing_case(
    workflow_factory: Any,
) -> None:
    workflow = workflow_factory(sized_graph(), slug="sized")
    _case(workflow, "small", input={"amount": 5}, expect={"end": "done"})
    out = StringIO()
    call_command("test_workflows", "sized", stdout=out)
    assert "1 passed, 0 failed" in out.getvalue()
    _case(workflow, "bad", input={"amount": 5}, expect={"end": "declined"})
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("test_workflows", "sized", stdout=out)
    assert "FAIL bad" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("test_workflows", "nope", stdout=StringIO())


@pytest.mark.parametrize(
    ("slug", "payload", "mocks", "outcomes"),
    [
        ("order-fulfilment", {"amount": 120}, {}, {}),
        ("order-fulfilment", {"amount": 9000}, {}, {}),
        ("refund-approval", {"refund": {"order": 1, "amount": 5}}, {}, {}),
    ],
)
def test_simulation_takes_the_path_the_engine_takes(
    user: Any, slug: str, payload: dict, mocks: dict, outcomes: dict
) -> None:
    demo_load()
    workflow = Workflow.objects.get(slug=slug)
    run, _ = run_start(workflow=workflow, input=payload, actor="t")
    drive(run)
    user.groups.add(Group.objects.get(name=DEMO_GROUP))
    for handoff in Handoff.objects.filter(run=run):
        handoffs.handoff_complete(handoff_id=handoff.pk, user=user, outcome="approve")
        outcomes = {handoff.node_id: "approve"}
        drive(run)
    run.refresh_from_db()
    real = {s.node_id: s.state for s in run.steps.all()}
    graph = next(d["graph"] for d in DEMOS if d["slug"] == slug)
    sim = simulation.simulate(graph, input=payload, mocks=mocks, outcomes=outcomes)
    assert {s.node_id: s.state for s in sim.steps} == real
    assert sim.state == run.state


# ------------------------------------------------------------------ canary


def _trivial(end_status: str = "succeeded") -> dict[str, Any]:
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "done", "type": "end", "status": end_status},
        ],
        "edges": [{"id": "e1", "source": "start", "target": "done"}],
    }


def test_canary_takes_its_share_of_a_thousand_starts(
    api: Any, workflow_factory: Any
) -> None:
    workflow = workflow_factory(_trivial(), slug="canary")
    draft = api.post(
        "/api/v1/workflows/canary/versions/", {"graph": _trivial()}, format="json"
    ).json()
    response = api.post(
        f"/api/v1/workflows/canary/versions/{draft['number']}/publish/",
        {"canary_percent": 30},
        format="json",
    )
    assert response.status_code == 200, response.json()
    settings = api.get("/api/v1/workflows/canary/settings/").json()
    assert settings["canary"]["percent"] == 30
    assert settings["live_version"] == 1
    for _ in range(1000):
        run_start(workflow=workflow, input={}, actor="t")
    on_canary = Run.objects.filter(workflow=workflow, version__number=2).count()
    assert 250 <= on_canary <= 350
    assert on_canary == 300  # the split is exact, in order, not random
    # Promote in one call: every new run goes to v2.
    api.post("/api/v1/workflows/canary/canary/promote/")
    workflow.refresh_from_db()
    assert workflow.live_version.number == 2 and workflow.canary_version is None
    assert Event.objects.filter(kind="canary_promoted", workflow=workflow).exists()


def test_canary_breaking_the_criteria_is_rolled_back_automatically(
    api: Any, workflow_factory: Any
) -> None:
    workflow = workflow_factory(_trivial(), slug="canary")
    api.patch(
        "/api/v1/workflows/canary/settings/",
        {"rollback_criteria": {"min_success_rate": 0.9, "min_runs": 10}},
        format="json",
    )
    # v2 fails every run: its runs end at a failing end.
    draft = api.post(
        "/api/v1/workflows/canary/versions/",
        {"graph": _trivial("failed")},
        format="json",
    ).json()
    api.post(
        f"/api/v1/workflows/canary/versions/{draft['number']}/publish/",
        {"canary_percent": 30},
        format="json",
    )
    for _ in range(20):
        run_start(workflow=workflow, input={}, actor="t")
    assert releases.evaluate_rollbacks() == []  # 6 finished canary runs: too few
    for _ in range(20):
        run_start(workflow=workflow, input={}, actor="t")
    (done,) = releases.evaluate_rollbacks()
    assert done.startswith("canary v2: success rate 0%")
    workflow.refresh_from_db()
    assert workflow.canary_version is None
    event = Event.objects.get(kind="canary_aborted", workflow=workflow)
    assert event.data["automatic"] is True and event.actor == "system:rollback"
    assert "success rate 0% < 90%" in event.reason
    before = Run.objects.filter(workflow=workflow, version__number=2).count()
    for _ in range(10):
        run_start(workflow=workflow, input={}, actor="t")
    assert Run.objects.filter(workflow=workflow, version__number=2).count() == before


def test_newly_live_version_breaking_the_criteria_goes_back(
    api: Any, workflow_factory: Any
) -> None:
    workflow = workflow_factory(_trivial(), slug="canary")
    api.patch(
        "/api/v1/workflows/canary/settings/",
        {"rollback_criteria": {"min_success_rate": 0.5, "min_runs": 5}},
        format="json",
    )
    draft = api.post(
        "/api/v1/workflows/canary/versions/",
        {"graph": _trivial("failed")},
        format="json",
    ).json()
    api.post(f"/api/v1/workflows/canary/versions/{draft['number']}/publish/")
    workflow.refresh_from_db()
    assert workflow.live_version.number == 2
    for _ in range(5):
        run_start(workflow=workflow, input={}, actor="t")
    assert Run.objects.filter(workflow=workflow, state=RunState.FAILED).count() == 5
    (done,) = releases.evaluate_rollbacks(now=timezone.now())
    workflow.refresh_from_db()
    assert workflow.live_version.number == 1
    event = Event.objects.get(kind="auto_rollback", workflow=workflow)
    assert event.data["from"] == 2 and event.data["to"] == 1
    # Rolled back once: nothing more to do.
    assert releases.evaluate_rollbacks() == []


def test_bad_criteria_and_canary_requests_are_refused(
    api: Any, workflow_factory: Any
) -> None:
    workflow_factory(_trivial(), slug="canary")
    response = api.patch(
        "/api/v1/workflows/canary/settings/",
        {"rollback_criteria": {"min_success_rate": 3}},
        format="json",
    )
    assert response.status_code == 400
    response = api.post("/api/v1/workflows/canary/canary/promote/")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "no_canary"
    designer.workflow_create(slug="empty", name="Empty")
    draft = api.post(
        "/api/v1/workflows/empty/versions/", {"graph": _trivial()}, format="json"
    ).json()
    response = api.post(
        f"/api/v1/workflows/empty/versions/{draft['number']}/publish/",
        {"canary_percent": 30},
        format="json",
    )
    assert response.status_code == 409  # a first version cannot be a canary
