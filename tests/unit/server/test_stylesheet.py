"""The pages' stylesheet is well formed: every block it opens closes, and an ``@media``
block holds rules only (a missing ``}`` once put every later rule inside a phone-only
query, so the wide screen lost them and no page test noticed)."""

from __future__ import annotations

import re
from pathlib import Path

import segport.server

CSS = Path(segport.server.__file__).parent / "static" / "pages.css"


def _blocks(text: str) -> list[tuple[int, str]]:
    """(depth, selector) of every block opened, comments removed."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    depth, opened, selector = 0, [], ""
    for char in text:
        if char == "{":
            opened.append((depth, selector.strip()))
            depth += 1
            selector = ""
        elif char == "}":
            depth -= 1
            assert depth >= 0, "a '}' closes nothing"
            selector = ""
        elif char == ";":
            selector = ""
        else:
            selector += char
    assert depth == 0, f"{depth} block(s) left open"
    return opened


def test_every_block_closes_and_media_queries_hold_rules_only() -> None:
    blocks = _blocks(CSS.read_text(encoding="utf-8"))
    assert len(blocks) > 50
    for depth, selector in blocks:
        if depth == 1:
            continue  # a rule inside @media
        assert depth == 0, selector
    nested_media = [s for d, s in blocks if d > 0 and s.startswith("@media")]
    assert nested_media == []


def test_a_missing_brace_is_caught() -> None:
    broken = "@media (max-width: 40rem) {\n  .a { color: red; }\n.b { color: blue; }\n"
    try:
        _blocks(broken)
    except AssertionError as exc:
        assert "left open" in str(exc)
    else:
        raise AssertionError("a block left open was not caught")
