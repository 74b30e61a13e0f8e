"""API permissions that hold the same line as the admin: Django model permissions, reads included.

Endpoints over records a person may hold without a role permission (a councillor's loans, devices,
fault reports and documents) are "holder-scoped": their queryset is narrowed by core.scoping, and
for a user without the model permission the check moves from the endpoint to the object. Someone
else's record is then a 404, the same as a record that does not exist, and one's own record a 403
where the move is not theirs to make.
"""
from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission, DjangoModelPermissions


def _is_holder_detail(request, view) -> bool:
    """A holder-scoped endpoint addressed to one record: decide once the record is looked up."""
    if not getattr(view, "holder_scoped", False) or not request.user or not request.user.is_authenticated:
        return False
    lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", "pk")
    return lookup in getattr(view, "kwargs", {})


class RolePermissions(DjangoModelPermissions):
    """Model permissions where reading needs `view_<model>` too (DRF's default lets any user read)."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        if getattr(view, "holder_scoped", False) and request.user and request.user.is_authenticated:
            if request.method in SAFE_METHODS or _is_holder_detail(request, view):
                return True  # the queryset holds only what the user may see; writes are checked per object
        return super().has_permission(request, view)

    def has_object_permission(self, request, view, obj) -> bool:
        if not getattr(view, "holder_scoped", False) or request.method in SAFE_METHODS:
            return True
        return super().has_permission(request, view)


def require_perm(perm: str) -> type[BasePermission]:
    """A permission class for one action: the user must hold `perm` (for example `assets.move_device`).

    On a holder-scoped endpoint the check waits for the object: someone else's record is a 404.
    """

    class _HasPerm(BasePermission):
        def has_permission(self, request, view) -> bool:
            if not (request.user and request.user.is_authenticated):
                return False
            return request.user.has_perm(perm) or _is_holder_detail(request, view)

        def has_object_permission(self, request, view, obj) -> bool:
            return request.user.has_perm(perm)

    _HasPerm.__name__ = f"HasPerm_{perm.replace('.', '_')}"
    return _HasPerm
