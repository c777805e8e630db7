"""Errors of run requests the caller can act on."""

from typing import Any

from engine.errors import CONFLICT, FORBIDDEN, INVALID, TOO_LARGE, DomainError


class RunError(DomainError):
    """A run request that cannot be carried out (bad version, no live version).

    Codes in BAD_REQUEST are the caller's mistake (400); `too_large` is over a size
    limit (413); the rest conflict with the run's or workflow's current state (409).
    """

    BAD_REQUEST = frozenset(
        {
            "bad_version",
            "unknown_node",
            "no_failed_step",
            "bad_input",
            "bad_outcome",
            "bad_assignee",
            "bad_verdict",
            "bad_note",
        }
    )
    # The user may not do this to this object (403).
    FORBIDDEN = frozenset({"not_assignee", "claimed_by_other", "not_allowed"})

    def error_kind(self) -> str:
        if self.code in self.BAD_REQUEST:
            return INVALID
        if self.code in self.FORBIDDEN:
            return FORBIDDEN
        if self.code == TOO_LARGE:
            return TOO_LARGE
        return CONFLICT


class BatchItemError(RunError):
    """One run request of a batch cannot be carried out, so none of the batch is.

    It answers as a single start of that request would (same code and status), and
    names the request by its place in the batch: `field` is `runs.<index>`.
    """

    def __init__(self, index: int, error: DomainError) -> None:
        super().__init__(error.code, f"runs[{index}]: {error.message}")
        self.index = index
        self.cause = error

    def error_kind(self) -> str:
        return self.cause.error_kind()

    def errors(self) -> list[dict[str, Any]]:
        return [
            {"code": self.code, "message": self.message, "field": f"runs.{self.index}"}
        ]
