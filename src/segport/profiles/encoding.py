"""Finding a text file's encoding, and turning non-UTF-8 files into UTF-8 for DuckDB.

DuckDB reads UTF-8 (and validates it); spreadsheet exports are often Windows-1252 or
UTF-16. A streaming pass decides: a UTF-16 or UTF-8 byte-order mark, else valid UTF-8,
else Windows-1252 when every byte is defined there, else Latin-1 (which decodes anything).
"""

from __future__ import annotations

import codecs
from pathlib import Path

CHUNK = 1 << 20


def detect_encoding(path: Path) -> str:
    """``utf-8``, ``utf-16``, ``cp1252`` or ``latin-1`` for the file at ``path``."""
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        fh.seek(0)
        if _decodes(fh, "utf-8"):
            return "utf-8"
        fh.seek(0)
        if _decodes(fh, "cp1252"):
            return "cp1252"
    return "latin-1"


def _decodes(fh: object, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    read = fh.read  # type: ignore[attr-defined]
    try:
        while chunk := read(CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def transcode(source: Path, encoding: str, target: Path) -> None:
    """Write ``source`` (in ``encoding``) to ``target`` as UTF-8, streaming."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with source.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(CHUNK):
            dst.write(decoder.decode(chunk))
        dst.write(decoder.decode(b"", final=True))
