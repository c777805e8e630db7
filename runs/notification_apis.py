"""Notifications over HTTP: a workflow's rules, teams' default rules, and the
messages sent (or not) with their state, attempts and error.

Viewers read; editors create, change and delete rules and send a failed message
again. A workflow the user cannot see, and its rules and messages, answer 404.
"""

from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import paginated, results
from config.pagination import BoundedLimitOffsetPagination
from designer import access
from designer import selectors as designer_selectors
from runs import notification_delivery, notification_rules
from runs.models import (
    Notification,
    NotificationEvent,
    NotificationRule,
    NotificationState,
)
from runs.models.notifications import MAX_PER_HOUR_LIMIT, MAX_RECIPIENTS

MAX_LISTED = 200


class RuleInput(serializers.Serializer):
    name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=NotificationEvent.values),
        allow_empty=False,
        max_length=len(NotificationEvent.values),
    )
    connection = serializers.CharField(max_length=64)
    to = serializers.ListField(
        child=serializers.CharField(max_length=254),
        required=False,
        default=list,
        max_length=MAX_RECIPIENTS,
    )
    enabled = serializers.BooleanField(required=False, default=True)
    max_per_hour = serializers.IntegerField(
        required=False, default=10, min_value=1, max_value=MAX_PER_HOUR_LIMIT
    )


class RulePatchInput(RuleInput):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, partial=True, **kwargs)


class TeamRuleInput(RuleInput):
    owner_group = serializers.CharField(max_length=150)


class RuleOutput(serializers.ModelSerializer):
    # A workflow's rule has no owner_group, a team default no workflow; a rule whose
    # connection was deleted has none.
    workflow = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    owner_group = serializers.SlugRelatedField(
        slug_field="name", read_only=True, allow_null=True
    )
    connection = serializers.SlugRelatedField(
        slug_field="name", read_only=True, allow_null=True
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=NotificationEvent.values), read_only=True
    )
    to = serializers.ListField(child=serializers.CharField(), read_only=True)
    connection_kind = serializers.SerializerMethodField()

    class Meta:
        model = NotificationRule
        fields = [
            "id",
            "workflow",
            "owner_group",
            "name",
            "events",
            "connection",
            "connection_kind",
            "to",
            "enabled",
            "max_per_hour",
            "created_at",
            "updated_at",
        ]

    def get_connection_kind(self, obj: NotificationRule) -> str | None:
        return obj.connection.kind if obj.connection else None


class NotificationOutput(serializers.ModelSerializer):
    workflow = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "rule",
            "workflow",
            "run",
            "event",
            "source_kind",
            "subject",
            "text",
            "link",
            "state",
            "attempts",
            "last_error",
            "next_attempt_at",
            "created_at",
            "finished_at",
        ]


WORKFLOW_RULES = results(
    "WorkflowNotificationRules",
    RuleOutput(),
    team_defaults=serializers.ListField(child=RuleOutput()),
)


def _rule_get(request: Request, rule_id: int) -> NotificationRule:
    """A rule the user sees (its workflow's, or a team default of their team)."""
    rule: NotificationRule = get_object_or_404(
        notification_rules.rules_visible(request.user), pk=rule_id
    )
    return rule


class WorkflowNotificationRulesApi(APIView):
    perms = {"POST": access.EDIT}

    @extend_schema(responses=WORKFLOW_RULES)
    def get(self, request: Request, slug: str) -> Response:
        workflow = designer_selectors.workflow_get(slug=slug, user=request.user)
        rules = NotificationRule.objects.filter(workflow=workflow).select_related(
            "workflow", "owner_group", "connection"
        )
        defaults = notification_rules.team_defaults(workflow.owner_group_id)
        return Response(
            {
                "results": RuleOutput(rules[:MAX_LISTED], many=True).data,
                "team_defaults": RuleOutput(defaults[:MAX_LISTED], many=True).data,
            }
        )

    @extend_schema(request=RuleInput, responses={201: RuleOutput})
    def post(self, request: Request, slug: str) -> Response:
        workflow = designer_selectors.workflow_get(slug=slug, user=request.user)
        data = RuleInput(data=request.data)
        data.is_valid(raise_exception=True)
        rule = notification_rules.notification_rule_create(
            workflow=workflow, fields=dict(data.validated_data), user=request.user
        )
        return Response(RuleOutput(rule).data, status=status.HTTP_201_CREATED)


