"""What Brevo holds from an export belongs to one target, one mapping and its peers.

``held`` (in the export state) lists per email the contact Brevo holds from this export:
its fingerprint and ``mask``, which of the attribute columns were non-empty when it was
sent (bit ``i mod 64`` for column ``i``; NULL: not known, taken as all of them). Meta keys:

- ``held_target``: the target (connection, account, list) ``held`` describes. When the
  export is moved to another list or account, the new list holds nothing from it: ``held``
  is emptied before the run plans (nothing is removed from the old list).
- ``held_columns``: the attribute columns the masks refer to; a mapping change renumbers
  them (a newly mapped attribute was never sent, so it is never emptied).
- ``held_mapping``: a digest of the mapping the contacts were sent with (for the notes).

Peers are the other exports on the same list: a mirror export never takes a contact out
of the list while a peer holds it (their states are read read-only).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from segport.exports.fingerprint import quote_ident, quote_literal
from segport.exports.state import ExportState, peek_state
from segport.exports.state_tables import (
    HELD,
    HELD_BEFORE,
    PEER_HELD,
    add_new_columns,
    create,
)
from segport.exports.target import ExportTarget

TARGET = "held_target"
COLUMNS = "held_columns"
MAPPING = "held_mapping"
EMPTY_VALUES = "held_empty_values"  # the setting the last plan ran with
BEFORE = HELD_BEFORE  # held of the previous target, while the new one got nothing yet
BEFORE_TARGET = "held_before_target"
BEFORE_COLUMNS = "held_before_columns"
BEFORE_EMPTY = "held_before_empty_values"
MASK_BITS = 64
ALL_BITS = "18446744073709551615::UBIGINT"  # a NULL mask: every column may hold a value


@dataclass(frozen=True)
class HeldView:
    """How a run's plan reads ``held``: ``source`` is a relation (a table name or a
    parenthesised query); ``note`` says what changed since the last run."""

    source: str
    note: str | None = None
    target_changed: bool = False
    sweep: bool = False  # the setting was keep: look for values to empty everywhere


def ensure_mask_column(state: ExportState) -> None:
    add_new_columns(state.con)  # (held.mask, in a state written before masks existed)


def same_target(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Same connection, base URL and list; same account where both are known."""
    keys = ("connection_id", "base_url", "list_id")
    if any(a.get(k) != b.get(k) for k in keys):
        return False
    return a.get("account") is None or b.get("account") is None or a["account"] == b["account"]


def describe_change(old: dict[str, Any], new: dict[str, Any]) -> str:
    parts = []
    if old.get("list_id") != new.get("list_id"):
        parts.append(f"list {old.get('list_id')} -> {new.get('list_id')}")
    if old.get("connection_id") != new.get("connection_id"):
        before = old.get("connection") or f"#{old.get('connection_id')}"
        after = new.get("connection") or f"#{new.get('connection_id')}"
        parts.append(f"connection {before} -> {after}")
    elif old.get("base_url") != new.get("base_url"):
        parts.append(f"base URL {old.get('base_url')} -> {new.get('base_url')}")
    elif old.get("account") != new.get("account"):
        parts.append(f"account {old.get('account')} -> {new.get('account')}")
    return ", ".join(parts) or "target"


def target_note(old: dict[str, Any], new: dict[str, Any], *, ran: bool = False) -> str:
    when = "this run sends" if ran else "the next run sends"
    return (
        f"target changed since the last run ({describe_change(old, new)}): {when} every "
        "member; nothing is removed from the old list"
    )


MAPPING_NOTE = "data matching changed since the last run: {when} every contact whose values differ"


def mask_sql(columns: Sequence[str], prefix: str = "") -> str:
    """SQL for the mask of which ``columns`` of a row are non-empty (as Brevo reads a cell:
    empty or blank is empty). Each term is parenthesised: ``<<`` and ``|`` bind alike."""
    terms = [
        f"((CASE WHEN nullif(trim(CAST({prefix}{quote_ident(c)} AS VARCHAR)), '') IS NULL "
        f"THEN 0 ELSE 1 END)::UBIGINT << {i % MASK_BITS})"
        for i, c in enumerate(columns)
    ]
    return "(" + " | ".join(terms) + ")" if terms else "0::UBIGINT"


