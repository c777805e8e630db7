"""The scorecard: success rate, retry burden, queue delay, coverage, computed in SQL.

Definitions (DESIGN.md, "Scorecard metrics"), for a time window [since, until):
- success rate = runs that finished `succeeded` / runs that finished, by `finished_at`;
- retry burden = retry attempts / attempts, and retries per run, of attempts that
  started in the window;
- queue delay = `started_at - due_at` of attempts that started in the window (`due_at`
  is the enqueue time of a first attempt and the due time of a retry): p50, p95, max;
- handoff accuracy = handoffs reviewed correct / handoffs reviewed, of handoffs
  completed in the window; handoff wait = open → first claim and claim → completion
  (p50, p95) of the same handoffs;
- branch coverage = edges of a version taken by its runs created in the window /
  edges in it (the coverage API counts all its runs).
A ratio with a zero denominator is None ("no data"), never 0.

On PostgreSQL each card is one pass per table: percentiles come from
`percentile_cont` in the same aggregate as the counts, and BRIN indexes on the window
columns keep a week's window from scanning a year of rows. SQLite (the embedded
default) gets the same numbers from ORDER BY ... OFFSET.
"""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Max,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from designer.models import Workflow, WorkflowVersion
from runs.models import (
    HANDOFF_ACTIVE,
    RUN_FINISHED,
    TEST_TRIGGER,
    Attempt,
    Event,
    Handoff,
    HandoffState,
    HandoffVerdict,
    Run,
    RunState,
)

PERCENTILES = (0.5, 0.95)


@dataclass(frozen=True)
class Window:
    """A half-open time window [since, until)."""

    since: datetime
    until: datetime


# One workflow, the workflows with these ids (what a user may see), or all (None).
WorkflowScope = Workflow | list[int] | None


def _in_scope(qs: QuerySet, workflow: WorkflowScope, field: str) -> QuerySet:
    if isinstance(workflow, list):
        return qs.filter(**{f"{field}_id__in": workflow})
    if workflow is not None:
        return qs.filter(**{field: workflow})
    return qs


def _scope_key(workflow: WorkflowScope) -> str:
    if isinstance(workflow, list):
        ids = ",".join(str(i) for i in sorted(workflow))
        return "ids-" + hashlib.sha256(ids.encode()).hexdigest()[:16]
    return str(workflow.pk) if workflow is not None else "*"


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _delay() -> ExpressionWrapper:
    return ExpressionWrapper(
        F("started_at") - F("due_at"), output_field=DurationField()
    )


def _seconds(value: Any) -> float | None:
    """Return a duration from the database as seconds (SQLite gives microseconds)."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value) / 1_000_000


def _runs(
    window: Window, workflow: WorkflowScope, version: WorkflowVersion | None
) -> QuerySet[Run]:
    qs = Run.objects.filter(
        finished_at__gte=window.since,
        finished_at__lt=window.until,
        state__in=RUN_FINISHED,
    ).exclude(trigger=TEST_TRIGGER)  # a draft's test runs are not the workflow's
    qs = _in_scope(qs, workflow, "workflow")
    if version is not None:
        qs = qs.filter(version=version)
    return qs


def _attempts(
    window: Window, workflow: WorkflowScope, version: WorkflowVersion | None
) -> QuerySet[Attempt]:
    qs = Attempt.objects.filter(
        started_at__gte=window.since, started_at__lt=window.until
    ).exclude(run__trigger=TEST_TRIGGER)
    qs = _in_scope(qs, workflow, "run__workflow")
    if version is not None:
        qs = qs.filter(run__version=version)
    return qs


class _PercentileCont(Aggregate):
    """PostgreSQL's interpolating percentile over a float expression."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float) -> None:
        super().__init__(expression, fraction=f"{float(fraction)!r}")


