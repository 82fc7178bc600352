"""The sandbox's vectorised phone check agrees with normalize_sms, cell by cell."""

from __future__ import annotations

import random

import pyarrow as pa

from segport.brevo.sandbox.values import normalize_sms, normalize_sms_column

TRICKY = [
    "+447700900123",
    "00447700900123",
    "447700900123",
    "+0447700900123",
    "0447700900123",
    "+0044770090012",
    "07700900123",
    "+4412",
    "+999123456789",
    "+1234567",
    "+12345678",
    "+123456789012345",
    "+1234567890123456",
    "001234567",
    "+44 7700 900123",
    "(+44) 7700-900.123",
    "",
    " ",
    "\t",
    "+\u0664\u0664\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668",  # Arabic-Indic digits
    "+1\n2345678",
    "++447700900123",
    "+44770090012a",
    "33612345678",
    "0033612345678",
    "+33 6 12 34 56 78",
]


def _random_cells(n: int) -> list[str]:
    rng = random.Random(11)
    out = []
    for _ in range(n):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randrange(4, 18)))
        prefix = rng.choice(["", "+", "00", "0", "+0", " +"])
        sep = rng.choice(["", "", "", " ", "-", "."])
        if sep:
            digits = sep.join(digits[i : i + 3] for i in range(0, len(digits), 3))
        out.append(prefix + digits)
    return out


def test_column_agrees_with_normalize_sms() -> None:
    cells = TRICKY + _random_cells(5000)
    # several chunks, as pyarrow's CSV reader gives
    column = pa.chunked_array([pa.array(cells[:100]), pa.array(cells[100:])])
    values, others = normalize_sms_column(column)
    assert len(values) == len(cells)
    assert others == sorted(set(others))
    to_check = set(others)
    for i, (cell, value) in enumerate(zip(cells, values, strict=True)):
        if value is not None:
            assert value == normalize_sms(cell), cell
            assert i not in to_check
        elif i in to_check:
            assert cell != "", cell
        else:
            assert cell == "", cell
    # the plain form is the common case: it must not be left to the slow check
    plain = [i for i, c in enumerate(cells) if c in ("+447700900123", "0033612345678")]
    assert plain and all(values[i] is not None for i in plain)
