"""Text from data is made safe for a terminal."""

from __future__ import annotations

import pytest

from segport.cli.text import clean, clean_message, clean_repr


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Zoë O'Neil 🎉", "Zoë O'Neil 🎉"),
        ("\x1b[31mred\x1b[0m", "red"),
        ("\x1b[2J\x1b[Hclear", "clear"),
        ("\x1b]0;OWNED\x07title", "title"),
        ("\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("over\rwrite", "over write"),
        ("two\nlines\r\n", "two lines "),
        ("bell\x07 nul\x00 del\x7f", "bell nul del"),
        ("\x9b31mC1", "C1"),
        ("abc\u202edcba", "abcdcba"),
        ("tab\there", "tab here"),
        ("\x1b", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_clean(raw: object, shown: str) -> None:
    assert clean(raw) == shown


def test_no_control_character_survives() -> None:
    every = "".join(chr(c) for c in range(0x20)) + "".join(chr(c) for c in range(0x7F, 0xA0))
    out = clean(f"a{every}b")
    assert all(ch.isprintable() for ch in out), repr(out)


def test_clean_repr_quotes_the_cleaned_text() -> None:
    assert clean_repr("x\x1b[1my") == "'xy'"


def test_clean_message_keeps_its_lines_and_cleans_each() -> None:
    message = "refused:\n  col\x1b[2J: over\rwrite\x07\nChoices:\r\n  - fix"
    assert clean_message(message) == "refused:\n  col: over write\nChoices: \n  - fix"
