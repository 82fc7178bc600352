"""Reason codes and the reject table."""

from __future__ import annotations

import pyarrow as pa

from segport.contacts import REJECT_SCHEMA, Effect, Reason, concat_rejects, reject_table


def test_every_reason_has_an_effect_and_a_description() -> None:
    for reason in Reason:
        assert reason.effect in (Effect.DROPPED, Effect.ALTERED)
        assert reason.description
        assert reason.value == reason.value.lower()
    assert Reason.PHONE_INVALID.effect is Effect.ALTERED
    assert Reason.EMAIL_INVALID.effect is Effect.DROPPED


def test_reject_table_with_one_reason_or_a_column_of_them() -> None:
    ids = pa.array([1, 2], pa.int64())
    emails = pa.array(["a@x.io", None])
    one = reject_table(ids, emails, "EMAIL", Reason.EMAIL_INVALID, "bad")
    assert one.schema == REJECT_SCHEMA
    assert one.to_pylist()[0] == {
        "customer_id": "1",
        "email": "a@x.io",
        "field": "EMAIL",
        "reason": "email_invalid",
        "detail": "bad",
        "value": None,
    }
    many = reject_table(ids, emails, "EMAIL", pa.array(["email_invalid", "email_missing"]))
    assert many.column("reason").to_pylist() == ["email_invalid", "email_missing"]
    assert many.column("detail").to_pylist() == [None, None]


def test_concat_rejects() -> None:
    assert concat_rejects([]).schema == REJECT_SCHEMA
    part = reject_table(pa.array(["c"]), pa.array(["c@x.io"]), "SMS", Reason.PHONE_INVALID)
    assert concat_rejects([part, REJECT_SCHEMA.empty_table(), part]).num_rows == 2
