"""How each contacts-table value is written in an import body: CSV cells and lines.

One place defines the text that is sent (the chunker's, and the attribute coercion's
text form). The body format is Brevo's ``fileBody``: a
semicolon-separated CSV whose first line holds the attribute names.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from segport.contacts._literals import NULL_STR, lit
from segport.contacts.mapping import EMAIL_COLUMN

DELIMITER = ";"
# Quote a cell when it holds the delimiter, a quote or a line break, or starts/ends with
# whitespace (which some CSV readers trim); quotes inside are doubled (RFC 4180).
_NEEDS_QUOTES = r'[;"\r\n]|^\s|\s$'


def format_floats(values: pa.Array) -> pa.StringArray:
    """Shortest round-trip text of each float (``12.5``, ``42``, ``1e+20``); ``-0`` is ``0``."""
    text = values.cast(pa.float64()).cast(pa.string())
    return pc.if_else(pc.equal(text, lit("-0")), lit("0"), text)


def cell_text(values: pa.Array | pa.ChunkedArray) -> pa.StringArray:
    """The text sent for each value of a contacts-table column; null means an empty cell.

    Strings as they are, numbers as their shortest round-trip text, dates as
    ``YYYY-MM-DD``, booleans as ``true``/``false``. Empty strings are empty cells.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    t = values.type
    if pa.types.is_dictionary(t):
        values = values.dictionary_decode()
        t = values.type
    if pa.types.is_boolean(t):
        return pc.if_else(values, lit("true"), lit("false"))
    if pa.types.is_floating(t):
        return format_floats(values)
    if pa.types.is_timestamp(t):
        # whole seconds, in the timestamp's own zone
        seconds = values.cast(pa.timestamp("s", t.tz), safe=False)
        return pc.strftime(seconds, "%Y-%m-%dT%H:%M:%S")
    text = values.cast(pa.string())
    empty = pc.equal(text, lit(""))
    # copying a million strings costs more than looking for an empty one first
    return pc.if_else(empty, NULL_STR, text) if pc.any(empty).as_py() else text


def quote_cells(text: pa.StringArray) -> pa.StringArray:
    """CSV-quote the cells that need it; nulls become empty cells."""
    needs = pc.fill_null(pc.match_substring_regex(text, _NEEDS_QUOTES), lit(False))
    if pc.any(needs).as_py():
        # quote only the few cells that need it, then put them back in place
        doubled = pc.replace_substring(text.filter(needs), '"', '""')
        quoted = pc.binary_join_element_wise(lit('"'), doubled, lit('"'), lit(""))
        text = pc.replace_with_mask(text, needs, quoted)
    return pc.fill_null(text, lit("")) if text.null_count else text


def header_line(attribute_columns: Sequence[str]) -> str:
    """The first line of every body: ``EMAIL;FIRSTNAME;...`` followed by a newline."""
    return DELIMITER.join([EMAIL_COLUMN, *attribute_columns]) + "\n"


def csv_lines(
    contacts: pa.Table | pa.RecordBatch, attribute_columns: Sequence[str]
) -> pa.StringArray:
    """One CSV line per contact (``EMAIL`` then ``attribute_columns``), each ending in ``\\n``."""
    cells = [
        quote_cells(cell_text(contacts.column(name))) for name in (EMAIL_COLUMN, *attribute_columns)
    ]
    # One pass: cells interleaved with delimiters, then the newline each line carries (so
    # any run of lines is one contiguous slice of bytes); the join separator is empty.
    parts: list[pa.Array | pa.Scalar] = []
    for cell in cells:
        parts.extend((cell, lit(DELIMITER)))
    parts[-1] = lit("\n")
    return pc.binary_join_element_wise(*parts, lit(""))


def json_string_sizes(lines: pa.StringArray) -> pa.Int64Array:
    """Bytes each line adds inside a JSON string (orjson escaping: UTF-8 kept as is)."""
    # Escaped characters: " and \\ and \b \t \n \f \r take 2 bytes, other controls 6 (\\u00XX).
    size = pc.binary_length(lines).cast(pa.int64())
    escaped = pc.count_substring_regex(lines, r'[\x00-\x1f"\\]').cast(pa.int64())
    size = pc.add(size, escaped)
    # Only lines with more than their newline escaped can hold a 6-byte one: count those.
    rare = pc.greater(escaped, lit(1))
    if pc.any(rare).as_py():
        six = pc.count_substring_regex(lines.filter(rare), r"[\x00-\x07\x0b\x0e-\x1f]")
        size = pc.replace_with_mask(
            size, rare, pc.add(size.filter(rare), pc.multiply(six.cast(pa.int64()), lit(4)))
        )
    return size
