"""Errors of run requests the caller can act on."""

from engine.errors import CONFLICT, FORBIDDEN, INVALID, DomainError


class RunError(DomainError):
    """A run request that cannot be carried out (bad version, no live version).

    Codes in BAD_REQUEST are the caller's mistake (400); the rest conflict with the
    run's or workflow's current state (409).
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
        return CONFLICT
