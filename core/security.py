"""Sign-in throttling hooks for django-axes: whose address a request comes from, and the lockout answer."""
from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import ngettext


def client_ip(request: HttpRequest) -> str | None:
    """The address a sign-in comes from.

    Behind the TLS proxy (BEHIND_TLS_PROXY) every request arrives from the proxy, which appends the
    client's address to X-Forwarded-For: the last entry is the one the proxy saw, the earlier ones are
    whatever the client claimed and are not trusted. Otherwise REMOTE_ADDR.
    """
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR")


def _cool_off_minutes() -> int:
    return max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """429 with the reason: JSON for the API's token endpoint, the lockout page for the sign-in forms."""
    minutes = _cool_off_minutes()
    if request.path.startswith("/api/"):
        message = ngettext(
            "Too many failed sign-in attempts for this user name from this address; try again in %(minutes)d "
            "minute or ask the IT office to unlock it.",
            "Too many failed sign-in attempts for this user name from this address; try again in %(minutes)d "
            "minutes or ask the IT office to unlock it.", minutes) % {"minutes": minutes}
        return JsonResponse({"detail": message, "code": "locked_out"}, status=429,
                            headers={"Retry-After": str(minutes * 60)})
    response = render(request, settings.AXES_LOCKOUT_TEMPLATE,
                      {"minutes": minutes, "limit": settings.AXES_FAILURE_LIMIT}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response
