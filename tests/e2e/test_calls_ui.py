"""Runs that wait on other runs or on the outside, on the run page: a parent lists the
sub-workflow runs its call started and each child links back to the run that called
it; a run waiting in a receive step says for which message and key, and an operator
sends that message from the page."""

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from runs.models import Run, StepRun
from runs.services.starting import run_start
from tests.support import caller_graph, echo_child_graph, wait_for

pytestmark = pytest.mark.e2e


def _receive_graph() -> dict[str, Any]:
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "paid",
                "type": "receive",
                "message": "payment.confirmed",
                "key": "input.order_id",
                "wait_s": 600,
            },
            {"id": "ship", "type": "task", "action": "builtin.echo"},
            {"id": "done", "type": "end"},
            {"id": "gave_up", "type": "end", "status": "failed"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "paid"},
            {"id": "e2", "source": "paid", "target": "ship"},
            {"id": "e3", "source": "ship", "target": "done"},
            {"id": "late", "source": "paid", "target": "gave_up", "on": "timeout"},
        ],
    }


def test_parent_lists_its_sub_workflow_run_and_the_child_links_back(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    page = logged_in
    workflow_factory(echo_child_graph(), slug="receipt")
    parent, _ = run_start(
        workflow=workflow_factory(caller_graph("receipt"), slug="invoice"),
        input={"order": 7},
        actor="test",
    )
    wait_for(
        lambda: Run.objects.filter(pk=parent.pk, state="succeeded").exists(),
        timeout=60,
        what="the parent run to succeed after its child",
    )
    child = Run.objects.get(parent_run=parent)

    page.goto(f"{asgi_server}/runs/{parent.pk}/")
    children = page.get_by_test_id("run-children")
    expect(children).to_contain_text("Sub-workflow runs")
    row = children.get_by_test_id(f"child-run-{child.pk}")
    expect(row).to_contain_text("receipt")
    expect(row).to_contain_text("sub")
    expect(row.get_by_test_id(f"child-run-state-{child.pk}")).to_have_text("succeeded")
    expect(page.get_by_test_id("run-parent")).to_have_count(0)

    row.get_by_test_id(f"child-run-link-{child.pk}").click()
    page.wait_for_url(f"**/runs/{child.pk}/")
    expect(page.get_by_test_id("run-parent")).to_have_text(
        f"Called by run #{parent.pk}"
    )
    expect(page.get_by_test_id("run-trigger")).to_have_text("call")
    expect(page.get_by_test_id("run-trigger")).to_have_attribute(
        "title", f"Called by run #{parent.pk}"
    )
    expect(page.get_by_test_id("run-children")).to_have_count(0)
    expect(page.get_by_test_id("run-input-json")).to_contain_text("7")

    page.get_by_test_id("run-parent-link").click()
    page.wait_for_url(f"**/runs/{parent.pk}/")
    expect(page.get_by_test_id(f"child-run-{child.pk}")).to_be_visible()


def test_operator_sends_the_message_a_waiting_run_waits_for(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    page = logged_in
    run, _ = run_start(
        workflow=workflow_factory(_receive_graph(), slug="orders"),
        input={"order_id": 42},
        actor="test",
    )
    step = wait_for(
        lambda: StepRun.objects.filter(
            run=run, node_id="paid", state="waiting"
        ).first(),
        what="the receive step to wait",
    )

    page.goto(f"{asgi_server}/runs/{run.pk}/")
    expect(page.get_by_test_id(f"step-receive-{step.pk}")).to_have_text(
        re.compile(r"^Waiting for message payment\.confirmed with key 42, until .+")
    )
    form = page.get_by_test_id(f"message-form-{step.pk}")
    expect(form.get_by_test_id("message-name")).to_have_value("payment.confirmed")
    expect(form.get_by_test_id("message-key")).to_have_value("42")

    # A payload that is not JSON is refused before anything is sent.
    form.get_by_test_id("message-payload").fill("{amount: 10")
    form.get_by_test_id("message-send").click()
    expect(form.get_by_text("Not valid JSON")).to_be_visible()
    expect(form.get_by_test_id("message-answer")).to_have_count(0)

    form.get_by_test_id("message-payload").fill('{"amount": 10}')
    form.get_by_test_id("message-send").click()
    expect(form.get_by_test_id("message-answer")).to_have_text(
        f"Delivered to run #{run.pk}."
    )
    # The run goes on live: the step takes the payload as its output and the run ends.
    expect(page.get_by_test_id("run-state")).to_have_attribute(
        "data-state", "succeeded", timeout=60_000
    )
    expect(page.get_by_test_id(f"step-receive-{step.pk}")).to_have_count(0)
    step.refresh_from_db()
    assert (step.state, step.output) == ("succeeded", {"amount": 10})
