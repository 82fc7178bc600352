"""The member queries' SQL is cached in the workspace between runs; anything the text
depends on makes a new key, so a run always reads the segments as they are now."""

from __future__ import annotations

import json

from tests.integration.exports.conftest import Scenario, profile

from segport.service.member_queries import CACHE_FILE
from segport.service.profile_source import load_profiles
from segport.service.segment_definitions import update_segment


def _entries(s: Scenario) -> dict[str, str]:
    data = json.loads((s.ws.path / CACHE_FILE).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_a_changed_segment_is_read_as_it_is_now(scenario: Scenario) -> None:
    scenario.load([profile(i, city="Leeds" if i <= 5 else "York") for i in range(1, 11)])
    scenario.add_export(mode="mirror")
    first = scenario.run()
    assert first.status == "successful", first.message
    assert first.members == 10
    cached = _entries(scenario)
    assert len(cached) == 2  # the count and the members query
    assert all("'gold'" in sql for sql in cached.values())

    # The same run again renders nothing new.
    scenario.run()
    assert _entries(scenario) == cached

    update_segment(
        scenario.ws,
        scenario.admin,
        "gold",
        where="tier = 'gold' AND city = 'Leeds'",
    )
    second = scenario.run(allow_mass_removal=True)
    assert second.status == "successful", second.message
    assert second.members == 5 and second.removed == 5
    assert scenario.members() == {f"user{i}@example.com" for i in range(1, 6)}
    assert len(_entries(scenario)) == 4


def test_a_new_profile_column_or_mapping_makes_a_new_key(scenario: Scenario) -> None:
    scenario.load([profile(i) for i in range(1, 6)])
    scenario.add_export()
    assert scenario.run().members == 5
    before = set(_entries(scenario))
    # Same rows, one more column: the table's schema is part of the key.
    path = scenario.tmp / "wide.csv"
    path.write_text(
        "customer_id,email,first_name,last_name,phone,tier,city,score\n"
        + "".join(
            f"{i},user{i}@example.com,First{i},Last{i},07911 {i:06d},gold,City,{i}\n"
            for i in range(1, 7)
        ),
        encoding="utf-8",
    )
    load_profiles(scenario.ws, scenario.admin, path, id_column="customer_id", replace=True)
    summary = scenario.run()
    assert summary.members == 6 and summary.new == 1
    assert set(_entries(scenario)) - before


def test_an_unreadable_cache_is_rendered_afresh(scenario: Scenario) -> None:
    scenario.load([profile(i) for i in range(1, 4)])
    scenario.add_export()
    cache = scenario.ws.path / CACHE_FILE
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("{not json", encoding="utf-8")
    summary = scenario.run()
    assert summary.status == "successful", summary.message
    assert summary.members == 3
    assert len(_entries(scenario)) == 2
