"""Plain Celery tasks the benchmarks compare Switchyard against."""

import time

import redis
from celery import shared_task
from django.conf import settings


@shared_task(name="bench.noop", ignore_result=True)
def noop() -> None:
    """Do nothing (one link of a raw Celery chain)."""


@shared_task(name="bench.mark", ignore_result=True)
def mark(key: str) -> None:
    """Record that a chain reached its end."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).set(key, time.time(), ex=600)
