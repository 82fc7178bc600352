"""Which segments and exports read which profile columns, and what a new set of columns
would break for them (a column gone, or its type changed).

``profiles load`` and ``profiles use`` ask this before the new profiles replace the old
ones, so a reload cannot quietly break a segment or an export at run time.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from segport.errors import Conflict
from segport.profiles.errors import ProfileError
from segport.segments.models import RULE, Segment
from segport.service.models import Export


@dataclass(frozen=True)
class Use:
    column: str  # as the segment or export names it
    who: str  # "segment high-value", "export vip-mirror"
    setting: str | None = None  # the export option that names the column
    exact: bool = True  # exports match names exactly; segment rules also ignoring case


@dataclass
class Breakage:
    column: str
    problem: str
    uses: list[Use] = field(default_factory=list)


class SchemaChangeRefused(Conflict, ProfileError):
    """The new profiles would break segments or exports; nothing was changed."""

    default_code = "schema_change_refused"


def column_uses(session: Session) -> list[Use]:
    """Every (column, user) pair: segment rules' attributes and exports' mapped columns."""
    from segport.segments.evaluation import rule_of
    from segport.segments.rules import RuleError, attributes

    uses: list[Use] = []
    for seg in session.scalars(select(Segment).where(Segment.kind == RULE).order_by(Segment.name)):
        try:
            names = attributes(rule_of(seg))
        except RuleError:
            continue  # a stored rule that no longer parses is reported where it is used
        uses += [Use(name, f"segment {seg.name}", exact=False) for name in sorted(names)]
    for e in session.scalars(select(Export).order_by(Export.name)):
        settings = [
            ("email column", e.email_column),
            ("first name column", e.first_name_column),
            ("last name column", e.last_name_column),
            ("phone column", e.phone_column),
            ("phone country column", e.phone_country_column),
            *((f"attribute {attr}", col) for attr, col in (e.attributes or {}).items()),
        ]
        uses += [Use(col, f"export {e.name}", opt) for opt, col in settings if col]
    return uses


def resolve(name: str, columns: Mapping[str, object], exact: bool) -> str | None:
    """The column ``name`` refers to in ``columns``, as its user would find it."""
    if name in columns:
        return name
    if exact:
        return None
    folded = [c for c in columns if c.lower() == name.lower()]
    return folded[0] if len(folded) == 1 else None


def breakages(
    uses: list[Use],
    old: Mapping[str, str],
    new: Mapping[str, str],
    why: Mapping[str, str] | None = None,
) -> list[Breakage]:
    """What replacing columns ``old`` by ``new`` (name -> logical type) breaks.

    Only columns the users find today count: a use already broken is not this load's doing.
    ``why``: column -> what in the new data explains a type change.
    """
    why = why or {}
    found: dict[str, Breakage] = {}
    added = [c for c in new if c not in old]
    for use in uses:
        before = resolve(use.column, old, use.exact)
        if before is None:
            continue
        after = resolve(use.column, new, use.exact)
        if after is None:
            close = difflib.get_close_matches(before, added, n=1, cutoff=0.5) or added[:1]
            hint = f" (the new column {close[0]!r} may be it, renamed)" if close else ""
            problem = f"no longer there{hint}"
        elif old[before] != new[after]:
            problem = f"was {old[before]}, would be {new[after]}"
            if why.get(after):
                problem += f" ({why[after]})"
        else:
            continue
        found.setdefault(before, Breakage(before, problem)).uses.append(use)
    return list(found.values())


def refusal(breaks: list[Breakage], what: str) -> SchemaChangeRefused:
    lines = [f"{what} would break segments or exports, so nothing was changed:"]
    for b in breaks:
        users = ", ".join(u.who + (f" ({u.setting})" if u.setting else "") for u in b.uses)
        lines.append(f"  {b.column}: {b.problem}; used by {users}")
    segs = sorted({u.who.split(" ", 1)[1] for b in breaks for u in b.uses if u.setting is None})
    exps = sorted({u.who.split(" ", 1)[1] for b in breaks for u in b.uses if u.setting})
    lines.append("Choices:")
    lines.append("  - fix the data (the column's name, or its values) and load again;")
    edits = []
    if segs:
        edits.append(f"the rules of the segments {', '.join(segs)}")
    if exps:
        edits.append(f"the data matching of the exports {', '.join(exps)}")
    lines.append(f"  - or change what uses the column first: {' and '.join(edits)};")
    lines.append(
        "  - or allow the schema change (column types are then guessed afresh; the segments "
        "and exports above fail until they are edited)."
    )
    return SchemaChangeRefused("\n".join(lines), field="allow_schema_change")
