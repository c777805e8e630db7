"""Messages over HTTP: `POST /api/v1/messages/ {name, key, payload}` delivers a message
to the runs waiting for it in a `receive` step, or keeps it until one comes. An
`Idempotency-Key` header makes a retried send answer like the first, delivering
nothing twice."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from designer import access
from runs import messages
from runs.events import actor_of


class MessageInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    key = serializers.JSONField()
    payload = serializers.JSONField(required=False, default=dict)


SENT = inline_serializer(
    name="MessageSent",
    fields={
        "delivered_to": serializers.ListField(child=serializers.IntegerField()),
        "kept": serializers.BooleanField(),
        "expires_at": serializers.DateTimeField(allow_null=True),
        "duplicate": serializers.BooleanField(),
    },
)


class MessageSendApi(APIView):
    perms = {"POST": access.OPERATE}

    @extend_schema(
        request=MessageInput,
        responses={202: SENT},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="A retried send with the same key delivers nothing twice.",
            )
        ],
    )
    def post(self, request: Request) -> Response:
        data = MessageInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields: dict[str, Any] = data.validated_data
        result = messages.messages_send(
            name=fields["name"],
            key=fields["key"],
            payload=fields["payload"],
            sent_by=actor_of(request.user),
            idempotency_key=request.headers.get("Idempotency-Key", ""),
        )
        return Response(result, status=status.HTTP_202_ACCEPTED)
