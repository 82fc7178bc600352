"""Contacts into ``POST /contacts/import`` bodies (``fileBody`` CSV), cut by measured bytes.

Every chunk's ``fileBody``, once JSON-encoded as a string inside the request, takes
``byte_size`` bytes; ``byte_size + envelope_bytes <= max_bytes`` always holds, where
``envelope_bytes`` reserves room for the rest of the request (``listIds``, flags). Rows keep
their order; each row is in exactly one chunk; chunks are filled greedily across input
tables, so streaming small batches still gives full chunks.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from segport.contacts.cells import csv_lines, header_line, json_string_sizes
from segport.contacts.mapping import EMAIL_COLUMN

DEFAULT_MAX_BYTES = 8_000_000
"""Brevo documents 10 MB for ``fileBody`` and recommends about 8 MB."""
DEFAULT_ENVELOPE_BYTES = 1_024
"""Room kept for the request's other fields: ``{"fileBody":…,"listIds":[…],…flags}``."""


class RowTooLargeError(ValueError):
    """One contact alone does not fit in a body under the limit."""


@dataclass(frozen=True)
class ImportChunk:
    """One import request's worth of contacts.

    ``body`` is the ``fileBody`` text (header line first); ``rows`` holds, in body order,
    ``EMAIL`` and the carried columns (e.g. ``_customer_id`` and a fingerprint) so the
    engine can checkpoint exactly what Brevo accepted. ``byte_size`` is the size of
    ``body`` as a JSON string, quotes included.
    """

    index: int
    body: str
    rows: pa.Table
    byte_size: int

    @property
    def row_count(self) -> int:
        return int(self.rows.num_rows)

    @property
    def emails(self) -> pa.Array:
        return self.rows.column(EMAIL_COLUMN).combine_chunks()


def iter_import_chunks(
    contacts: pa.Table | pa.RecordBatch | Iterable[pa.Table | pa.RecordBatch],
    attribute_columns: Sequence[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    envelope_bytes: int = DEFAULT_ENVELOPE_BYTES,
    carry: Sequence[str] = (),
) -> Iterator[ImportChunk]:
    """Serialise contacts (``EMAIL`` + ``attribute_columns``) into byte-bounded import bodies.

    ``contacts`` is one table/batch or an iterable of them, consumed lazily. ``carry``
    names extra columns copied into each chunk's ``rows``. Raises
    :class:`RowTooLargeError` if a single contact cannot fit.
    """
    header = header_line(attribute_columns)
    header_size = len(orjson.dumps(header))  # includes the two quotes of the JSON string
    budget = max_bytes - envelope_bytes - header_size
    if budget <= 0:
        raise ValueError(
            f"max_bytes={max_bytes} leaves no room for rows after the envelope"
            f" ({envelope_bytes} bytes) and the header ({header_size} bytes)"
        )
    keep = [EMAIL_COLUMN, *carry]
    if isinstance(contacts, pa.Table | pa.RecordBatch):
        contacts = [contacts]

    builder = _ChunkBuilder(header, header_size)
    for part in contacts:
        if part.num_rows == 0:
            continue
        lines = csv_lines(part, attribute_columns)
        sizes = json_string_sizes(lines)
        rows = pa.Table.from_batches([part]) if isinstance(part, pa.RecordBatch) else part
        rows = rows.select(keep)
        cumulative = _running_totals(sizes)
        n = len(sizes)
        position = 0
        while position < n:
            room = budget - builder.size
            # the longest run of rows from `position` that still fits in this chunk
            stop = bisect.bisect_right(cumulative, cumulative[position] + room, lo=position) - 1
            if stop > position:
                builder.add(
                    lines.slice(position, stop - position),
                    rows.slice(position, stop - position),
                    cumulative[stop] - cumulative[position],
                )
                position = stop
            if position < n:
                if builder.empty:
                    email = rows.column(EMAIL_COLUMN)[position].as_py()
                    raise RowTooLargeError(
                        f"the contact {email!r} takes {sizes[position].as_py()} bytes, more"
                        f" than the {budget} bytes a body has for rows; shorten its values"
                    )
                yield builder.emit()
    if not builder.empty:
        yield builder.emit()


def _running_totals(sizes: pa.Array) -> memoryview:
    """[0, s0, s0+s1, ...] as a sequence ``bisect`` can search, without Python ints per row."""
    totals = pc.cumulative_sum(pa.concat_arrays([pa.array([0], pa.int64()), sizes]))
    buffer = totals.buffers()[1]
    return memoryview(buffer).cast("q")[totals.offset : totals.offset + len(totals)]


class _ChunkBuilder:
    """Collects slices of lines and rows until a chunk is full."""

    def __init__(self, header: str, header_size: int) -> None:
        self.header = header
        self.header_size = header_size
        self.index = 0
        self._reset()

    def _reset(self) -> None:
        self.lines: list[pa.Array] = []
        self.rows: list[pa.Table] = []
        self.size = 0

    @property
    def empty(self) -> bool:
        return not self.lines

    def add(self, lines: pa.Array, rows: pa.Table, size: int) -> None:
        self.lines.append(lines)
        self.rows.append(rows)
        self.size += size

    def emit(self) -> ImportChunk:
        chunk = ImportChunk(
            index=self.index,
            body=self.header + "".join(_join(part) for part in self.lines),
            rows=pa.concat_tables(self.rows).combine_chunks(),
            byte_size=self.header_size + self.size,
        )
        self.index += 1
        self._reset()
        return chunk


def _join(lines: pa.Array) -> str:
    """Concatenate a string array's values: one slice of its data buffer, no per-row work."""
    if len(lines) == 0:
        return ""
    offsets_buf, data_buf = lines.buffers()[1], lines.buffers()[2]
    offsets = memoryview(offsets_buf).cast("i")
    first, last = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return bytes(memoryview(data_buf)[first:last]).decode("utf-8")


__all__ = [
    "DEFAULT_ENVELOPE_BYTES",
    "DEFAULT_MAX_BYTES",
    "ImportChunk",
    "RowTooLargeError",
    "iter_import_chunks",
]
