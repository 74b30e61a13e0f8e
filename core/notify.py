"""E-mail notices (new faults, status changes, loan reminders), sent once the transaction commits.

A notice is written in the office's language (settings.LANGUAGE_CODE), whatever language the person
who caused it was using. A mail server that fails after the commit is logged, never turned into an
error for a change that has already been made.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction

from core.roles import Role

logger = logging.getLogger(__name__)


def it_office_addresses() -> list[str]:
    """Where notices for the IT office go: IT_OFFICE_EMAILS, or the IT office users' own addresses."""
    if settings.IT_OFFICE_EMAILS:
        return list(settings.IT_OFFICE_EMAILS)
    users = get_user_model().objects.filter(groups__name=Role.IT_OFFICE, is_active=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def send_on_commit(*, subject: str, body: str, to: Iterable[str]) -> None:
    """Send a plain-text e-mail after the current transaction commits (at once outside one)."""
    recipients = sorted({address for address in to if address})
    if not recipients:
        return

    def send() -> None:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
        except Exception:  # the change is committed; a mail server failure must not undo or hide it
            logger.exception("E-mail %r to %s could not be sent", subject, recipients)

    transaction.on_commit(send)
