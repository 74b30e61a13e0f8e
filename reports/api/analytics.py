"""The analytics API: GET /api/reports/ lists the reports, GET /api/reports/<name>/ answers one as JSON,
CSV or XLSX (?format=csv|xlsx or the Accept header), with its parameters (?years=, ?months=, ?project=)
and ?table= for one of its tables. Needs reports.view_analytics.
"""
from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal

from django.urls import re_path, reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import InvalidInput
from core.permissions import require_perm
from reports import analytics
from reports.api.renderers import ReportCSVRenderer, ReportXLSXRenderer

__all__ = ["ReportListView", "ReportDetailView", "report_payload", "urlpatterns"]

DOWNLOADS = ("csv", "xlsx")


def _json_value(column: analytics.Column, value):
    """A cell as JSON: money as a string with two decimals (as the API's serializers give it), months as
    YYYY-MM, dates as YYYY-MM-DD, numbers with one decimal, numpy integers as plain ones."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if column.type == "money":
        return str(Decimal(value).quantize(Decimal("0.01")))
    if column.type == "month":
        return value.strftime("%Y-%m")
    if column.type == "date":
        return value.isoformat() if isinstance(value, (date, datetime)) else str(value)
    if column.type in ("number", "percent"):
        return round(float(value), 1)
    if column.type in ("int", "year"):
        return int(value)
    return str(value)


def _rows(table: analytics.Table) -> list[dict]:
    columns = table.columns
    labelled = [column for column in columns if column.type == "choice" or column.blank is not None]
    rows = []
    for record in table.frame.to_dict("records"):
        row = {column.key: _json_value(column, record.get(column.key)) for column in columns}
        for column in labelled:
            row[f"{column.key}_label"] = str(column.display(record.get(column.key)))
        rows.append(row)
    return rows


def report_payload(result: analytics.Result, *, tables: list[str] | None = None) -> dict:
    """The report as the API answers it: {name, title, as_of, params, tables: [{name, title, columns, rows}]}."""
    return {
        "name": result.name,
        "title": result.title,
        "as_of": result.as_of.isoformat(),
        "params": result.params,
        "tables": [{
            "name": table.name,
            "title": table.title,
            "columns": [{"key": c.key, "label": str(c.label), "type": c.type} for c in table.columns],
            "rows": _rows(table),
        } for table in result.tables if tables is None or table.name in tables],
    }


def download_name(name: str, as_of: date, extension: str, table: str | None = None) -> str:
    """<name>-<DD.MM.YYYY>.<ext>; a single table asked for by name gets its name after the report's."""
    stem = f"{name}-{table}" if table else name
    return f"{stem}-{as_of:%d.%m.%Y}.{extension}"


class _ReportTableInfoSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()


class _ReportParamInfoSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    default = serializers.IntegerField(allow_null=True)
    minimum = serializers.IntegerField()
    maximum = serializers.IntegerField()


class ReportInfoSerializer(serializers.Serializer):
    """One entry of GET /api/reports/, so that the schema describes the list it answers."""

    name = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    url = serializers.URLField()
    tables = _ReportTableInfoSerializer(many=True)
    params = _ReportParamInfoSerializer(many=True)


class ReportListView(APIView):
    """The reports there are: name, title, what each shows, its parameters and the URL of its data."""

    permission_classes = [require_perm("reports.view_analytics")]

    @extend_schema(responses={200: ReportInfoSerializer(many=True)}, summary="The analytics reports",
                   operation_id="reports_list")
    def get(self, request):
        return Response([{
            "name": spec.name,
            "title": str(spec.title),
            "description": str(spec.description),
            "url": request.build_absolute_uri(reverse("report-detail", args=[spec.name])),
            "tables": [{"name": table.name, "title": str(table.title)} for table in spec.tables],
            "params": [{"name": p.name, "label": str(p.label), "default": p.default, "minimum": p.minimum,
                        "maximum": p.maximum} for p in spec.params],
        } for spec in analytics.REPORTS.values()])


class ReportDetailView(APIView):
    """One report's tables as JSON, or downloaded as CSV (one table) or XLSX (a sheet per table)."""

    permission_classes = [require_perm("reports.view_analytics")]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, ReportCSVRenderer, ReportXLSXRenderer]

    @extend_schema(
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, "text/csv"): OpenApiTypes.BINARY,
                   (200, ReportXLSXRenderer.media_type): OpenApiTypes.BINARY},
        parameters=[
            OpenApiParameter("years", int, description="forecast: years ahead, 1 to 50 (10)"),
            OpenApiParameter("months", int, description="wipes, loans, faults: months back, 1 to 120 (12)"),
            OpenApiParameter("project", int, description="einclusion: one grant project (its id)"),
            OpenApiParameter("table", str, description="only this table (CSV: the first by default)"),
            OpenApiParameter("format", str, enum=["json", "csv", "xlsx"]),
        ],
        summary="One analytics report", operation_id="reports_retrieve")
    def get(self, request, name: str):
        spec = analytics.get_report(name)
        params = analytics.parse_params(spec, request.query_params)
        table = request.query_params.get("table") or None
        names = [t.name for t in spec.tables]
        if table is not None and table not in names:
            raise InvalidInput(_("Choose one of the tables: %(tables)s.") % {"tables": ", ".join(names)},
                               field="table")
        result = analytics.run(name, **params)
        response = Response(report_payload(result, tables=[table] if table else None))
        fmt = getattr(request.accepted_renderer, "format", None)
        if fmt in DOWNLOADS:
            filename = download_name(name, result.as_of, fmt, table)
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        # A refusal (400, 403) is answered as JSON even when a download was asked for: a CSV of an
        # error dictionary helps no one.
        if getattr(response, "exception", False) and getattr(request, "accepted_renderer", None) is not None \
                and request.accepted_renderer.format in DOWNLOADS:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


_NAMES = "|".join(analytics.REPORTS)

urlpatterns = [
    re_path(r"^reports/$", ReportListView.as_view(), name="report-list"),
    re_path(rf"^reports/(?P<name>{_NAMES})/$", ReportDetailView.as_view(), name="report-detail"),
]
