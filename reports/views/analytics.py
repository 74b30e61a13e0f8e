"""Pages of the analytics (/reports/analytics/): the list of reports, and each report's tables and charts with
links to download its data as CSV and XLSX (from the API, which answers the signed-in session too)."""
from __future__ import annotations

import math
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from core.exceptions import InvalidInput
from core.pdf import format_date, format_pln
from donations.models import GrantProject
from reports import analytics
from reports.charts import data_uri
from reports.views.base import page

__all__ = ["analytics_index", "analytics_report", "cell_text", "urlpatterns"]

PERMISSION = "reports.view_analytics"


def _require(request: HttpRequest) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


def cell_text(column: analytics.Column, value) -> str:
    """A cell as the page shows it: money as 1 234,56 zł, dates DD.MM.YYYY, months MM.YYYY, decimal
    commas in Polish, a choice by its label, a dash for no value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if column.type in ("choice", "text"):
        return str(column.display(value)) or "—"
    if column.type == "money":
        return format_pln(Decimal(value))
    if column.type == "month":
        return value.strftime("%m.%Y")
    if column.type == "date":
        return format_date(value)
    if column.type in ("number", "percent"):
        return number_format(round(float(value), 1), 1)
    if column.type == "year":
        return str(int(value))
    if column.type == "int":
        return number_format(int(value), force_grouping=True)
    return str(value)


def _table_context(table: analytics.Table, api_url: str, query: dict) -> dict:
    numeric = {"int", "money", "number", "percent"}
    return {
        "name": table.name,
        "title": table.title,
        "headers": [{"label": str(column.label), "numeric": column.type in numeric} for column in table.columns],
        "rows": [[{"text": cell_text(column, record.get(column.key)), "numeric": column.type in numeric}
                  for column in table.columns] for record in table.frame.to_dict("records")],
        "csv_url": f"{api_url}?{urlencode({**query, 'format': 'csv', 'table': table.name})}",
    }


def _params_context(spec: analytics.ReportSpec, values) -> list[dict]:
    """The report's parameters for its form; a grant project is chosen by name, not typed as a number."""
    params = []
    for param in spec.params:
        value = values.get(param.name, "")
        entry = {"name": param.name, "label": str(param.label), "value": "" if value is None else str(value),
                 "minimum": param.minimum, "maximum": param.maximum, "choices": None}
        if param.name == "project":
            entry["choices"] = [("", _("every project"))] + [
                (str(pk), name) for pk, name in GrantProject.objects.order_by("name").values_list("pk", "name")]
        params.append(entry)
    return params


@login_required
def analytics_index(request: HttpRequest) -> HttpResponse:
    """The reports there are, each with what it shows."""
    _require(request)
    reports = [{"name": spec.name, "title": str(spec.title), "description": str(spec.description),
                "url": reverse("reports:analytics", args=[spec.name])} for spec in analytics.REPORTS.values()]
    return page(request, "reports/analytics_index.html", {"reports": reports}, title=_("Analytics"))


@login_required
def analytics_report(request: HttpRequest, name: str) -> HttpResponse:
    """One report: its parameters (a form), tables, charts, and the CSV and XLSX downloads."""
    _require(request)
    if name not in analytics.REPORTS:
        raise Http404
    spec = analytics.REPORTS[name]
    context = {"report": spec, "index_url": reverse("reports:analytics-index"), "error": None}
    try:
        params = analytics.parse_params(spec, request.GET)
    except InvalidInput as refusal:
        labels = {param.name: str(param.label) for param in spec.params}
        context["error"] = f"{labels.get(refusal.field, refusal.field)}: {refusal.message}"
        context["params"] = _params_context(spec, request.GET)
        response = page(request, "reports/analytics_report.html", context, title=str(spec.title))
        response.status_code = 400
        return response
    result = analytics.run(name, **params)
    api_url = reverse("report-detail", args=[name])
    query = {key: value for key, value in params.items() if value is not None}
    context.update({
        "as_of": format_date(result.as_of),
        "params": _params_context(spec, params),
        "charts": [data_uri(png) for png in analytics.result_charts(result)],
        "tables": [_table_context(table, api_url, query) for table in result.tables],
        "xlsx_url": f"{api_url}?{urlencode({**query, 'format': 'xlsx'})}",
    })
    return page(request, "reports/analytics_report.html", context, title=str(spec.title))


urlpatterns = [
    path("analytics/", analytics_index, name="analytics-index"),
    path("analytics/<slug:name>/", analytics_report, name="analytics"),
]
