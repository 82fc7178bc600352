"""Export settings checks that need no database and no Brevo."""

from __future__ import annotations

from dataclasses import replace

import pytest

from segport.brevo import Attribute
from segport.service.export_checks import (
    Draft,
    ExportInvalid,
    check_local,
    parse_attributes,
    resolve_attributes,
)

GOOD = Draft("news", "c", 3, ["gb"], "email")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "  "}, "invalid export name"),
        ({"name": "x\x1b[2Jy"}, "invalid export name"),
        ({"list_id": 0}, "--list-id 0 is not a Brevo list ID"),
        ({"segments": []}, "give at least one --segment"),
        ({"segments": ["a", "a"]}, "--segment a is given more than once"),
        ({"mode": "sync"}, "--mode 'sync' is not known: use add or mirror"),
        ({"schedule": "hourly"}, "--schedule 'hourly' is not known"),
        ({"profile_limit": 0}, "--limit 0 must be 1 or more"),
        ({"phone_region": "XX"}, "--phone-region 'XX' is not a region"),
        ({"email": " "}, "--email is required"),
        ({"attributes": {"SMS": "phone"}}, "SMS is set with --phone"),
        ({"attributes": {"EMAIL": "mail"}}, "EMAIL is set with --email"),
        ({"attributes": {"1X": "c"}}, "Brevo attribute names are letters"),
    ],
)
def test_local_checks_name_the_option(change: dict[str, object], message: str) -> None:
    with pytest.raises(ExportInvalid) as info:
        check_local(replace(GOOD, **change))  # type: ignore[arg-type]
    assert message in str(info.value)


def test_local_checks_normalise() -> None:
    d = check_local(replace(GOOD, name=" news ", phone_region="gb", segments=[" gb ", ""]))
    assert (d.name, d.phone_region, d.segments) == ("news", "GB", ["gb"])


def test_parse_attributes() -> None:
    assert parse_attributes(["city=town", " TIER = tier "]) == {"CITY": "town", "TIER": "tier"}
    for bad, message in (("CITY", "must look like ATTR=COLUMN"), ("=c", "ATTR=COLUMN"),
                         ("A=", "ATTR=COLUMN")):  # fmt: skip
        with pytest.raises(ExportInvalid, match=message):
            parse_attributes([bad])
    with pytest.raises(ExportInvalid, match="given twice"):
        parse_attributes(["a=x", "A=y"])


def _attrs(*names: str, category: str = "normal") -> list[Attribute]:
    return [Attribute(name=n, category=category) for n in names]


def test_names_resolve_per_account_language() -> None:
    d = replace(GOOD, first_name="f", last_name="l", attributes={"city": "c"})
    d.attributes = {"CITY": "c"}
    en = resolve_attributes(_attrs("FIRSTNAME", "LASTNAME", "SMS", "CITY"), d)
    assert (en.first_name_attribute, en.last_name_attribute) == ("FIRSTNAME", "LASTNAME")
    fr = resolve_attributes(_attrs("PRENOM", "NOM", "SMS", "City"), d)
    assert (fr.first_name_attribute, fr.last_name_attribute) == ("PRENOM", "NOM")
    assert fr.attributes == {"City": "c"}  # the account's own spelling


def test_attribute_refusals() -> None:
    with pytest.raises(ExportInvalid, match="--first-name: this Brevo account has no attribute"):
        resolve_attributes(_attrs("LASTNAME"), replace(GOOD, first_name="f"))
    with pytest.raises(ExportInvalid, match="has no attribute TIER; its attributes: CITY"):
        resolve_attributes(_attrs("CITY"), replace(GOOD, attributes={"TIER": "t"}))
    with pytest.raises(ExportInvalid, match="calculated attribute"):
        resolve_attributes(
            _attrs("SCORE", category="calculated"), replace(GOOD, attributes={"SCORE": "s"})
        )
    with pytest.raises(ExportInvalid, match="already set by --first-name"):
        resolve_attributes(
            _attrs("FIRSTNAME"), replace(GOOD, first_name="f", attributes={"FIRSTNAME": "g"})
        )
    with pytest.raises(ExportInvalid, match="--phone: this Brevo account has no SMS attribute"):
        resolve_attributes(_attrs("FIRSTNAME"), replace(GOOD, phone="p"))


def test_connection_names_refuse_control_characters() -> None:
    from segport.service.connections import check_name
    from segport.service.workspace import WorkspaceError

    assert check_name(" Brevo (prod) ") == "Brevo (prod)"
    with pytest.raises(WorkspaceError, match="invalid connection name"):
        check_name("evil\x1b]0;title\x07")
