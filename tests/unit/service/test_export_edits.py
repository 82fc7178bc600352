"""ExportEdit: explicit changes to an export's configuration."""

from __future__ import annotations

import pytest

from segport.errors import Invalid
from segport.service import CLEAR, ExportConfig, ExportEdit, ExportMapping
from segport.service.export_edits import apply_edit

CONFIG = ExportConfig(
    name="news",
    connection="c",
    list_id=3,
    segments=("gb",),
    mapping=ExportMapping(
        email="email",
        first_name="first",
        phone="phone",
        attributes={"City": "city", "TIER": "tier"},
        first_name_attribute="PRENOM",
    ),
    phone_region="FR",
    phone_country_column="country",
)


def test_unset_fields_change_nothing() -> None:
    assert ExportEdit().is_empty()
    assert apply_edit(CONFIG, ExportEdit()) == CONFIG
    given = (
        ExportEdit(share_list=False),
        ExportEdit(profile_limit=0),
        ExportEdit(remove_attributes=("TIER",)),
        ExportEdit(first_name=CLEAR),
    )
    for edit in given:
        assert not edit.is_empty(), edit


def test_values_replace_and_clear_empties() -> None:
    edited = apply_edit(
        CONFIG,
        ExportEdit(
            name="uk", list_id=9, segments=("a", "b"), mode="mirror", first_name=CLEAR,
            phone_region=CLEAR, phone_country_column=CLEAR, share_list=True,
        ),
    )  # fmt: skip
    assert (edited.name, edited.list_id, edited.segments) == ("uk", 9, ("a", "b"))
    assert (edited.mode, edited.share_list) == ("mirror", True)
    assert edited.phone_region is None and edited.phone_country_column is None
    # A name no longer mapped keeps no Brevo attribute.
    assert edited.mapping.first_name is None and edited.mapping.first_name_attribute is None
    assert edited.mapping.phone == "phone" and edited.connection == "c"
    assert repr(CLEAR) == "CLEAR"


def test_attributes_change_one_at_a_time() -> None:
    edited = apply_edit(
        CONFIG,
        ExportEdit(remove_attributes=(" tier ",), add_attributes={"CITY": "town", "SIZE": "s"}),
    )
    # Brevo's names are case-insensitive: CITY is the mapped City, changed in its place.
    assert edited.mapping.attributes == {"City": "town", "SIZE": "s"}
    assert CONFIG.mapping.attributes == {"City": "city", "TIER": "tier"}  # (not changed)


def test_removing_an_attribute_that_is_not_mapped_names_the_mapped_ones() -> None:
    with pytest.raises(Invalid) as info:
        apply_edit(CONFIG, ExportEdit(remove_attributes=("score",)))
    assert info.value.field == "remove_attribute"
    assert info.value.code == "export_invalid"
    assert str(info.value) == "the export maps no attribute SCORE; it maps City, TIER"
