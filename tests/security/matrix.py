"""How the permission-matrix test asks the service one cell: which URL, as whom, and what the answer means.

Kept apart from the test so that the cells' requests can be replayed by hand (or printed) while the table is
being written.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.security import surface
from tests.security.world import ANON, World

# What a denied caller may get: not signed in (DRF 401/403), no right (403), or, for a record held by
# someone else or one the role's list does not hold, as if it did not exist (404).
API_DENIED = {401, 403, 404}
# What an allowed write must not get: the permission check refused it, or the route did not take the verb.
WRITE_REFUSED = {401, 403, 404, 405}


@dataclass(frozen=True)
class Cell:
    kind: str  # "api", "page" or "admin"
    route: str
    method: str
    role: str

    def __str__(self) -> str:
        return f"{self.method} {self.route} as {self.role}"


def _route(name: str) -> surface.Route:
    for route in surface.routes():
        if route.name == name:
            return route
    raise LookupError(name)


def _basename(route: surface.Route) -> str:
    initkwargs = getattr(route.callback, "initkwargs", {}) or {}
    return initkwargs.get("basename", "")


# Arguments of routes that are not a record's primary key.
_NAMED_ARGS = {"report-detail": {"name": "inventory"}, "reports:analytics": {"name": "inventory"}}
# What a councillor may hold, by the key the world keeps it under: these routes point at a councillor's record.
_HELD = {"loan": "loan", "device": "device", "fault": "fault", "document": "document"}
# The admin's models, by the key the world keeps their record under.
_ADMIN_MODELS = {"importbatch": "import-batch", "faultreport": "fault", "sanitization": "sanitization",
                 "diskremoval": "disk-removal", "wipesession": "wipe-session", "grantproject": "grant-project",
                 "projectobligation": "obligation", "mayoralorder": "mayoral-order", "transfer": "transfer"}


def _arguments(route: surface.Route) -> set[str]:
    return {a or b for a, b in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route.pattern)}


# Pages about the signed-in person's own borrower record, named by no argument: a 404 for one who has none.
_ABOUT_ONESELF = {"portal:personal-data"}


def has_record(route_name: str) -> bool:
    """Whether the route shows or changes one record (as opposed to a list, a form or a report)."""
    arguments = _arguments(_route(route_name)) - set(_NAMED_ARGS.get(route_name, {})) - {"path"}
    return route_name in _ABOUT_ONESELF or bool(arguments)


def _record(route: surface.Route, world: World, holder: str):
    held = getattr(world, holder)
    if route.name.startswith("portal:"):
        return {"portal:loan": held["loan"], "portal:device": held["device"]}.get(route.name) or (
            held["document"] if "code" in _arguments(route) else held["fault"])
    if route.name in ("verify", "document-download"):
        return held["document"]
    if route.is_admin:
        model = route.name.split(":", 1)[1].split("_")[1]
        return world.objects.get(_ADMIN_MODELS.get(model, model))
    key = _basename(route)
    return held[_HELD[key]] if key in _HELD else world.objects.get(key)


def url_for(route_name: str, world: World, holder: str = "a") -> str:
    """The route's address, pointing at the world's record of its kind; what a councillor may hold is
    `holder`'s (councillor A's unless told)."""
    route = _route(route_name)
    if route_name == "protected-media":
        return "/media/" + world.objects["contract"].scan.name
    kwargs: dict[str, object] = dict(_NAMED_ARGS.get(route_name, {}))
    names = _arguments(route) - set(kwargs)
    if names:
        record = _record(route, world, holder)
        if record is None:
            raise LookupError(f"the test world has no record for {route_name}: add one to tests/security/world.py")
        kwargs.update({name: record.code if name == "code" else record.pk for name in names})
    return reverse(route_name, kwargs=kwargs)


def client_for(role: str, world: World) -> Client:
    """A browser signed in as `role` (or COUNC_B, the other councillor), with the module's session."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if role != ANON:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return client


def ask(cell: Cell, world: World, client: Client | None = None):
    client = client or client_for(cell.role, world)
    url = url_for(cell.route, world)
    method = getattr(client, cell.method.lower())
    if cell.method == "GET":
        return method(url)
    return method(url, data={}, content_type="application/json") if cell.kind == "api" else method(url, data={})
