from __future__ import annotations

import pyarrow as pa
import pytest

from segport.profiles import open_profile_store
from segport.segments import SegmentNotFound, count_members, get_segment, stream_members
from segport.service.access import actor_named
from segport.service.segment_definitions import create_segment
from segport.service.workspace import Workspace

from .conftest import TODAY, profiles_table


def test_stream_members_is_the_distinct_union_id_first(loaded_workspace: Workspace) -> None:
    ws = loaded_workspace
    create_segment(ws, actor_named(ws, None), "gb", where="country = 'GB' ignore case")
    create_segment(ws, actor_named(ws, None), "rich", where="lifetime_value > 300")
    expected = {
        r["customer_id"]
        for r in profiles_table().to_pylist()
        if (r["country"] or "").lower() == "gb"
        or (r["lifetime_value"] is not None and r["lifetime_value"] > 300)
    }
    with ws.session() as s, open_profile_store(ws.engine, ws.path) as store:
        batches = list(
            stream_members(s, store, ["gb", "rich", "gb"], ["email", "country"], batch_size=16)
        )
        assert count_members(s, store, ["gb", "rich"], today=TODAY) == len(expected)
    assert all(b.num_rows <= 16 for b in batches)
    table = pa.Table.from_batches(batches)
    assert table.column_names == ["customer_id", "email", "country"]
    ids = table.column("customer_id").to_pylist()
    assert len(ids) == len(set(ids))
    assert set(ids) == expected


def test_get_segment_names_the_existing_ones(loaded_workspace: Workspace) -> None:
    create_segment(loaded_workspace, actor_named(loaded_workspace, None), "vip", where="is_vip")
    with loaded_workspace.session() as s:
        assert get_segment(s, "vip").state == "active"
        with pytest.raises(SegmentNotFound, match="the segments are: vip"):
            get_segment(s, "vipp")


def test_store_reports_columns_and_logical_types(loaded_workspace: Workspace) -> None:
    with open_profile_store(loaded_workspace.engine, loaded_workspace.path) as store:
        assert store.dialect == "duckdb"
        assert store.id_column == "customer_id"
        assert store.table == "customers"
        assert store.columns() == {
            "customer_id": "number",
            "email": "text",
            "country": "text",
            "first_name": "text",
            "lifetime_value": "number",
            "orders": "number",
            "last_purchase": "date",
            "signed_up_at": "timestamp",
            "is_vip": "boolean",
            "seen_at": "timestamp",
        }
