"""Validators of the register's input, with messages a clerk can act on."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.pl import nip, regon

from core import uploads


def validate_nip(value: str) -> None:
    try:
        nip.validate(value)
    except StdnumError as exc:
        raise ValidationError(_("“%(value)s” is not a valid NIP (10 digits with a correct check digit)."), code="invalid_nip", params={"value": value}) from exc


def validate_regon(value: str) -> None:
    if not value:
        return
    try:
        regon.validate(value)
    except StdnumError as exc:
        raise ValidationError(_("“%(value)s” is not a valid REGON (9 or 14 digits with a correct check digit)."), code="invalid_regon", params={"value": value}) from exc


def validate_not_future(value) -> None:
    if value and value > timezone.localdate():
        raise ValidationError(_("The date cannot be in the future."), code="future_date")


def validate_pdf(upload) -> None:
    """A scan of a signed document must be a PDF by its content; the migrations name this path, the check
    itself is core.uploads.validate_pdf (signature, trailer, size)."""
    uploads.validate_pdf(upload)