def _epoch_s(start: str, end: str) -> Func:
    """Seconds from `start` to `end` as a float (PostgreSQL)."""
    return Func(
        F(end) - F(start),
        # date_part gives a double; EXTRACT gives numeric, several times slower to
        # sort for a percentile.
        template="date_part('epoch', %(expressions)s)",
        output_field=FloatField(),
    )


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _spread(qs: QuerySet, start: str, end: str, **extra: Any) -> dict[str, Any]:
    """Return count, max, p50, p95 (seconds) of `end - start` over qs, plus `extra`
    aggregates, in one query on PostgreSQL."""
    qs = qs.filter(**{f"{start}__isnull": False, f"{end}__isnull": False})
    if _postgres():
        value = _epoch_s(start, end)
        row = qs.aggregate(
            count=Count("pk"),
            max=Max(value),
            **{f"p{round(p * 100)}": _PercentileCont(value, p) for p in PERCENTILES},
            **extra,
        )
        return row
    annotated = qs.annotate(
        span=ExpressionWrapper(F(end) - F(start), output_field=DurationField())
    )
    row = annotated.aggregate(count=Count("pk"), max=Max("span"), **extra)
    row["max"] = _seconds(row["max"])
    for p in PERCENTILES:
        row[f"p{round(p * 100)}"] = _percentile(annotated, p, row["count"])
    return row


def queue_delay(attempts: QuerySet[Attempt]) -> dict[str, Any]:
    """Return count, p50, p95 and max queue delay (seconds) of started attempts."""
    row = _spread(attempts, "due_at", "started_at")
    return {key: row[key] for key in ("count", "max", "p50", "p95")}


def _percentile(qs: QuerySet, p: float, count: int) -> float | None:
    """Return the interpolated percentile of `span` (as PostgreSQL's
    percentile_cont): the two neighbouring values are read by ORDER BY ... OFFSET,
    so the database sorts and nothing but two rows comes back.
    """
    if not count:
        return None
    rank = p * (count - 1)
    low = int(rank)
    values = list(qs.order_by("span").values_list("span", flat=True)[low : low + 2])
    below = _seconds(values[0])
    above = _seconds(values[-1])
    assert below is not None and above is not None
    return below + (above - below) * (rank - low)


def _handoffs(
    window: Window, workflow: WorkflowScope, version: WorkflowVersion | None
) -> QuerySet[Handoff]:
    qs = Handoff.objects.filter(
        state=HandoffState.COMPLETED,
        completed_at__gte=window.since,
        completed_at__lt=window.until,
    )
    qs = _in_scope(qs, workflow, "workflow")
    if version is not None:
        qs = qs.filter(version=version)
    return qs


def handoff_card(
    window: Window, workflow: WorkflowScope, version: WorkflowVersion | None
) -> dict[str, Any]:
    """Return handoff accuracy and wait times of handoffs completed in the window."""
    qs = _handoffs(window, workflow, version)
    pickup = _spread(
        qs,
        "created_at",
        "first_claimed_at",
        completed=Count("pk"),
        reviewed=Count("pk", filter=~Q(verdict=HandoffVerdict.UNREVIEWED)),
        correct=Count("pk", filter=Q(verdict=HandoffVerdict.CORRECT)),
    )
    work = _spread(qs, "claimed_at", "completed_at")
    active = Handoff.objects.filter(state__in=HANDOFF_ACTIVE)
    active = _in_scope(active, workflow, "workflow")
    if version is not None:
        active = active.filter(version=version)
    return {
        "value": _ratio(pickup["correct"], pickup["reviewed"]),
        "completed": pickup["completed"],
        "reviewed": pickup["reviewed"],
        "correct": pickup["correct"],
        "wait_to_claim": {k: pickup[k] for k in ("p50", "p95", "max")},
        "claim_to_complete": {k: work[k] for k in ("p50", "p95", "max")},
        "open_now": active.count(),
    }


_ATTEMPT_COUNTS = {
    "total": Count("pk"),
    "retries": Count("pk", filter=Q(number__gt=1)),
    "runs": Count("run", distinct=True),
}


def attempt_rows_by_version(
    window: Window, workflow: Workflow, versions: list[WorkflowVersion]
) -> dict[int, dict[str, Any]]:
    """Return each version's attempt figures ({version id: row}) from one pass over
    the window's attempts (PostgreSQL; elsewhere one query per version)."""
    if not _postgres():
        return {
            v.pk: _spread(
                _attempts(window, workflow, v),
                "due_at",
                "started_at",
                **_ATTEMPT_COUNTS,
            )
            for v in versions
        }
    value = _epoch_s("due_at", "started_at")
    qs = (
        _attempts(window, workflow, None)
        .filter(run__version__in=versions, due_at__isnull=False)
        .values("run__version")
        .annotate(
            count=Count("pk"),
            max=Max(value),
            **{f"p{round(p * 100)}": _PercentileCont(value, p) for p in PERCENTILES},
            **_ATTEMPT_COUNTS,
        )
    )
    empty = {"count": 0, "max": None, "p50": None, "p95": None}
    rows: dict[int, dict[str, Any]] = {
        v.pk: {**empty, "total": 0, "retries": 0, "runs": 0} for v in versions
    }
    for row in qs:
        figures: dict[str, Any] = dict(row)
        rows[figures.pop("run__version")] = figures
    return rows


