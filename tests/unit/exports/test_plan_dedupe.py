"""The export's current contacts follow segport.contacts' duplicate rule exactly, whether
rebuilt from scratch or patched group by group after some customers changed."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from segport.contacts.dedupe import dedupe_contacts
from segport.contacts.rejects import REJECT_SCHEMA
from segport.exports.current import refresh_current
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


def expected(rows: dict[int, Row]) -> tuple[list[tuple[int, str, str | None]], list[tuple]]:  # type: ignore[type-arg]
    ids = sorted(rows)
    table = prepare(next(Members(rows).batches([], 0))).contacts if ids else None
    if table is None:
        return [], []
    result = dedupe_contacts(table)
    kept = result.contacts.sort_by("_customer_id")
    contacts = list(
        zip(
            kept.column("_customer_id").to_pylist(),
            kept.column("EMAIL").to_pylist(),
            kept.column("SMS").to_pylist(),
            strict=True,
        )
    )
    rejects = sorted(
        (r["customer_id"], r["field"], r["reason"], r["detail"]) for r in result.rejects.to_pylist()
    )
    return contacts, rejects


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
            want, want_rejects = expected(rows)
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
