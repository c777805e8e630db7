"""Domain errors: what went wrong, in words the caller can act on.

Every error a service raises for the caller is a `DomainError` with a code, a message
and a kind; `config/errors.py` maps the kind to one HTTP status, in one place, and the
body to `{"errors": [{"code", "message"}]}`. Pure: no Django.
"""

from __future__ import annotations

from typing import Any, ClassVar

# The kinds and what they mean to an API client.
INVALID = "invalid"  # the request is wrong (400)
FORBIDDEN = "forbidden"  # this user may not do this (403)
CONFLICT = "conflict"  # the object's state does not allow it now (409)
TOO_LARGE = "too_large"  # over a size limit (413)
UNPROCESSABLE = "unprocessable"  # well-formed, but over a work budget (422)


class DomainError(Exception):
    """An error the caller can act on: `code` (stable), `message` (for people)."""

    kind: ClassVar[str] = CONFLICT

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def error_kind(self) -> str:
        """Return this error's kind (subclasses may decide by code)."""
        return self.kind

    def errors(self) -> list[dict[str, Any]]:
        """Return the error list of the response body."""
        return [{"code": self.code, "message": self.message}]

    def extra(self) -> dict[str, Any]:
        """Return more top-level fields of the response body (none by default)."""
        return {}
