"""Admin helpers: run a service and turn a refusal into a message, never a 500."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError

from core.exceptions import DomainError


def run_service(request, func, *args, success: str | None = None, **kwargs):
    """Call a service; on a refusal show its reason as an error message and return None."""
    try:
        result = func(*args, **kwargs)
    except DomainError as exc:
        messages.error(request, exc.message)
        return None
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return None
    if success:
        messages.success(request, success)
    return result
