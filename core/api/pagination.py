"""The API's page-number pagination, with a count that stays cheap on tables of millions of rows.

DRF's paginator runs COUNT(*) over the whole filtered set on every page. On PostgreSQL, at a million
devices, that count alone costs more than the page. So the count is exact up to `API_EXACT_COUNT_LIMIT`
rows (default 10,000: counting stops there, `SELECT count(*) FROM (... LIMIT n+1)`), and above it is the
planner's estimate for the same query (EXPLAIN), never less than the limit plus one. A list of one office
is always counted exactly. Above the limit a page is read with one row more than it shows, so whether
there is a `next` page is known, not estimated; the results are exact at any size. SQLite and
lists that are not querysets are counted as before.
"""
from __future__ import annotations

import json

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from rest_framework.pagination import PageNumberPagination


def estimates_counts(queryset: QuerySet) -> bool:
    """Whether the database can estimate a query's rows cheaply (PostgreSQL's planner)."""
    return connections[queryset.db].vendor == "postgresql"


def planner_estimate(queryset: QuerySet) -> int:
    """PostgreSQL's estimate of the number of rows `queryset` returns: one EXPLAIN, nothing read."""
    plan = json.loads(queryset.order_by().explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


class _PageOfEstimate(Page):
    """A page of a list whose count is an estimate: whether a next page exists is read, not computed."""

    def __init__(self, object_list, number, paginator, *, has_more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self.has_more = has_more

    def has_next(self) -> bool:
        return self.has_more

    def end_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + len(self.object_list)


class EstimatingPaginator(Paginator):
    estimated = False

    @cached_property
    def count(self) -> int:
        queryset, limit = self.object_list, getattr(settings, "API_EXACT_COUNT_LIMIT", 10_000)
        if limit is None or not isinstance(queryset, QuerySet) or not estimates_counts(queryset):
            return super().count
        counted = queryset.order_by()[:limit + 1].count()
        if counted <= limit:
            return counted
        self.estimated = True
        return max(limit + 1, planner_estimate(queryset))

    def page(self, number):
        self.count  # noqa: B018 -- decides whether the count is an estimate
        if not self.estimated:
            return super().page(number)
        try:
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(_("That page number is not an integer")) from exc
        if number < 1:
            raise EmptyPage(_("That page number is less than 1"))
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom:bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(_("That page contains no results"))
        return _PageOfEstimate(rows[:self.per_page], number, self, has_more=len(rows) > self.per_page)


class StandardPagination(PageNumberPagination):
    django_paginator_class = EstimatingPaginator
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
