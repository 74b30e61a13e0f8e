"""Reads of the core."""
from __future__ import annotations

import hashlib
from typing import IO

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from core.models import StoredDocument
from core.scoping import held_by
from core.services import normalize_code


def visible_documents(user, documents: QuerySet[StoredDocument] | None = None) -> QuerySet[StoredDocument]:
    """The issued documents `user` may open: with the right to see issued documents, those about records
    of a kind the user may see (a project manager reads no disk removal protocol, since disk removals are
    not theirs to read); and, whatever the role, those about what the user holds (a borrower's own loan).
    """
    documents = StoredDocument.objects.all() if documents is None else documents
    if not user or not user.is_authenticated:
        return documents.none()
    held = held_by(user, documents)
    if not user.has_perm("core.view_storeddocument"):
        return held
    subject_types = StoredDocument.objects.order_by().values_list("subject_type", flat=True).distinct()
    readable = [pk for pk in subject_types if _may_view(user, ContentType.objects.get_for_id(pk))]
    return documents.filter(subject_type__in=readable) | held


def _may_view(user, content_type: ContentType) -> bool:
    return user.has_perm(f"{content_type.app_label}.view_{content_type.model}")


def document_by_code(code: str, *, visible_to_user=None) -> StoredDocument | None:
    """The document with this code; with `visible_to_user`, only if that user may see it."""
    if "\x00" in code:
        return None  # no code has one, and PostgreSQL refuses a NUL byte in a query (a 500)
    documents = StoredDocument.objects.all()
    if visible_to_user is not None:
        documents = visible_documents(visible_to_user, documents)
    return documents.filter(code=normalize_code(code)).first()


def document_matches_file(document: StoredDocument, upload: IO[bytes]) -> bool:
    """Whether `upload` is byte for byte the file that was issued under this code."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: upload.read(64 * 1024), b""):
        digest.update(chunk)
    return digest.hexdigest() == document.sha256