class NotificationRuleListApi(APIView):
    """Team default rules: for every workflow of the team without its own rule for
    an event."""

    perms = {"POST": access.EDIT}

    @extend_schema(
        parameters=[OpenApiParameter("owner_group", str, required=False)],
        responses=results("NotificationRules", RuleOutput()),
    )
    def get(self, request: Request) -> Response:
        rules = notification_rules.rules_visible(request.user).filter(
            workflow__isnull=True
        )
        team = request.query_params.get("owner_group")
        if team:
            rules = rules.filter(owner_group__name=team)
        return Response({"results": RuleOutput(rules[:MAX_LISTED], many=True).data})

    @extend_schema(request=TeamRuleInput, responses={201: RuleOutput})
    def post(self, request: Request) -> Response:
        data = TeamRuleInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        team = access.owner_team(
            request.user, fields.pop("owner_group"), owns="default rules"
        )
        rule = notification_rules.notification_rule_create(
            owner_group=team, fields=fields, user=request.user
        )
        return Response(RuleOutput(rule).data, status=status.HTTP_201_CREATED)


class NotificationRuleDetailApi(APIView):
    perms = {"PATCH": access.EDIT, "DELETE": access.EDIT}

    @extend_schema(responses=RuleOutput)
    def get(self, request: Request, rule_id: int) -> Response:
        return Response(RuleOutput(_rule_get(request, rule_id)).data)

    @extend_schema(request=RulePatchInput, responses=RuleOutput)
    def patch(self, request: Request, rule_id: int) -> Response:
        rule = _rule_get(request, rule_id)
        data = RulePatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = {k: v for k, v in data.validated_data.items() if k in request.data}
        rule = notification_rules.notification_rule_update(
            rule=rule, fields=fields, user=request.user
        )
        return Response(RuleOutput(rule).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, rule_id: int) -> Response:
        notification_rules.notification_rule_delete(
            rule=_rule_get(request, rule_id), user=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class NotificationFilter(serializers.Serializer):
    workflow = serializers.SlugField(max_length=64, required=False)
    state = serializers.ChoiceField(choices=NotificationState.values, required=False)
    rule = serializers.IntegerField(min_value=1, required=False)
    run = serializers.IntegerField(min_value=1, required=False)


class NotificationListApi(APIView):
    """Messages, newest first: `?workflow=<slug>&state=&rule=&run=`."""

    @extend_schema(
        parameters=[NotificationFilter],
        responses=paginated("NotificationPage", NotificationOutput()),
    )
    def get(self, request: Request) -> Response:
        given = NotificationFilter(data=request.query_params)
        given.is_valid(raise_exception=True)
        qs = notification_rules.notifications_visible(request.user)
        filters = given.validated_data
        if "workflow" in filters:
            workflow = designer_selectors.workflow_get(
                slug=filters["workflow"], user=request.user
            )
            qs = qs.filter(workflow=workflow)
        if "state" in filters:
            qs = qs.filter(state=filters["state"])
        if "rule" in filters:
            qs = qs.filter(rule_id=filters["rule"])
        if "run" in filters:
            qs = qs.filter(run_id=filters["run"])
        paginator = BoundedLimitOffsetPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(
            NotificationOutput(page, many=True).data
        )


def _notification_get(request: Request, notification_id: int) -> Notification:
    found = (
        notification_rules.notifications_visible(request.user)
        .filter(pk=notification_id)
        .first()
    )
    if found is None:
        raise Http404
    return found


class NotificationDetailApi(APIView):
    @extend_schema(responses=NotificationOutput)
    def get(self, request: Request, notification_id: int) -> Response:
        return Response(
            NotificationOutput(_notification_get(request, notification_id)).data
        )


class NotificationResendApi(APIView):
    """Send a failed message again (409 unless it failed)."""

    perms = {"POST": access.EDIT}

    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT})
    def post(self, request: Request, notification_id: int) -> Response:
        notification = notification_delivery.notification_resend(
            notification=_notification_get(request, notification_id),
            user=request.user,
        )
        return Response(
            NotificationOutput(notification).data, status=status.HTTP_202_ACCEPTED
        )
