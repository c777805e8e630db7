"""Connections over HTTP: kinds, list, create, read, change, delete.

Secrets go in and never come out: a connection is shown with its fields and, per
secret, only whether it is set. Editors create and change connections (of their own
teams, or of no team); anyone who may view workflows sees the names, so the editor
can offer them in a picker.
"""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import results
from designer import access
from designer import connections as service
from designer.models import SecretSource
from engine.connections import KINDS

MAX_FIELDS = 20


class ConnectionInput(serializers.Serializer):
    name = serializers.CharField(max_length=64)
    kind = serializers.ChoiceField(choices=sorted(KINDS))
    description = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )
    owner_group = serializers.CharField(max_length=150, required=False)
    fields = serializers.DictField(required=False, default=dict)
    secrets = serializers.DictField(
        child=serializers.CharField(max_length=2000, allow_blank=True),
        required=False,
        default=dict,
        write_only=True,
    )
    secret_source = serializers.ChoiceField(
        choices=SecretSource.values, required=False, default=SecretSource.STORED
    )
    secret_path = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )

    def validate_fields(self, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > MAX_FIELDS:
            raise serializers.ValidationError(f"at most {MAX_FIELDS} fields")
        return value


class ConnectionPatchInput(serializers.Serializer):
    description = serializers.CharField(
        max_length=500, required=False, allow_blank=True
    )
    fields = serializers.DictField(required=False)
    secrets = serializers.DictField(
        child=serializers.CharField(max_length=2000, allow_blank=True),
        required=False,
        write_only=True,
    )


class ConnectionKindsApi(APIView):
    perms = {"GET": access.VIEW}

    @extend_schema(responses=results("ConnectionKinds", serializers.DictField()))
    def get(self, request: Request) -> Response:
        return Response({"results": [k.to_dict() for k in KINDS.values()]})


class ConnectionListApi(APIView):
    perms = {"GET": access.VIEW, "POST": access.EDIT}

    @extend_schema(responses=results("ConnectionList", serializers.DictField()))
    def get(self, request: Request) -> Response:
        qs = service.visible_connections(request.user)[: service.MAX_LISTED]
        return Response({"results": [service.describe(c) for c in qs]})

    @extend_schema(request=ConnectionInput, responses={201: serializers.DictField()})
    def post(self, request: Request) -> Response:
        data = ConnectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        team = access.owner_team(
            request.user, fields.pop("owner_group", None), owns="connections"
        )
        connection = service.connection_create(
            **fields, owner_group=team, actor=request.user
        )
        return Response(service.describe(connection), status=status.HTTP_201_CREATED)


class ConnectionDetailApi(APIView):
    perms = {"GET": access.VIEW, "PATCH": access.EDIT, "DELETE": access.EDIT}

    @extend_schema(responses=serializers.DictField())
    def get(self, request: Request, connection_id: int) -> Response:
        connection = service.connection_get(
            connection_id=connection_id, user=request.user
        )
        return Response(service.describe(connection))

    @extend_schema(request=ConnectionPatchInput, responses=serializers.DictField())
    def patch(self, request: Request, connection_id: int) -> Response:
        connection = service.connection_get(
            connection_id=connection_id, user=request.user
        )
        data = ConnectionPatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        updated = service.connection_update(
            connection=connection, **data.validated_data, actor=request.user
        )
        return Response(service.describe(updated))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, connection_id: int) -> Response:
        connection = service.connection_get(
            connection_id=connection_id, user=request.user
        )
        service.connection_delete(connection=connection, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
