"""Every page works under its Content-Security-Policy: no violation is reported."""

from typing import Any

import pytest

from runs.services.starting import run_start

pytestmark = pytest.mark.e2e

# Chromium logs "Refused to … because it violates the following Content Security
# Policy directive"; the listener also reports violations it does not log.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`Content Security Policy violation: ${event.violatedDirective} `
    + `${event.blockedURI} at ${event.sourceFile}:${event.lineNumber}`);
});
"""


def _review_graph() -> dict[str, Any]:
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "prepare", "type": "task", "action": "builtin.noop"},
            {
                "id": "review",
                "type": "handoff",
                "to": {"group": "operator"},
                "outcomes": ["approve", "reject"],
                "sla_s": 3600,
            },
            {"id": "done", "type": "end"},
            {"id": "stop", "type": "end", "status": "failed"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "prepare"},
            {"id": "e2", "source": "prepare", "target": "review"},
            {
                "id": "e3",
                "source": "review",
                "target": "done",
                "when": "outcome == 'approve'",
            },
            {"id": "e4", "source": "review", "target": "stop", "default": True},
        ],
    }


def _violations(page: Any) -> list[str]:
    found: list[str] = []
    page.add_init_script(REPORT_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            found.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return found


def _visit(page: Any, url: str, ready: str) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, url
    assert "Content-Security-Policy" in response.headers or (
        "content-security-policy" in response.headers
    )
    page.wait_for_selector(ready)
    # Late work (live sockets, lazily drawn graphs) reports its violations too.
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)


def test_pages_report_no_content_security_policy_violation(
    page: Any,
    asgi_server: str,
    live_db: Any,
    django_user_model: Any,
    workflow_factory: Any,
) -> None:
    from runs.models import Handoff

    workflow = workflow_factory(_review_graph(), slug="csp")
    run, _ = run_start(workflow=workflow, input={"order": 1}, actor="test")
    django_user_model.objects.create_superuser("root", password="root-password-1")
    found = _violations(page)

    _visit(page, f"{asgi_server}/login/", "input[name=username]")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", "root-password-1")
    page.click("button[type=submit]")
    page.wait_for_url(f"{asgi_server}/")

    handoff = None
    for _ in range(100):
        handoff = Handoff.objects.filter(run=run).first()
        if handoff is not None:
            break
        page.wait_for_timeout(100)
    assert handoff is not None, "the run did not reach its handoff"

    pages = [
        ("/", "[data-testid=nav-username]"),
        ("/workflows/csp/edit/", ".react-flow__node"),
        ("/board/", "#root *"),
        (f"/runs/{run.pk}/", "[data-testid=run-graph]"),
        ("/handoffs/", "#root *"),
        ("/connections/", "[data-testid=connections-page][data-loaded=true]"),
        ("/admin/", "#content"),
        ("/admin/runs/handoff/", "#result_list"),
        (f"/admin/runs/handoff/{handoff.pk}/change/", "#content"),
    ]
    for path, ready in pages:
        _visit(page, f"{asgi_server}{path}", ready)
    assert found == []
