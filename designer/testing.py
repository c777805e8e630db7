"""Workflow test cases: run a version's graph in memory with mocked tasks and handoffs.

A test case gives an input, what chosen task nodes return (an output or a named
error), the outcome of each handoff, and what should happen (the end node reached, the
run's final state, optionally the exact path). `simulate` walks the graph with the
engine's own routing (`CompiledGraph.route`, the same retry policies, dead-path
elimination, joins, failure edges and compensation) without touching the database,
calling an action, or waiting: no side effects, so a draft can be tested as freely as a
published version.
"""

from typing import Any

from designer.simulation import SimResult, simulate
from engine.evaluation_budget import BudgetExceeded, current_budget
from engine.graph.compiled import CompiledGraph


def check(result: SimResult, expect: dict[str, Any]) -> list[str]:
    """Return what differs from the expectation (empty: the case passes)."""
    failures = list(result.problems)
    if "end" in expect and expect["end"] != result.end:
        failures.append(f"expected end {expect['end']!r}, reached {result.end!r}")
    if "state" in expect and expect["state"] != result.state:
        failures.append(f"expected run {expect['state']}, got {result.state}")
    if "path" in expect and list(expect["path"]) != result.path:
        failures.append(
            f"expected path {' → '.join(expect['path'])}, took "
            f"{' → '.join(result.path)}"
        )
    return failures


# ------------------------------------------------------------------ cases


def run_cases(version: Any, cases: Any = None) -> dict[str, Any]:
    """Run test cases (all of the version's workflow by default) against a version.

    Returns each case's verdict and simulated run, and the branch coverage the cases
    reach: {version, passed, failed, results: [...], coverage: {...}}. All of it is
    charged to the open evaluation budget, if any; past it, raise BudgetExceeded
    naming the case.
    """
    if cases is None:
        cases = list(version.workflow.test_cases.order_by("name"))
    results = []
    taken: dict[str, int] = {}
    runs = simulate_cases(CompiledGraph(version.graph), cases)
    for case, result in zip(cases, runs, strict=True):
        failures = check(result, case.expect)
        for edge in set(result.edges):
            taken[edge] = taken.get(edge, 0) + 1
        results.append(
            {
                "id": case.pk,
                "name": case.name,
                "passed": not failures,
                "failures": failures,
                "run": result.to_dict(),
            }
        )
    passed = sum(1 for r in results if r["passed"])
    return {
        "version": version.number,
        "passed": passed,
        "failed": len(results) - passed,
        "results": results,
        "coverage": coverage_of(version.graph, taken),
    }


def simulate_cases(graph: CompiledGraph, cases: list[Any]) -> list[SimResult]:
    """Simulate each test case in turn; name the case that ran out of budget."""
    runs = []
    for number, case in enumerate(cases, start=1):
        try:
            runs.append(
                simulate(
                    graph, input=case.input, mocks=case.mocks, outcomes=case.outcomes
                )
            )
            # Ran out where something swallowed the exception: still this case.
            budget = current_budget()
            if budget is not None:
                budget.check()
        except BudgetExceeded as exc:
            raise BudgetExceeded(
                f"{exc.message} (stopped in test case {case.name!r}, "
                f"{number} of {len(cases)})"
            ) from exc
    return runs


def coverage_of(graph: dict[str, Any], taken: dict[str, int]) -> dict[str, Any]:
    """Return {edges: [{id, taken}], covered, total, percent, uncovered}."""
    edges = [e["id"] for e in graph.get("edges", [])]
    covered = sum(1 for e in edges if taken.get(e))
    return {
        "edges": [{"id": e, "taken": taken.get(e, 0)} for e in edges],
        "covered": covered,
        "total": len(edges),
        "percent": round(100 * covered / len(edges), 1) if edges else None,
        "uncovered": [e for e in edges if not taken.get(e)],
    }


def untested_choice_edges(graph: dict[str, Any], tested: set[str]) -> list[Any]:
    """Return lint warnings for choice branches no test case takes."""
    from engine.graph.issues import Issue

    nodes = {n["id"]: n for n in graph.get("nodes", [])}
    warnings = []
    for edge in graph.get("edges", []):
        source = nodes.get(edge.get("source"), {})
        if source.get("type") == "choice" and edge["id"] not in tested:
            warnings.append(
                Issue(
                    "choice_branch_untested",
                    f"no test case takes edge {edge['id']!r} out of choice "
                    f"{source['id']!r}",
                    edge_id=edge["id"],
                )
            )
    return warnings
