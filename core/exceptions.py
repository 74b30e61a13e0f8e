"""The one family of errors a user can cause.

Services raise these; the API's exception handler turns them into 400/409 answers naming the field and
the reason, and the admin turns them into messages. Anything else escaping a service is a bug.
"""
from __future__ import annotations


class DomainError(Exception):
    """A request the domain rules refuse. `field` names the input at fault, when there is one."""

    status_code = 409
    default_code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None,
                 details: dict | None = None) -> None:
        super().__init__(message)
        self.message = str(message)
        self.code = code or self.default_code
        self.field = field
        self.details = details or {}  # more for a program to act on (a per-line report, the media missing)

    def as_dict(self) -> dict:
        if self.field:
            return {self.field: [self.message], "code": self.code, **self.details}
        return {"detail": self.message, "code": self.code, **self.details}


class InvalidInput(DomainError):
    """The input itself is wrong (missing reason, bad value): the caller can fix it and retry."""

    status_code = 400
    default_code = "invalid"


class TransitionNotAllowed(DomainError):
    """The object's current state does not allow this move (not in the transition table)."""

    default_code = "transition_not_allowed"


class GuardFailed(DomainError):
    """The move is in the table, but a rule of the domain forbids it for this object now."""

    default_code = "guard_failed"