def _card(
    window: Window,
    workflow: WorkflowScope,
    version: WorkflowVersion | None,
    attempts: dict[str, Any] | None = None,
) -> dict[str, Any]:
    runs = _runs(window, workflow, version).aggregate(
        finished=Count("pk"),
        succeeded=Count("pk", filter=Q(state=RunState.SUCCEEDED)),
    )
    if attempts is None:
        # Every attempt in the window has started: one pass gives counts and delays.
        attempts = _spread(
            _attempts(window, workflow, version),
            "due_at",
            "started_at",
            **_ATTEMPT_COUNTS,
        )
    return {
        "runs": {
            "finished": runs["finished"],
            "succeeded": runs["succeeded"],
            "by_trigger": _by_trigger(window, workflow, version),
        },
        "success_rate": _ratio(runs["succeeded"], runs["finished"]),
        "attempts": attempts["total"],
        "retries": attempts["retries"],
        "retry_burden": _ratio(attempts["retries"], attempts["total"]),
        "retries_per_run": _ratio(attempts["retries"], attempts["runs"]),
        "queue_delay": {k: attempts[k] for k in ("count", "max", "p50", "p95")},
        "handoff_accuracy": handoff_card(window, workflow, version),
    }


def _by_trigger(
    window: Window, workflow: WorkflowScope, version: WorkflowVersion | None
) -> dict[str, dict[str, Any]]:
    """Finished runs by what started them: {"api": {...}, "schedule": {...}, ...}."""
    rows = (
        _runs(window, workflow, version)
        .values("trigger")
        .annotate(
            finished=Count("pk"),
            succeeded=Count("pk", filter=Q(state=RunState.SUCCEEDED)),
        )
        .order_by()
    )
    kinds: dict[str, dict[str, Any]] = {}
    for row in rows:
        kind = str(row["trigger"]).split(":", 1)[0]
        entry = kinds.setdefault(kind, {"finished": 0, "succeeded": 0})
        entry["finished"] += row["finished"]
        entry["succeeded"] += row["succeeded"]
    for entry in kinds.values():
        entry["success_rate"] = _ratio(entry["succeeded"], entry["finished"])
    return dict(sorted(kinds.items()))


