"""Which runs a request means: one filter for the run list, search and bulk jobs.

`RunFilter.from_query` reads the query parameters of `GET /api/v1/runs/` (or a bulk
job's stored filter), refusing bad values with a 400 that names the parameter;
`to_query` gives them back, so a bulk job stores exactly what it will select;
`runs_matching` turns a filter into a queryset of the runs a user may see.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.fields.json import KT
from django.utils.dateparse import parse_date, parse_datetime

from config.parsers import as_id
from designer.access import visible_q
from engine.errors import INVALID, DomainError
from runs.models import Attempt, Run, RunState

MAX_IDS = 10_000
MAX_TEXT = 200
MAX_INPUT_FILTERS = 5
MAX_INPUT_DEPTH = 5
_INPUT_PREFIX = "input."
_PATH_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TRIGGER = re.compile(r"^[a-z][a-z_]{0,31}(:[A-Za-z0-9_-]{1,30})?$")
_JSON_NUMBER = re.compile(
    r"^-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,3})?$"
)
_LITERALS = {"true": True, "false": False, "null": None}


class RunFilterError(DomainError):
    """A run filter parameter that cannot be used (400)."""

    kind = INVALID


def _bad(message: str) -> RunFilterError:
    return RunFilterError("bad_filter", message)


def _text(params: Mapping[str, Any], name: str) -> str:
    """Return a text parameter ("" when absent), refusing one over MAX_TEXT."""
    value = str(params.get(name, "") or "")
    if len(value) > MAX_TEXT:
        raise _bad(f"{name}: at most {MAX_TEXT} characters")
    return value


def _time(params: Mapping[str, Any], name: str) -> datetime | None:
    """Read an ISO 8601 date or date-time (UTC when it has no offset)."""
    raw = _text(params, name).strip()
    if not raw:
        return None
    try:
        when = parse_datetime(raw)
        if when is None:
            day = parse_date(raw)
            when = datetime.combine(day, time()) if day is not None else None
    except ValueError:
        when = None
    if when is None:
        message = f"{name}: {raw[:40]!r} is not an ISO 8601 date or date-time"
        raise _bad(message)
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    # In UTC: PostgreSQL refuses offsets past ±15:59 that Python takes (a 500).
    try:
        return when.astimezone(UTC)
    except OverflowError as exc:
        raise _bad(f"{name}: {raw[:40]!r} is out of range") from exc


def _input_filters(params: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """Read `input.<path>=value` parameters: ((dotted path, raw value), ...)."""
    found = []
    for name in sorted(str(n) for n in params.keys()):
        if not name.startswith(_INPUT_PREFIX):
            continue
        path = name[len(_INPUT_PREFIX) :]
        keys = path.split(".")
        if len(keys) > MAX_INPUT_DEPTH:
            raise _bad(f"{name[:80]}: at most {MAX_INPUT_DEPTH} keys deep")
        for key in keys:
            if not _PATH_KEY.match(key) or key.isdigit():
                raise _bad(
                    f"{name[:80]}: each key is 1 to 64 letters, digits, _ or - "
                    "(not a number)"
                )
        found.append((path, _text(params, name)))
    if len(found) > MAX_INPUT_FILTERS:
        raise _bad(f"input.*: at most {MAX_INPUT_FILTERS} input filters")
    return tuple(found)


def input_values(raw: str) -> list[Any]:
    """Return the JSON values an `input.<path>=raw` filter matches.

    "true", "false", "null" and JSON numbers match that value or the same text as
    a string; a value in double quotes only the string inside; anything else is
    a string.
    """
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return [raw[1:-1]]
    if raw in _LITERALS:
        return [_LITERALS[raw], raw]
    if _JSON_NUMBER.match(raw):
        return [json.loads(raw), raw]
    return [raw]


def _nested(path: str, value: Any) -> dict[str, Any]:
    """Return {"a": {"b": value}} for the path "a.b"."""
    result: Any = value
    for key in reversed(path.split(".")):
        result = {key: result}
    return result


def _input_q(path: str, raw: str) -> Q:
    """Match runs whose input has the value at the path (any of input_values)."""
    q = Q()
    for value in input_values(raw):
        if connection.vendor == "postgresql":
            # input @> '{"a": {"b": value}}': the GIN (jsonb_path_ops) index.
            q |= Q(input__contains=_nested(path, value))
        else:
            q |= Q(**{"input__" + "__".join(path.split(".")): value})
    return q


@dataclass(frozen=True)
class RunFilter:
    workflow: str = ""
    states: tuple[str, ...] = ()
    version: int | None = None
    queue: str = ""
    ids: tuple[int, ...] = ()
    key: str = ""
    q: str = ""
    # ((dotted path, raw value), ...) sorted by path.
    inputs: tuple[tuple[str, str], ...] = ()
    trigger: str = ""
    started_after: datetime | None = None
    started_before: datetime | None = None
    error_type: str = ""

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
        trigger = _text(params, "trigger")
        if trigger and not _TRIGGER.match(trigger):
            raise _bad("trigger: a kind (api, schedule, …) or kind:id")
        q = _text(params, "q").strip()
        return cls(
            workflow=str(params.get("workflow", "") or "")[:64],
            states=states,
            version=version,
            queue=str(params.get("queue", "") or "")[:200],
            ids=tuple(dict.fromkeys(ids)),
            key=_text(params, "key"),
            q=q,
            inputs=_input_filters(params),
            trigger=trigger,
            started_after=_time(params, "started_after"),
            started_before=_time(params, "started_before"),
            error_type=_text(params, "error_type"),
        )

    def to_query(self) -> dict[str, str]:
        """Return the filter as query parameters (only those set)."""
        query = {
            "workflow": self.workflow,
            "state": ",".join(self.states),
            "version": "" if self.version is None else str(self.version),
            "queue": self.queue,
            "ids": ",".join(str(i) for i in self.ids),
            "key": self.key,
            "q": self.q,
            **{_INPUT_PREFIX + path: raw for path, raw in self.inputs},
            "trigger": self.trigger,
            "started_after": _iso(self.started_after),
            "started_before": _iso(self.started_before),
            "error_type": self.error_type,
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
    return _search(qs, run_filter)


def _search(qs: QuerySet[Run], run_filter: RunFilter) -> QuerySet[Run]:
    """Apply the search parameters (docs/search.md says which index each uses)."""
    # `<> ''` spelled out: it lets the planner use the partial run_business_key index.
    has_key = ~Q(business_key="")
    if run_filter.key:
        qs = qs.filter(has_key, business_key=run_filter.key)
    if run_filter.q:
        text = run_filter.q.removeprefix("#")
        match = has_key & Q(business_key__startswith=run_filter.q)
        run_id = as_id(text)
        qs = qs.filter(match | Q(pk=run_id) if run_id is not None else match)
    for path, raw in run_filter.inputs:
        qs = qs.filter(_input_q(path, raw))
    if run_filter.trigger:
        kind = run_filter.trigger
        qs = qs.filter(
            Q(trigger=kind)
            if ":" in kind
            else Q(trigger=kind) | Q(trigger__startswith=kind + ":")
        )
    if run_filter.started_after is not None:
        qs = qs.filter(created_at__gte=run_filter.started_after)
    if run_filter.started_before is not None:
        qs = qs.filter(created_at__lt=run_filter.started_before)
    if run_filter.error_type:
        if connection.vendor == "postgresql":
            # (error ->> 'type'): the run_error_type expression index.
            qs = qs.alias(error_kind=KT("error__type")).filter(
                error_kind=run_filter.error_type
            )
        else:
            qs = qs.filter(error__type=run_filter.error_type)
    return qs


def _iso(when: datetime | None) -> str:
    return "" if when is None else when.isoformat()
