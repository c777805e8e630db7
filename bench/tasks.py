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


_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    """Return this worker process's Redis client (one connection, not one per task)."""
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return _client


@shared_task(name="bench.count", ignore_result=True)
def count(key: str, total: int) -> None:
    """Count one finished task; the one that reaches `total` records the time."""
    if _redis().incr(key) == total:
        _redis().set(f"{key}:done", time.time(), ex=600)
