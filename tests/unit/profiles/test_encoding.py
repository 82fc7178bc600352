"""Deciding a file's encoding on the whole of it (segport.profiles.encoding)."""

from __future__ import annotations

from pathlib import Path

import pytest

from segport.profiles.encoding import CHUNK, check_decodes, scan
from segport.profiles.errors import ProfileError


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    return path


def test_a_few_invalid_bytes_in_utf8_text_keep_it_utf8(tmp_path: Path) -> None:
    lines = [f"{i},José Müller\n".encode() for i in range(5000)]
    lines[4000] = b"4000,Bad\xff\n"
    found = scan(write(tmp_path, b"".join(lines)))
    assert found.encoding == "utf-8"
    assert found.bad_total == 1
    (bad,) = found.bad
    assert (bad.line, bad.column, bad.byte) == (4001, 9, 0xFF)
    assert bad.text == "4000,Bad\ufffd"


def test_legacy_text_is_not_utf8(tmp_path: Path) -> None:
    text = "".join(f"{i},Zoë Müller\n" for i in range(100))
    assert scan(write(tmp_path, text.encode("cp1252"))).encoding == "cp1252"
    assert scan(write(tmp_path, "1,\x81é\n".encode("latin-1"))).encoding == "latin-1"
    assert scan(write(tmp_path, b"1,plain ascii\n")).encoding == "utf-8"


def test_lines_are_counted_across_chunks(tmp_path: Path) -> None:
    # A long line crossing the chunk boundary, then a bad line.
    data = b"a\n" + b"x" * (CHUNK + 10) + b"\n" + "é\n".encode() * 3 + b"\xff\n"
    found = scan(write(tmp_path, data))
    assert found.encoding == "utf-8"
    assert [b.line for b in found.bad] == [6]


def test_a_named_encoding_the_file_does_not_have_names_line_and_byte(tmp_path: Path) -> None:
    path = write(tmp_path, "id,name\n1,Ann\n2,Zoë\n".encode("cp1252"))
    with pytest.raises(ProfileError, match="not valid utf-8: line 3, byte 5 is 0xeb"):
        check_decodes(path, "utf-8")
    check_decodes(path, "cp1252")
