"""A run's data in the editor, expression help from it, and the Run dialog's form."""

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from designer.models import WorkflowTestCase
from runs.models import Run
from runs.services.starting import run_start
from tests.e2e.canvas import open_editor
from tests.support import wait_for

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / (
    "docs/images" if os.environ.get("SWITCHYARD_DOC_SCREENSHOTS") else "var/screenshots"
)

SCHEMA = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string", "description": "The shop's order number"},
        "amount": {"type": "number", "minimum": 0},
        "express": {"type": "boolean"},
        "region": {"enum": ["eu", "us"]},
    },
    "required": ["order_id"],
}


def _graph() -> dict[str, Any]:
    """start → greet (echo) → pick (choice) → big / done, by the greeting's amount."""
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 1}},
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "greet",
                "type": "task",
                "action": "builtin.echo",
                "params": {"text": "='order ' + input.order_id", "amount": 10},
            },
            {"id": "pick", "type": "choice"},
            {
                "id": "big",
                "type": "task",
                "action": "builtin.fail",
                "params": {"message": "too big"},
            },
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "greet"},
            {"id": "e2", "source": "greet", "target": "pick"},
            {
                "id": "to_big",
                "source": "pick",
                "target": "big",
                "when": "steps.greet.output.params.amount > 100",
            },
            {"id": "to_done", "source": "pick", "target": "done", "default": True},
            {"id": "e5", "source": "big", "target": "done"},
        ],
    }


@pytest.fixture
def finished(workflow_factory: Any) -> Run:
    workflow = workflow_factory(_graph(), slug="orders")
    workflow.input_schema = SCHEMA
    workflow.save(update_fields=["input_schema"])
    run, _ = run_start(workflow=workflow, input={"order_id": "A-7"}, actor="system")
    # The live worker runs it.
    state = wait_for(
        lambda: (
            str(Run.objects.get(pk=run.pk).state) in ("succeeded", "failed")
            and Run.objects.get(pk=run.pk).state
        ),
        timeout=60,
        what="the run to finish",
    )
    assert state == "succeeded", Run.objects.get(pk=run.pk).error
    return Run.objects.get(pk=run.pk)


def test_a_finished_runs_data_on_the_canvas_and_in_expression_help(
    logged_in: Any, asgi_server: str, finished: Run
) -> None:
    page = logged_in
    page.set_viewport_size({"width": 1024, "height": 768})
    open_editor(page, asgi_server, "orders")
    # The latest run is shown by default: nodes carry their step's state.
    summary = page.get_by_test_id("execution-summary")
    summary.get_by_text(f"Run #{finished.pk}").wait_for()
    page.wait_for_selector("[data-testid=node-greet][data-run-state=succeeded]")
    page.wait_for_selector("[data-testid=node-pick][data-run-state=succeeded]")
    assert page.get_by_test_id("node-big").get_attribute("data-run-state") == "skipped"

    # Click a node: its params as given, its output, its attempts.
    page.get_by_test_id("node-greet").click()
    data = page.get_by_test_id("step-data")
    data.wait_for()
    assert data.get_by_test_id("step-data-state").get_attribute("data-state") == (
        "succeeded"
    )
    params = data.get_by_test_id("step-data-params")
    params.get_by_text('"order A-7"').wait_for()
    output = data.get_by_test_id("step-data-output")
    output.get_by_text('"A-7"').first.wait_for()
    assert data.get_by_test_id("step-data-attempts").locator("tbody tr").count() == 1
    page.screenshot(path=str(SHOTS / "editor-run-data-1024.png"))

    # The run's data as a test case of the workflow: its input, tasks' real outputs.
    page.get_by_test_id("execution-save-case").click()
    page.get_by_test_id("execution-case-saved").get_by_text(
        "Saved as test case"
    ).wait_for()
    case = WorkflowTestCase.objects.get(workflow=finished.workflow)
    assert case.input == {"order_id": "A-7"}
    greet = finished.steps.get(node_id="greet")
    assert case.mocks == {"greet": {"output": greet.output}}
    assert case.expect == {"state": "succeeded"}

    # Autocomplete in an edge condition offers the run's real output fields.
    page.get_by_test_id("node-pick").click()
    page.get_by_test_id("branch-select-to_big").click()
    page.locator("[data-testid=inspector-edge][data-edge-id=to_big]").wait_for()
    when = page.get_by_test_id("edge-when")
    when.fill("")
    when.type("steps.")
    suggestions = page.get_by_test_id("expr-suggestions")
    suggestions.locator("[data-label=greet]").wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    when.type("gr")
    suggestions.locator("[aria-selected=true][data-label=greet]").wait_for()
    page.keyboard.press("Tab")
    assert when.input_value() == "steps.greet"
    when.type(".")
    suggestions.locator("[aria-selected=true][data-label=output]").wait_for()
    page.keyboard.press("Enter")
    when.type(".")
    suggestions.locator("[data-label=params]").wait_for()
    suggestions.locator("[data-label=input]").wait_for()
    when.type("pa")
    suggestions.locator("[aria-selected=true][data-label=params]").wait_for()
    page.keyboard.press("Enter")
    when.type(".")
    suggestions.locator("[data-label=text]").wait_for()
    suggestions.locator("[data-label=amount]").wait_for()
    page.screenshot(path=str(SHOTS / "editor-autocomplete-1024.png"))
    page.keyboard.press("Escape")
    assert suggestions.count() == 0
    when.type("text")
    assert when.input_value() == "steps.greet.output.params.text"
    # A live preview against the run, then an error with its column.
    preview = page.get_by_test_id("expr-preview")
    preview.get_by_text('"order A-7"').wait_for()
    when.fill("steps.greet.output.params.amount >")
    error = page.get_by_test_id("expr-error")
    error.wait_for()
    assert "Column" in error.inner_text()
    page.screenshot(path=str(SHOTS / "editor-expression-error-1024.png"))

    # Typing "=" in a text param turns it into an expression field, focus kept.
    edge = page.locator("[data-testid=inspector-edge][data-edge-id=to_big]")
    edge.get_by_role("button", name="big", exact=True).click()
    message = page.get_by_test_id("param-message")
    message.fill("")
    message.type("=inp")
    page.get_by_test_id("expr-suggestions").locator(
        "[aria-selected=true][data-label=input]"
    ).wait_for()
    page.keyboard.press("Enter")
    # The choice is taken before typing on: keys typed while the field re-renders
    # could land before it (a CI run lost them under load).
    expect(page.get_by_test_id("param-message")).to_have_value("=input")
    page.keyboard.type(".")
    page.get_by_test_id("expr-suggestions").locator("[data-label=order_id]").wait_for()
    page.keyboard.type("ord")
    page.get_by_test_id("expr-suggestions").locator(
        "[aria-selected=true][data-label=order_id]"
    ).wait_for()
    page.keyboard.press("Tab")
    assert page.get_by_test_id("param-message").input_value() == "=input.order_id"


