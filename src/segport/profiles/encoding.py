"""Finding a text file's encoding, and turning it into clean UTF-8 for DuckDB.

DuckDB reads UTF-8 (and validates it); spreadsheet exports are often Windows-1252 or
UTF-16. One streaming pass over the whole file gathers the evidence: a UTF-16 byte-order
mark decides at once (as do the NUL bytes of UTF-16 written without one); otherwise the
file is cut into blocks of whole lines, each checked by Python's UTF-8 decoder (fast, in
C), and only blocks that fail are looked at line by line. A file whose non-ASCII text is
mostly valid UTF-8 is UTF-8, and its few invalid lines are reported (and cleaned); a file
where UTF-8 does not explain the non-ASCII bytes is Windows-1252 when every byte is
defined there, else Latin-1 (which decodes anything).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from segport.profiles.errors import ProfileError

CHUNK = 1 << 20
KEEP_BAD_LINES = 100_000  # invalid lines kept for the report; all are counted
REPLACEMENT = "\ufffd"  # what an invalid byte becomes in the cleaned copy
_BAD_LINE = re.compile("\ufffd[^\n]*")


@dataclass(frozen=True)
class BadBytes:
    """A line whose bytes are not valid in the file's encoding."""

    line: int
    column: int  # 1-based byte position in the line of the first invalid byte
    byte: int
    text: str  # the line, decoded with replacement characters


@dataclass
class EncodingScan:
    encoding: str  # utf-8, utf-16 (-le/-be without a byte-order mark), cp1252 or latin-1
    bad: list[BadBytes] = field(default_factory=list)  # UTF-8 files only
    bad_total: int = 0


def line_blocks(path: Path) -> Iterator[tuple[int, bytes]]:
    """(number of the block's first line, block): the file in blocks of whole lines."""
    line = 1
    carry = b""
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                carry = data  # a line longer than a chunk: keep reading
                continue
            block, carry = data[:cut], data[cut:]
            yield line, block
            line += block.count(b"\n")
    if carry:
        yield line, carry


def _lines(block: bytes) -> list[bytes]:
    """The block's lines without their newlines (numbered as ``line_blocks`` counts)."""
    parts = block.split(b"\n")
    if parts and not parts[-1]:
        parts.pop()
    return parts


def _first_bad(raw: bytes, encoding: str) -> UnicodeDecodeError | None:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as exc:
        return exc
    return None


def _bad_line(number: int, raw: bytes, exc: UnicodeDecodeError) -> BadBytes:
    text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
    return BadBytes(
        number, exc.start + 1, raw[exc.start], text if len(text) <= 200 else text[:197] + "..."
    )


def scan(path: Path) -> EncodingScan:
    """Decide the encoding of the file at ``path`` on evidence from all of it."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return EncodingScan("utf-16")
    if bom_less := _utf16_without_bom(head):
        return EncodingScan(bom_less)
    result = EncodingScan("utf-8")
    multibyte = 0  # bytes beyond the first of valid non-ASCII characters: UTF-8 evidence
    for first, block in line_blocks(path):
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError:
            # No exception per line: invalid bytes become U+FFFD (never swallowing a
            # newline, so text lines and byte lines stay aligned).
            text = block.decode("utf-8", errors="replace")
            replaced = text.count(REPLACEMENT)
            multibyte += len(text.encode("utf-8")) - len(text) - 2 * replaced
            if len(result.bad) >= KEEP_BAD_LINES:
                result.bad_total += len(_BAD_LINE.findall(text))  # one match per line
                continue
            raw_lines = block.split(b"\n")
            for offset, line_text in enumerate(text.split("\n")):
                if REPLACEMENT not in line_text:
                    continue
                result.bad_total += 1
                if len(result.bad) < KEEP_BAD_LINES:
                    raw = raw_lines[offset]
                    exc = _first_bad(raw, "utf-8")
                    if exc is not None:
                        result.bad.append(_bad_line(first + offset, raw, exc))
        else:
            multibyte += len(block) - len(text)
    # Valid multi-byte characters almost never happen by chance in a legacy file, and
    # invalid bytes are rare in a real UTF-8 one: the majority decides.
    if result.bad_total and multibyte < result.bad_total:
        legacy = "cp1252" if _decodes(path, "cp1252") else "latin-1"
        return EncodingScan(legacy)
    return result


def _utf16_without_bom(head: bytes) -> str | None:
    """``utf-16-le``/``-be`` for text written as UTF-16 without a byte-order mark.

    Such a file is valid UTF-8 (its NUL bytes are ASCII), and read so every header name
    holds NULs. Text files hold no NUL; in UTF-16 of mostly Latin text every other byte is
    one, at odd offsets (little-endian) or even ones (big-endian).
    """
    pairs = len(head) // 2
    if pairs < 4:
        return None
    odd = head[1 : 2 * pairs : 2].count(0)
    even = head[0 : 2 * pairs : 2].count(0)
    if odd >= pairs * 0.6 and even == 0:
        return "utf-16-le"
    if even >= pairs * 0.6 and odd == 0:
        return "utf-16-be"
    return None


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as fh:
        try:
            while chunk := fh.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def check_decodes(path: Path, encoding: str, *, shown: Path | None = None) -> None:
    """Refuse a file that is not valid ``encoding``, naming the first bad line and byte
    (and the file as ``shown``, when ``path`` is a decompressed copy of it)."""
    name = shown or path
    if encoding in ("utf-16", "utf-32") or encoding.startswith(("utf-16", "utf-32")):
        try:
            if _decodes(path, encoding):
                return
        except LookupError:  # pragma: no cover - the name was checked before
            return
        raise ProfileError(
            f"{name} is not readable as {encoding}; let segport detect the encoding, or "
            "give the one the file was written in",
            code="encoding_wrong",
            field="encoding",
        )
    for first, block in line_blocks(path):
        if _first_bad(block, encoding) is None:
            continue
        for offset, raw in enumerate(_lines(block)):
            exc = _first_bad(raw, encoding)
            if exc is not None:
                bad = _bad_line(first + offset, raw, exc)
                raise ProfileError(
                    f"{name} is not valid {encoding}: line {bad.line}, byte {bad.column} is "
                    f"0x{bad.byte:02x} ({bad.text!r}). Let segport detect the encoding (it "
                    "reports a few bad lines and loads the rest), or give the one the file was "
                    "written in (e.g. cp1252)",
                    code="encoding_wrong",
                    field="encoding",
                )


def transcode(source: Path, encoding: str, target: Path) -> None:
    """Write ``source`` (in ``encoding``) to ``target`` as UTF-8, streaming.

    For UTF-8 itself, invalid bytes become U+FFFD (the scan reported their lines).
    """
    errors = "replace" if codecs.lookup(encoding).name == "utf-8" else "strict"
    decoder = codecs.getincrementaldecoder(encoding)(errors)
    with source.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(CHUNK):
            dst.write(decoder.decode(chunk))
        dst.write(decoder.decode(b"", final=True))
