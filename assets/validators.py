"""Validators of the register's input, with messages a clerk can act on."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.pl import nip, regon


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


def validate_upload_size(upload) -> None:
    from django.conf import settings

    size = getattr(upload, "size", 0) or 0
    if size > settings.MAX_UPLOAD_SIZE:
        raise ValidationError(_("The file is too large (%(size)s MB); the limit is %(limit)s MB."), code="too_large",
                              params={"size": f"{size / 2**20:.1f}", "limit": f"{settings.MAX_UPLOAD_SIZE / 2**20:.1f}"})


def validate_pdf(upload) -> None:
    """A scan of a signed document must be a PDF: the extension and the file's own signature."""
    if not upload or getattr(upload, "_committed", False):
        return  # nothing new: a stored scan was checked when it was uploaded
    name = getattr(upload, "name", "") or ""
    validate_upload_size(upload)
    if not name.lower().endswith(".pdf"):
        raise ValidationError(_("The scan must be a PDF file (.pdf)."), code="not_pdf")
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    head = upload.read(5)
    upload.seek(position)
    if head != b"%PDF-":
        raise ValidationError(_("The file is not a PDF document."), code="not_pdf")
