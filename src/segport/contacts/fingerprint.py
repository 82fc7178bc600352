"""Stable per-contact fingerprints: a hash of exactly what would be sent.

The canonical bytes of a contact are its CSV line as sent (see :mod:`cells`), with the
columns in a canonical order (``EMAIL``, then attribute names sorted), hashed with
BLAKE2b (8-byte digest) salted with the header line. BLAKE2b and the CSV rules are fixed
specifications, so the value is stable across library releases (unlike DuckDB's
``hash()``). A changed value, an added or removed attribute, or a renamed one all change
the fingerprint; reordering the mapping does not. 64 bits suffice: fingerprints are only
compared with the previous fingerprint of the same email.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from segport.contacts._literals import lit
from segport.contacts.cells import DELIMITER, cell_text, csv_lines, header_line, quote_cells

FINGERPRINT_TYPE = pa.int64()


def fingerprints(
    contacts: pa.Table | pa.RecordBatch, attribute_columns: Sequence[str], *, salt: str = ""
) -> pa.Int64Array:
    """One signed 64-bit fingerprint per contact row (``EMAIL`` + ``attribute_columns``).

    ``salt`` lets the engine mix in anything else that changes what Brevo receives
    (nothing by default).
    """
    columns = sorted(attribute_columns)
    lines = csv_lines(contacts, columns)
    return _hash_lines(lines, header_line(columns) + salt)


def row_hashes(
    table: pa.Table | pa.RecordBatch, columns: Sequence[str], *, salt: str = ""
) -> pa.Int64Array:
    """Stable 64-bit hashes of raw profile values (any scalar column types), per row.

    For the engine's "did this profile's raw input change" test, e.g. to reuse earlier
    E.164 numbers; include the phone region in ``salt``. Null and empty string differ.
    """
    parts = []
    for name in columns:
        column = table.column(name)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        # cell_text turns "" into null; mark real nulls so the two stay distinct.
        parts.append(pc.if_else(column.is_null(), lit("\x00"), quote_cells(cell_text(column))))
    if not parts:
        raise ValueError("row_hashes needs at least one column")
    joined = pc.binary_join_element_wise(*parts, lit(DELIMITER))
    return _hash_lines(joined, DELIMITER.join(columns) + "\n" + salt)


def _hash_lines(lines: pa.Array, header: str) -> pa.Int64Array:
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    n = len(lines)
    if n == 0:
        return pa.array([], FINGERPRINT_TYPE)
    salt = hashlib.blake2b(header.encode("utf-8"), digest_size=16).digest()
    buffers = lines.buffers()
    offsets = memoryview(buffers[1]).cast("i")[lines.offset : lines.offset + n + 1].tolist()
    # one copy of the data buffer: slicing bytes is cheaper than slicing a memoryview
    data = buffers[2].to_pybytes() if buffers[2] is not None else b""
    blake = hashlib.blake2b
    pairs = itertools.pairwise(offsets)
    digests = b"".join([blake(data[a:b], digest_size=8, salt=salt).digest() for a, b in pairs])
    # Little-endian signed int64, the same on every platform Arrow supports.
    return pa.Array.from_buffers(FINGERPRINT_TYPE, n, [None, pa.py_buffer(digests)])
