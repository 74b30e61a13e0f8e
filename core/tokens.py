"""Each person's API token: issued on request, shown whole only once, listed by its ending, revoked at will.

DRF's token model holds one token per user; issuing a new one replaces the old, so a leaked token is
dead the moment its owner issues another or revokes it. The IT office sees every user's token (by its
ending and date) in the admin, under "Tokens", and revokes any of them there.
"""
from __future__ import annotations

import logging

from django.db import transaction
from rest_framework.authtoken.models import Token

log = logging.getLogger("core.security")


def token_of(user) -> Token | None:
    return Token.objects.filter(user=user).first()


def token_ending(token: Token) -> str:
    """What identifies a token on screen without giving it away: its last four characters."""
    return f"…{token.key[-4:]}"


@transaction.atomic
def token_issue(user) -> Token:
    """A new token for the user, replacing (and so revoking) the one they had."""
    Token.objects.select_for_update().filter(user=user).delete()
    token = Token.objects.create(user=user)
    log.info("API token %s issued for user %s", token_ending(token), user.pk)
    return token


@transaction.atomic
def token_revoke(user) -> bool:
    """Revoke the user's token; False when they had none."""
    deleted, _ = Token.objects.select_for_update().filter(user=user).delete()
    if deleted:
        log.info("API token revoked for user %s", user.pk)
    return bool(deleted)
