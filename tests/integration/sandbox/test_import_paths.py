"""The import worker's fast loop gives exactly what `resolve` (the reference) gives.

Each case applies the same mixed files (new and existing contacts, duplicate and invalid
emails, invalid, formatted and duplicate numbers, blank cells, unknown and typed
attributes, quoting, ragged rows) to two identical accounts: once the normal way, once
with every row sent through `resolve`. Accounts, indexes, list members and reports must
be identical, row numbers included. Slices are made tiny so that rows left to `resolve`
fall on both sides of slice boundaries.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from segport.brevo.sandbox import import_rows
from segport.brevo.sandbox.import_rows import ImportJob, RowImporter
from segport.brevo.sandbox.records import Attribute
from segport.brevo.sandbox.state import AccountState

TYPED = [
    Attribute("SCORE", "normal", "float"),
    Attribute("VIP", "normal", "boolean"),
    Attribute("BIRTHDAY", "normal", "date"),
]


def _email(rng: random.Random, i: int) -> str:
    kind = rng.random()
    base = f"p{i}@ex{i % 5}.com"
    if kind < 0.70:
        return base
    if kind < 0.78:
        return base.upper()
    if kind < 0.82:
        return f" {base} "
    if kind < 0.86:
        return rng.choice(["not-an-email", "a@b", "x@@y.com", "é@x.com", "a b@c.com"])
    if kind < 0.90:
        return rng.choice(["", "  "])
    if kind < 0.92:
        return "a" * 64 + "@" + ("b" * 60 + ".") * 4 + "com"  # over 254 characters
    return f"q{i}@Other.org"


def _sms(rng: random.Random, j: int) -> str:
    digits = f"447700900{j:03d}"
    kind = rng.random()
    if kind < 0.45:
        return "+" + digits
    if kind < 0.55:
        return "00" + digits
    if kind < 0.60:
        return digits
    if kind < 0.66:
        return f"+44 7700 900{j:03d}"  # formatted: normalised one cell at a time
    if kind < 0.70:
        return rng.choice(["07700900123", "+9991234567", "+4412", "+0044770090012", "abc"])
    if kind < 0.75:
        return rng.choice([" ", "\t"])
    return ""


def _text(rng: random.Random, name: str) -> str:
    kind = rng.random()
    if kind < 0.75:
        return f"{name}{rng.randrange(50)}"
    return rng.choice(["", " ", "\u00a0", " Ann", "Émile", "a;b", 'say "hi"', "x\ny"])


def _cell(value: str) -> str:
    if any(ch in value for ch in ';"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


TYPED_VALUES = {
    "SCORE": ["1.5", "42", "abc", "", " 3 ", "-0.25"],
    "VIP": ["yes", "no", "maybe", "", "TRUE", "0"],
    "BIRTHDAY": ["2020-01-02", "02/01/2020", "bad", "", "2020-02-30"],
    "DOUBLE_OPT-IN": ["Yes", "2", "x", "", "no"],
    "UNKNOWN": ["anything", ""],
    "EXT_ID": ["ext-1", "ext-2", "", "ext-3"],
}


def _body(seed: int, header: list[str], rows: int, pool: int = 2000) -> str:
    rng = random.Random(seed)
    lines = [";".join(header)]
    for _ in range(rows):
        cells = []
        for name in header:
            key = name.upper()
            if key == "EMAIL":
                cells.append(_email(rng, rng.randrange(pool)))
            elif key == "SMS":
                cells.append(_sms(rng, rng.randrange(pool // 2)))
            elif key in TYPED_VALUES:
                cells.append(rng.choice(TYPED_VALUES[key]))
            else:
                cells.append(_text(rng, key.title()))
        lines.append(";".join(_cell(c) for c in cells))
        if rng.random() < 0.01:
            lines.append("")  # blank lines are skipped, and do not count as rows
    return "\n".join(lines) + "\n"


def _account(seed: int) -> tuple[AccountState, int]:
    """An account with typed attributes and contacts, some in the list, with numbers."""
    state = AccountState()
    for attr in TYPED:
        state.attributes[attr.name] = attr
    list_id = state.create_list("target")
    other = state.create_list("other")
    rng = random.Random(seed)
    for i in range(0, 600, 3):
        attrs: dict[str, Any] = {"FIRSTNAME": f"Old{i}", "SCORE": i}
        if i % 2:
            attrs["SMS"] = f"+447700900{(i * 7) % 300:03d}"
        if state.find_contact(f"+447700900{(i * 7) % 300:03d}") is not None:
            attrs.pop("SMS", None)
        state.upsert_contact(
            f"p{i}@ex{i % 5}.com",
            attrs,
            list_ids=[rng.choice([list_id, other])],
            email_blacklisted=i % 11 == 0,
        )
    with state.lock:
        for c in state.contacts.values():
            c.created = c.modified = 0.0
    return state, list_id


def _apply(
    state: AccountState, list_id: int, body: str, fast: bool, now: float, **flags: bool
) -> Any:
    job = ImportJob(process_id=0, list_ids=[list_id], file_body=body, **flags)
    importer = RowImporter(state, job)
    importer.fast_loop = fast
    importer.now = now
    with state.lock:
        for _ in importer.run_csv(body):
            importer.flush_members()
    return job.reports, importer


def _apply_json(
    state: AccountState, list_id: int, items: list[dict[str, Any]], fast: bool, now: float
) -> Any:
    job = ImportJob(process_id=0, list_ids=[list_id], json_body=items)
    importer = RowImporter(state, job)
    importer.fast_loop = fast
    importer.now = now
    with state.lock:
        for _ in importer.run_json(items):
            importer.flush_members()
    return job.reports


def _snapshot(state: AccountState) -> dict[str, Any]:
    contacts = {
        cid: (
            c.email,
            dict(c.attrs),
            # key order too, except SMS: `resolve` sets a new contact's number first,
            # the fast loop last (attribute order carries no meaning in Brevo's answers)
            [k for k in c.attrs if k != "SMS"],
            c.created,
            c.modified,
            c.email_blacklisted,
            c.sms_blacklisted,
            c.ext_id,
        )
        for cid, c in state.contacts.items()
    }
    return {
        "contacts": contacts,
        "by_email": {e: c.id for e, c in state.by_email.items()},
        "by_sms": dict(state.by_sms),
        "by_ext_id": dict(state.by_ext_id),
        "lists": {lid: sorted(lst.members) for lid, lst in state.lists.items()},
        "next_ids": dict(state.next_ids),
    }


HEADERS = [
    ["EMAIL", "FIRSTNAME", "LASTNAME", "SMS"],
    [
        "EMAIL",
        "FIRSTNAME",
        "SMS",
        "SCORE",
        "VIP",
        "BIRTHDAY",
        "DOUBLE_OPT-IN",
        "UNKNOWN",
        "LASTNAME",
    ],
    ["sms", "Email", "firstname"],
    ["EMAIL", "FIRSTNAME"],
    ["EMAIL", "FIRSTNAME", "FIRSTNAME", "SMS"],
    ["EMAIL", "SMS", "EXT_ID", "FIRSTNAME"],
]

FLAGS = [
    {},
    {"empty_attributes": True},
    {"update_existing": False},
    {"email_blacklist": True, "sms_blacklist": True},
]


@pytest.mark.parametrize("flags", FLAGS, ids=lambda f: ",".join(f) or "defaults")
@pytest.mark.parametrize("header", HEADERS, ids=lambda h: ";".join(h))
def test_fast_loop_matches_resolve(
    monkeypatch: pytest.MonkeyPatch, header: list[str], flags: dict[str, bool]
) -> None:
    monkeypatch.setattr(import_rows, "SLICE", 37)
    seed = len(header) * 100 + len(flags)
    # two files in a row: the second updates what the first created
    bodies = [_body(seed, header, 1500), _body(seed + 1, header, 1500)]
    results = []
    for fast in (True, False):
        state, list_id = _account(seed)
        reports = []
        for k, body in enumerate(bodies):
            rep, importer = _apply(state, list_id, body, fast, now=1000.0 + k, **flags)
            reports.append(rep)
            if fast and header == HEADERS[0] and not flags:
                # the guard is only worth something if the fast loop took many rows (the
                # files are made to need many reports: about half the rows do)
                assert 1500 - len(importer.columns.slow_rows) > 400
        results.append((_snapshot(state), reports))
    (fast_state, fast_reports), (ref_state, ref_reports) = results
    assert fast_reports == ref_reports
    for key in ref_state:
        assert fast_state[key] == ref_state[key], key
    assert any(ref_reports), "the files should produce some reports"


def test_fast_loop_matches_resolve_on_ragged_csv(monkeypatch: pytest.MonkeyPatch) -> None:
    """A row of uneven width sends parsing to the csv module; the same checks follow."""
    monkeypatch.setattr(import_rows, "SLICE", 11)
    body = _body(7, HEADERS[0], 400)
    lines = body.split("\n")
    lines[5] = lines[5].rsplit(";", 1)[0]  # one cell short
    body = "\n".join(lines)
    results = []
    for fast in (True, False):
        state, list_id = _account(7)
        reports, _ = _apply(state, list_id, body, fast, now=1000.0)
        results.append((_snapshot(state), reports))
    assert results[0] == results[1]


def test_json_fast_path_matches_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(import_rows, "SLICE", 23)
    rng = random.Random(3)
    items: list[dict[str, Any]] = []
    for _ in range(1500):
        i = rng.randrange(600)
        item: dict[str, Any] = {"email": _email(rng, i)}
        attrs: dict[str, Any] = {"FIRSTNAME": _text(rng, "First")}
        if rng.random() < 0.7:
            attrs["SMS"] = _sms(rng, rng.randrange(300))
        if rng.random() < 0.1:
            attrs["SCORE"] = rng.choice([1, 2.5, "3", "x", None, True])
        if rng.random() < 0.05:
            attrs["lastname"] = rng.choice(["Low", 7, None])
        if rng.random() < 0.05:
            item["ext_id"] = rng.choice(["e1", "e2"])
        if rng.random() < 0.03:
            del item["email"]
        item["attributes"] = attrs if rng.random() > 0.02 else "not a dict"
        items.append(item)
    results = []
    for fast in (True, False):
        state, list_id = _account(3)
        reports = _apply_json(state, list_id, items, fast, now=1000.0)
        results.append((_snapshot(state), reports))
    assert results[0] == results[1]


@pytest.mark.parametrize("erase", [False, True])
def test_blank_cells_without_empty_ones(erase: bool) -> None:
    """A column whose blank cells are all spaces (none empty) is still checked cell by cell."""
    blanks = [" ", "\u2003", "\t"]
    rows = [
        f"p{i}@ex{i % 5}.com;{blanks[i % 3] if i % 2 else 'Ann'};Last{i};+447700900{i:03d}"
        for i in range(60)
    ]
    body = "EMAIL;FIRSTNAME;LASTNAME;SMS\n" + "\n".join(rows) + "\n"
    results = []
    for fast in (True, False):
        state, list_id = _account(5)
        reports, _ = _apply(state, list_id, body, fast, now=1000.0, empty_attributes=erase)
        results.append((_snapshot(state), reports))
    assert results[0] == results[1]


def test_a_number_freed_during_the_file_is_reported_against_the_row_that_took_it() -> None:
    """Row 2 cannot take O's number; row 3 gives O another one; row 4 takes the freed
    number; row 5 must be told "duplicate of row 4" (not of row 2, which never had it)."""
    body = (
        "EMAIL;SMS\n"
        "new@x.com;+447700900001\n"
        "o@x.com;+447700900002\n"
        "new2@x.com;+447700900001\n"
        " n3@x.com ;+447700900001\n"
        "new4@x.com;447700900001\n"
    )
    results = []
    for fast in (True, False):
        state = AccountState()
        list_id = state.create_list("target")
        state.upsert_contact("o@x.com", {"SMS": "+447700900001"})
        with state.lock:
            for c in state.contacts.values():
                c.created = c.modified = 0.0
        reports, _ = _apply(state, list_id, body, fast, now=1000.0)
        results.append((_snapshot(state), reports))
    assert results[0] == results[1]
    phone_report = results[1][1]["duplicate_phone_id"]
    assert phone_report[0].startswith("2;new@x.com;447700900001;already the SMS of contact")
    assert phone_report[1:] == [
        "5;n3@x.com;447700900001;duplicate of row 4",
        "6;new4@x.com;447700900001;duplicate of row 4",
    ]
