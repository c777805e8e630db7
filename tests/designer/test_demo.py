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


def test_trigger_demos_run_end_to_end(user: Any) -> None:
    from designer.services import graph_validate
    from runs import messages
    from runs.models import Schedule, Webhook
    from runs.schedules import schedules_fire_due

    demo_load()
    for slug in ("send-receipt", "invoice-batch", "order-intake"):
        workflow = Workflow.objects.get(slug=slug)
        result = graph_validate(graph=workflow.live_version.graph)
        assert result.ok and not result.warnings, (slug, result.warnings)
    schedule = Schedule.objects.get(workflow__slug="invoice-batch")
    assert schedules_fire_due(now=schedule.next_fire_at) == 1
    batch = Run.objects.get(trigger=schedule.trigger)
    drive(batch)
    batch.refresh_from_db()
    assert batch.state == RunState.SUCCEEDED, batch.error
    assert len(batch.steps.get(node_id="invoice").output) == 3
    assert Run.objects.filter(parent_run=batch, workflow__slug="send-receipt").exists()
    assert Webhook.objects.filter(workflow__slug="order-intake").exists()
    order, _ = run_start(
        workflow=Workflow.objects.get(slug="order-intake"),
        input={"order_id": "A-7"},
        actor="test",
    )
    messages.messages_send(
        name="payment.confirmed", key="A-7", payload={"paid": True}, sent_by="test"
    )
    drive(order)
    order.refresh_from_db()
    assert order.state == RunState.SUCCEEDED
