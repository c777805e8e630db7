"""Run a workflow's test cases in the editor, see uncovered edges, publish a canary."""

import copy
import os
from pathlib import Path
from typing import Any

import pytest

from designer import services
from designer.models import PublishGate, Workflow, WorkflowTestCase
from runs import releases
from tests.designer.test_change_safety import sized_graph
from tests.e2e.canvas import open_editor

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
# README images are refreshed only on request (SWITCHYARD_DOC_SCREENSHOTS=1), so a
# test run leaves docs/ as it is.
DOC_IMAGES = ROOT / (
    "docs/images" if os.environ.get("SWITCHYARD_DOC_SCREENSHOTS") else "var/screenshots"
)


def _laid_out(graph: dict[str, Any]) -> dict[str, Any]:
    """Return the graph with a left-to-right layout (the fixture has none)."""
    columns = {
        "start": (0, 1),
        "charge": (1, 1),
        "size": (2, 1),
        "small": (3, 0),
        "medium": (3, 1),
        "large": (3, 2),
        "done": (4, 1),
        "declined": (2, 2.4),
    }
    layout = {n: {"x": 240 * x, "y": 110 * y} for n, (x, y) in columns.items()}
    return {**graph, "layout": layout}


def _cases(workflow: Workflow) -> tuple[WorkflowTestCase, WorkflowTestCase]:
    """A small order that reaches done as expected; a large one expected to decline."""
    small = WorkflowTestCase.objects.create(
        workflow=workflow,
        name="small order",
        input={"amount": 50},
        mocks={"charge": {"output": {"key": "k1"}}},
        expect={
            "end": "done",
            "state": "succeeded",
            "path": ["start", "charge", "size", "small", "done"],
        },
    )
    large = WorkflowTestCase.objects.create(
        workflow=workflow,
        name="large order declined",
        input={"amount": 5000},
        mocks={"charge": {"output": {"key": "k2"}}},
        expect={"end": "declined"},
    )
    return small, large


