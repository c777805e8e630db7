"""Operator pages: histories newest first, feeds from history, live lists, shareable
board links, the API docs page, dark mode and a top bar that fits a phone."""

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from runs.handoffs import handoff_complete
from runs.models import Handoff, Run
from runs.services.starting import run_start
from tests.e2e.test_inbox import review_graph
from tests.support import linear_graph, wait_for

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _operator(django_user_model: Any) -> Any:
    return django_user_model.objects.get(username="operator")


def _flaky_graph() -> dict[str, Any]:
    """start → charge (fails its first attempt, then succeeds) → done."""
    return {
        "format": 1,
        "defaults": {
            "retry": {"max_attempts": 2, "initial_interval_s": 0.1, "jitter": "none"}
        },
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "charge",
                "type": "task",
                "action": "builtin.fail",
                "params": {"until_attempt": 2, "error": "HttpError"},
            },
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "charge"},
            {"id": "e2", "source": "charge", "target": "done"},
        ],
    }


def test_the_handoff_just_completed_is_first_in_completed(
    logged_in: Any, asgi_server: str, workflow_factory: Any, django_user_model: Any
) -> None:
    """With more completed handoffs than a page holds, the newest completion leads."""
    operator = _operator(django_user_model)
    operator.groups.add(Group.objects.get_or_create(name="reviewers")[0])
    workflow = workflow_factory(review_graph(), slug="orders")
    runs = [
        run_start(workflow=workflow, input={"order": {"id": i}}, actor="test")[0]
        for i in range(21)
    ]
    wait_for(
        lambda: Handoff.objects.filter(run__in=runs).count() == 21,
        timeout=60,
        what="21 handoffs to open",
    )
    # The 20 oldest were completed earlier; the newest is completed in the page.
    handoffs = list(Handoff.objects.filter(run__in=runs).order_by("id"))
    for handoff in handoffs[:-1]:
        handoff_complete(handoff_id=handoff.pk, user=operator, outcome="approve")
    newest = handoffs[-1]
    page = logged_in
    page.goto(f"{asgi_server}/handoffs/")
    page.wait_for_selector("[data-testid=inbox-list][data-loaded=true]")
    page.get_by_test_id(f"handoff-action-complete-{newest.pk}").click()
    page.get_by_test_id(f"outcome-{newest.pk}-reject").check()
    page.get_by_test_id(f"complete-submit-{newest.pk}").click()
    expect(page.get_by_test_id("inbox-notice")).to_contain_text("as reject")

    page.get_by_test_id("tab-completed").click()
    expect(page.get_by_test_id("inbox-count")).to_have_attribute("data-count", "21")
    first = page.locator(".handoff-list > [data-testid^=handoff-]").first
    expect(first).to_have_attribute("data-testid", f"handoff-{newest.pk}")
    expect(page.get_by_test_id(f"handoff-outcome-{newest.pk}")).to_have_text("reject")
    expect(page.get_by_test_id("pager-info").first).to_contain_text("1–20 of 21")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "inbox-completed-newest.png"))