def scorecard(
    *,
    window: Window,
    workflow: WorkflowScope = None,
    version: WorkflowVersion | None = None,
    attempts: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the scorecard of a workflow (or all) in a window, with branch coverage
    when a version is given. `attempts` is the version's attempt row when the caller
    read it already (`attempt_rows_by_version`)."""
    from runs.selectors import version_coverage

    card = _card(window, workflow, version, attempts)
    if version is not None:
        coverage = version_coverage(
            version=version, since=window.since, until=window.until
        )
        card["branch_coverage"] = {
            "covered": coverage["covered"],
            "total": coverage["total"],
            "value": _ratio(coverage["covered"], coverage["total"]),
            "uncovered": coverage["uncovered"],
        }
    return card


# Metrics where a higher value is better; the rest are better lower.
HIGHER_IS_BETTER = {"success_rate", "branch_coverage", "handoff_accuracy"}


def compare(
    *,
    window: Window,
    workflow: Workflow,
    a: WorkflowVersion,
    b: WorkflowVersion,
    a_card: dict[str, Any] | None = None,
    rows: dict[int, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Return two versions' scorecards side by side and how b differs from a.

    `a_card` is a's scorecard, and `rows` both versions' attempt rows, when the
    caller has them already.
    """
    if rows is None:
        rows = attempt_rows_by_version(window, workflow, [a, b])
    left = a_card or scorecard(
        window=window, workflow=workflow, version=a, attempts=rows[a.pk]
    )
    right = scorecard(window=window, workflow=workflow, version=b, attempts=rows[b.pk])
    pairs = {
        "success_rate": (left["success_rate"], right["success_rate"]),
        "retry_burden": (left["retry_burden"], right["retry_burden"]),
        "queue_delay_p95": (left["queue_delay"]["p95"], right["queue_delay"]["p95"]),
        "handoff_accuracy": (
            left["handoff_accuracy"]["value"],
            right["handoff_accuracy"]["value"],
        ),
        "branch_coverage": (
            left["branch_coverage"]["value"],
            right["branch_coverage"]["value"],
        ),
    }
    differences = {}
    for name, (old, new) in pairs.items():
        if old is None or new is None:
            differences[name] = {"delta": None, "verdict": "no data"}
            continue
        delta = new - old
        if abs(delta) < 1e-9:
            verdict = "same"
        elif (delta > 0) == (name in HIGHER_IS_BETTER):
            verdict = "better"
        else:
            verdict = "worse"
        differences[name] = {"delta": delta, "verdict": verdict}
    return {
        "a": {"version": a.number, **left},
        "b": {"version": b.number, **right},
        "differences": differences,
    }


# Closed days' attempt figures never change (an attempt's start is set once), so they
# are computed once per scope and day and kept; the open ends of a window are read live.
DAY_CACHE_S = 36 * 3600


def _attempt_days(
    window: Window, workflow: WorkflowScope, version: WorkflowVersion | None
) -> dict[date, dict[str, Any]]:
    """Return {day: {total, retries, p95}} of attempts started in the window."""
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    first_full = window.since.astimezone(tz).date()
    if _day_start(first_full, tz) < window.since:
        first_full += timedelta(days=1)
    last_full = min(window.until.astimezone(tz).date(), today)  # exclusive
    if last_full <= first_full:
        return _attempt_day_rows(window, workflow, version)
    full = [
        first_full + timedelta(days=n) for n in range((last_full - first_full).days)
    ]
    scope = f"{_scope_key(workflow)}:{version.pk if version else '*'}"
    keys = {
        day: f"switchyard:attempt-day:{tz}:{scope}:{day.isoformat()}" for day in full
    }
    cached = cache.get_many(list(keys.values()))
    days = {day: cached[key] for day, key in keys.items() if key in cached}
    missing = [day for day in full if day not in days]
    if missing:
        span = Window(
            _day_start(missing[0], tz), _day_start(missing[-1] + timedelta(days=1), tz)
        )
        fresh = _attempt_day_rows(span, workflow, version)
        for day in missing:
            days[day] = fresh.get(day, {"total": 0, "retries": 0, "p95": None})
        cache.set_many({keys[day]: days[day] for day in missing}, DAY_CACHE_S)
    for start, end in (
        (window.since, _day_start(first_full, tz)),
        (_day_start(last_full, tz), window.until),
    ):
        if start < end:
            days.update(_attempt_day_rows(Window(start, end), workflow, version))
    return days


def _day_start(day: date, tz: Any) -> datetime:
    return datetime.combine(day, datetime.min.time(), tz)


def _attempt_day_rows(
    window: Window, workflow: WorkflowScope, version: WorkflowVersion | None
) -> dict[date, dict[str, Any]]:
    qs = _attempts(window, workflow, version)
    if _postgres():
        p95 = _PercentileCont(_epoch_s("due_at", "started_at"), 0.95)
        return {
            row["day"]: {
                "total": row["total"],
                "retries": row["retries"],
                "p95": row["p95"],
            }
            for row in qs.annotate(day=TruncDate("started_at"))
            .values("day")
            .annotate(
                total=Count("pk"),
                retries=Count("pk", filter=Q(number__gt=1)),
                p95=p95,
            )
        }
    rows = {}
    for row in (
        qs.annotate(day=TruncDate("started_at"))
        .values("day")
        .annotate(total=Count("pk"), retries=Count("pk", filter=Q(number__gt=1)))
    ):
        start = _day_start(row["day"], timezone.get_current_timezone())
        bounded = qs.filter(
            started_at__gte=max(start, window.since),
            started_at__lt=min(start + timedelta(days=1), window.until),
        )
        rows[row["day"]] = {
            "total": row["total"],
            "retries": row["retries"],
            "p95": queue_delay(bounded)["p95"],
        }
    return rows


def daily_trend(
    *,
    window: Window,
    workflow: WorkflowScope = None,
    version: WorkflowVersion | None = None,
) -> list[dict[str, Any]]:
    """Return one point per day of the window: success rate, retry burden, p95 delay."""
    runs = {
        row["day"]: row
        for row in _runs(window, workflow, version)
        .annotate(day=TruncDate("finished_at"))
        .values("day")
        .annotate(
            finished=Count("pk"),
            succeeded=Count("pk", filter=Q(state=RunState.SUCCEEDED)),
        )
    }
    attempts = _attempt_days(window, workflow, version)
    points = []
    day: date = window.since.date()
    while day < window.until.date() or (day == window.until.date() and day in runs):
        run_row = runs.get(day, {"finished": 0, "succeeded": 0})
        attempt_row = attempts.get(day, {"total": 0, "retries": 0})
        p95 = attempt_row.get("p95")
        points.append(
            {
                "day": day.isoformat(),
                "finished": run_row["finished"],
                "success_rate": _ratio(run_row["succeeded"], run_row["finished"]),
                "attempts": attempt_row["total"],
                "retry_burden": _ratio(attempt_row["retries"], attempt_row["total"]),
                "queue_delay_p95": p95,
            }
        )
        day += timedelta(days=1)
    return points


# ------------------------------------------------------------------ Prometheus

QUEUE_DELAY_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0)


