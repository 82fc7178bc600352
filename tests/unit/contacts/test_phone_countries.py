"""Phones with a per-row country: each national number read in its row's country.

Checked against each backend's library row by row (``parse_values`` with the row's
region), with the fast path and without it, as test_phone_fast.py does for one region.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from segport.contacts import ContactMapping, MappingError, PhoneParser, Reason, prepare_batch
from segport.contacts.phones import BACKENDS, parse_values

sys.path.insert(0, str(Path(__file__).parent))
from corpus import phone_corpus

HAS_RUST = importlib.util.find_spec("rphonenumbers") is not None
INSTALLED = [b for b in BACKENDS if b != "rphonenumbers" or HAS_RUST]


def _mixed(n: int, seed: int) -> tuple[list[str], list[str | None]]:
    """Corpus values with their own region as the row's country, in varied spellings;
    some rows with a blank country (read in the fallback region)."""
    rng = random.Random(seed)
    values, countries = [], []
    for raw, region in phone_corpus(n, seed=seed):
        values.append(raw)
        country: str | None = rng.choice([region, region.lower(), f" {region} "])
        if rng.random() < 0.1:
            country = rng.choice([None, "", "  "])
        countries.append(country)
    return values, countries


def _expected(
    values: list[str], countries: list[str | None], fallback: str, backend: str
) -> list[str | None]:
    out: list[str | None] = []
    for raw, country in zip(values, countries, strict=True):
        region = (country or "").strip().upper() or fallback
        if not raw.strip():
            out.append(None)
            continue
        out.append(parse_values([raw.strip()], region, backend)[0][0])
    return out


@pytest.mark.parametrize("backend", INSTALLED)
@pytest.mark.parametrize("fast", [True, False])
def test_each_row_is_read_in_its_country(backend: str, fast: bool) -> None:
    values, countries = _mixed(3_000, seed=21)
    with PhoneParser(workers=0, backend=backend, fast=fast, fast_threshold=0) as parser:
        result = parser.parse(pa.array(values), "GB", countries=pa.array(countries, pa.string()))
    assert result.e164.to_pylist() == _expected(values, countries, "GB", backend)
    assert result.reasons is None  # every country was known or blank
    if fast:
        assert result.fast > 0  # the fast path ran per country
    # the same rows read in one region lose the other countries' national numbers
    single = PhoneParser(workers=0, backend=backend).parse(pa.array(values), "GB")
    assert single.e164.null_count > result.e164.null_count


@pytest.mark.parametrize("backend", INSTALLED)
def test_the_issue_example(backend: str) -> None:
    """A GB/FR/DE/US/IE file: every number valid in its own country, none lost."""
    raw = pa.array(
        ["020 7946 0018", "06 12 34 56 78", "030 901820", "(415) 555-2671", "087 247 0372"]
    )
    countries = pa.array(["GB", "fr", "De", " US ", "IE"])
    result = PhoneParser(workers=0, backend=backend).parse(raw, "GB", countries=countries)
    assert result.e164.to_pylist() == [
        "+442079460018",
        "+33612345678",
        "+4930901820",
        "+14155552671",
        "+353872470372",
    ]
    assert result.details.null_count == 5


def test_unknown_countries_reject_national_numbers_only() -> None:
    raw = pa.array(["06 12 34 56 78", "+33 6 12 34 56 78", "", "0612345678", "n/a", "07911 123456"])
    countries = pa.array(["UK", "UK", "XX", "France", "FR", None])
    result = PhoneParser(workers=0).parse(
        raw, "GB", countries=countries, country_label="column 'country' holds"
    )
    assert result.e164.to_pylist() == [None, "+33612345678", None, None, None, "+447911123456"]
    assert result.reasons is not None
    assert result.reasons.to_pylist() == [
        Reason.PHONE_COUNTRY_INVALID,
        None,
        None,  # no phone: nothing lost, nothing reported
        Reason.PHONE_COUNTRY_INVALID,
        Reason.PHONE_INVALID,
        None,
    ]
    details = result.details.to_pylist()
    assert details[0] is not None and details[0].startswith("column 'country' holds 'UK', which")
    assert "ISO 3166" in details[0] and "international form" in details[0]
    assert details[3] is not None and "'France'" in details[3]
    assert details[4] == "not a phone number"


def test_chunked_input_with_countries() -> None:
    raw = pa.chunked_array([["06 12 34 56 78", "020 7946 0018"], ["0151 23456789"]])
    countries = pa.chunked_array([["FR", "GB"], ["DE"]])
    result = PhoneParser(workers=0).parse(raw, "US", countries=countries)
    assert result.e164.to_pylist() == ["+33612345678", "+442079460018", "+4915123456789"]
    assert result.parsed == 3
    with pytest.raises(ValueError, match="countries has 1 rows"):
        PhoneParser(workers=0).parse(raw, "GB", countries=pa.array(["FR"]))


def test_one_country_takes_the_plain_path() -> None:
    raw = pa.array(["06 12 34 56 78", "", "01 23 45 67 89"])
    result = PhoneParser(workers=0).parse(raw, "GB", countries=pa.array(["FR", None, "fr"]))
    assert result.e164.to_pylist() == ["+33612345678", None, "+33123456789"]
    assert result.parsed == 2 and result.reasons is None


def test_prepare_batch_reads_the_country_column() -> None:
    batch = pa.record_batch(
        {
            "id": [1, 2, 3, 4],
            "email": ["a@x.com", "b@x.com", "c@x.com", "d@x.com"],
            "phone": ["06 12 34 56 78", "0151 23456789", "06 12 34 56 79", "+1 415 555 2671"],
            "country": ["FR", "DE", "Frankreich", "Frankreich"],
        }
    )
    mapping = ContactMapping(email="email", phone="phone", phone_country="country")
    assert mapping.profile_columns == ("email", "phone", "country")
    out = prepare_batch(batch, mapping, "id", phone_parser=PhoneParser(workers=0))
    assert out.contacts.column("SMS").to_pylist() == [
        "+33612345678",
        "+4915123456789",
        None,
        "+14155552671",
    ]
    rejects = out.rejects.to_pylist()
    assert len(rejects) == 1
    assert rejects[0]["customer_id"] == "3" and rejects[0]["field"] == "SMS"
    assert rejects[0]["reason"] == "phone_country_invalid"
    assert rejects[0]["detail"].startswith("column 'country' holds 'Frankreich', which")
    assert Reason.PHONE_COUNTRY_INVALID.effect == "altered"


def test_a_country_column_needs_a_phone() -> None:
    with pytest.raises(MappingError, match="no phone is mapped"):
        ContactMapping(email="email", phone_country="country")
