"""Writes of the core: issuing a document into the registry."""
from __future__ import annotations

import hashlib
import secrets
from typing import Callable

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from core import pdf
from core.models import StoredDocument

# Crockford's base32 without I, L, O, U: nothing a person could misread from a printout.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _new_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def normalize_code(code: str) -> str:
    """What a person types from a printout, in the stored form (case and misread letters forgiven)."""
    cleaned = code.upper().replace(" ", "").replace("-", "").replace("O", "0").replace("I", "1").replace("L", "1")
    return f"{cleaned[:5]}-{cleaned[5:]}" if len(cleaned) == 10 else code.upper()


def document_issue(
    *,
    kind: str,
    title: str,
    subject: models.Model,
    by: AbstractBaseUser | None,
    build: Callable[[pdf.Stamp], bytes],
    template_version: str,
) -> StoredDocument:
    """Issue a PDF: give it a verification code, render it with that code on every page, store it.

    `build` receives the stamp (code, verification address, moment, issuer) and returns the PDF bytes;
    the SHA-256 of exactly those bytes is what /verify/ compares an uploaded file with.
    """
    with transaction.atomic():
        code = _new_code()
        while StoredDocument.objects.filter(code=code).exists():
            code = _new_code()
        document = StoredDocument(
            code=code,
            kind=kind,
            title=title,
            template_version=template_version,
            issued_at=timezone.now(),
            issued_by=by if by is not None and by.is_authenticated else None,
            subject_type=ContentType.objects.get_for_model(subject),
            subject_id=subject.pk,
        )
        issuer = (by.get_full_name() or by.get_username()) if document.issued_by else ""
        stamp = pdf.Stamp(code=code, verify_url=document.get_verify_url(), issued_at=document.issued_at, issuer=issuer)
        content = build(stamp)
        document.sha256 = hashlib.sha256(content).hexdigest()
        document.size = len(content)
        document.full_clean(exclude=["file"])
        document.file.save(f"{code}.pdf", ContentFile(content), save=False)
        document.save()
    return document


def next_serial(model: type[models.Model], field: str, prefix: str) -> str:
    """The next free PREFIX + four digits (WS/2026/0001, PN/2021/0001) among `model`'s `field` values."""
    number = model._default_manager.filter(**{f"{field}__startswith": prefix}).count() + 1
    while model._default_manager.filter(**{field: f"{prefix}{number:04d}"}).exists():
        number += 1
    return f"{prefix}{number:04d}"


def save_numbered(instance: models.Model, *, field: str, prefix: str, save: Callable[[], None],
                  attempts: int = 5) -> None:
    """Number `instance` (`next_serial`) and `save()` it; two clerks saving at one moment may draw the same
    number, and the one the unique constraint refuses draws again. Raises IntegrityError after `attempts`."""
    for attempt in range(attempts):
        setattr(instance, field, next_serial(type(instance), field, prefix))
        try:
            with transaction.atomic():
                save()
            return
        except (IntegrityError, ValidationError) as exc:
            if isinstance(exc, ValidationError) and field not in getattr(exc, "message_dict", {}):
                raise
            instance.pk = None
            if attempt == attempts - 1:
                raise IntegrityError(f"no free {field} under {prefix} after {attempts} attempts") from exc