def test_the_run_dialog_is_a_form_that_validates_and_starts(
    logged_in: Any, asgi_server: str, finished: Run
) -> None:
    page = logged_in
    page.set_viewport_size({"width": 1024, "height": 768})
    open_editor(page, asgi_server, "orders")
    page.get_by_test_id("run-open").click()
    form = page.get_by_test_id("run-input-form")
    form.wait_for()
    page.get_by_test_id("run-input-field-order_id").wait_for()
    # Missing required field and a negative amount: refused before sending.
    page.get_by_test_id("run-input-field-amount").fill("-3")
    page.get_by_test_id("start-run").click()
    required = page.get_by_test_id("run-input-field-order_id-error")
    assert required.inner_text() == "is required"
    page.get_by_test_id("run-input-field-amount-error").wait_for()
    page.screenshot(path=str(SHOTS / "editor-run-form-1024.png"))
    page.get_by_test_id("run-input-field-order_id").fill("B-9")
    page.get_by_test_id("run-input-field-amount").fill("250")
    page.get_by_test_id("run-input-field-express").check()
    page.get_by_test_id("run-input-field-region").select_option(label="eu")
    # Save it as a sample, then start it.
    page.get_by_test_id("run-input-sample-name").fill("big order")
    page.get_by_test_id("run-input-save-sample").click()
    form.get_by_text("Saved “big order”.").wait_for()
    page.get_by_test_id("start-run").click()
    link = page.get_by_test_id("run-link")
    link.wait_for()
    run = Run.objects.get(pk=int(link.get_attribute("data-run-id")))
    assert run.input == {
        "order_id": "B-9",
        "amount": 250,
        "express": True,
        "region": "eu",
    }
    finished.workflow.refresh_from_db()
    assert finished.workflow.sample_inputs == [
        {"name": "big order", "input": run.input}
    ]
    # The picker now shows the new run.
    wait_for(
        lambda: page.get_by_test_id("execution-run").input_value() == str(run.pk),
        timeout=10,
        what="the new run to be chosen",
    )


def test_the_workflow_lists_run_form_on_a_phone(
    logged_in: Any, asgi_server: str, finished: Run
) -> None:
    page = logged_in
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{asgi_server}/")
    page.get_by_test_id("start-orders").click()
    field = page.get_by_test_id("start-input-orders-field-order_id")
    field.wait_for()
    page.get_by_test_id("start-submit-orders").click()
    page.get_by_test_id("start-input-orders-field-order_id-error").wait_for()
    page.screenshot(path=str(SHOTS / "workflows-run-form-375.png"), full_page=True)
    field.fill("C-1")
    page.get_by_test_id("start-submit-orders").click()
    result = page.get_by_test_id("start-result-orders")
    result.wait_for()
    run_id = int(result.locator("a").first.inner_text().lstrip("#"))
    assert Run.objects.get(pk=run_id).input == {"order_id": "C-1"}
