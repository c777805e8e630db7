"""Start runs for the slots of a past range of a schedule, at a bounded rate.

    python manage.py backfill_schedule <schedule id> --start 2026-11-01T00:00Z \
        --end 2026-11-30T23:59Z [--wait]

Slots that already fired are left alone; the scheduler starts the rest at
SWITCHYARD_BACKFILL_RATE runs per second. With --wait, the command waits (bounded)
until every slot has started and prints the progress.
"""

import time
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from runs import schedules
from runs.models import FireState, Schedule, ScheduleFire

WAIT_LIMIT_S = 6 * 3600


def _when(text: str, name: str) -> datetime:
    value = parse_datetime(text.replace("Z", "+00:00"))
    if value is None or value.tzinfo is None:
        raise CommandError(
            f"--{name}: an ISO date and time with its zone, e.g. "
            "2026-11-01T00:00:00+00:00"
        )
    return value


class Command(BaseCommand):
    help = "Start runs for the slots of a past range of a schedule (backfill)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("schedule", type=int)
        parser.add_argument("--start", required=True)
        parser.add_argument("--end", required=True)
        parser.add_argument(
            "--wait", action="store_true", help="wait until every slot has started"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        schedule = Schedule.objects.filter(pk=options["schedule"]).first()
        if schedule is None:
            raise CommandError(f"there is no schedule {options['schedule']}")
        start = _when(options["start"], "start")
        end = _when(options["end"], "end")
        try:
            added = schedules.schedule_backfill(schedule=schedule, start=start, end=end)
        except schedules.ScheduleError as exc:
            raise CommandError(exc.message) from exc
        rate = schedules.backfill_rate()
        self.stdout.write(
            f"{added} slots queued for schedule {schedule.pk} ({schedule.name}); "
            f"the scheduler starts {rate} per second"
        )
        if not options["wait"]:
            return
        deadline = time.monotonic() + WAIT_LIMIT_S
        while time.monotonic() < deadline:
            left = ScheduleFire.objects.filter(
                schedule=schedule, state=FireState.BACKFILL
            ).count()
            self.stdout.write(f"{added - left} of {added} started")
            if left == 0:
                return
            time.sleep(1.0)
        raise CommandError("gave up waiting; the scheduler is not running?")
