"""The columns of an import file, checked a whole column at a time with pyarrow.

The import worker's fast loop (import_rows.RowImporter._apply) applies the rows these
checks clear; every other row goes to `resolve`, the reference for Brevo's rules.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import setitem
from typing import TYPE_CHECKING, Any

from segport.brevo.sandbox.values import (
    EMAIL_RE,
    Coercer,
    normalize_sms,
    normalize_sms_column,
)

if TYPE_CHECKING:
    import pyarrow as pa


def check_columns(
    table: pa.Table,
    header: list[str],
    coercers: dict[str, Coercer | None],
    erase_blanks: bool,
    fast: bool = True,
) -> Columns:
    """Check whole columns at once: which rows may take the fast loop, their emails,
    numbers and attribute values. `coercers` maps the account's settable attributes to
    their coercer (None for text); `erase_blanks` is the job's emptyContactsAttributes;
    with `fast` False (or a file the fast loop does not handle) every row goes to `resolve`.
    """
    import pyarrow.compute as pc

    idx = {name: i for i, name in enumerate(header)}
    e_i, s_i, x_i = idx.get("EMAIL"), idx.get("SMS"), idx.get("EXT_ID")
    plan = [(i, n, coercers[n]) for i, n in enumerate(header) if n in coercers]
    cols = Columns(table, e_i, s_i, x_i, plan, [None] * table.num_rows)
    if not fast or e_i is None or x_i is not None:
        return cols  # (files without emails, or with EXT_ID, are rare)
    email = table.column(e_i)
    valid = pc.and_(
        pc.match_substring_regex(email, f"^(?:{EMAIL_RE.pattern})$"),
        pc.less_equal(pc.utf8_length(email), 254),
    )
    # (str.lower on Python strings costs less than Arrow's lower and if_else)
    cols.emails = list(map(str.lower, email.to_pylist()))
    slow: list[int] = pc.indices_nonzero(pc.invert(valid)).to_pylist()  # to `resolve`
    if s_i is not None:
        cols.sms, others = normalize_sms_column(table.column(s_i))
        raw = table.column(s_i).take(others).to_pylist() if others else []
        for i, cell in zip(others, raw, strict=True):
            cols.sms[i] = normalize_sms(cell)
            if cols.sms[i] is None:
                slow.append(i)  # invalid, or blank: reported or erased by `resolve`
    for i, key, coerce in plan:
        values = table.column(i).to_pylist()
        keep: list[bool] | None = None
        if not all(values) or any(map(str.isspace, values)):  # an empty or blank cell
            keep = [v != "" and not v.isspace() for v in values]
            if erase_blanks:  # erasing a value is left to `resolve`
                slow.extend(r for r, kept in enumerate(keep) if not kept)
        cols.attrs.append((key, values, keep, coerce))
    for r in slow:
        cols.emails[r] = None
    cols.fast = True
    return cols


@dataclass
class Columns:
    """One file's parsed columns, checked as a whole (see check_columns)."""

    table: pa.Table
    e_i: int | None
    s_i: int | None
    x_i: int | None
    plan: list[tuple[int, str, Coercer | None]]  # attribute columns: position, name, coercer
    emails: list[str | None]  # lower-cased, or None: the row goes to `resolve`
    sms: list[str | None] | None = None  # normalised numbers (None: empty cell)
    # attribute columns: name, cells, which cells to set (None: all), coercer (None: text)
    attrs: list[tuple[str, list[str], list[bool] | None, Coercer | None]] = field(
        default_factory=list
    )
    fast: bool = False
    slow_rows: set[int] = field(default_factory=set)  # rows the fast loop left to `resolve`
    _rows: dict[str, dict[str | None, list[int]]] = field(default_factory=dict)

    def fast_row(self, kind: str, value: str, n: int) -> int | None:
        """The row before n that the fast loop applied with this email or number, if any.

        (At most one row of the fast loop has a given email or number: a later row with
        it finds the contact the first one touched, or the number taken, and goes to
        `resolve`.)
        """
        rows = self._rows.get(kind)
        if rows is None:  # built on the first question: most files never ask
            rows = {}
            values = self.emails if kind == "email" else self.sms or []
            # (rows whose email is None never reach the fast loop; `values` is empty for
            # numbers when the file has no SMS column)
            numbers = range(2, len(self.emails) + 2)
            for r, email, v in zip(numbers, self.emails, values, strict=False):
                if email is not None:
                    rows.setdefault(v, []).append(r)
            self._rows[kind] = rows
        for r in rows.get(value, ()):
            if r >= n:
                break
            if r not in self.slow_rows:
                return r
        return None


def attr_dicts(cols: Columns, start: int, stop: int) -> list[dict[str, Any]]:
    """Each row's attributes (non-blank cells, typed values that fit), built a column at a
    time: a C-level loop per column costs about half as much as one dict per row."""
    dicts: list[dict[str, Any]] = [{} for _ in range(stop - start)]
    for key, values, keep, coerce in cols.attrs:
        cells: Iterable[str] = values[start:stop]
        targets: Iterable[dict[str, Any]] = dicts
        if keep is not None:
            mask = keep[start:stop]
            cells, targets = compress(cells, mask), compress(dicts, mask)
        if coerce is None:
            deque(map(setitem, targets, repeat(key), cells), maxlen=0)
            continue
        for attrs, v in zip(targets, cells, strict=True):
            # a value that does not fit the type is ignored, as Brevo does
            with contextlib.suppress(ValueError, TypeError):
                attrs[key] = coerce(v)
    return dicts


def raw_rows(table: pa.Table, start: int, stop: int) -> list[tuple[str, ...]]:
    columns = [c.slice(start, stop - start).to_pylist() for c in table.columns]
    return list(zip(*columns, strict=True))


def read_table(text: str, width: int) -> pa.Table:
    """The data rows of a semicolon CSV as `width` string columns (short rows padded with
    empty cells).

    pyarrow's parser is about three times faster than the csv module on large files; the
    csv module takes over for what pyarrow refuses (e.g. rows of uneven width).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [f"f{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(text.encode("utf-8")),
            # (one thread: the parallel reader costs more CPU, on a machine shared with the
            # export that sends the rows, for no shorter wall time at 8 MB)
            read_options=pacsv.ReadOptions(skip_rows=1, column_names=names, use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=";", newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        table = None
    if table is not None and table.num_columns == width:
        return table
    reader = csv.reader(io.StringIO(text), delimiter=";")
    next(reader, None)
    rows = [(cells + [""] * width)[:width] for cells in reader if cells]
    columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in names]
    return pa.table([pa.array(c, pa.string()) for c in columns], names=names)
