"""Export settings checks that need no database and no Brevo."""

from __future__ import annotations

from dataclasses import replace

import pytest

from segport.brevo import Attribute, ContactList
from segport.exports.config import ExportConfig, ExportMapping
from segport.service.export_brevo import (
    attribute_type_for,
    column_fits,
    find_list,
    plan_attributes,
    resolve_attributes,
)
from segport.service.export_checks import ExportInvalid, check_local, parse_attributes

GOOD = ExportConfig("news", "c", 3, ("gb",), ExportMapping("email"))


def _with(config: ExportConfig = GOOD, **change: object) -> ExportConfig:
    """``config`` with some settings changed, mapping ones included (``email=...``)."""
    mapped = {k: change.pop(k) for k in list(change) if k in ExportMapping.__dataclass_fields__}
    return replace(config, mapping=replace(config.mapping, **mapped), **change)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "message", "field"),
    [
        ({"name": "  "}, "invalid export name", "name"),
        ({"name": "x\x1b[2Jy"}, "invalid export name", "name"),
        ({"list_id": 0}, "0 is not a Brevo list ID", "list_id"),
        ({"segments": ()}, "give at least one segment", "segment"),
        ({"segments": ("a", "a")}, "the segment(s) a are given more than once", "segment"),
        ({"mode": "sync"}, "the mode 'sync' is not known: use add or mirror", "mode"),
        ({"schedule": "hourly"}, "the schedule 'hourly' is not known", "schedule"),
        ({"schedule": "cron"}, "a cron schedule needs its cron expression", "cron"),
        ({"schedule": "cron", "cron": "0 6 * * *"}, "needs the time zone", "timezone"),
        (
            {"schedule": "cron", "cron": "0 6 * * *", "timezone": "No/Where"},
            "unknown time zone",
            "timezone",
        ),
        ({"schedule": "cron", "cron": "61 * * * *", "timezone": "UTC"}, "bad minute field", "cron"),
        ({"cron": "0 6 * * *"}, "is only for an export on its own cron schedule", "cron"),
        ({"profile_limit": 0}, "the profile limit 0 must be 1 or more", "profile_limit"),
        ({"phone_region": "XX"}, "the phone region 'XX' is not a region", "phone_region"),
        ({"email": " "}, "the email column is required", "email"),
        ({"attributes": {"SMS": "phone"}}, "SMS is set from the phone column", "phone"),
        ({"attributes": {"EMAIL": "mail"}}, "EMAIL is set from the email column", "email"),
        ({"attributes": {"1X": "c"}}, "Brevo attribute names are letters", "attribute"),
        (
            {"attributes": {"CITY": "c", "City": "d"}},
            "the attribute City is mapped twice",
            "attribute",
        ),
    ],
)
def test_local_checks_name_the_thing_and_the_field(
    change: dict[str, object], message: str, field: str
) -> None:
    with pytest.raises(ExportInvalid) as info:
        check_local(_with(**change))
    assert message in str(info.value)
    assert info.value.field == field and "--" not in str(info.value)


def test_local_checks_normalise() -> None:
    d = check_local(_with(name=" news ", phone_region="gb", segments=(" gb ", ""), mode=" Mirror "))
    assert (d.name, d.phone_region, d.segments, d.mode) == ("news", "GB", ("gb",), "mirror")


def test_parse_attributes() -> None:
    assert parse_attributes(["city=town", " TIER = tier "]) == {"CITY": "town", "TIER": "tier"}
    for bad, message in (("CITY", "must look like ATTR=COLUMN"), ("=c", "ATTR=COLUMN"),
                         ("A=", "ATTR=COLUMN")):  # fmt: skip
        with pytest.raises(ExportInvalid, match=message):
            parse_attributes([bad])
    with pytest.raises(ExportInvalid, match="mapped twice"):
        parse_attributes(["a=x", "A=y"])


def _attrs(*names: str, category: str = "normal") -> list[Attribute]:
    return [Attribute(name=n, category=category) for n in names]


def test_names_resolve_per_account_language() -> None:
    d = _with(first_name="f", last_name="l", attributes={"CITY": "c"})
    en = resolve_attributes(_attrs("FIRSTNAME", "LASTNAME", "SMS", "CITY"), d).mapping
    assert (en.first_name_attribute, en.last_name_attribute) == ("FIRSTNAME", "LASTNAME")
    fr = resolve_attributes(_attrs("PRENOM", "NOM", "SMS", "City"), d).mapping
    assert (fr.first_name_attribute, fr.last_name_attribute) == ("PRENOM", "NOM")
    assert fr.attributes == {"City": "c"}  # the account's own spelling
    # A mapping saved in the account's spelling resolves again (an edit re-checks it).
    again = resolve_attributes(_attrs("PRENOM", "NOM", "SMS", "City"), replace(d, mapping=fr))
    assert again.mapping == fr


