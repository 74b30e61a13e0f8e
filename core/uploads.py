"""Every uploaded file is checked here, by what it contains and not by its name, and named safely.

A scan sent as ``umowa.pdf`` may be a web page, a program or a 2 GB video: the client's name and the
browser's content type prove nothing. So each kind of file the service keeps is recognised from its
own bytes (a PDF by its ``%PDF-`` signature and its ``%%EOF`` trailer, a photo by Pillow opening and
verifying it), held to a size limit, and stored under a name the service makes: no folders, no
control characters, an extension that follows from the content. The validators are model field
validators, so the admin, the API and the services (``full_clean``) all apply the same checks;
serializers and forms whose files never reach a model call them directly.

Serving is the other half: `private_file_response` sends a kept file only as a download
(``attachment``), with a content type from the short list below (never HTML), ``nosniff`` and a
private cache; the views that use it check who may see the file.
"""
from __future__ import annotations

import re
import unicodedata
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

__all__ = [
    "CONTENT_TYPES",
    "IMAGE_FORMATS",
    "detect_extension",
    "private_file_response",
    "safe_filename",
    "stored_name",
    "validate_image",
    "validate_pdf",
    "validate_size",
]

# A PDF writer puts %%EOF at the very end, but scanners and mail gateways may append a few bytes.
_PDF_TAIL = 2048
_HEAD = 64
# Pillow's format names of the photos accepted, with the extension they are stored under.
IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
# What a kept file is served as, by its stored extension; anything else is a plain download.
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "log": "text/plain; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "json": "application/json",
}
_OCTET_STREAM = "application/octet-stream"
_SIGNATURES = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"PK\x03\x04", "xlsx"),
)
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_UNDECOMPOSED = str.maketrans({"ł": "l", "Ł": "L"})


def _is_new(upload: Any) -> bool:
    """A file being uploaded now; a file already stored (a form re-saving a record) was checked then."""
    return bool(upload) and not getattr(upload, "_committed", False)


def _peek(upload: IO[bytes], *, size: int = _HEAD, from_end: bool = False) -> bytes:
    """Some bytes of the file, leaving its position where it was (a later reader starts from there)."""
    position = upload.tell() if hasattr(upload, "tell") else 0
    try:
        if from_end:
            total = getattr(upload, "size", None)
            if total is None:
                upload.seek(0, 2)
                total = upload.tell()
            upload.seek(max(total - size, 0))
        else:
            upload.seek(0)
        return upload.read(size) or b""
    finally:
        upload.seek(position)


def validate_size(upload: Any, *, limit: int | None = None) -> None:
    """Refuse a file above `limit` bytes (MAX_UPLOAD_SIZE unless said), naming both sizes."""
    limit = settings.MAX_UPLOAD_SIZE if limit is None else limit
    size = getattr(upload, "size", 0) or 0
    if size > limit:
        raise ValidationError(_("The file is too large (%(size)s); the limit is %(limit)s."), code="too_large",
                              params={"size": filesizeformat(size), "limit": filesizeformat(limit)})


def validate_pdf(upload: Any) -> None:
    """A scan of a signed document: a PDF by its own bytes, within MAX_UPLOAD_SIZE.

    The ``%PDF-`` signature opens the file and the ``%%EOF`` marker closes it; a web page, a picture or a
    program renamed to ``.pdf`` has neither. Cheap enough for a 20 MB scan: only the ends are read.
    """
    if not _is_new(upload):
        return
    validate_size(upload)
    if not getattr(upload, "size", 0):
        raise ValidationError(_("The file is empty; send the scan as a PDF file."), code="empty")
    if not _peek(upload, size=5).startswith(b"%PDF-") or b"%%EOF" not in _peek(upload, size=_PDF_TAIL,
                                                                                from_end=True):
        raise ValidationError(_("The file is not a PDF document (whatever its name says); send the scan as a PDF "
                                "file."), code="not_pdf")


def validate_image(upload: Any, *, limit: int | None = None) -> str:
    """A photo: JPEG, PNG or WebP that Pillow opens and verifies, within `limit` (MAX_PHOTO_SIZE).

    Returns the stored extension of its format. Pillow reads only the image's structure here, not its
    pixels, so a decompression bomb is not unpacked.
    """
    validate_size(upload, limit=settings.MAX_PHOTO_SIZE if limit is None else limit)
    position = upload.tell() if hasattr(upload, "tell") else 0
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValidationError(_("The file is not an image the service can read; send a photo as JPEG, PNG or "
                                "WebP."), code="not_image") from exc
    finally:
        upload.seek(position)
    if image_format not in IMAGE_FORMATS:
        raise ValidationError(_("Send the photo as JPEG, PNG or WebP."), code="image_format")
    return IMAGE_FORMATS[image_format]


def detect_extension(content: Any, *, text: str = "txt") -> str:
    """The extension a file's first bytes call for: pdf, png, jpg, webp, xlsx; `text` for text; else bin.

    `content` is an open file, a FieldFile being saved (whose upload is read, never the storage) or bytes.
    """
    if isinstance(content, bytes):
        head = content[:_HEAD]
    else:
        upload = getattr(content, "_file", content)  # a FieldFile being saved holds the upload in _file
        if upload is None or not hasattr(upload, "read"):
            return "bin"
        try:
            head = _peek(upload)
        except (OSError, ValueError):
            return "bin"
    for signature, extension in _SIGNATURES:
        if head.startswith(signature):
            return extension
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head and b"\x00" not in head:
        for encoding in ("utf-8", "cp1250"):
            try:
                head.decode(encoding)
            except UnicodeDecodeError as exc:
                if exc.start >= len(head) - 3:  # a character cut by the end of the head
                    return text
                continue
            return text
    return "bin"


def safe_filename(name: str, *, extension: str, default: str = "file") -> str:
    """A client's file name made safe to store and to send: the last path part only, ASCII letters,
    digits, ``-`` and ``_``, at most 80 characters, and `extension` in place of whatever it had.

    ``..\\..\\umowa Łódź.pdf.exe`` with extension ``pdf`` becomes ``umowa-Lodz-pdf.pdf``.
    """
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base.strip(".") else base
    stem = unicodedata.normalize("NFKD", stem.translate(_UNDECOMPOSED)).encode("ascii", "ignore").decode("ascii")
    stem = _UNSAFE.sub("-", stem).strip("-_")[:80].strip("-_") or default
    return f"{stem}.{extension}"


def stored_name(filename: str, content: Any, *, default: str = "file", text: str = "txt") -> str:
    """The name an upload is stored under: `safe_filename` with the extension its content calls for."""
    return safe_filename(filename, extension=detect_extension(content, text=text), default=default)


def private_file_response(file: IO[bytes], *, filename: str, content_type: str | None = None) -> FileResponse:
    """A kept file, sent as a download a browser will neither render nor sniff, nor a proxy keep.

    The content type comes from the stored name's extension through `CONTENT_TYPES` (or is given), so
    a file is never served as HTML, whatever it holds; the name is made safe for the header. `file` is
    streamed, never read whole first: open it with `core.storage.open_stream`.
    """
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    filename = safe_filename(filename, extension=extension)
    response = FileResponse(file, as_attachment=True, filename=filename,
                            content_type=content_type or CONTENT_TYPES.get(extension, _OCTET_STREAM))
    size = getattr(file, "size", None)
    if "Content-Length" not in response and isinstance(size, int):
        response["Content-Length"] = size  # a stream from S3 cannot be measured by seeking (core.storage)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
