"""Audit helpers every app's services use: who acted, and a validated save that records it in history."""
from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser


def actor(by: AbstractBaseUser | None) -> AbstractBaseUser | None:
    """The acting user to record, or None for the system (commands, anonymous requests)."""
    return by if by is not None and by.is_authenticated else None


def save_audited(instance, *, by: AbstractBaseUser | None, reason: str = "") -> None:
    """Validate and save a record, with the actor and the reason in its history row."""
    instance.full_clean()
    instance._history_user = actor(by)
    if reason:
        # django-simple-history keeps at most 100 characters; the full reason is in the event row.
        instance._change_reason = reason if len(reason) <= 100 else reason[:99] + "…"
    instance.save()
