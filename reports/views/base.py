"""What every page of the reports shares: the admin's frame (header, breadcrumbs, language) and the rights."""
from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def page(request: HttpRequest, template: str, context: dict, *, title: str) -> HttpResponse:
    """Render a reports page inside the admin's frame (reports/page.html), as the signed-in staff see it."""
    return render(request, template, {**admin.site.each_context(request), "title": title, **context})