def test_run_tests_lists_verdicts_and_marks_the_uncovered_edges(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    page = logged_in
    page.on("dialog", lambda dialog: dialog.accept())
    page.set_viewport_size({"width": 1440, "height": 900})
    workflow = workflow_factory(_laid_out(sized_graph()), slug="sized")
    small, large = _cases(workflow)
    open_editor(page, asgi_server, "sized")

    # The server's lint is pinned like any issue: no case takes the medium branch.
    page.get_by_test_id("issue-choice_branch_untested-e_medium").wait_for()
    page.get_by_test_id("issue-side_effects_uncompensated-charge").wait_for()
    medium = page.get_by_test_id("edge-e_medium")
    assert medium.get_attribute("data-issues") == "warning"

    page.get_by_test_id("side-tab-tests").click()
    page.get_by_test_id(f"test-case-{small.pk}").wait_for()
    page.get_by_test_id("run-tests").click()
    summary = page.get_by_test_id("test-summary")
    summary.wait_for()
    assert summary.get_attribute("data-passed") == "1"
    assert summary.get_attribute("data-failed") == "1"
    assert "1 passed, 1 failed" in summary.inner_text()

    passed = page.get_by_test_id(f"test-case-{small.pk}")
    failed = page.get_by_test_id(f"test-case-{large.pk}")
    assert passed.get_attribute("data-result") == "passed"
    assert failed.get_attribute("data-result") == "failed"
    failures = page.get_by_test_id(f"test-case-{large.pk}-failures").inner_text()
    assert "expected end 'declined', reached 'done'" in failures
    path = page.get_by_test_id(f"test-case-{large.pk}-path").inner_text()
    assert path.startswith("start → charge → size → large → done")

    # Three edges no case takes: listed, and dashed on the canvas.
    coverage = page.get_by_test_id("test-coverage").inner_text()
    assert coverage.startswith(
        "coverage 6/9 edges; uncovered: e_declined, e_medium, e_medium_done"
    )
    assert medium.get_attribute("data-uncovered") == "true"
    assert "wf-edge-uncovered" in (medium.get_attribute("class") or "")
    assert page.get_by_test_id("edge-e_small").get_attribute("data-uncovered") is None

    # Picking a case draws the path it took.
    page.get_by_test_id(f"test-case-{small.pk}-show").click()
    page.wait_for_selector("[data-testid=edge-e_small][data-on-path=true]")
    assert page.get_by_test_id("node-small").get_attribute("data-on-path") == "true"
    assert page.get_by_test_id("node-large").get_attribute("data-on-path") is None
    assert page.get_by_test_id("edge-e_large").get_attribute("data-on-path") is None
    SHOTS.mkdir(parents=True, exist_ok=True)
    DOC_IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "editor-tests-problems.png"))
    page.get_by_test_id("issues-toggle").click()  # fold the problems: a taller canvas
    page.locator(".react-flow__controls-fitview").click()
    page.screenshot(path=str(DOC_IMAGES / "editor-tests.png"))

    # The coverage overlay shows the edges runs took (none yet), or test cases took.
    page.get_by_test_id("coverage-toggle").click()
    page.get_by_test_id("coverage-percent").wait_for()
    assert page.get_by_test_id("coverage-percent").inner_text().strip() == "0 %"
    page.get_by_test_id("coverage-source-tests").click()
    page.wait_for_selector("[data-testid=coverage-legend][data-source=tests]")
    assert page.get_by_test_id("coverage-percent").inner_text().strip() == "66.7 %"
    assert page.get_by_test_id("edge-e_small").get_attribute("data-taken") == "1"
    assert page.get_by_test_id("edge-e_medium").get_attribute("data-taken") == "0"
    page.screenshot(path=str(SHOTS / "editor-tests-coverage.png"))
    page.get_by_test_id("coverage-toggle").click()

    # A bad mock is refused in the form; a good case is saved and covers the medium
    # branch: the lint warning goes and the next run covers e_medium.
    page.get_by_test_id("test-new").click()
    page.get_by_test_id("test-form-name").fill("medium order")
    page.get_by_test_id("test-form-input").fill('{"amount": 500}')
    page.get_by_test_id("test-form-mocks").fill('{"charge": {"outputs": {}}}')
    page.get_by_test_id("test-form-end").select_option("done")
    page.get_by_test_id("test-form-save").click()
    assert "exactly one" in page.get_by_test_id("test-form-mocks-error").inner_text()
    page.get_by_test_id("test-form-mocks").fill('{"charge": {"output": {}}}')
    page.screenshot(path=str(SHOTS / "editor-test-form.png"))
    page.get_by_test_id("test-form-save").click()
    page.get_by_test_id("test-case-form").wait_for(state="detached")
    medium_case = WorkflowTestCase.objects.get(workflow=workflow, name="medium order")
    assert medium_case.input == {"amount": 500}
    assert medium_case.expect == {"end": "done"}
    page.get_by_test_id("issue-choice_branch_untested-e_medium").wait_for(
        state="detached"
    )

    page.get_by_test_id("run-tests").click()
    page.wait_for_selector("[data-testid=test-summary][data-passed='2']")
    medium_row = page.get_by_test_id(f"test-case-{medium_case.pk}")
    assert medium_row.get_attribute("data-result") == "passed"
    assert (
        page.get_by_test_id("test-coverage")
        .inner_text()
        .startswith("coverage 8/9 edges; uncovered: e_declined")
    )
    assert medium.get_attribute("data-uncovered") is None

    # Deleting a case (confirmed) removes it.
    page.get_by_test_id(f"test-case-{large.pk}-delete").click()
    page.get_by_test_id(f"test-case-{large.pk}").wait_for(state="detached")
    assert not WorkflowTestCase.objects.filter(pk=large.pk).exists()
    page.screenshot(path=str(SHOTS / "editor-tests-after.png"))


