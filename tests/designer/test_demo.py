"""Demo workflows and the demo load that keeps the board alive."""

from typing import Any

import pytest

from designer.models import Workflow
from runs.demo import DemoLoad, demo_load
from runs.models import Handoff, Run, RunState
from runs.services.recovery import steps_wake_due
from runs.services.starting import run_start
from tests.support import drive

pytestmark = pytest.mark.django_db


def test_demo_load_starts_a_mix_of_demo_runs(user: Any) -> None:
    demo_load()
    load = DemoLoad(every_s=1.0, seed=7)
    started = [load.tick(now=float(i)) for i in range(40)]
    assert load.tick(now=39.5) is None, "one run per interval"
    assert {
        "order-fulfilment",
        "nightly-report",
        "payment-saga",
        "refund-approval",
    } <= set(started)
    assert Run.objects.filter(workflow__slug="payment-saga").exists()


@pytest.mark.parametrize(
    ("succeeds_on", "state"),
    [(1, RunState.SUCCEEDED), (9, RunState.COMPENSATED)],
)
def test_payment_saga_demo_succeeds_or_compensates(
    succeeds_on: int, state: str, user: Any
) -> None:
    demo_load()
    saga = Workflow.objects.get(slug="payment-saga")
    run, _ = run_start(
        workflow=saga, input={"charge_succeeds_on": succeeds_on}, actor="test"
    )
    drive(run)
    if succeeds_on == 1:
        # The cool-off timer holds the run; fire it.
        step = run.steps.get(node_id="cool_off")
        steps_wake_due(now=step.wake_at)
        drive(run)
    run.refresh_from_db()
    assert run.state == state


def test_refund_demo_waits_on_support_until_someone_works_it(user: Any) -> None:
    demo_load()
    refund = Workflow.objects.get(slug="refund-approval")
    run, _ = run_start(
        workflow=refund, input={"refund": {"order": 1, "amount": 40}}, actor="test"
    )
    drive(run)
    handoff = Handoff.objects.get(run=run)
    assert (handoff.assignee, handoff.state) == ("support", "open")
    assert handoff.context["input.refund"] == {"order": 1, "amount": 40}
    load = DemoLoad(seed=1)
    assert load.work_handoffs() == 0, "fresh handoffs are left for people"
    assert load.work_handoffs(age_s=0) == 1
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    handoff.refresh_from_db()
    assert handoff.completed_by.username == "demo-reviewer"
