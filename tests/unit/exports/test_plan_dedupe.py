"""The plan's one-pass duplicate ranking gives exactly what segport.contacts.dedupe gives."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from segport.contacts.dedupe import dedupe_contacts
from segport.exports.plan import REAL, build_plan
from segport.exports.state import ExportState

rows = st.lists(
    st.tuples(
        st.sampled_from(["a@x.io", "b@x.io", "c@x.io", "d@x.io"]),
        st.one_of(st.none(), st.sampled_from(["+447911000001", "+447911000002", "+3361"])),
        st.one_of(st.none(), st.integers(0, 3)),
    ),
    max_size=25,
)


@settings(max_examples=25, deadline=None)
@given(rows=rows)
def test_ranking_matches_the_contacts_rule(rows: list[tuple[str, str | None, int | None]]) -> None:
    folder = Path(tempfile.mkdtemp())
    contacts = pa.table(
        {
            "_customer_id": pa.array(range(len(rows)), pa.int64()),
            "EMAIL": [r[0] for r in rows],
            "FIRSTNAME": [f"n{i}" for i in range(len(rows))],
            "SMS": pa.array([r[1] for r in rows], pa.string()),
            "_updated_at": pa.array([r[2] for r in rows], pa.int64()),
        }
    )
    expected = dedupe_contacts(contacts)
    with ExportState(folder / "s.duckdb") as state:
        state.con.register("c", contacts)
        state.con.execute("CREATE TABLE prep_contacts AS SELECT * FROM c")
        state.con.execute(
            "CREATE TABLE prep_rejects (customer_id VARCHAR, email VARCHAR, field VARCHAR, "
            "reason VARCHAR, detail VARCHAR)"
        )
        counts = build_plan(
            state,
            REAL,
            members=len(rows),
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
    kept = expected.contacts.sort_by("_customer_id")
    want = list(
        zip(
            kept.column("_customer_id").to_pylist(),
            kept.column("EMAIL").to_pylist(),
            kept.column("SMS").to_pylist(),
            strict=True,
        )
    )
    assert got == want
    assert counts.valid == len(want)
    want_rejects = sorted(
        (r["customer_id"], r["field"], r["reason"], r["detail"])
        for r in expected.rejects.to_pylist()
    )
    assert got_rejects == want_rejects
