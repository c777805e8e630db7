"""A map step's items over HTTP: `GET /api/v1/runs/<id>/steps/<step id>/items/`,
paginated in item order, optionally of one state (the run page's grid reads counts
from the step and pages through items only when asked)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import paginated
from config.pagination import PAGINATION_PARAMETERS, BoundedLimitOffsetPagination
from runs import selectors
from runs.models import ItemState, MapItem, StepRun


class MapItemOutput(serializers.ModelSerializer):
    class Meta:
        model = MapItem
        fields = ["index", "state", "attempts", "item", "output", "error", "updated_at"]


class MapItemsApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("state", str, enum=list(ItemState.values)),
            *PAGINATION_PARAMETERS,
        ],
        responses=paginated("MapItemPage", MapItemOutput()),
    )
    def get(self, request: Request, run_id: int, step_id: int) -> Response:
        run = selectors.run_get(run_id=run_id, user=request.user)
        step = get_object_or_404(StepRun, pk=step_id, run=run, node_type="map")
        items = MapItem.objects.filter(step=step).order_by("index")
        state = request.query_params.get("state", "")
        if state in ItemState.values:
            items = items.filter(state=state)
        paginator = BoundedLimitOffsetPagination()
        page = paginator.paginate_queryset(items, request, view=self)
        return paginator.get_paginated_response(MapItemOutput(page, many=True).data)
