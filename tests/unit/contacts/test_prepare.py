"""prepare_batch: a batch of profiles into contacts and reject rows."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from segport.contacts import (
    REJECT_SCHEMA,
    ContactMapping,
    MappingError,
    PhoneParser,
    Reason,
    prepare_batch,
)

NAMES = ['Renée "Ré"; O\'Neil', "Line\nBreak", "😀 Emoji", "0042"]


@pytest.fixture(scope="module")
def parser() -> PhoneParser:
    return PhoneParser(workers=0)


def _batch() -> pa.RecordBatch:
    return pa.record_batch(
        {
            "customer_id": pa.array([10, 11, 12, 13, 14, None], pa.int64()),
            "email": [
                " Anna@Example.com",
                "bob@example.org",
                "bad@",
                None,
                "zoë@example.com",
                "x@y.co",
            ],
            "first": [NAMES[0], NAMES[1], "C", "D", "E", "F"],
            "last": [NAMES[2], NAMES[3], None, "", "L", "M"],
            "phone": ["020 7946 0018", "n/a", "07911 123456", "1", "", "2"],
            "birthday": ["1990-01-31", "31/01/1990", None, None, None, None],
            "score": pa.array([1, 2, 3, 4, 5, 6], pa.int32()),
            "updated": pa.array([dt.datetime(2024, 1, d) for d in range(1, 7)]),
        }
    )


MAPPING = ContactMapping(
    email="email",
    first_name="first",
    last_name="last",
    phone="phone",
    attributes={"birthday": "birthday", "SCORE": "score"},
    attribute_types={"BIRTHDAY": "date", "SCORE": "float"},
    updated_at="updated",
)


def test_contacts_and_rejects(parser: PhoneParser) -> None:
    out = prepare_batch(_batch(), MAPPING, "customer_id", phone_parser=parser)
    assert out.contacts.column_names == [
        "_customer_id",
        "EMAIL",
        "FIRSTNAME",
        "LASTNAME",
        "BIRTHDAY",
        "SCORE",
        "SMS",
        "_updated_at",
    ]
    assert MAPPING.attribute_columns == ("FIRSTNAME", "LASTNAME", "BIRTHDAY", "SCORE", "SMS")
    rows = out.contacts.to_pylist()
    assert [r["_customer_id"] for r in rows] == [10, 11]
    assert rows[0]["EMAIL"] == "anna@example.com"
    assert [r["FIRSTNAME"] for r in rows] == NAMES[:2]  # unchanged
    assert [r["LASTNAME"] for r in rows] == NAMES[2:]
    assert rows[0]["BIRTHDAY"] == dt.date(1990, 1, 31) and rows[1]["BIRTHDAY"] is None
    assert rows[0]["SCORE"] == 1.0
    assert [r["SMS"] for r in rows] == ["+442079460018", None]

    assert out.rejects.schema == REJECT_SCHEMA
    got = {(r["customer_id"], r["field"], r["reason"]) for r in out.rejects.to_pylist()}
    assert got == {
        ("12", "EMAIL", Reason.EMAIL_INVALID),
        ("13", "EMAIL", Reason.EMAIL_MISSING),
        ("14", "EMAIL", Reason.EMAIL_UNICODE_LOCAL_PART),
        (None, "customer_id", Reason.CUSTOMER_ID_MISSING),
        ("11", "BIRTHDAY", Reason.VALUE_INVALID),
        ("11", "SMS", Reason.PHONE_INVALID),
    }
    by_field = {r["field"]: r for r in out.rejects.to_pylist() if r["customer_id"] == "11"}
    assert by_field["SMS"]["email"] == "bob@example.org"
    assert "31/01/1990" in by_field["BIRTHDAY"]["detail"]
    # dropped rows report the raw address they had
    assert {r["email"] for r in out.rejects.to_pylist() if r["field"] == "EMAIL"} == {
        "bad@",
        None,
        "zoë@example.com",
    }
    assert out.phones_parsed == 2  # only the kept contacts' phones are parsed


def test_minimal_mapping_and_table_input() -> None:
    table = pa.table({"id": ["a", "b"], "mail": ["a@x.io", "B@X.IO"]})
    out = prepare_batch(table, ContactMapping(email="mail"), "id")
    assert out.contacts.to_pydict() == {"_customer_id": ["a", "b"], "EMAIL": ["a@x.io", "b@x.io"]}
    assert out.rejects.num_rows == 0
    assert ContactMapping(email="mail").attribute_columns == ()


def test_an_empty_batch() -> None:
    out = prepare_batch(_batch().slice(0, 0), MAPPING, "customer_id")
    assert out.contacts.num_rows == 0 and out.rejects.num_rows == 0
    assert "SMS" in out.contacts.column_names


def test_a_missing_column_is_named() -> None:
    mapping = ContactMapping(email="email", attributes={"CITY": "town"})
    with pytest.raises(MappingError, match=r"'town' .*CITY.* available columns: customer_id"):
        prepare_batch(_batch(), mapping, "customer_id")
    with pytest.raises(MappingError, match=r"'cid' \(customer id\)"):
        prepare_batch(_batch(), MAPPING, "cid")


def test_a_nested_column_is_refused_with_its_name() -> None:
    batch = pa.record_batch({"id": [1], "email": ["a@x.io"], "tags": [["a", "b"]]})
    mapping = ContactMapping(email="email", attributes={"TAGS": "tags"})
    with pytest.raises(MappingError, match="'tags' mapped to TAGS"):
        prepare_batch(batch, mapping, "id")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"email": " "}, "email field is required"),
        ({"phone_region": "GBR"}, "two-letter country code"),
        ({"attributes": {"EMAIL": "x"}}, "set by the email/phone fields"),
        ({"attributes": {"sms": "x"}}, "set by the email/phone fields"),
        ({"attributes": {"1CITY": "x"}}, "must start with a letter"),
        ({"attributes": {"MY CITY": "x"}}, "must start with a letter"),
        ({"attributes": {"CITY\n": "x"}}, "must start with a letter"),
        ({"first_name": "f", "attributes": {"FIRSTNAME": "x"}}, "mapped twice"),
        ({"attributes": {"CITY": ""}}, "has no profile column"),
        ({"attribute_types": {"CITY": "text"}}, "not mapped"),
    ],
)
def test_bad_mappings_are_explained(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"email": "email", **kwargs}
    with pytest.raises(MappingError, match=message):
        ContactMapping(**args)  # type: ignore[arg-type]


def test_mapping_normalises_names() -> None:
    m = ContactMapping(
        email="e",
        first_name="f",
        phone="p",
        phone_region="fr",
        first_name_attribute="prenom",
        attributes={"city": "c"},
        attribute_types={"City": "date"},
    )
    assert m.phone_region == "FR"
    assert m.attribute_columns == ("PRENOM", "CITY", "SMS")
    assert m.attribute_type("city").value == "date"
    assert m.attribute_type("PRENOM").value == "text"
    assert m.profile_columns == ("e", "f", "c", "p")
