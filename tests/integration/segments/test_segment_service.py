"""The segment services over a real workspace and DuckDB store: lifecycle and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from segport.brevo.sandbox import SandboxServer
from segport.segments import CombinationCycle, RuleError, SegmentNotFound
from segport.service.access import actor_named
from segport.service.segment_definitions import (
    SegmentError,
    count_segment,
    create_segment,
    delete_segment,
    list_segments,
    preview_segment,
    rename_segment,
    set_state,
    show_segment,
    update_segment,
)
from segport.service.workspace import Workspace


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "the segment name is empty"),
        ("   ", "the segment name is empty"),
        ("has space", "is not allowed"),
        ("-dash", "is not allowed"),
        ("x" * 101, "is not allowed"),
        ("union", "is a word of combinations"),
        ("Except", "is a word of combinations"),
    ],
)
def test_bad_names_are_refused(loaded_workspace: Workspace, name: str, message: str) -> None:
    with pytest.raises(SegmentError, match=message):
        create_segment(loaded_workspace, actor_named(loaded_workspace, None), name, where="is_vip")


def test_exactly_one_definition(loaded_workspace: Workspace) -> None:
    with pytest.raises(SegmentError, match="exactly one of"):
        create_segment(loaded_workspace, actor_named(loaded_workspace, None), "s")
    with pytest.raises(SegmentError, match="exactly one of"):
        create_segment(
            loaded_workspace,
            actor_named(loaded_workspace, None),
            "s",
            where="is_vip",
            combine="a union b",
        )


def test_rules_are_checked_against_the_profile_table(loaded_workspace: Workspace) -> None:
    ws = loaded_workspace
    with pytest.raises(RuleError, match=r"unknown attribute 'contry'.*did you mean 'country'"):
        create_segment(ws, actor_named(ws, None), "s", where="contry = 'GB'")
    with pytest.raises(RuleError, match="orders is number, but 'three' is text"):
        create_segment(ws, actor_named(ws, None), "s", where="orders = 'three'")
    assert list_segments(ws, actor_named(ws, None)) == []


def test_duplicate_names_are_refused(loaded_workspace: Workspace) -> None:
    create_segment(loaded_workspace, actor_named(loaded_workspace, None), "vip", where="is_vip")
    with pytest.raises(SegmentError, match="already exists"):
        create_segment(loaded_workspace, actor_named(loaded_workspace, None), "vip", where="is_vip")


def test_combinations_need_existing_segments_and_no_cycles(loaded_workspace: Workspace) -> None:
    ws = loaded_workspace
    create_segment(ws, actor_named(ws, None), "a", where="country = 'GB'")
    create_segment(ws, actor_named(ws, None), "b", where="is_vip")
    with pytest.raises(SegmentNotFound, match="no segment named 'nope'; the segments are: a, b"):
        create_segment(ws, actor_named(ws, None), "c", combine="a union nope")
    with pytest.raises(CombinationCycle, match="c -> c"):
        create_segment(ws, actor_named(ws, None), "c", combine="a union c")
    create_segment(ws, actor_named(ws, None), "c", combine="a union b")
    create_segment(ws, actor_named(ws, None), "d", combine="c except b")
    with pytest.raises(CombinationCycle, match="c -> d -> c"):
        update_segment(ws, actor_named(ws, None), "c", combine="a union d")
    assert show_segment(ws, actor_named(ws, None), "c").expression == "a union b"


def test_updating_a_part_must_keep_its_combinations_valid(loaded_workspace: Workspace) -> None:
    ws = loaded_workspace
    create_segment(ws, actor_named(ws, None), "a", where="country = 'GB'")
    create_segment(ws, actor_named(ws, None), "c", combine="a union a")
    update_segment(ws, actor_named(ws, None), "a", where="country = 'FR'", description="French")
    info = show_segment(ws, actor_named(ws, None), "a")
    assert (info.expression, info.description, info.used_by) == ("country = 'FR'", "French", ["c"])
    with pytest.raises(SegmentError, match="nothing to change"):
        update_segment(ws, actor_named(ws, None), "a")


def test_lifecycle(loaded_workspace: Workspace) -> None:
    ws = loaded_workspace
    created = create_segment(
        ws,
        actor_named(ws, None),
        "gb",
        where="country = 'gb' ignore case",
        description="UK customers",
    )
    assert (created.state, created.member_count, created.created_by) == ("active", None, "admin")
    n = count_segment(ws, actor_named(ws, None), "gb")
    assert n > 0
    (listed,) = list_segments(ws, actor_named(ws, None))
    assert listed.member_count == n and listed.evaluated_at is not None

    preview = preview_segment(
        ws, actor_named(ws, None), "gb", limit=3, columns=["country", "email"]
    )
    assert preview.columns == ["customer_id", "country", "email"]
    assert preview.num_rows == 3
    assert {c.lower() for c in preview.column("country")} == {"gb"}
    ids = preview.column("customer_id")
    assert ids == sorted(ids)

    assert set_state(ws, actor_named(ws, None), "gb", False).state == "inactive"
    assert set_state(ws, actor_named(ws, None), "gb", True).state == "active"

    create_segment(ws, actor_named(ws, None), "vip_gb", combine="gb intersect gb")
    rename_segment(ws, actor_named(ws, None), "gb", "uk")
    assert show_segment(ws, actor_named(ws, None), "vip_gb").expression == "uk intersect uk"
    with pytest.raises(SegmentNotFound, match="the segments are: uk, vip_gb"):
        show_segment(ws, actor_named(ws, None), "gb")
    with pytest.raises(SegmentError, match="part of combination\\(s\\) vip_gb"):
        delete_segment(ws, actor_named(ws, None), "uk")
    delete_segment(ws, actor_named(ws, None), "vip_gb")
    delete_segment(ws, actor_named(ws, None), "uk")
    assert list_segments(ws, actor_named(ws, None)) == []


def test_refresh_counts_every_segment(loaded_workspace: Workspace) -> None:
    ws = loaded_workspace
    create_segment(ws, actor_named(ws, None), "a", where="orders > 4")
    create_segment(ws, actor_named(ws, None), "b", combine="a except a")
    counts = {
        s.name: s.member_count for s in list_segments(ws, actor_named(ws, None), refresh=True)
    }
    assert counts["b"] == 0 and (counts["a"] or 0) > 0


def test_segments_in_use_by_exports_cannot_be_deleted(
    loaded_workspace: Workspace, sandbox: SandboxServer
) -> None:
    from segport.service import ExportConfig, ExportMapping
    from segport.service.connections import add_connection
    from segport.service.export_configs import add_export, remove_export

    ws = loaded_workspace
    admin = actor_named(ws, None)
    create_segment(ws, admin, "a", where="is_vip")
    add_connection(
        ws, admin, "sandbox", "brevo", sandbox.api_key, agree_privacy=True,
        base_url=sandbox.base_url, verify=True,
    )  # fmt: skip
    list_id = sandbox.state.create_list("Weekly")
    mapping = ExportMapping(email="email", first_name="first_name")
    add_export(ws, admin, ExportConfig("weekly", "sandbox", list_id, ("a",), mapping))

    with pytest.raises(SegmentError, match=r"'a' is used by export\(s\) weekly; remove it"):
        delete_segment(ws, admin, "a")
    assert show_segment(ws, admin, "a").exports == ["weekly"]
    # Once no export sends it, it goes.
    remove_export(ws, admin, "weekly")
    delete_segment(ws, admin, "a")
    assert list_segments(ws, admin) == []


def test_rule_documents_create_segments(loaded_workspace: Workspace, tmp_path: Path) -> None:
    rule = tmp_path / "rule.yaml"
    rule.write_text(
        "any:\n"
        "  - {attribute: country, operator: any_of, values: [GB, FR]}\n"
        "  - {attribute: orders, operator: greater_or_equal, value: 5}\n"
    )
    info = create_segment(
        loaded_workspace, actor_named(loaded_workspace, None), "doc", rule_file=rule
    )
    assert info.expression == "country in ('GB', 'FR') or orders >= 5"
    create_segment(
        loaded_workspace, actor_named(loaded_workspace, None), "txt", where=info.expression
    )
    assert count_segment(
        loaded_workspace, actor_named(loaded_workspace, None), "doc"
    ) == count_segment(loaded_workspace, actor_named(loaded_workspace, None), "txt")


def test_segments_need_profiles_first(tmp_path: Path) -> None:
    from segport.profiles import ProfilesNotLoaded
    from segport.service.opening import init_workspace

    ws = init_workspace(tmp_path / "empty")
    try:
        with pytest.raises(ProfilesNotLoaded, match="no profiles yet: load a file"):
            create_segment(ws, actor_named(ws, None), "a", where="x = 1")
    finally:
        ws.close()


def test_segments_on_sqlite_and_postgresql_metadata(
    workspace: Workspace, profiles_parquet: Path
) -> None:
    """The `workspace` fixture runs this once with SQLite and once with PostgreSQL metadata."""
    from segport.service.profile_source import describe_source, load_profiles

    load_profiles(workspace, actor_named(workspace, None), profiles_parquet)
    assert describe_source(workspace, actor_named(workspace, None)).row_count == 240
    create_segment(
        workspace, actor_named(workspace, None), "a", where="orders > 4", description="many orders"
    )
    create_segment(workspace, actor_named(workspace, None), "b", combine="a except a")
    n = count_segment(workspace, actor_named(workspace, None), "a")
    rename_segment(workspace, actor_named(workspace, None), "a", "many")
    listed = {s.name: s for s in list_segments(workspace, actor_named(workspace, None))}
    assert listed["many"].member_count == n and listed["many"].evaluated_at is not None
    assert listed["b"].expression == "many except many"
    delete_segment(workspace, actor_named(workspace, None), "b")
    assert [s.name for s in list_segments(workspace, actor_named(workspace, None))] == ["many"]
