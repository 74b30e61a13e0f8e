"""Reads of the core."""
from __future__ import annotations

import hashlib
from typing import IO

from core.models import StoredDocument
from core.scoping import visible_to
from core.services import normalize_code


def document_by_code(code: str, *, visible_to_user=None) -> StoredDocument | None:
    """The document with this code; with `visible_to_user`, only if that user may see it."""
    documents = StoredDocument.objects.all()
    if visible_to_user is not None:
        documents = visible_to(visible_to_user, documents)
    return documents.filter(code=normalize_code(code)).first()


def document_matches_file(document: StoredDocument, upload: IO[bytes]) -> bool:
    """Whether `upload` is byte for byte the file that was issued under this code."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: upload.read(64 * 1024), b""):
        digest.update(chunk)
    return digest.hexdigest() == document.sha256
