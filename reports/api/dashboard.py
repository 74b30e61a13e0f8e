"""The reports API: the signed-in person's dashboard (GET /api/dashboard/), the same panels as their first page."""
from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from reports.dashboards import dashboard_panels


class AbsoluteUrlField(serializers.CharField):
    """A path of the site, given as an absolute address (the request's host), or "" for none."""

    def to_representation(self, value):
        request = self.context.get("request")
        return request.build_absolute_uri(value) if value and request is not None else value


class DashboardItemSerializer(serializers.Serializer):
    label = serializers.CharField()
    detail = serializers.CharField()
    url = AbsoluteUrlField()


class DashboardPanelSerializer(serializers.Serializer):
    key = serializers.CharField()
    role = serializers.CharField()
    title = serializers.CharField()
    count = serializers.IntegerField()
    items = DashboardItemSerializer(many=True)
    more_url = AbsoluteUrlField()
    empty = serializers.CharField()


class DashboardSerializer(serializers.Serializer):
    panels = DashboardPanelSerializer(many=True)


class DashboardView(APIView):
    """What needs the signed-in person now, panel by panel: for each of their roles the count of records
    waiting, the first of them with a link to each, and a link to the whole list. Any signed-in person:
    a councillor gets the devices they hold and their open fault reports only."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=DashboardSerializer)
    def get(self, request):
        panels = [panel.as_dict() for panel in dashboard_panels(request.user)]
        return Response(DashboardSerializer({"panels": panels}, context={"request": request}).data)


urlpatterns = [path("dashboard/", DashboardView.as_view(), name="dashboard")]