def emptied_sql(held_mask: str, now_mask: str) -> str:
    """True where a column held non-empty is empty now."""
    return f"((coalesce({held_mask}, {ALL_BITS}) & ~{now_mask}) <> 0)"


def _remap_sql(old: Sequence[str], new: Sequence[str]) -> str:
    """The mask over ``old`` columns renumbered for ``new`` ones (NULL stays NULL)."""
    where = {c: j for j, c in enumerate(old)}
    terms = [
        f"(((mask >> {where[c] % MASK_BITS}) & 1::UBIGINT) << {i % MASK_BITS})"
        for i, c in enumerate(new)
        if c in where
    ]
    return "(" + " | ".join(terms) + ")" if terms else "0::UBIGINT"


def bind(
    state: ExportState, target: ExportTarget, columns: Sequence[str], *, dry_run: bool
) -> HeldView:
    """Make ``held`` describe ``target`` and ``columns`` before a run plans.

    A real run empties ``held`` when the target changed (the new list holds nothing from
    this export) and renumbers the masks when the columns changed; a dry run changes
    nothing and reads ``held`` as the real run would see it.
    """
    con = state.con
    base = HELD
    if not dry_run:
        ensure_mask_column(state)
    elif not state.has_column(HELD, "mask"):
        base = f"(SELECT *, NULL::UBIGINT AS mask FROM {HELD})"  # (a state older than masks)
    identity = {**target.identity(), "connection": target.config.connection}
    stored = state.get(TARGET)
    has_held = state.held_count() > 0
    # Moved back to the target whose held was set aside, before Brevo took anything from
    # the export on the other one: that list still holds what it held (restored below).
    before = state.get(BEFORE_TARGET)
    back = (
        not has_held
        and isinstance(before, dict)
        and same_target(before, identity)
        and state.table_exists(BEFORE)
    )
    old_columns = state.get(COLUMNS)
    empty_values = state.get(EMPTY_VALUES)
    if back:
        empty_values = state.get(BEFORE_EMPTY)
        base = BEFORE  # (held is empty)
        stored, has_held = before, True
        old_columns = state.get(BEFORE_COLUMNS)
    note: str | None = None
    changed = isinstance(stored, dict) and has_held and not same_target(stored, identity)
    if changed:
        assert isinstance(stored, dict)
        note = target_note(stored, identity, ran=not dry_run)
    elif has_held and state.get(MAPPING) not in (None, target.mapping_digest()):
        note = MAPPING_NOTE.format(when="the next run sends" if dry_run else "this run sends")
    sweep = has_held and not changed and empty_values == "keep" and target.clear_empty
    remap = (
        has_held
        and not changed
        and isinstance(old_columns, list)
        and list(old_columns) != list(columns)
    )
    if dry_run:
        if changed:
            source = f"(SELECT * FROM {base} WHERE false)"
        elif remap:
            assert isinstance(old_columns, list)
            source = f"(SELECT * REPLACE ({_remap_sql(old_columns, columns)} AS mask) FROM {base})"
        else:
            source = base
        return HeldView(source, note, changed, sweep)
    with state.transaction():
        if back:
            con.execute(f"INSERT INTO {HELD} BY NAME SELECT * FROM {BEFORE}")
        if changed or back or (has_held and state.table_exists(BEFORE)):
            # Brevo took something on the new target (or it is restored): drop the aside.
            con.execute(f"DROP TABLE IF EXISTS {BEFORE}")
            state.delete(BEFORE_TARGET)
            state.delete(BEFORE_COLUMNS)
            state.delete(BEFORE_EMPTY)
        if changed:
            # Kept aside until a chunk reaches the new target: moved back before that
            # (a wrong list, a run stopped early), the old list is still this export's.
            con.execute(f"CREATE TABLE {BEFORE} AS SELECT * FROM {HELD}")
            state.set(BEFORE_TARGET, stored)
            state.set(BEFORE_COLUMNS, old_columns)
            state.set(BEFORE_EMPTY, empty_values)
            con.execute(f"DELETE FROM {HELD}")
        elif remap:
            assert isinstance(old_columns, list)
            con.execute(f"UPDATE {HELD} SET mask = {_remap_sql(old_columns, columns)}")
        state.set(TARGET, identity)
        state.set(COLUMNS, list(columns))
        state.set(MAPPING, target.mapping_digest())
        # Going from keep to clear, the sweep is due until a run sent its whole plan
        # (engine): a run killed or failed before that must sweep again.
        state.set(EMPTY_VALUES, "keep" if sweep else target.config.empty_values)
    return HeldView(HELD, note, changed, sweep)