def prometheus_text() -> str:
    """Return the current metrics in the Prometheus text exposition format."""
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")

    def counts(
        name: str, kind: str, help_text: str, qs: QuerySet, **labels: str
    ) -> None:
        """One sample per group of `qs`: labels name the fields grouped by."""
        family(name, kind, help_text)
        fields = list(labels.values())
        for row in qs.values(*fields).annotate(n=Count("pk")).order_by(*fields):
            values = {label: row[field] for label, field in labels.items()}
            lines.append(f"{name}{_labels(**values)} {row['n']}")

    counts(
        "switchyard_runs",
        "gauge",
        "Runs by workflow and state.",
        Run.objects.all(),
        workflow="workflow__slug",
        state="state",
    )
    counts(
        "switchyard_attempts",
        "gauge",
        "Attempts by queue and state.",
        Attempt.objects.all(),
        queue="queue",
        state="state",
    )
    counts(
        "switchyard_retries_total",
        "counter",
        "Retry attempts made, by queue.",
        Attempt.objects.filter(number__gt=1),
        queue="queue",
    )

    family(
        "switchyard_queue_delay_seconds",
        "histogram",
        "Time from an attempt being due to a worker starting it.",
    )
    delay = _delay()
    buckets = {
        f"le_{i}": Count("pk", filter=Q(delay__lte=timedelta(seconds=b)))
        for i, b in enumerate(QUEUE_DELAY_BUCKETS)
    }
    for row in (
        Attempt.objects.filter(started_at__isnull=False)
        .annotate(delay=delay)
        .values("queue")
        .annotate(count=Count("pk"), total=_sum_delay(), **buckets)
        .order_by("queue")
    ):
        for i, bound in enumerate(QUEUE_DELAY_BUCKETS):
            labels = _labels(queue=row["queue"], le=f"{bound:g}")
            lines.append(
                f"switchyard_queue_delay_seconds_bucket{labels} {row[f'le_{i}']}"
            )
        labels = _labels(queue=row["queue"], le="+Inf")
        lines.append(f"switchyard_queue_delay_seconds_bucket{labels} {row['count']}")
        queue = _labels(queue=row["queue"])
        lines.append(
            f"switchyard_queue_delay_seconds_sum{queue} {_seconds(row['total']) or 0:g}"
        )
        lines.append(f"switchyard_queue_delay_seconds_count{queue} {row['count']}")

    family(
        "switchyard_retry_deferrals_total",
        "counter",
        "Retries the retry budget deferred.",
    )
    deferred = Event.objects.filter(kind="retry_deferred").count()
    lines.append(f"switchyard_retry_deferrals_total {deferred}")

    counts(
        "switchyard_handoffs",
        "gauge",
        "Handoffs by workflow and state.",
        Handoff.objects.all(),
        workflow="workflow__slug",
        state="state",
    )
    counts(
        "switchyard_handoffs_overdue",
        "gauge",
        "Active handoffs past their SLA, by workflow.",
        Handoff.objects.filter(state__in=HANDOFF_ACTIVE, due_at__lte=timezone.now()),
        workflow="workflow__slug",
    )
    return "\n".join(lines) + "\n"


def _sum_delay() -> Sum:
    return Sum("delay")


def _labels(**labels: str) -> str:
    def escape(value: str) -> str:
        return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    inner = ",".join(f'{key}="{escape(value)}"' for key, value in labels.items())
    return "{" + inner + "}"
