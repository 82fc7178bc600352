"""The export's current contacts follow the duplicate rule (docs/contacts.md, "Duplicates")
exactly, whether rebuilt from scratch or patched group by group after some customers
changed. The rule is written out below in plain Python, apart from the SQL it checks."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from segport.contacts.rejects import REJECT_SCHEMA
from segport.exports.current import EMAIL_KEPT, SMS_KEPT, refresh_current
from segport.exports.plan import REAL, build_plan
from segport.exports.stage import Prepared, prepare_changed, reset_prepared, stage_members
from segport.exports.state import ExportState

Row = tuple[str, str | None, int | None]
row = st.tuples(
    st.sampled_from(["a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io"]),
    st.one_of(st.none(), st.sampled_from(["+447911000001", "+447911000002", "+3361"])),
    st.one_of(st.none(), st.integers(0, 3)),
)
# Each step: the profiles present (customer id -> row); ids missing from a step left.
steps = st.lists(st.dictionaries(st.integers(0, 12), row, max_size=12), min_size=1, max_size=4)


class Members:
    def __init__(self, rows: dict[int, Row]) -> None:
        self.rows = rows

    @property
    def id_column(self) -> str:
        return "id"

    def count(self) -> int:
        return len(self.rows)

    def batches(self, columns: Sequence[str], batch_size: int) -> Iterator[pa.RecordBatch]:
        ids = sorted(self.rows)
        yield pa.RecordBatch.from_pydict(
            {
                "id": pa.array(ids, pa.int64()),
                "email": [self.rows[i][0] for i in ids],
                "phone": pa.array([self.rows[i][1] for i in ids], pa.string()),
                "updated": pa.array([self.rows[i][2] for i in ids], pa.int64()),
            }
        )


def prepare(batch: pa.RecordBatch) -> Prepared:
    contacts = pa.table(
        {
            "_customer_id": batch.column("id"),
            "EMAIL": batch.column("email"),
            "FIRSTNAME": pa.array([f"n{i}" for i in batch.column("id").to_pylist()]),
            "SMS": batch.column("phone"),
            "_updated_at": batch.column("updated"),
        }
    )
    return Prepared(contacts, REJECT_SCHEMA.empty_table(), batch.num_rows)


Contact = tuple[int, str, str | None]  # customer id, email, SMS as sent
Reject = tuple[str, str, str, str]  # customer id, field, reason, detail


def rank(rows: dict[int, Row], cid: int) -> tuple[bool, int, int]:
    """Most recently updated first, no date last; then the smallest customer id."""
    updated = rows[cid][2]
    return (updated is None, -(updated or 0), cid)


def the_rule(rows: dict[int, Row]) -> tuple[list[Contact], list[Reject]]:
    """One contact per email (the best-ranked), then among those one holder per number."""
    rejects: list[Reject] = []
    by_email: dict[str, list[int]] = {}
    for cid in rows:
        by_email.setdefault(rows[cid][0], []).append(cid)
    kept: dict[int, str | None] = {}
    for group in by_email.values():
        best, *others = sorted(group, key=lambda c: rank(rows, c))
        kept[best] = rows[best][1]
        rejects += [(str(c), "EMAIL", "email_duplicate", f"{EMAIL_KEPT}{best}") for c in others]
    by_sms: dict[str, list[int]] = {}
    for cid, sms in kept.items():
        if sms is not None:
            by_sms.setdefault(sms, []).append(cid)
    for group in by_sms.values():
        best, *others = sorted(group, key=lambda c: rank(rows, c))
        for c in others:
            kept[c] = None
            rejects.append((str(c), "SMS", "sms_duplicate", f"{SMS_KEPT}{best}"))
    contacts = [(cid, rows[cid][0], kept[cid]) for cid in sorted(kept)]
    return contacts, sorted(rejects)


def check_steps(history: list[dict[int, Row]], rebuild_share: float) -> None:
    folder = Path(tempfile.mkdtemp())
    with ExportState(folder / "s.duckdb") as state:
        for step, rows in enumerate(history):
            source = Members(rows)
            reset_prepared(state, "cfg")
            staged, _ = stage_members(
                state,
                source,
                ["email", "phone", "updated"],
                batch_size=100,
                progress=lambda e: None,
                total=None,
            )
            changed = prepare_changed(state, staged, prepare, progress=lambda e: None)
            how = refresh_current(
                state,
                ["FIRSTNAME", "SMS"],
                changed=changed,
                members=staged,
                rebuild_share=rebuild_share,
            )
            if step == 0:
                assert how == "rebuilt"
            elif rebuild_share == 0.0:
                assert how == ("unchanged" if changed == 0 else "rebuilt")
            elif changed is not None and changed <= rebuild_share * max(staged, 1):
                assert how == ("patched" if changed else "unchanged")
            counts = build_plan(
                state,
                REAL,
                members=staged,
                attribute_columns=["FIRSTNAME", "SMS"],
                full=True,
                mirror=False,
                allow_mass_removal=False,
            )
            got = state.con.execute(
                "SELECT CAST(_customer_id AS BIGINT), EMAIL, SMS FROM plan_send ORDER BY 1"
            ).fetchall()
            got_rejects = sorted(
                state.con.execute(
                    "SELECT customer_id, field, reason, detail FROM scratch.plan_rejects"
                ).fetchall()
            )
            want, want_rejects = the_rule(rows)
            assert got == want
            assert got_rejects == want_rejects
            assert counts.valid == len(want)


@settings(max_examples=20, deadline=None)
@given(history=steps)
def test_patched_current_contacts_equal_the_rule(history: list[dict[int, Row]]) -> None:
    check_steps(history, rebuild_share=10.0)  # always patch after the first step


@settings(max_examples=8, deadline=None)
@given(history=steps)
def test_rebuilt_current_contacts_equal_the_rule(history: list[dict[int, Row]]) -> None:
    check_steps(history, rebuild_share=0.0)  # always rebuild
