"""Errors of run requests the caller can act on."""


class RunError(Exception):
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

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