def test_gate_blocks_then_a_canary_is_published_and_promoted(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    page = logged_in
    page.on("dialog", lambda dialog: dialog.accept())
    page.set_viewport_size({"width": 1440, "height": 900})
    workflow = workflow_factory(_laid_out(sized_graph()), slug="rollout")
    _cases(workflow)  # one of them fails
    workflow.publish_gate = PublishGate.BLOCK
    workflow.save(update_fields=["publish_gate"])
    changed = copy.deepcopy(_laid_out(sized_graph()))
    changed["nodes"][1]["label"] = "Charge the card"
    services.version_create(workflow=workflow, graph=changed)
    open_editor(page, asgi_server, "rollout")
    assert page.get_by_test_id("version-select").input_value() == "2"

    # Under block, publishing the draft is refused with the gate's reasons.
    page.get_by_test_id("publish").click()
    page.get_by_test_id("publish-dialog").wait_for()
    assert "blocks" in page.get_by_test_id("publish-gate-setting").inner_text()
    page.get_by_test_id("publish-confirm").click()
    blocked = page.get_by_test_id("publish-blocked")
    blocked.wait_for()
    assert "1 of 2 test cases fail: large order declined" in blocked.inner_text()
    page.screenshot(path=str(SHOTS / "editor-publish-blocked.png"))
    workflow.refresh_from_db()
    assert workflow.canary_version_id is None

    # Relax the gate to warn and set rollback criteria in the release settings.
    page.get_by_test_id("release-settings-toggle").click()
    page.get_by_test_id("release-gate").select_option("warn")
    page.get_by_test_id("release-minSuccessRate").fill("120")
    page.get_by_test_id("release-save").click()
    page.get_by_test_id("release-error-minSuccessRate").wait_for()
    page.get_by_test_id("release-minSuccessRate").fill("90")
    page.get_by_test_id("release-minRuns").fill("10")
    page.get_by_test_id("release-save").click()
    page.get_by_test_id("release-saved").wait_for()
    page.screenshot(path=str(SHOTS / "editor-release-settings.png"))
    workflow.refresh_from_db()
    assert workflow.publish_gate == PublishGate.WARN
    assert workflow.rollback_criteria == {"min_success_rate": 0.9, "min_runs": 10}

    # Publish v2 as a 30 % canary: the gate warns, the banner shows the canary.
    page.get_by_test_id("publish").click()
    page.get_by_test_id("publish-mode-canary").check()
    page.get_by_test_id("publish-canary-percent").fill("30")
    page.get_by_test_id("publish-confirm").click()
    result = page.locator("[data-testid=publish-result][data-kind=published]")
    result.wait_for()
    assert "as a canary" in result.inner_text()
    gate = page.get_by_test_id("publish-gate")
    assert gate.get_attribute("data-ok") == "false"
    assert "large order declined" in gate.inner_text()
    banner = page.get_by_test_id("canary-banner")
    banner.wait_for()
    assert banner.get_attribute("data-percent") == "30"
    assert "v2 is a canary: 30 % of new runs" in banner.inner_text()
    assert page.get_by_test_id("canary-scorecard-link").get_attribute("href") == (
        "/board/?tab=scorecard&workflow=rollout&a=1&b=2"
    )
    workflow.refresh_from_db()
    assert workflow.canary_version is not None
    assert workflow.canary_version.number == 2
    assert workflow.live_version is not None and workflow.live_version.number == 1
    page.keyboard.press("Escape")
    page.screenshot(path=str(SHOTS / "editor-canary.png"))

    # The scorecard link opens the board comparing live with canary.
    page.get_by_test_id("canary-scorecard-link").click()
    page.get_by_test_id("scorecard-canary").wait_for()
    assert page.get_by_test_id("scorecard-version-a").input_value() == "1"
    assert page.get_by_test_id("scorecard-version-b").input_value() == "2"
    page.wait_for_selector(
        "[data-testid=scorecard-workflow] option[value=rollout]", state="attached"
    )
    page.wait_for_selector("[data-testid=scorecard-tab][data-loading=false]")
    page.screenshot(path=str(SHOTS / "scorecard-canary.png"), full_page=True)
    page.go_back()
    page.wait_for_selector("[data-testid=editor][data-loaded=true]")

    # The board, open meanwhile, lists the releases so far, then live ones.
    board = page.context.new_page()
    board.goto(f"{asgi_server}/board/")
    board.wait_for_selector("[data-testid=connection-status][data-status=live]")
    board.locator("[data-testid^=feed-release-][data-kind=canary_started]").wait_for()

    # Promote in one click (confirmed): v2 is live, the banner goes.
    page.get_by_test_id("canary-promote").click()
    page.get_by_test_id("canary-banner").wait_for(state="detached")
    workflow.refresh_from_db()
    assert workflow.canary_version_id is None
    assert workflow.live_version is not None and workflow.live_version.number == 2
    page.get_by_test_id("history-toggle").click()
    page.wait_for_selector("[data-testid=version-row-2] .vbadge-live")
    page.screenshot(path=str(SHOTS / "editor-canary-promoted.png"))

    # A later canary broken by its criteria is rolled back: the board flags it.
    v3, _ = services.version_create(workflow=workflow, graph=changed)
    releases.version_publish(version=v3, canary_percent=50)
    releases.canary_abort(
        workflow=workflow,
        actor="system:rollback",
        reason="automatic rollback: success rate 40% < 90%",
        data={"automatic": True},
    )
    promoted = board.locator("[data-testid^=feed-release-][data-kind=canary_promoted]")
    promoted.wait_for()
    assert "Canary v2 promoted to live" in promoted.inner_text()
    automatic = board.locator("[data-testid^=feed-release-][data-automatic=true]")
    automatic.wait_for()
    assert "Automatic rollback: canary v3 aborted" in automatic.inner_text()
    assert "success rate 40% < 90%" in automatic.inner_text()
    board.get_by_test_id("feed-release").scroll_into_view_if_needed()
    board.screenshot(path=str(SHOTS / "board-releases.png"), full_page=True)