def test_board_feeds_show_releases_and_retries_from_before_it_opened(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    """A release and a retry that happened earlier are shown; live ones add to them."""
    flaky = workflow_factory(_flaky_graph(), slug="flaky")  # publishing is a release
    run, _ = run_start(workflow=flaky, input={}, actor="test")
    wait_for(
        lambda: Run.objects.get(pk=run.pk).state == "succeeded",
        timeout=30,
        what="the flaky run to succeed after a retry",
    )

    board = logged_in
    board.goto(f"{asgi_server}/board/")
    board.wait_for_selector("[data-testid=connection-status][data-status=live]")
    release = board.locator("[data-testid^=feed-release-][data-kind=version_published]")
    expect(release).to_have_count(1)
    expect(release).to_contain_text("flaky")
    failed = board.locator("[data-testid^=feed-retry-][data-kind=attempt_failed]")
    expect(failed).to_have_count(1)
    expect(failed.first).to_contain_text(f"run #{run.pk}")
    expect(board.get_by_test_id("feed-release-empty")).to_have_count(0)

    # Then live: a second run's failed attempt joins the first, each shown once.
    again, _ = run_start(workflow=flaky, input={}, actor="test")
    expect(failed).to_have_count(2, timeout=30_000)
    expect(failed.first).to_contain_text(f"run #{again.pk}")
    expect(release).to_have_count(1)
    SHOTS.mkdir(parents=True, exist_ok=True)
    board.screenshot(path=str(SHOTS / "board-feeds-history.png"), full_page=True)


def test_workflow_list_follows_runs_live_and_new_workflows_open_the_editor(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    """The last run moves to finished without a reload; the started run links to its
    page; a created workflow opens in the editor."""
    workflow_factory(
        linear_graph(1, action="builtin.sleep", params={"seconds": 1.0}), slug="slow"
    )
    page = logged_in
    page.goto(f"{asgi_server}/")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.get_by_test_id("start-slow").click()
    page.get_by_test_id("start-submit-slow").click()
    result = page.get_by_test_id("start-result-slow")
    expect(result).to_contain_text("started")
    run = wait_for(lambda: Run.objects.filter(workflow__slug="slow").first())
    expect(result.get_by_role("link", name=f"#{run.pk}")).to_have_attribute(
        "href", f"/runs/{run.pk}/"
    )

    last = page.get_by_test_id("last-run-slow")
    expect(last).to_have_attribute("data-run", str(run.pk))
    expect(last).to_have_attribute("data-state", "succeeded", timeout=30_000)
    expect(last).to_contain_text("finished")
    expect(last).to_have_attribute("href", f"/runs/{run.pk}/")
    # A run started elsewhere shows up too.
    other, _ = run_start(workflow=run.workflow, input={}, actor="test")
    expect(last).to_have_attribute("data-run", str(other.pk), timeout=15_000)
    assert navigations == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "workflows-live.png"))

    page.get_by_test_id("new-workflow").click()
    page.fill("#new-workflow-name", "Fresh intake")
    page.get_by_test_id("new-workflow-submit").click()
    page.wait_for_url(f"{asgi_server}/workflows/fresh-intake/edit/")
    page.wait_for_selector("[data-testid=editor]")


def test_board_filters_live_in_the_url(
    logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    """A link restores the filters; each change is a history entry."""
    alpha = workflow_factory(linear_graph(1), slug="alpha")
    beta = workflow_factory(linear_graph(1), slug="beta")
    a_run, _ = run_start(workflow=alpha, input={}, actor="test")
    b_run, _ = run_start(workflow=beta, input={}, actor="test")
    wait_for(
        lambda: Run.objects.filter(state="succeeded").count() == 2,
        timeout=30,
        what="both runs to succeed",
    )
    board = logged_in
    board.goto(f"{asgi_server}/board/?workflow=alpha&state=succeeded&sort=oldest")
    board.wait_for_selector(f"[data-testid=run-row-{a_run.pk}]")
    expect(board.get_by_test_id(f"run-row-{b_run.pk}")).to_have_count(0)
    expect(board.get_by_test_id("filter-workflow")).to_have_value("alpha")
    expect(board.get_by_test_id("filter-state")).to_have_value("succeeded")
    expect(board.get_by_test_id("filter-sort")).to_have_value("oldest")

    board.get_by_test_id("filter-workflow").select_option("")
    board.wait_for_selector(f"[data-testid=run-row-{b_run.pk}]")
    expect(board).to_have_url(f"{asgi_server}/board/?state=succeeded&sort=oldest")
    board.get_by_test_id("filter-queue").fill("default")
    expect(board).to_have_url(
        f"{asgi_server}/board/?state=succeeded&queue=default&sort=oldest"
    )

    board.go_back()
    expect(board).to_have_url(f"{asgi_server}/board/?state=succeeded&sort=oldest")
    expect(board.get_by_test_id("filter-queue")).to_have_value("")
    board.go_back()
    expect(board.get_by_test_id("filter-workflow")).to_have_value("alpha")
    expect(board.get_by_test_id(f"run-row-{b_run.pk}")).to_have_count(0)
    board.go_forward()
    expect(board.get_by_test_id("filter-workflow")).to_have_value("")
    board.wait_for_selector(f"[data-testid=run-row-{b_run.pk}]")


def test_api_docs_page_lists_operations_under_the_csp(
    logged_in: Any, asgi_server: str
) -> None:
    """Swagger UI renders the schema's operations, its files from this host."""
    page = logged_in
    violations: list[str] = []
    page.on(
        "console",
        lambda m: (
            violations.append(m.text) if "Content Security Policy" in m.text else None
        ),
    )
    external: list[str] = []
    page.on(
        "request",
        lambda r: external.append(r.url) if not r.url.startswith(asgi_server) else None,
    )
    page.goto(f"{asgi_server}/")
    page.get_by_test_id("nav-api").click()
    page.wait_for_url(f"{asgi_server}/api/docs/")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible(timeout=30_000)
    assert operations.count() > 20
    expect(
        page.locator(".opblock-summary-path", has_text="/api/v1/events/")
    ).to_have_count(1)
    assert violations == []
    assert [u for u in external if not u.startswith("data:")] == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "api-docs.png"))


