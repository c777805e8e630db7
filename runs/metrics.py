"""The scorecard: success rate, retry burden, queue delay, coverage, computed in SQL.

Definitions (DESIGN.md, "Scorecard metrics"), for a time window [since, until):
- success rate = runs that finished `succeeded` / runs that finished, by `finished_at`;
- retry burden = retry attempts / attempts, and retries per run, of attempts that
  started in the window;
- queue delay = `started_at - due_at` of attempts that started in the window (`due_at`
  is the enqueue time of a first attempt and the due time of a retry): p50, p95, max;
- handoff accuracy = handoffs reviewed correct / handoffs reviewed (no handoffs yet);
- branch coverage = edges of a version taken by its runs / edges in it.
A ratio with a zero denominator is None ("no data"), never 0.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncDate

from designer.models import Workflow, WorkflowVersion
from runs.models import RUN_FINISHED, Attempt, Event, Run, RunState

PERCENTILES = (0.5, 0.95)


@dataclass(frozen=True)
class Window:
    """A half-open time window [since, until)."""

    since: datetime
    until: datetime


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
    window: Window, workflow: Workflow | None, version: WorkflowVersion | None
) -> QuerySet[Run]:
    qs = Run.objects.filter(
        finished_at__gte=window.since,
        finished_at__lt=window.until,
        state__in=RUN_FINISHED,
    )
    if workflow is not None:
        qs = qs.filter(workflow=workflow)
    if version is not None:
        qs = qs.filter(version=version)
    return qs


def _attempts(
    window: Window, workflow: Workflow | None, version: WorkflowVersion | None
) -> QuerySet[Attempt]:
    qs = Attempt.objects.filter(
        started_at__gte=window.since, started_at__lt=window.until
    )
    if workflow is not None:
        qs = qs.filter(run__workflow=workflow)
    if version is not None:
        qs = qs.filter(run__version=version)
    return qs


def queue_delay(attempts: QuerySet[Attempt]) -> dict[str, Any]:
    """Return p50, p95 and max queue delay (seconds) of started attempts, in SQL."""
    qs = attempts.annotate(delay=_delay())
    summary = qs.aggregate(count=Count("pk"), max=Max("delay"))
    result: dict[str, Any] = {
        "count": summary["count"],
        "max": _seconds(summary["max"]),
    }
    for p in PERCENTILES:
        result[f"p{round(p * 100)}"] = _percentile(qs, p, summary["count"])
    return result


def _percentile(qs: QuerySet[Attempt], p: float, count: int) -> float | None:
    """Return the interpolated percentile of `delay` (as PostgreSQL's
    percentile_cont): the two neighbouring values are read by ORDER BY ... OFFSET,
    so the database sorts and nothing but two rows comes back.
    """
    if not count:
        return None
    rank = p * (count - 1)
    low = int(rank)
    values = list(qs.order_by("delay").values_list("delay", flat=True)[low : low + 2])
    below = _seconds(values[0])
    above = _seconds(values[-1])
    assert below is not None and above is not None
    return below + (above - below) * (rank - low)


def _card(
    window: Window, workflow: Workflow | None, version: WorkflowVersion | None
) -> dict[str, Any]:
    runs = _runs(window, workflow, version).aggregate(
        finished=Count("pk"),
        succeeded=Count("pk", filter=Q(state=RunState.SUCCEEDED)),
    )
    attempts_qs = _attempts(window, workflow, version)
    attempts = attempts_qs.aggregate(
        total=Count("pk"),
        retries=Count("pk", filter=Q(number__gt=1)),
        runs=Count("run", distinct=True),
    )
    return {
        "runs": {"finished": runs["finished"], "succeeded": runs["succeeded"]},
        "success_rate": _ratio(runs["succeeded"], runs["finished"]),
        "attempts": attempts["total"],
        "retries": attempts["retries"],
        "retry_burden": _ratio(attempts["retries"], attempts["total"]),
        "retries_per_run": _ratio(attempts["retries"], attempts["runs"]),
        "queue_delay": queue_delay(attempts_qs),
        # Handoffs arrive with the handoff node; until then there is nothing to rate.
        "handoff_accuracy": {"value": None, "reviewed": 0, "correct": 0},
    }


def scorecard(
    *,
    window: Window,
    workflow: Workflow | None = None,
    version: WorkflowVersion | None = None,
) -> dict[str, Any]:
    """Return the scorecard of a workflow (or all) in a window, with branch coverage
    when a version is given."""
    from designer.selectors import version_coverage

    card = _card(window, workflow, version)
    if version is not None:
        coverage = version_coverage(version=version)
        card["branch_coverage"] = {
            "covered": coverage["covered"],
            "total": coverage["total"],
            "value": _ratio(coverage["covered"], coverage["total"]),
            "uncovered": coverage["uncovered"],
        }
    return card


# Metrics where a higher value is better; the rest are better lower.
HIGHER_IS_BETTER = {"success_rate", "branch_coverage"}


def compare(
    *, window: Window, workflow: Workflow, a: WorkflowVersion, b: WorkflowVersion
) -> dict[str, Any]:
    """Return two versions' scorecards side by side and how b differs from a."""
    left = scorecard(window=window, workflow=workflow, version=a)
    right = scorecard(window=window, workflow=workflow, version=b)
    pairs = {
        "success_rate": (left["success_rate"], right["success_rate"]),
        "retry_burden": (left["retry_burden"], right["retry_burden"]),
        "queue_delay_p95": (left["queue_delay"]["p95"], right["queue_delay"]["p95"]),
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


def daily_trend(
    *,
    window: Window,
    workflow: Workflow | None = None,
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
    attempts_qs = _attempts(window, workflow, version)
    attempts = {
        row["day"]: row
        for row in attempts_qs.annotate(day=TruncDate("started_at"))
        .values("day")
        .annotate(total=Count("pk"), retries=Count("pk", filter=Q(number__gt=1)))
    }
    points = []
    day: date = window.since.date()
    while day < window.until.date() or (day == window.until.date() and day in runs):
        run_row = runs.get(day, {"finished": 0, "succeeded": 0})
        attempt_row = attempts.get(day, {"total": 0, "retries": 0})
        p95 = None
        if attempt_row["total"]:
            start = datetime.combine(day, datetime.min.time(), window.since.tzinfo)
            p95 = queue_delay(
                attempts_qs.filter(
                    started_at__gte=max(start, window.since),
                    started_at__lt=min(start + timedelta(days=1), window.until),
                )
            )["p95"]
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

    family("switchyard_runs", "gauge", "Runs by workflow and state.")
    for row in (
        Run.objects.values("workflow__slug", "state")
        .annotate(n=Count("pk"))
        .order_by("workflow__slug", "state")
    ):
        labels = _labels(workflow=row["workflow__slug"], state=row["state"])
        lines.append(f"switchyard_runs{labels} {row['n']}")

    family("switchyard_attempts", "gauge", "Attempts by queue and state.")
    for row in (
        Attempt.objects.values("queue", "state")
        .annotate(n=Count("pk"))
        .order_by("queue", "state")
    ):
        labels = _labels(queue=row["queue"], state=row["state"])
        lines.append(f"switchyard_attempts{labels} {row['n']}")

    family("switchyard_retries_total", "counter", "Retry attempts made, by queue.")
    for row in (
        Attempt.objects.filter(number__gt=1)
        .values("queue")
        .annotate(n=Count("pk"))
        .order_by("queue")
    ):
        lines.append(
            f"switchyard_retries_total{_labels(queue=row['queue'])} {row['n']}"
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
    return "\n".join(lines) + "\n"


def _sum_delay() -> Sum:
    return Sum("delay")


def _labels(**labels: str) -> str:
    def escape(value: str) -> str:
        return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    inner = ",".join(f'{key}="{escape(value)}"' for key, value in labels.items())
    return "{" + inner + "}"
