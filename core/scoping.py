"""What a person without a model's view permission may still see: what is loaned to them.

A councillor holds no model permissions; they see their own loans, the devices they hold, their fault
reports and their loan documents. Each app registers, for its models, how "their own" is found (as a
Q on the model), so that `core` and `assets` stay unaware of loans, and every API endpoint and portal
page that shows such records narrows them the same way: someone else's record is simply not there (404).
"""
from __future__ import annotations

from collections.abc import Callable

from django.db.models import Model, Q, QuerySet

HolderScope = Callable[[object], Q]

_scopes: dict[str, list[HolderScope]] = {}


def register_holder_scope(model: type[Model], scope: HolderScope) -> None:
    """Declare that a user may see the rows of `model` matching `scope(user)`, whatever their role."""
    _scopes.setdefault(model._meta.label_lower, []).append(scope)


def has_holder_scope(model: type[Model]) -> bool:
    return model._meta.label_lower in _scopes


def view_permission(model: type[Model]) -> str:
    return f"{model._meta.app_label}.view_{model._meta.model_name}"


def visible_to(user, queryset: QuerySet) -> QuerySet:
    """All rows for users with the view permission; otherwise only the rows the user holds."""
    model = queryset.model
    if not user or not user.is_authenticated:
        return queryset.none()
    if user.has_perm(view_permission(model)):
        return queryset
    return held_by(user, queryset)


def held_by(user, queryset: QuerySet) -> QuerySet:
    """Only the rows the user holds, whatever their role (the portal shows a person their own things)."""
    scopes = _scopes.get(queryset.model._meta.label_lower, ())
    if not user or not user.is_authenticated or not scopes:
        return queryset.none()
    condition = Q(pk__in=[])
    for scope in scopes:
        condition |= scope(user)
    return queryset.filter(condition)
