"""API permissions that hold the same line as the admin: Django model permissions, reads included."""
from __future__ import annotations

from rest_framework.permissions import DjangoModelPermissions, BasePermission


class RolePermissions(DjangoModelPermissions):
    """Model permissions where reading needs `view_<model>` too (DRF's default lets any user read)."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }


def require_perm(perm: str) -> type[BasePermission]:
    """A permission class for one action: the user must hold `perm` (for example `assets.move_device`)."""

    class _HasPerm(BasePermission):
        def has_permission(self, request, view) -> bool:
            return bool(request.user and request.user.is_authenticated and request.user.has_perm(perm))

    _HasPerm.__name__ = f"HasPerm_{perm.replace('.', '_')}"
    return _HasPerm