# (path, ready selector, whether the whole page must fit: the editor and the run page
# lay out their own content, wider than a phone, and are only checked for the top bar).
PHONE_PAGES = [
    ("/", "[data-testid=nav-username]", True),
    ("/board/", "[data-testid=counters][data-loaded=true]", True),
    ("/handoffs/", "[data-testid=inbox-list][data-loaded=true]", True),
    ("/connections/", "[data-testid=connections-page][data-loaded=true]", True),
    ("/api/docs/", ".opblock", True),
    ("/workflows/phone/edit/", ".react-flow__node", False),
    ("/runs/{run}/", "[data-testid=run-graph]", True),
]
WIDTHS = """({
  page: document.scrollingElement.scrollWidth,
  nav: document.querySelector('nav.topnav').scrollWidth,
  right: Math.max(...[...document.querySelectorAll('nav.topnav *')]
    .map((e) => e.getBoundingClientRect().right)),
  screen: window.innerWidth,
})"""


def test_no_page_is_wider_than_a_phone(
    browser: Any, logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    """At 375×812 the top bar wraps instead of pushing the page past the screen."""
    workflow = workflow_factory(linear_graph(2), slug="phone")
    run, _ = run_start(workflow=workflow, input={}, actor="test")
    phone = browser.new_context(
        viewport={"width": 375, "height": 812},
        storage_state=logged_in.context.storage_state(),
    )
    page = phone.new_page()
    SHOTS.mkdir(parents=True, exist_ok=True)
    wide: dict[str, dict[str, int]] = {}
    try:
        for path, ready, whole in PHONE_PAGES:
            url = path.format(run=run.pk)
            page.goto(f"{asgi_server}{url}")
            page.wait_for_selector(ready, timeout=30_000)
            widths = page.evaluate(WIDTHS)
            screen = widths["screen"]
            if (
                widths["nav"] > screen
                or widths["right"] > screen
                or (whole and widths["page"] > screen)
            ):
                wide[url] = widths
            name = url.strip("/").replace("/", "-") or "workflows"
            page.screenshot(path=str(SHOTS / f"phone-{name}.png"))
    finally:
        phone.close()
    assert wide == {}


DARK_PAGES = [
    ("/", "[data-testid=nav-username]", "workflows"),
    ("/board/", "[data-testid=counters][data-loaded=true]", "board"),
    ("/workflows/{slug}/edit/", ".react-flow__node", "editor"),
    ("/runs/{run}/", "[data-testid=run-graph]", "run"),
    ("/handoffs/?tab=completed", "[data-testid=inbox-list][data-loaded=true]", "inbox"),
]
# The page's background and text, and React Flow's colour mode where there is one.
COLOURS = """({
  background: getComputedStyle(document.body).backgroundColor,
  text: getComputedStyle(document.body).color,
  flow: document.querySelector('.react-flow')?.classList.contains('dark') ?? null,
})"""


def _luminance(rgb: str) -> float:
    red, green, blue = (int(v) for v in rgb[rgb.index("(") + 1 : -1].split(",")[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def test_dark_mode_follows_the_system(
    browser: Any, logged_in: Any, asgi_server: str, workflow_factory: Any
) -> None:
    """With a dark system theme every page is dark with light text; screenshots."""
    workflow = workflow_factory(_flaky_graph(), slug="dark")
    run, _ = run_start(workflow=workflow, input={}, actor="test")
    wait_for(
        lambda: Run.objects.get(pk=run.pk).state == "succeeded",
        timeout=30,
        what="the run to finish",
    )
    dark = browser.new_context(
        viewport={"width": 1024, "height": 768},
        color_scheme="dark",
        storage_state=logged_in.context.storage_state(),
    )
    page = dark.new_page()
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        for path, ready, name in DARK_PAGES:
            page.goto(f"{asgi_server}{path.format(slug='dark', run=run.pk)}")
            page.wait_for_selector(ready, timeout=30_000)
            colours = page.evaluate(COLOURS)
            assert _luminance(colours["background"]) < 0.2, (name, colours)
            assert _luminance(colours["text"]) > 0.7, (name, colours)
            assert colours["flow"] in (None, True), (name, colours)
            page.screenshot(path=str(SHOTS / f"dark-{name}.png"), full_page=True)
    finally:
        dark.close()
