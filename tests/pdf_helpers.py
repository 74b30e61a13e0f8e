"""Reading issued PDFs in tests: their bytes, their text and the fonts they embed."""
from __future__ import annotations

import io

from pypdf import PdfReader

from core.models import StoredDocument


def pdf_bytes(document: StoredDocument) -> bytes:
    document.file.open("rb")
    try:
        return document.file.read()
    finally:
        document.file.close()


def pdf_text(document: StoredDocument) -> str:
    """The text of every page, with line breaks and runs of spaces (no-break ones too) made single spaces."""
    reader = PdfReader(io.BytesIO(pdf_bytes(document)))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).replace("\u00a0", " ").split())


def pdf_fonts(document: StoredDocument) -> set[str]:
    """The base names of the fonts the pages use (an embedded subset reads like ABCDEF+DejaVuSans)."""
    fonts = set()
    for page in PdfReader(io.BytesIO(pdf_bytes(document))).pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    return fonts


def assert_contains(text: str, *words: str) -> None:
    for word in words:
        assert word in text, word
