"""Reading a kept file once, from start to end, as it comes from the storage (local disk or S3).

Serving a download, hashing a document for the compliance check or copying a file into a backup reads a
file once. On the local disk `Storage.open` already streams. django-storages' S3 file does not: on its
first read it downloads the whole object into a temporary file so that it can seek, so a 20 MB scan would
be fetched whole before its first byte reaches the browser. `open_stream` reads the object's body as it
arrives instead, with the same FileNotFoundError for a missing file as the local disk.

Code that needs to seek (an imported spreadsheet) keeps using `Storage.open`.
"""
from __future__ import annotations

import sys
from typing import IO, Any

from django.core.files.storage import Storage

__all__ = ["S3Stream", "is_s3", "open_stream"]


def is_s3(storage: Storage) -> bool:
    """Whether `storage` is django-storages' S3 storage.

    Never imports it: boto3 is slow to load, and if the module is not loaded no S3 storage exists.
    """
    module = sys.modules.get("storages.backends.s3")
    return module is not None and isinstance(storage, module.S3Storage)


class S3Stream:
    """An S3 object's body read as it arrives: `read`, `close`, a context manager, `name` and `size`.

    It cannot seek or tell, so Django's FileResponse streams it without trying to measure it; the size
    comes from the object's Content-Length (`private_file_response` sends it).
    """

    def __init__(self, storage: Any, name: str) -> None:
        from botocore.exceptions import ClientError
        from storages.utils import clean_name

        key = storage._normalize_name(clean_name(name))
        try:
            response = storage.connection.meta.client.get_object(Bucket=storage.bucket_name, Key=key)
        except ClientError as error:
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                raise FileNotFoundError(f"File does not exist: {name}") from error
            raise
        self.name = name
        self.size: int = response["ContentLength"]
        self._body = response["Body"]
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        return self._body.read(None if size is None or size < 0 else size)

    def __iter__(self):
        return iter(lambda: self.read(64 * 1024), b"")

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._body.close()

    def __enter__(self) -> S3Stream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_stream(storage: Storage, name: str) -> IO[bytes]:
    """The kept file `name` opened for one reading from its start; FileNotFoundError when it is missing."""
    if is_s3(storage):
        return S3Stream(storage, name)  # type: ignore[return-value]
    return storage.open(name, "rb")
