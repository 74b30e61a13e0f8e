"""Audit helpers every app's services use: who acted, and a validated save that records it in history."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.auth.models import AbstractBaseUser

# Where the saves of a block come from (an import's row): it leads the reason in their history.
_default_reason: ContextVar[str] = ContextVar("default_reason", default="")


@contextmanager
def change_reason(reason: str) -> Iterator[None]:
    """Within the block, the history reason of every audited save starts with `reason` ("import #3, row 7"),
    followed by the save's own reason when it gives one."""
    token = _default_reason.set(reason)
    try:
        yield
    finally:
        _default_reason.reset(token)


def actor(by: AbstractBaseUser | None) -> AbstractBaseUser | None:
    """The acting user to record, or None for the system (commands, anonymous requests)."""
    return by if by is not None and by.is_authenticated else None


def history_reason(reason: str = "") -> str:
    """The reason a history row records for a save giving `reason`: led by the block's (change_reason), cut
    to the 100 characters django-simple-history keeps (the full reason is in the event row)."""
    context = _default_reason.get()
    if context:
        reason = f"{context}: {reason}" if reason else context
    return reason if len(reason) <= 100 else reason[:99] + "…"


def save_audited(instance, *, by: AbstractBaseUser | None, reason: str = "") -> None:
    """Validate and save a record, with the actor and the reason in its history row."""
    instance.full_clean()
    instance._history_user = actor(by)
    reason = history_reason(reason)
    if reason:
        instance._change_reason = reason
    instance.save()
