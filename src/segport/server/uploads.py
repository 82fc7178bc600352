"""Files uploaded to the server (profiles to load), streamed to a private temporary file
with a size cap: an upload is never held whole in memory, and one over the cap is refused
as soon as it passes it.

Two ways in, one for each face:

- the API's raw request body (``POST /api/v1/profiles/loads``): the ``Content-Type`` says
  the format (``text/csv``, ``application/x-ndjson``, ``application/vnd.apache.parquet``,
  ...), ``Content-Encoding: gzip`` a compressed one;
- the pages' ``multipart/form-data`` form: one file field (its name's suffix says the
  format, as on the command line) and a few short text fields, parsed with
  python-multipart's streaming parser.

The temporary folder is made with ``tempfile.mkdtemp`` (mode 0700, the user's own) and
removed when the load is done, whatever happened.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import unicodedata
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from fastapi import Request

from segport.errors import Invalid

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

MAX_UPLOAD_BYTES = 1 << 30  # 1 GiB: a few million profiles as CSV
MAX_FIELD_BYTES = 4096  # a text field of the upload form (the CSRF token, a table name)
MAX_FIELDS = 20
# Content-Type -> the suffix the loader reads the format from (profiles.loading.FORMATS)
SUFFIX_OF_TYPE = {
    "text/csv": ".csv",
    "text/tab-separated-values": ".tsv",
    "text/plain": ".txt",
    "application/x-ndjson": ".jsonl",
    "application/jsonl": ".jsonl",
    "application/jsonlines": ".jsonl",
    "application/vnd.apache.parquet": ".parquet",
    "application/x-parquet": ".parquet",
}
SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".jsonl", ".ndjson", ".json")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class UploadTooLarge(Invalid):
    default_code = "upload_too_large"


class UploadInvalid(Invalid):
    default_code = "upload_invalid"


def too_large(limit: int) -> UploadTooLarge:
    return UploadTooLarge(
        f"the file is larger than the server takes ({limit:,} bytes): load it with "
        "`segport profiles load` on the server's machine instead",
        field="file",
    )


def _cap(request: Request) -> int:
    limit = MAX_UPLOAD_BYTES
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    return limit


def shown_name(name: str | None, default: str) -> str:
    """An uploaded file's name as the source and the audit keep it: its last part,
    without control characters, at most 200 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(c for c in base if not unicodedata.category(c).startswith("C")).strip()
    return kept[:200] or default


def safe_name(name: str | None, default: str) -> str:
    """An uploaded file's name as it may be kept (no folders, no odd characters)."""
    base = Path((name or "").replace("\\", "/")).name
    cleaned = _SAFE.sub("_", base).strip("._")[:100]
    return cleaned or default


@contextmanager
def private_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="segport-upload-"))  # 0700
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def _copy(chunks: AsyncIterator[bytes], out: IO[bytes], limit: int) -> int:
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        out.write(chunk)
    return size


def body_suffix(content_type: str | None, content_encoding: str | None) -> str:
    """The file suffix a raw body's ``Content-Type`` (and ``Content-Encoding``) stands for."""
    kind = (content_type or "").split(";")[0].strip().lower()
    suffix = SUFFIX_OF_TYPE.get(kind)
    if suffix is None:
        raise UploadInvalid(
            f"send the file as the body with its Content-Type: one of "
            f"{', '.join(SUFFIX_OF_TYPE)} (got {kind or 'none'!r})",
            code="content_type_invalid",
            field="Content-Type",
        )
    encoding = (content_encoding or "identity").strip().lower()
    if encoding == "gzip":
        return suffix + ".gz"
    if encoding != "identity":
        raise UploadInvalid(
            f"the body's Content-Encoding may be gzip or none (got {encoding!r})",
            code="content_encoding_invalid",
            field="Content-Encoding",
        )
    return suffix


async def body_to_file(request: Request, folder: Path, name: str) -> Path:
    """The request's body, written to ``folder/name`` as it arrives (at most the cap)."""
    limit = _cap(request)
    target = folder / name
    with target.open("wb") as out:
        size = await _copy(request.stream(), out, limit)
    if size == 0:
        raise UploadInvalid("the body is empty: send the file as the body", field="file")
    return target


@dataclass
class FormUpload:
    """A posted upload form: its text fields, and the file saved under its own name."""

    fields: dict[str, str] = field(default_factory=dict)
    file: Path | None = None
    filename: str | None = None
    size: int = 0


class _Parts:
    """python-multipart's callbacks: text fields to memory (short), the file to disk."""

    def __init__(self, folder: Path, file_field: str, limit: int) -> None:
        self.folder, self.file_field, self.limit = folder, file_field, limit
        self.form = FormUpload()
        self._headers: dict[bytes, bytes] = {}
        self._header_name = b""
        self._header_value = b""
        self._name: str | None = None
        self._filename: str | None = None
        self._value = b""
        self._out: IO[bytes] | None = None

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._headers, self._value = {}, b""
        self._name = self._filename = None
        if len(self.form.fields) >= MAX_FIELDS:
            raise UploadInvalid("the form has too many fields", code="form_invalid")

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        from python_multipart.multipart import parse_options_header

        _kind, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        raw = options.get(b"filename")
        if raw is not None and self._name == self.file_field:
            if self.form.file is not None:
                raise UploadInvalid("send one file", code="form_invalid", field="file")
            self._filename = raw.decode("utf-8", "replace")
            target = self.folder / safe_name(self._filename, "upload")
            self.form.file, self.form.filename = target, self._filename
            self._out = target.open("wb")

    def _data(self, data: bytes, start: int, end: int) -> None:
        piece = data[start:end]
        if self._out is not None:
            self.form.size += len(piece)
            if self.form.size > self.limit:
                raise too_large(self.limit)
            self._out.write(piece)
            return
        self._value += piece
        if len(self._value) > MAX_FIELD_BYTES:
            raise UploadInvalid("a field of the form is too long", code="form_invalid")

    def _part_end(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
        elif self._name:
            try:
                self.form.fields[self._name] = self._value.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise UploadInvalid("the form could not be read", code="form_invalid") from exc

    def close(self) -> None:
        if self._out is not None:
            self._out.close()


async def form_to_files(request: Request, folder: Path, file_field: str = "file") -> FormUpload:
    """A ``multipart/form-data`` post: its text fields, and the file of ``file_field``
    written to ``folder`` under its own (cleaned) name as it arrives."""
    from python_multipart.exceptions import FormParserError
    from python_multipart.multipart import MultipartParser, parse_options_header

    limit = _cap(request)
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UploadInvalid("the upload form is posted as multipart/form-data", code="form_invalid")
    parts = _Parts(folder, file_field, limit)
    parser = MultipartParser(boundary, parts.callbacks())
    # the whole body, the file's parts and the form's framing: a little over the cap
    budget = limit + 64 * 1024
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > budget:
                raise too_large(limit)
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        raise UploadInvalid("the form could not be read", code="form_invalid") from exc
    finally:
        parts.close()
    return parts.form