def pending_note(path: Path, identity: dict[str, Any], digest: str) -> str | None:
    """What the next run of the export whose state is at ``path`` will do differently
    because its target or mapping changed (None: nothing, or the state cannot be read now).
    Reads the state read-only."""
    if not path.exists():
        return None
    try:
        held, meta = peek_state(path, [TARGET, MAPPING])
    except duckdb.Error:
        return None  # (a run holds it, or it is damaged: the run will say)
    if not held:
        return None
    stored = meta.get(TARGET)
    if isinstance(stored, dict) and not same_target(stored, identity):
        return target_note(stored, identity)
    old = meta.get(MAPPING)
    if old is not None and old != digest:
        return MAPPING_NOTE.format(when="the next run sends")
    return None


def load_peer_held(state: ExportState, target: ExportTarget) -> str | None:
    """Gather in ``PEER_HELD`` the emails the list's other exports hold on it.

    Returns why removal must wait (a peer's state cannot be read now), or None.
    """
    con = state.con
    create(con, PEER_HELD, replace=True)
    for name in target.busy_peers:
        return (
            f"export {name!r} shares this list and is running now on another worker, so "
            "the contacts it holds cannot be checked; nothing was removed. Run again once "
            "it has finished"
        )
    for i, (name, path, identity) in enumerate(target.list_peers):
        if not Path(path).exists():
            continue
        alias = f"peer_{i}"
        try:
            con.execute(f"ATTACH {quote_literal(path)} AS {alias} (READ_ONLY)")
        except duckdb.Error as exc:
            if "lock" in str(exc).lower():
                return (
                    f"export {name!r} shares this list and is running now (its state is "
                    "locked), so the contacts it holds cannot be checked; nothing was "
                    "removed. Run again once it has finished"
                )
            return (
                f"export {name!r} shares this list and its state cannot be read ({exc}); "
                "nothing was removed"
            )
        try:
            stored = _peer_meta(con, alias, TARGET)
            table = HELD
            if isinstance(stored, dict) and not same_target(stored, identity):
                # It holds nothing on this list yet (moved here, not run since), unless it
                # was moved away and back before sending: then its aside is this list's.
                before = _peer_meta(con, alias, BEFORE_TARGET)
                if not (isinstance(before, dict) and same_target(before, identity)):
                    continue
                sent = con.execute(f"SELECT count(*) FROM {alias}.main.held").fetchall()
                if sent[0][0]:
                    continue  # Brevo took contacts on the other list: the aside is stale
                table = BEFORE
            con.execute(
                f"INSERT INTO {PEER_HELD} SELECT email FROM {alias}.main.{table} "
                "WHERE email IS NOT NULL"
            )
        except duckdb.Error as exc:
            return (
                f"export {name!r} shares this list and its state cannot be read ({exc}); "
                "nothing was removed"
            )
        finally:
            with contextlib.suppress(duckdb.Error):
                con.execute(f"DETACH {alias}")
    return None


def _peer_meta(con: duckdb.DuckDBPyConnection, alias: str, key: str) -> Any:
    import json

    try:
        rows = con.execute(f"SELECT value FROM {alias}.main.meta WHERE key = ?", [key]).fetchall()
    except duckdb.Error:
        return None
    return json.loads(rows[0][0]) if rows else None


def bind_held(
    state: ExportState, target: ExportTarget, mapping: Any, dry_run: bool
) -> tuple[HeldView, str | None]:
    """For the engine: ``held`` bound to the target and mapping (see :func:`bind`), and,
    for a mirror export sharing its list, why removal must wait (None: it may go on)."""
    view = bind(state, target, list(mapping.attribute_columns), dry_run=dry_run)
    blocked = None
    if target.mirror and target.list_peers:
        blocked = load_peer_held(state, target)
    return view, blocked
