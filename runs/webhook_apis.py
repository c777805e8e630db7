"""Webhook triggers over HTTP: list, create (the secret shown once), change, enable,
disable, rotate the secret (shown once), delete. Deliveries arrive at
`POST /hooks/<token>/` (runs/webhook_views.py)."""

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import results
from designer import access
from designer import selectors as designer_selectors
from runs import webhooks
from runs.models import Webhook
from runs.selectors import of_visible_workflow


class WebhookInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    input_mapping = serializers.CharField(
        max_length=webhooks.MAX_MAPPING_LENGTH,
        required=False,
        allow_blank=True,
        default="",
    )
    idempotency_field = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    message = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )


class WebhookPatchInput(WebhookInput):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, partial=True, **kwargs)


class WebhookOutput(serializers.ModelSerializer):
    workflow = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    url = serializers.SerializerMethodField()
    trigger = serializers.CharField(read_only=True)

    class Meta:
        model = Webhook
        fields = [
            "id",
            "workflow",
            "name",
            "url",
            "trigger",
            "input_mapping",
            "idempotency_field",
            "message",
            "state",
            "created_at",
            "rotated_at",
            "last_delivery_at",
        ]

    def get_url(self, obj: Webhook) -> str:
        return f"/hooks/{obj.token}/"


WITH_SECRET = inline_serializer(
    name="WebhookWithSecret",
    fields={
        "webhook": WebhookOutput(),
        "secret": serializers.CharField(help_text="shown this once"),
    },
)


def _webhook_get(request: Request, webhook_id: int) -> Webhook:
    """Return a webhook of a workflow the user sees, or 404."""
    webhook: Webhook = of_visible_workflow(
        Webhook.objects.all(), pk=webhook_id, user=request.user
    )
    return webhook


class WorkflowWebhooksApi(APIView):
    perms = {"POST": access.EDIT}

    @extend_schema(responses=results("Webhooks", WebhookOutput()))
    def get(self, request: Request, slug: str) -> Response:
        workflow = designer_selectors.workflow_get(slug=slug, user=request.user)
        rows = Webhook.objects.filter(workflow=workflow).select_related("workflow")
        return Response({"results": WebhookOutput(rows[:200], many=True).data})

    @extend_schema(request=WebhookInput, responses={201: WITH_SECRET})
    def post(self, request: Request, slug: str) -> Response:
        workflow = designer_selectors.workflow_get(slug=slug, user=request.user)
        data = WebhookInput(data=request.data)
        data.is_valid(raise_exception=True)
        webhook, secret = webhooks.webhook_create(
            workflow=workflow, fields=dict(data.validated_data), user=request.user
        )
        return Response(
            {"webhook": WebhookOutput(webhook).data, "secret": secret},
            status=status.HTTP_201_CREATED,
        )


class WebhookDetailApi(APIView):
    perms = {"PATCH": access.EDIT, "DELETE": access.EDIT}

    @extend_schema(responses=WebhookOutput)
    def get(self, request: Request, webhook_id: int) -> Response:
        return Response(WebhookOutput(_webhook_get(request, webhook_id)).data)

    @extend_schema(request=WebhookPatchInput, responses=WebhookOutput)
    def patch(self, request: Request, webhook_id: int) -> Response:
        webhook = _webhook_get(request, webhook_id)
        data = WebhookPatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = {k: v for k, v in data.validated_data.items() if k in request.data}
        webhook = webhooks.webhook_update(
            webhook=webhook, fields=fields, user=request.user
        )
        return Response(WebhookOutput(webhook).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, webhook_id: int) -> Response:
        webhooks.webhook_delete(
            webhook=_webhook_get(request, webhook_id), user=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateApi(APIView):
    perms = {"POST": access.EDIT}

    @extend_schema(request=None, responses=WITH_SECRET)
    def post(self, request: Request, webhook_id: int) -> Response:
        webhook, secret = webhooks.webhook_rotate(
            webhook=_webhook_get(request, webhook_id), user=request.user
        )
        return Response({"webhook": WebhookOutput(webhook).data, "secret": secret})


class _WebhookStateApi(APIView):
    perms = {"POST": access.EDIT}
    enabled = True

    @extend_schema(request=None, responses=WebhookOutput)
    def post(self, request: Request, webhook_id: int) -> Response:
        webhook = webhooks.webhook_set_state(
            webhook=_webhook_get(request, webhook_id),
            enabled=self.enabled,
            user=request.user,
        )
        return Response(WebhookOutput(webhook).data)


class WebhookEnableApi(_WebhookStateApi):
    enabled = True


class WebhookDisableApi(_WebhookStateApi):
    enabled = False
