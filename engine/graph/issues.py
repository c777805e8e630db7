"""Validation issues: one error or warning, and the result of a validation."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Issue:
    """One validation error or warning, pointing at a node or an edge if it can."""

    code: str
    message: str
    node_id: str | None = None
    edge_id: str | None = None

    def to_dict(self) -> dict[str, str]:
        """Return the issue as JSON, leaving out ids that are not set."""
        data = {"code": self.code, "message": self.message}
        if self.node_id is not None:
            data["node_id"] = self.node_id
        if self.edge_id is not None:
            data["edge_id"] = self.edge_id
        return data


@dataclass
class ValidationResult:
    """The errors (which block saving) and warnings found in a graph."""

    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return whether the graph has no errors (warnings allowed)."""
        return not self.errors

    def to_dict(self) -> dict[str, list[dict[str, str]]]:
        """Return {"errors": [...], "warnings": [...]} as JSON."""
        return {
            "errors": [issue.to_dict() for issue in self.errors],
            "warnings": [issue.to_dict() for issue in self.warnings],
        }
