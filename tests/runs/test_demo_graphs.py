"""The demos are a newcomer's first impression: no problem of any severity, and
their test cases pass."""

import dataclasses
from typing import Any

import pytest

from designer import testing
from designer.models import Workflow
from designer.services import graph_validate
from runs.demo import DEMOS, demo_load
from runs.models import RunState
from runs.services.starting import run_start
from tests.support import drive

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("slug", [demo["slug"] for demo in DEMOS])
def test_every_demo_validates_with_no_issue_at_all(slug: str) -> None:
    demo_load()
    workflow = Workflow.objects.get(slug=slug)
    assert workflow.live_version is not None
    # As the editor asks: with the lint of choice branches no test case takes.
    result = graph_validate(
        graph=workflow.live_version.graph, workflow=workflow, with_cases=True
    )
    assert [i.to_dict() for i in result.errors] == []
    assert [i.to_dict() for i in result.warnings] == []


def test_demo_test_cases_pass_and_cover_every_branch() -> None:
    demo_load()
    for demo in DEMOS:
        workflow = Workflow.objects.get(slug=demo["slug"])
        assert workflow.test_cases.count() == len(demo.get("test_cases", []))
        if not demo.get("test_cases"):
            continue
        report = testing.run_cases(workflow.live_version)
        assert report["failed"] == 0, report["results"]
        assert report["coverage"]["uncovered"] == []


def test_demo_load_twice_adds_nothing() -> None:
    demo_load()
    assert demo_load() == []
    assert Workflow.objects.get(slug="order-fulfilment").test_cases.count() == 2


def test_a_late_failure_in_the_saga_undoes_both_earlier_steps(
    user: Any, monkeypatch: Any
) -> None:
    """Ship failing after the charge refunds the card and releases the stock."""
    from engine import actions
    from runs.services.recovery import steps_wake_due

    ledger = actions.get_action("builtin.ledger")

    def warehouse_down(params: Any, context: Any) -> Any:
        if context.node_id == "ship":
            raise actions.ActionError("warehouse down", retryable=False)
        return ledger.func(params, context)

    monkeypatch.setitem(
        actions._REGISTRY,
        "builtin.ledger",
        dataclasses.replace(ledger, func=warehouse_down),
    )
    demo_load()
    saga = Workflow.objects.get(slug="payment-saga")
    run, _ = run_start(workflow=saga, input={"charge_succeeds_on": 1}, actor="test")
    drive(run)
    steps_wake_due(now=run.steps.get(node_id="cool_off").wake_at)
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.COMPENSATED
    undone = run.steps.filter(compensates__isnull=False).order_by("pk")
    assert [(s.node_id, s.compensates.node_id) for s in undone] == [
        ("refund", "charge"),
        ("release", "hold"),
    ]
