"""Run workflows' test cases (for CI): non-zero exit when any case fails.

python manage.py test_workflows          # every workflow: newest draft, else live
python manage.py test_workflows order-fulfilment --against live
python manage.py test_workflows --against 3 --min-coverage 80
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from designer import testing
from designer.models import VersionStatus, Workflow, WorkflowVersion


class Command(BaseCommand):
    help = "Run workflow test cases in memory (no action is called); fail on failure."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="*", help="workflows (default: all)")
        parser.add_argument(
            "--against",
            default="newest",
            help="newest (default: the newest draft, else live), live, or a number",
        )
        parser.add_argument(
            "--min-coverage",
            type=float,
            default=None,
            help="also fail when the cases cover less than this percent of edges",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workflows = Workflow.objects.order_by("slug")
        if options["slugs"]:
            workflows = workflows.filter(slug__in=options["slugs"])
            missing = set(options["slugs"]) - {w.slug for w in workflows}
            if missing:
                raise CommandError(f"no workflow {', '.join(sorted(missing))}")
        failed = 0
        ran = 0
        for workflow in workflows:
            version = self._version(workflow, options["against"])
            if version is None:
                self.stdout.write(f"{workflow.slug}: no version to test")
                continue
            cases = list(workflow.test_cases.order_by("name"))
            if not cases:
                self.stdout.write(f"{workflow.slug} v{version.number}: no test cases")
                continue
            report = testing.run_cases(version, cases)
            coverage = report["coverage"]
            self.stdout.write(
                f"{workflow.slug} v{version.number} ({version.status}): "
                f"{report['passed']} passed, {report['failed']} failed, "
                f"coverage {coverage['percent']} % "
                f"({coverage['covered']}/{coverage['total']} edges)"
            )
            for result in report["results"]:
                ran += 1
                mark = "ok  " if result["passed"] else "FAIL"
                self.stdout.write(f"  {mark} {result['name']}")
                for failure in result["failures"]:
                    self.stdout.write(f"       {failure}")
            failed += report["failed"]
            if coverage["uncovered"]:
                self.stdout.write(f"  uncovered: {', '.join(coverage['uncovered'])}")
            threshold = options["min_coverage"]
            if threshold is not None and (coverage["percent"] or 0) < threshold:
                self.stdout.write(f"  FAIL coverage below {threshold:g} %")
                failed += 1
        self.stdout.write(f"{ran} cases, {failed} failures")
        if failed:
            raise CommandError(f"{failed} failing test case(s) or coverage gate(s)")

    def _version(self, workflow: Workflow, choice: str) -> WorkflowVersion | None:
        versions = workflow.versions.order_by("-number")
        if choice == "live":
            return workflow.live_version
        if choice == "newest":
            draft = versions.filter(status=VersionStatus.DRAFT).first()
            return draft or workflow.live_version
        if not choice.isdigit():
            raise CommandError("--against is newest, live or a number")
        return versions.filter(number=int(choice)).first()
