"""Filters shared by every app's lists."""
from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import connections, router
from django_filters.rest_framework import DjangoFilterBackend


class IdsField(django_filters.fields.ModelMultipleChoiceField):
    """Record ids for a `?device_id=1&device_id=2` filter.

    An id outside the range of its primary key column is refused as an unknown id (a 400 naming the
    parameter) before it reaches the database: SQLite cannot even bind an integer past 64 bits and raises
    OverflowError, which would be a 500.
    """

    def _check_values(self, value):
        field = self.queryset.model._meta.get_field(self.to_field_name) if self.to_field_name \
            else self.queryset.model._meta.pk
        connection = connections[router.db_for_read(self.queryset.model)]
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        if low is not None or high is not None:
            for pk in value or ():
                try:
                    number = int(str(pk))
                except ValueError:
                    continue  # not a number at all: the lookup below refuses it the usual way
                if (low is not None and number < low) or (high is not None and number > high):
                    raise ValidationError(self.error_messages["invalid_pk_value"], code="invalid_pk_value",
                                          params={"pk": pk})
        return super()._check_values(value)


class IdsFilter(django_filters.ModelMultipleChoiceFilter):
    """`ModelMultipleChoiceFilter` whose ids are checked against the key's range (see `IdsField`)."""

    field_class = IdsField


class IdFilter(django_filters.NumberFilter):
    """One record id (`?actor_id=3`): a whole number in the range of a 64-bit key, or a 400 naming the
    parameter. Beyond it SQLite cannot bind the value and raises OverflowError, which would be a 500."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", -(2**63))
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, which leaves a list alone when the request asks for no filter at all.

    Building a FilterSet builds its form, a fresh copy of every filter's field on each request; on a page
    of the device list that asked for no filter this was a fifth of the request (bench/bench_load.py, at a
    million devices). With nothing in the query but the page, its size, the ordering or the format, every
    filter would receive an empty value, which filters nothing, so the queryset is returned as it is.
    """

    NOT_FILTERS = frozenset({"page", "page_size", "ordering", "format"})

    def filter_queryset(self, request, queryset, view):
        if self.NOT_FILTERS.issuperset(request.query_params.keys()):
            return queryset
        return super().filter_queryset(request, queryset, view)
