"""One exception handler maps every domain error to its status and error body."""

from typing import Any

import pytest

from config.errors import api_exception_handler
from designer.criteria import CriteriaError
from designer.models import ImmutableVersionError
from designer.services import GraphInvalid, VersionConflict
from engine.errors import DomainError
from engine.evaluation_budget import BudgetExceeded
from engine.graph.issues import Issue, ValidationResult
from runs.errors import RunError
from runs.releases import ReleaseError


def _invalid(code: str) -> GraphInvalid:
    result = ValidationResult()
    result.errors.append(Issue(code, f"{code} here", node_id="a"))
    result.warnings.append(Issue("lint", "careful", node_id="a"))
    return GraphInvalid(result)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (RunError("bad_input", "input must be an object"), 400, "bad_input"),
        (RunError("not_assignee", "not yours"), 403, "not_assignee"),
        (RunError("not_retryable", "it succeeded"), 409, "not_retryable"),
        (VersionConflict("not_draft", "published"), 409, "not_draft"),
        (ReleaseError("no_canary", "none"), 409, "no_canary"),
        (CriteriaError("min_runs must be a number"), 400, "bad_criteria"),
        (ImmutableVersionError("v1 is published"), 409, "version_immutable"),
        (BudgetExceeded("3 s spent"), 422, "budget_exceeded"),
        (_invalid("dead_end"), 400, "dead_end"),
        (_invalid("too_large"), 413, "too_large"),
    ],
)
def test_each_domain_error_gets_its_status(
    error: DomainError, status: int, code: str
) -> None:
    assert isinstance(error, DomainError)
    response: Any = api_exception_handler(error, {})
    assert response.status_code == status
    assert response.data["errors"][0]["code"] == code
    assert response.data["errors"][0]["message"]


def test_graph_errors_keep_their_warnings_and_node() -> None:
    response: Any = api_exception_handler(_invalid("dead_end"), {})
    assert response.data["errors"][0]["node_id"] == "a"
    assert response.data["warnings"][0]["code"] == "lint"
