"""Which runs a request means: one filter for the run list, search and bulk jobs.

`RunFilter.from_query` reads the query parameters of `GET /api/v1/runs/` (or a bulk
job's stored filter), refusing bad values with a 400 that names the parameter;
`to_query` gives them back, so a bulk job stores exactly what it will select;
`runs_matching` turns a filter into a queryset of the runs a user may see.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from config.parsers import as_id
from designer.access import visible_q
from engine.errors import INVALID, DomainError
from runs.models import Attempt, Run, RunState

MAX_IDS = 10_000


class RunFilterError(DomainError):
    """A run filter parameter that cannot be used (400)."""

    kind = INVALID


@dataclass(frozen=True)
class RunFilter:
    workflow: str = ""
    states: tuple[str, ...] = ()
    version: int | None = None
    queue: str = ""
    ids: tuple[int, ...] = ()

    @classmethod
    def from_query(cls, params: Mapping[str, Any]) -> "RunFilter":
        """Read a filter from query parameters; unknown parameters are ignored."""
        states = tuple(s for s in str(params.get("state", "") or "").split(",") if s)
        known = set(RunState.values)
        for state in states:
            if state not in known:
                raise RunFilterError("bad_filter", f"state: unknown state {state!r}")
        raw_version = str(params.get("version", "") or "")
        version = as_id(raw_version) if raw_version else None
        if raw_version and version is None:
            raise RunFilterError("bad_filter", "version: must be a version number")
        raw_ids = str(params.get("ids", "") or "")
        ids = []
        for part in (p for p in raw_ids.split(",") if p):
            run_id = as_id(part)
            if run_id is None:
                message = f"ids: {part[:40]!r} is not a run id"
                raise RunFilterError("bad_filter", message)
            ids.append(run_id)
        if len(ids) > MAX_IDS:
            raise RunFilterError("bad_filter", f"ids: at most {MAX_IDS} run ids")
        return cls(
            workflow=str(params.get("workflow", "") or "")[:64],
            states=states,
            version=version,
            queue=str(params.get("queue", "") or "")[:200],
            ids=tuple(dict.fromkeys(ids)),
        )

    def to_query(self) -> dict[str, str]:
        """Return the filter as query parameters (only those set)."""
        query = {
            "workflow": self.workflow,
            "state": ",".join(self.states),
            "version": "" if self.version is None else str(self.version),
            "queue": self.queue,
            "ids": ",".join(str(i) for i in self.ids),
        }
        return {name: value for name, value in query.items() if value}

    def is_empty(self) -> bool:
        return not self.to_query()


def runs_matching(run_filter: RunFilter, *, user: Any = None) -> QuerySet[Run]:
    """Return the runs a filter selects, of workflows the user may see (unordered)."""
    qs = Run.objects.all()
    if user is not None:
        qs = qs.filter(visible_q(user, "workflow__"))
    if run_filter.workflow:
        qs = qs.filter(workflow__slug=run_filter.workflow)
    if run_filter.states:
        qs = qs.filter(state__in=run_filter.states)
    if run_filter.version is not None:
        qs = qs.filter(version__number=run_filter.version)
    if run_filter.queue:
        qs = qs.filter(
            Exists(Attempt.objects.filter(run=OuterRef("pk"), queue=run_filter.queue))
        )
    if run_filter.ids:
        qs = qs.filter(pk__in=run_filter.ids)
    return qs
