"""The dashboard's panels for the admin's first page: {% dashboard_sections as sections %}."""
from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from reports.dashboards import dashboard_sections as sections_for

register = template.Library()

# The reports' own pages, each for whoever holds its permission; a page not (yet) installed is left out.
_REPORT_PAGES = [
    ("reports:compliance", "reports.view_compliance_check", lambda: _("Compliance check")),
    ("reports:analytics-index", "reports.view_analytics", lambda: _("Analytics")),
    ("reports:documents", "reports.issue_report", lambda: _("Report PDFs")),
]


@register.simple_tag(takes_context=True)
def dashboard_sections(context) -> list[dict]:
    """The signed-in person's panels, grouped by role (reports.dashboards.dashboard_sections)."""
    return sections_for(context["request"].user)


@register.simple_tag(takes_context=True)
def report_links(context) -> list[tuple[str, str]]:
    """(url, title) of the reports' pages the signed-in person may open."""
    user = context["request"].user
    links = []
    for name, perm, title in _REPORT_PAGES:
        if not user.has_perm(perm):
            continue
        try:
            links.append((reverse(name), title()))
        except NoReverseMatch:
            continue
    return links
