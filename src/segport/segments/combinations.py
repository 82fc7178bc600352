"""Combinations of segments: ``union``, ``intersect`` and ``except``, with parentheses.

``intersect`` binds tighter than ``union`` and ``except`` (as in SQL); all are left
associative. A combination is kept as a small tree of segment names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from segport.segments.rules import RuleError

OPERATORS = ("union", "intersect", "except")
NAME_PATTERN = r"[A-Za-z0-9_][A-Za-z0-9_.\-]*"
_TOKEN = re.compile(rf"\s*(?:(?P<paren>[()])|(?P<name>{NAME_PATTERN}))")


@dataclass(frozen=True)
class SegmentRef:
    name: str


@dataclass(frozen=True)
class SetOp:
    op: str  # union | intersect | except
    left: Combination
    right: Combination


Combination = SegmentRef | SetOp


def parse_combination(text: str) -> Combination:
    tokens: list[tuple[str, int]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            if text[pos:].strip() == "":
                break
            bad = text[pos:].lstrip()[0]
            raise RuleError(f"combination: unexpected {bad!r} at position {pos + 1}")
        tokens.append((m.group("paren") or m.group("name"), m.start(m.lastindex or 0)))
        pos = m.end()
    if not tokens:
        raise RuleError('combination is empty; write e.g. "high_value except churned"')
    i = 0

    def fail(expected: str) -> RuleError:
        found = repr(tokens[i][0]) if i < len(tokens) else "the end"
        where = f" at position {tokens[i][1] + 1}" if i < len(tokens) else ""
        return RuleError(f"combination: expected {expected}{where}, found {found}")

    def word() -> str:
        return tokens[i][0].lower() if i < len(tokens) else ""

    def operand() -> Combination:
        nonlocal i
        if i < len(tokens) and tokens[i][0] == "(":
            i += 1
            node = union_level()
            if word() != ")":
                raise fail("')'")
            i += 1
            return node
        if i >= len(tokens) or tokens[i][0] == ")" or word() in OPERATORS:
            raise fail("a segment name")
        name = tokens[i][0]
        i += 1
        return SegmentRef(name)

    def intersect_level() -> Combination:
        nonlocal i
        node = operand()
        while word() == "intersect":
            i += 1
            node = SetOp("intersect", node, operand())
        return node

    def union_level() -> Combination:
        nonlocal i
        node = intersect_level()
        while word() in ("union", "except"):
            op = word()
            i += 1
            node = SetOp(op, node, intersect_level())
        return node

    tree = union_level()
    if i != len(tokens):
        raise fail("union, intersect or except")
    return tree


def references(node: Combination) -> list[str]:
    """The segment names a combination uses, in order of first appearance."""
    if isinstance(node, SegmentRef):
        return [node.name]
    out = references(node.left)
    out += [n for n in references(node.right) if n not in out]
    return out


def to_text(node: Combination) -> str:
    """The combination as text; parentheses only where precedence needs them."""
    if isinstance(node, SegmentRef):
        return node.name
    prec = _PRECEDENCE[node.op]
    left, right = to_text(node.left), to_text(node.right)
    if isinstance(node.left, SetOp) and _PRECEDENCE[node.left.op] < prec:
        left = f"({left})"
    if isinstance(node.right, SetOp) and _PRECEDENCE[node.right.op] <= prec:
        right = f"({right})"
    return f"{left} {node.op} {right}"


_PRECEDENCE = {"union": 1, "except": 1, "intersect": 2}


def to_tree(node: Combination) -> dict[str, Any]:
    if isinstance(node, SegmentRef):
        return {"segment": node.name}
    return {"op": node.op, "left": to_tree(node.left), "right": to_tree(node.right)}


def from_tree(data: dict[str, Any]) -> Combination:
    if "segment" in data:
        return SegmentRef(str(data["segment"]))
    return SetOp(str(data["op"]), from_tree(data["left"]), from_tree(data["right"]))


def renamed(node: Combination, old: str, new: str) -> Combination:
    if isinstance(node, SegmentRef):
        return SegmentRef(new) if node.name == old else node
    return SetOp(node.op, renamed(node.left, old, new), renamed(node.right, old, new))
