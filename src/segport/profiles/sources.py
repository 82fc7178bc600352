"""The file DuckDB reads: the original, or a clean UTF-8 copy (legacy encodings turned
into UTF-8, invalid UTF-8 bytes into U+FFFD), and for JSON Lines a copy without the lines
that are not JSON objects (each reported)."""

from __future__ import annotations

from array import array
from pathlib import Path

from segport.profiles.encoding import check_decodes, scan, transcode
from segport.profiles.errors import ProfileError
from segport.profiles.problems import KEEP, Problems, RejectedRow


def prepare(
    file: Path, fmt: str, encoding: str | None, tmp: Path, problems: Problems
) -> tuple[Path, str | None]:
    """(the file DuckDB should read, the encoding it was read in); lines with invalid
    bytes join ``problems``."""
    if fmt == "parquet":
        return file, None
    shown = file
    if file.name.lower().endswith(".gz"):
        # Decompressed first, so that a .csv.gz or .jsonl.gz gets the same encoding
        # evidence, bad-line reports and JSON Lines checks as the plain file.
        file = gunzip(file, tmp / f"plain.{fmt}")
    target = tmp / f"utf8.{fmt}"
    if encoding:
        name = codec_name(encoding)
        check_decodes(file, name, shown=shown)
        if name == "utf-8":
            return file, encoding
        transcode(file, name, target)
        return target, encoding
    found = scan(file)
    problems.bad_bytes, problems.bad_bytes_total = found.bad, found.bad_total
    if found.encoding == "utf-8" and not found.bad_total:
        return file, found.encoding
    # Legacy text becomes UTF-8; invalid UTF-8 bytes become U+FFFD, and their cells empty.
    transcode(file, found.encoding, target)
    return target, found.encoding


def gunzip(file: Path, target: Path) -> Path:
    """``file`` decompressed into ``target``, streaming."""
    import gzip
    import shutil
    import zlib

    try:
        with gzip.open(file, "rb") as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    except (OSError, EOFError, zlib.error) as exc:
        raise ProfileError(f"cannot read {file} as gzip: {exc}") from exc
    return target


def codec_name(enc: str) -> str:
    import codecs

    try:
        return codecs.lookup(enc).name
    except LookupError as exc:
        raise ProfileError(
            f"the encoding {enc!r} is not one Python knows",
            code="encoding_unknown",
            field="encoding",
        ) from exc


def clean_jsonl(file: Path, target: Path, problems: Problems) -> tuple[Path, array[int] | None]:
    """The file DuckDB should read, and each of its records' line in ``file`` (None when
    records and lines are the same). Lines that are not JSON objects are reported."""
    import orjson

    excluded: set[int] = set()
    with file.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                excluded.add(number)
                continue
            try:
                value = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                reason = f"not valid JSON: {exc}"
            else:
                if isinstance(value, dict):
                    continue
                reason = "not a JSON object"
            excluded.add(number)
            problems.rejected_total += 1
            if len(problems.rejected) < KEEP:
                problems.rejected.append(RejectedRow(number, reason, snippet(raw)))
    if not excluded:
        return file, None
    lines: array[int] = array("Q")
    with file.open("rb") as src, target.open("wb") as dst:
        for number, raw in enumerate(src, start=1):
            if number not in excluded:
                dst.write(raw if raw.endswith(b"\n") else raw + b"\n")
                lines.append(number)
    return target, lines


def snippet(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
    return text if len(text) <= 200 else text[:197] + "..."
