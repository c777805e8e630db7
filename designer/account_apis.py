"""The signed-in user: who they are and what their roles allow; their API token.

Pages read `/api/v1/me/` to show only the buttons the user may use (the API enforces
the same rules regardless).

Each user's API token: see it, create or rotate it, revoke it.

A token authenticates scripts and agents (`Authorization: Token <key>`) as the user,
with the user's roles. Rotating replaces the key at once; revoking deletes it, and every
request with the old key is refused from then on. Staff can also revoke any user's token
in the admin.
"""

from typing import Any

from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from designer import access


def _summary(token: Token | None) -> dict[str, Any]:
    if token is None:
        return {"token": None}
    return {"token": {"prefix": token.key[:6], "created": token.created.isoformat()}}


# Response shapes (schema only).
TOKEN_SUMMARY = inline_serializer(
    name="TokenSummary",
    fields={"prefix": serializers.CharField(), "created": serializers.DateTimeField()},
    allow_null=True,
)
TOKEN = inline_serializer(name="Token", fields={"token": TOKEN_SUMMARY})
NEW_TOKEN = inline_serializer(
    name="NewToken", fields={"token": TOKEN_SUMMARY, "key": serializers.CharField()}
)
ME = inline_serializer(
    name="Me",
    fields={
        "username": serializers.CharField(),
        "is_staff": serializers.BooleanField(),
        "roles": serializers.ListField(child=serializers.CharField()),
        "teams": serializers.ListField(child=serializers.CharField()),
        "can": serializers.DictField(child=serializers.BooleanField()),
    },
)


class TokenApi(APIView):
    # Any signed-in user manages their own token, whatever their role.
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=TOKEN)
    def get(self, request: Request) -> Response:
        return Response(_summary(Token.objects.filter(user=request.user).first()))

    @extend_schema(request=None, responses={201: NEW_TOKEN})
    def post(self, request: Request) -> Response:
        """Create the token, or rotate it; the key is shown in this answer only."""
        with transaction.atomic():
            Token.objects.filter(user=request.user).delete()
            token = Token.objects.create(user=request.user)
        return Response(
            {**_summary(token), "key": token.key}, status=status.HTTP_201_CREATED
        )

    @extend_schema(responses={204: None})
    def delete(self, request: Request) -> Response:
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ME)
    def get(self, request: Request) -> Response:
        user = request.user
        groups = list(user.groups.values_list("name", flat=True))
        return Response(
            {
                "username": user.get_username(),
                "is_staff": user.is_staff,
                "roles": [g for g in groups if g in access.ROLES],
                "teams": [g for g in groups if g not in access.ROLES],
                "can": {
                    "view": user.has_perm(access.VIEW),
                    "edit": user.has_perm(access.EDIT),
                    "operate": user.has_perm(access.OPERATE),
                    "work_handoffs": user.has_perm(access.WORK_HANDOFFS),
                    "review_handoffs": user.has_perm(access.REVIEW_HANDOFFS),
                    "see_all": access.sees_all(user),
                },
            }
        )
