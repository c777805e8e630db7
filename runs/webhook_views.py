"""The public webhook endpoint: `POST /hooks/<token>/`, authenticated by its signature.

Not a session or token API: a sender proves itself with the webhook's HMAC signature
(runs/webhooks.py), so CSRF does not apply. A bad or missing signature, an unknown or
disabled webhook and an old timestamp all answer the same 401 with no detail; a body
over the limit answers 413 before anything is read into memory. `?wait=<seconds>` (at
most SWITCHYARD_WEBHOOK_MAX_WAIT_S) waits for the run's end and answers its output,
like n8n's "respond when the workflow finishes"; without it the answer is 202 at once.
"""

import asyncio
import time
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from config.errors import DOMAIN_STATUS
from engine.errors import DomainError
from runs import webhooks
from runs.models import Run, Webhook

DEFAULT_MAX_WAIT_S = 30.0


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"errors": [{"code": code, "message": message}]}, status=status)


def _unauthorized() -> JsonResponse:
    return _error(401, "unauthorized", "the delivery is not signed right")


def _max_wait_s() -> float:
    return float(getattr(settings, "SWITCHYARD_WEBHOOK_MAX_WAIT_S", DEFAULT_MAX_WAIT_S))


def _wait_s(request: HttpRequest) -> float:
    raw = request.GET.get("wait", "0")[:10]
    try:
        value = float(raw)
    except ValueError:
        return -1.0
    if value != value or value < 0:  # NaN or negative
        return -1.0
    return min(value, _max_wait_s())


def _run_body(run: Run) -> dict[str, Any]:
    return {
        "run_id": run.pk,
        "state": run.state,
        "output": run.output if run.is_finished else None,
        "error": run.error if run.is_finished else None,
    }


@csrf_exempt
async def webhook_receive(request: HttpRequest, token: str) -> JsonResponse:
    if request.method != "POST":
        return _error(405, "method_not_allowed", "send a POST")
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0
    if length > webhooks.MAX_BODY_BYTES:
        return _error(413, "too_large", f"at most {webhooks.MAX_BODY_BYTES} bytes")
    body = request.body
    if len(body) > webhooks.MAX_BODY_BYTES:
        return _error(413, "too_large", f"at most {webhooks.MAX_BODY_BYTES} bytes")
    wait = _wait_s(request)
    if wait < 0:
        return _error(400, "bad_wait", "wait: a number of seconds")
    webhook = (
        await Webhook.objects.select_related("workflow")
        .filter(token=token[:64])
        .afirst()
    )
    if webhook is None:
        return _unauthorized()
    try:
        digest = webhooks.verify(
            webhook,
            body,
            request.headers.get(webhooks.SIGNATURE_HEADER, ""),
            now=time.time(),
        )
    except webhooks.Unauthorized:
        return _unauthorized()
    headers = {k.lower(): v for k, v in request.headers.items()}
    query = {k: request.GET.get(k) for k in list(request.GET)[:50]}
    try:
        delivery = await sync_to_async(webhooks.deliver)(
            webhook, body, headers=headers, query=query, digest=digest
        )
    except DomainError as exc:
        return JsonResponse(
            {"errors": exc.errors()}, status=DOMAIN_STATUS[exc.error_kind()]
        )
    if delivery.run is None:  # a message webhook
        return JsonResponse(delivery.message or {}, status=202)
    run = delivery.run
    deadline = time.monotonic() + wait
    pause = 0.05
    while wait and not run.is_finished and time.monotonic() < deadline:
        await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, 0.5)
        run = await Run.objects.aget(pk=run.pk)
    body_out = {**_run_body(run), "created": delivery.created}
    return JsonResponse(body_out, status=200 if run.is_finished and wait else 202)
