"""The service's whole surface, listed from its URL configuration and admin site, not by hand.

The permission matrix and the audit test check every endpoint, page and admin action listed here, so a
route or action added later is found by them without anyone remembering to add it to a list.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver

# Django's own verbs that a view answers without implementing (HEAD follows GET, OPTIONS is metadata).
_IMPLIED_METHODS = {"head", "options"}


@dataclass(frozen=True)
class Route:
    """One URL pattern: its name (namespace:name), its pattern as written, and what answers it."""

    name: str
    pattern: str
    callback: object = field(compare=False, repr=False)

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith("api/")

    @property
    def is_admin(self) -> bool:
        return self.pattern.startswith("admin/")

    @property
    def view_class(self):
        return getattr(self.callback, "cls", None) or getattr(self.callback, "view_class", None)

    def methods(self) -> dict[str, str]:
        """The HTTP methods this route answers, each with the viewset action or view method behind it."""
        actions = getattr(self.callback, "actions", None)
        if actions:  # a DRF viewset route: {"get": "list", "post": "create"}
            # (DRF adds "head" to this very dict on the first GET it serves: left out, as HEAD follows GET)
            return {method.upper(): action for method, action in actions.items() if method not in _IMPLIED_METHODS}
        view_class = self.view_class
        if view_class is not None:
            return {method.upper(): method for method in view_class.http_method_names
                    if method not in _IMPLIED_METHODS and hasattr(view_class, method)}
        return {}  # a function view: which methods it takes is for the test to find out


def _walk(patterns, prefix: str = "", namespace: str | None = None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace) if part) or None
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield Route(name=name or "", pattern=prefix + str(pattern.pattern), callback=pattern.callback)


def _is_format_suffix(route: Route) -> bool:
    """DRF's `.json` twins of each route and the root's `<format>` route: the same view, the same rights."""
    return "(?P<format>" in route.pattern or "<drf_format_suffix:" in route.pattern


def routes() -> list[Route]:
    """Every named URL pattern once (format-suffix twins left out)."""
    seen: dict[str, Route] = {}
    for route in _walk(get_resolver().url_patterns):
        if route.name and not _is_format_suffix(route):
            seen.setdefault(route.name, route)
    return list(seen.values())


def api_routes() -> list[Route]:
    return [route for route in routes() if route.is_api]


def api_operations() -> list[tuple[str, str, str]]:
    """(route name, HTTP method, action) for every operation the API answers."""
    return sorted((route.name, method, action) for route in api_routes()
                  for method, action in route.methods().items())


def page_routes() -> list[Route]:
    """The pages outside the API and the admin: the portal, the reports, verification, downloads."""
    return [route for route in routes() if not route.is_api and not route.is_admin]


def admin_routes() -> list[Route]:
    return [route for route in routes() if route.is_admin]


def model_admins() -> list[admin.ModelAdmin]:
    return sorted(admin.site._registry.values(), key=lambda model_admin: model_admin.opts.label_lower)


def admin_actions() -> list[tuple[str, str]]:
    """(model label, action name) for every action offered on a changelist, the site-wide ones included."""
    found = []
    for model_admin in model_admins():
        names = [name for name, _ in admin.site.actions if name in admin.site._global_actions]
        for action in model_admin.actions or ():
            names.append(action if isinstance(action, str) else action.__name__)
        found.extend((model_admin.opts.label_lower, name) for name in dict.fromkeys(names))
    return sorted(found)