def test_attribute_refusals() -> None:
    with pytest.raises(
        ExportInvalid, match="the first-name column: this Brevo account has no attribute"
    ):
        resolve_attributes(_attrs("LASTNAME"), _with(first_name="f"))
    with pytest.raises(
        ExportInvalid,
        match=r"has no attribute TIER; its attributes: CITY\. segport can create TIER as a text",
    ) as caught:
        resolve_attributes(_attrs("CITY"), _with(attributes={"TIER": "t"}))
    assert caught.value.code == "brevo_attribute_missing"
    assert caught.value.details == {"attribute": "TIER", "type": "text", "column": "t"}
    with pytest.raises(ExportInvalid, match="calculated attribute"):
        resolve_attributes(_attrs("SCORE", category="calculated"), _with(attributes={"SCORE": "s"}))
    with pytest.raises(ExportInvalid, match="already set from the first-name or last-name column"):
        resolve_attributes(
            _attrs("FIRSTNAME"), _with(first_name="f", attributes={"FIRSTNAME": "g"})
        )
    with pytest.raises(
        ExportInvalid, match="the phone column: this Brevo account has no SMS attribute"
    ):
        resolve_attributes(_attrs("FIRSTNAME"), _with(phone="p"))


# Which logical column types fill which Brevo attribute types: text fills only text
# attributes (and the types Brevo parses itself); a typed column fills its own kind.
FITS = {
    "text": {"text", "category", "id", "multiple-choice"},
    "number": {"text", "float", "number", "boolean", "category"},
    "date": {"text", "date", "category"},
    "timestamp": {"text", "date"},
    "boolean": {"text", "boolean"},
    "other": {"text"},
}


@pytest.mark.parametrize("column_type", sorted(FITS))
@pytest.mark.parametrize(
    "brevo_type", ["text", "float", "number", "date", "boolean", "category", "id", None]
)
def test_column_fits_attribute_type(column_type: str, brevo_type: str | None) -> None:
    expected = brevo_type in FITS[column_type] or brevo_type in {"category", "id", None}
    assert column_fits(column_type, brevo_type) is expected


def test_type_mismatch_names_both_types() -> None:
    attrs = [Attribute(name="BIRTHDAY", category="normal", type="date")]
    config = _with(attributes={"BIRTHDAY": "born"})
    with pytest.raises(ExportInvalid) as caught:
        plan_attributes(attrs, config, {"born": "text", "email": "text"})
    err = caught.value
    assert err.code == "attribute_type_mismatch" and err.field == "attribute"
    assert "BIRTHDAY is a date attribute" in err.message
    assert "column 'born' holds text values" in err.message
    assert "Map a date or timestamp column" in err.message
    assert err.details["column_type"] == "text" and err.details["attribute_type"] == "date"
    # A date column fills it; without the columns' types nothing is checked.
    assert plan_attributes(attrs, config, {"born": "date"}).config.mapping.attributes == {
        "BIRTHDAY": "born"
    }


def test_missing_attributes_are_planned_with_their_column_types() -> None:
    config = _with(
        first_name="f", attributes={"LTV": "ltv", "SEEN": "seen", "VIP": "vip", "TOWN": "town"}
    )
    columns = {"f": "text", "ltv": "number", "seen": "timestamp", "vip": "boolean", "town": "text"}
    plan = plan_attributes(_attrs("CITY"), config, columns, create=True)
    made = {(a.name, a.type, a.column) for a in plan.new_attributes}
    assert made == {
        ("FIRSTNAME", "text", "f"),
        ("LTV", "float", "ltv"),
        ("SEEN", "date", "seen"),
        ("VIP", "boolean", "vip"),
        ("TOWN", "text", "town"),
    }
    assert plan.config.mapping.first_name_attribute == "FIRSTNAME"
    assert set(plan.config.mapping.attributes) == {"LTV", "SEEN", "VIP", "TOWN"}
    assert [attribute_type_for(t) for t in ("number", "date", "boolean", "text", "other")] == [
        "float", "date", "boolean", "text", "text"
    ]  # fmt: skip


def test_list_found_by_name() -> None:
    lists = [
        ContactList(id=3, name="Newsletter", folder_id=1),
        ContactList(id=4, name="VIP", folder_id=1),
        ContactList(id=9, name="vip", folder_id=2),
    ]
    assert find_list(lists, "Newsletter").id == 3
    assert find_list(lists, " newsletter ").id == 3  # case ignored when nothing is exact
    assert find_list(lists, "VIP").id == 4  # the exact name wins
    with pytest.raises(
        ExportInvalid, match=r"2 Brevo lists are named 'Vip' \(id 4 in folder 1; id 9"
    ):
        find_list(lists, "Vip")
    with pytest.raises(
        ExportInvalid, match="no list named 'News'; its lists: 'Newsletter' \\(id 3\\)"
    ):
        find_list(lists, "News")


def test_connection_names_refuse_control_characters() -> None:
    from segport.service.connections import check_name
    from segport.service.workspace import WorkspaceError

    assert check_name(" Brevo (prod) ") == "Brevo (prod)"
    with pytest.raises(WorkspaceError, match="invalid connection name"):
        check_name("evil\x1b]0;title\x07")
