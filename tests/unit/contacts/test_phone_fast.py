"""The phone fast path gives the library's exact answer for every number it answers.

Every check runs against both backends (rphonenumbers and phonenumbers), each with the
regions the fast path must leave to it, and the fast path must answer most well-formed
numbers (so it cannot pass by answering nothing).
"""

from __future__ import annotations

import importlib.util
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

import phonenumbers
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneMetadata, PhoneNumberType
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from segport.contacts.phone_fast import fast_e164, region_rules
from segport.contacts.phones import (
    RUST_METADATA_DIFFERS,
    PhoneParser,
    fast_path_exclusions,
    parse_values,
)

sys.path.insert(0, str(Path(__file__).parent))
from corpus import phone_corpus

HAS_RUST = importlib.util.find_spec("rphonenumbers") is not None
BACKENDS = ("rphonenumbers", "phonenumbers") if HAS_RUST else ("phonenumbers",)
REGIONS = [
    *("GB", "US", "FR", "DE", "IT", "BR", "AR", "MX", "IN", "AU", "CH", "NL", "ES", "JP"),
    *("CN", "RU", "KZ", "CA", "GG", "JE", "IE", "BE", "AT", "PL", "SE", "NO", "DK", "FI"),
    *("PT", "GR", "TR", "IL", "AE", "SA", "ZA", "NG", "KE", "EG", "SG", "HK", "TW", "KR"),
    *("NZ", "CL", "CO", "PE", "VE", "PR", "DO", "JM", "TT", "BB", "VA", "SM"),
]
TYPES = [
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.PAGER,
    PhoneNumberType.UAN,
    PhoneNumberType.VOICEMAIL,
]


def examples(region: str) -> list[str]:
    """The metadata's example national numbers of every type for ``region``."""
    found = [phonenumbers.example_number_for_type(region, t) for t in TYPES]
    return [phonenumbers.national_significant_number(n) for n in found if n] or ["123456789"]


EXAMPLES = {region: examples(region) for region in sorted(phonenumbers.SUPPORTED_REGIONS)}


def spell(rng: random.Random, region: str) -> str:
    """One raw value as people write them, near misses included."""
    meta = PhoneMetadata.metadata_for_region(region)
    cc = str(meta.country_code)
    if rng.random() < 0.15:  # a number of another country, written internationally
        cc = str(rng.choice(sorted(COUNTRY_CODE_TO_REGION_CODE)))
    nsn = rng.choice(EXAMPLES[region])
    k = rng.randint(0, min(7, len(nsn)))
    nsn = nsn[: len(nsn) - k] + "".join(rng.choices("0123456789", k=k))
    nsn = rng.choice([nsn] * 6 + [nsn + rng.choice("0123456789"), nsn[:-1], "0" + nsn])
    prefix = meta.national_prefix or ""
    idd = meta.international_prefix if (meta.international_prefix or "").isdigit() else "00"
    body = "".join(
        ch + (rng.choice(["", "", "", " ", "-", ".", "/", "  "]) if i < len(nsn) - 1 else "")
        for i, ch in enumerate(nsn)
    )
    if rng.random() < 0.2 and len(nsn) > 4:
        cut = rng.randint(1, 4)
        body = f"({nsn[:cut]}) {nsn[cut:]}"
    forms = [
        f"+{cc} {body}",
        f"+{cc} (0){body}",
        f"+{cc}{prefix}{body}",
        f"{idd}{cc} {body}",
        f"{idd} {cc} (0) {body}",
        f"{prefix}{body}",
        f"({prefix}{nsn[:3]}) {nsn[3:]}",
        body,
        f"{cc}{body}",
        f"{cc} {prefix}{body}",
        f"{cc}{prefix}{nsn}",
        f"{prefix}{prefix}{body}",
    ]
    text = rng.choice(forms)
    return text + rng.choice([""] * 30 + [" ext. 12", "x3", "#", " a", "-", ")", ";1", "/x2"])


def check(values: list[str], region: str) -> dict[str, int]:
    """Fast path vs each backend's library; returns answered/valid counts per backend."""
    values = sorted({v.strip() for v in values} - {""})
    counts: dict[str, int] = {}
    for backend in BACKENDS:
        exclude = fast_path_exclusions(backend)
        assert exclude is not None, f"{backend} metadata not compared (see RUST_METADATA_DIFFERS)"
        fast = fast_e164(pa.array(values, pa.string()), region, exclude=exclude, min_group=1)
        library, _ = parse_values(values, region, backend)
        for value, mine, theirs in zip(values, fast.to_pylist(), library, strict=True):
            if mine is not None:
                assert mine == theirs, (backend, region, value)
        counts[f"{backend} fast"] = len(fast) - fast.null_count
        counts[f"{backend} valid"] = sum(v is not None for v in library)
    return counts


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(REGIONS),
    st.lists(st.integers(0, 2**32), min_size=1, max_size=40),
)
def test_generated_numbers_match_the_library(region: str, seeds: list[int]) -> None:
    check([spell(random.Random(seed), region) for seed in seeds], region)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["GB", "US", "FR", "DE", "IT", "CH", "NL", "MX", "BR", "JP", "CA"]),
    st.lists(st.text(alphabet="0123456789 +()-./x#", min_size=1, max_size=24), max_size=30),
)
def test_arbitrary_digit_strings_match_the_library(region: str, values: list[str]) -> None:
    check(values, region)


def test_every_region_on_a_fixed_sample() -> None:
    """40 spellings for each of the ~245 regions, including the excluded ones."""
    rng = random.Random(2024)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        check([spell(rng, region) for _ in range(40)], region)


def test_the_shared_corpus_matches_and_is_mostly_answered() -> None:
    by_region: dict[str, list[str]] = defaultdict(list)
    for raw, region in phone_corpus(6_000, seed=3):
        by_region[region].append(raw)
    total: dict[str, int] = defaultdict(int)
    for region, values in by_region.items():
        counts = check(values, region)
        for backend in BACKENDS:
            if region not in (fast_path_exclusions(backend) or ()):
                total[f"{backend} fast"] += counts[f"{backend} fast"]
                total[f"{backend} valid"] += counts[f"{backend} valid"]
    for backend in BACKENDS:
        # the corpus has tel:, extensions and full-width digits (library only) and JP
        # national numbers (a transform rule); the rest is answered
        assert total[f"{backend} fast"] > 0.75 * total[f"{backend} valid"], total


def test_well_formed_numbers_are_answered() -> None:
    """The fast path must not pass by answering nothing: on simply written numbers that the
    library finds valid, in regions without a transform rule, it answers nearly all."""
    rng = random.Random(5)
    regions = ["GB", "US", "FR", "DE", "IT", "CH", "NL", "BE", "AT", "MX", "CA", "IE", "PL"]
    for region in regions:
        meta = PhoneMetadata.metadata_for_region(region)
        values = []
        for _ in range(300):
            nsn = rng.choice(EXAMPLES[region])
            nsn = nsn[:-3] + "".join(rng.choices("0123456789", k=3))
            values.append(
                rng.choice(
                    [
                        f"+{meta.country_code} {nsn[:3]} {nsn[3:]}",
                        f"{meta.national_prefix or ''}{nsn}",
                        f"00{meta.country_code}{nsn}" if region != "US" else f"+1-{nsn}",
                    ]
                )
            )
        counts = check(values, region)
        for backend in BACKENDS:
            assert counts[f"{backend} fast"] >= 0.95 * counts[f"{backend} valid"] > 0, (
                region,
                counts,
            )


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("020 7946 0018", "GB", "+442079460018"),
        ("(020) 7946-0018", "GB", "+442079460018"),
        ("+44 (0)20 7946 0018", "GB", "+442079460018"),
        ("0044 (0)7911-123456", "GB", "+447911123456"),
        ("447911123456", "GB", "+447911123456"),  # code without "+": the library's rule
        ("44 20 7946 0018", "GB", "+442079460018"),
        ("+1 (415) 555-2671", "GB", "+14155552671"),
        ("1-415-555-2671", "US", "+14155552671"),
        ("415.555.2671", "US", "+14155552671"),
        ("011 44 20 7946 0018", "US", "+442079460018"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("030/1234567", "DE", "+49301234567"),
        ("06 1234 5678", "IT", "+390612345678"),  # Italian leading zero kept
        ("+39 06 1234 5678", "GB", "+390612345678"),
        ("613-555-0123", "CA", "+16135550123"),  # NANPA: region picked by the library's rule
        ("+81 90 1234 5678", "GB", "+819012345678"),
    ],
)
def test_examples(raw: str, region: str, e164: str) -> None:
    assert fast_e164(pa.array([raw]), region, min_group=1).to_pylist() == [e164]
    assert parse_values([raw], region, "phonenumbers")[0] == [e164]


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("tel:+44-20-7946-0018", "GB"),  # RFC 3966: library
        ("+44 20 7946 0018 ext. 12", "GB"),  # extension: library
        ("０２０ 7946 0018", "GB"),  # full-width digits: library
        ("++44 20 7946 0018", "GB"),
        ("0+44 20 7946 0018", "GB"),  # not a number for the library
        ("020 7946 001", "GB"),  # invalid: the library gives the reason
        ("090-1234-5678", "JP"),  # JP's national prefix has a transform rule
        ("+800 1234 5678", "GB"),  # non-geographic code
        ("0012 345 678", "GB"),  # IDD then a 0
    ],
)
def test_left_to_the_library(raw: str, region: str) -> None:
    assert fast_e164(pa.array([raw]), region, min_group=1).to_pylist() == [None]


def test_excluded_regions_are_left_to_the_library() -> None:
    values = pa.array(["+44 20 7946 0018", "020 7946 0018", "+33 6 12 34 56 78"])
    assert fast_e164(values, "GB", exclude=frozenset({"GB"}), min_group=1).to_pylist() == [
        None,
        None,
        None,
    ]
    # a region sharing the code is enough: +44 numbers may belong to GG
    only_fr = fast_e164(values, "FR", exclude=frozenset({"GG"}), min_group=1).to_pylist()
    assert only_fr == [None, None, "+33612345678"]
    assert fast_e164(values, "GB", min_group=5).to_pylist() == [
        "+442079460018",
        "+442079460018",
        None,  # a lone other code is cheaper in the library
    ]


def test_parser_uses_the_fast_path_with_the_same_result() -> None:
    values = [raw for raw, region in phone_corpus(6_000, seed=9) if region in ("GB", "US")]
    values += [f"07{i:09d}"[:11] for i in range(3_000)]
    raw = pa.array(values)
    with (
        PhoneParser(workers=0, fast_threshold=0) as fast,
        PhoneParser(workers=0, fast=False) as slow,
    ):
        a, b = fast.parse(raw, "GB"), slow.parse(raw, "GB")
    assert a.e164.to_pylist() == b.e164.to_pylist()
    assert a.details.to_pylist() == b.details.to_pylist()
    assert a.parsed == b.parsed and b.fast == 0
    assert a.fast > 0.5 * a.parsed


def test_small_batches_skip_the_fast_path() -> None:
    parser = PhoneParser(workers=0, backend="phonenumbers")
    assert parser.fast_threshold == 200
    assert parser.parse(pa.array(["020 7946 0018"]), "GB").fast == 0


# --- rphonenumbers' own metadata vs the phonenumbers package's ---------------------------

DESCS = {
    "general_desc": 1,
    "fixed_line": 2,
    "mobile": 3,
    "toll_free": 4,
    "premium_rate": 5,
    "shared_cost": 6,
    "personal_number": 7,
    "voip": 8,
    "pager": 21,
    "uan": 25,
    "voicemail": 28,
}  # field numbers of libphonenumber's phonemetadata.proto
STRINGS = {
    "international_prefix": 11,
    "national_prefix_for_parsing": 15,
    "national_prefix_transform_rule": 16,
    "leading_digits": 23,
}
Fields = dict[int, list[object]]


def _varint(data: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i
        shift += 7
        if shift > 63:
            raise ValueError("varint")


def _message(data: bytes, start: int, end: int) -> Fields:
    """Protobuf wire format -> field number: values (ints, or (start, end) of bytes)."""
    out: Fields = defaultdict(list)
    i = start
    while i < end:
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ValueError("field 0")
        if wire == 0:
            value, i = _varint(data, i)
            out[number].append(value)
        elif wire == 2:
            size, i = _varint(data, i)
            if i + size > end:
                raise ValueError("overrun")
            out[number].append((i, i + size))
            i += size
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
        else:
            raise ValueError("wire type")
    if i != end:
        raise ValueError("end")
    return out


def rust_metadata() -> dict[str, tuple[bytes, Fields]]:
    """The PhoneMetadataCollection compiled into rphonenumbers' extension, per region id."""
    import rphonenumbers._rphonenumbers as native

    data = Path(native.__file__).read_bytes()
    first = data.find(b"J\x02AC")  # id field of the first region, "AC"
    assert first > 0, "no region metadata found in the extension"
    start = None
    for p in range(first - 1, max(0, first - 40_000), -1):  # the record holding it
        if data[p] != 0x0A:
            continue
        try:
            size, i = _varint(data, p + 1)
            if i + size > first and i + size <= len(data):
                fields = _message(data, i, i + size)
                a, b = fields[9][0]  # type: ignore[misc]
                if data[a:b] == b"AC":
                    start = p
                    break
        except (ValueError, IndexError, KeyError):
            continue
    assert start is not None, "region metadata layout not recognised"
    regions: dict[str, tuple[bytes, Fields]] = {}
    p = start
    while p < len(data) and data[p] == 0x0A:  # records follow one another
        try:
            size, i = _varint(data, p + 1)
            fields = _message(data, i, i + size)
        except (ValueError, IndexError):
            break
        a, b = fields[9][0]  # type: ignore[misc]
        regions[data[a:b].decode()] = (data, fields)
        p = i + size
    return regions


def _text(data: bytes, fields: Fields, number: int) -> str | None:
    if number not in fields:
        return None
    a, b = fields[number][-1]  # type: ignore[misc]
    text = data[a:b].decode()
    anchored = re.fullmatch(r"\^\(\?:(.*)\)\$", text, re.S)  # the crate anchors patterns
    text = anchored.group(1) if anchored else text
    return re.sub(r"\$(\d)", r"\\\1", text)  # its replacement syntax is $1


def _desc(data: bytes, fields: Fields, number: int) -> tuple[object, ...] | None:
    if number not in fields:
        return None
    a, b = fields[number][-1]  # type: ignore[misc]
    desc = _message(data, a, b)
    pattern = _text(data, desc, 2)
    if pattern is None:
        return None

    def ints(n: int) -> tuple[int, ...]:
        out: list[int] = []
        for value in desc.get(n, []):
            if isinstance(value, tuple):  # packed
                i, end = value
                while i < end:
                    v, i = _varint(data, i)
                    out.append(v)
            else:
                assert isinstance(value, int)
                out.append(value)
        return tuple(v - 2**64 if v >= 2**63 else v for v in out)

    return (pattern, ints(9), ints(10))


def rust_differences() -> set[str]:
    rust = rust_metadata()
    differ = set()
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        meta = PhoneMetadata.metadata_for_region(region)
        if region not in rust:
            differ.add(region)
            continue
        data, fields = rust[region]
        general = _desc(data, fields, 1)
        assert general is not None
        for name, number in DESCS.items():
            desc = getattr(meta, name)
            ours = None
            if desc is not None and desc.national_number_pattern:
                ours = (
                    desc.national_number_pattern,
                    tuple(desc.possible_length),
                    tuple(desc.possible_length_local_only),
                )
            theirs = _desc(data, fields, number)
            if theirs is not None and not theirs[1]:  # lengths omitted: the general ones
                theirs = (theirs[0], general[1], theirs[2])
            if ours != theirs:
                differ.add(region)
        for name, number in STRINGS.items():
            if getattr(meta, name) != _text(data, fields, number):
                differ.add(region)
        same = bool(fields.get(18, [0])[0])
        if fields[10][0] != meta.country_code or same != bool(
            meta.same_mobile_and_fixed_line_pattern
        ):
            differ.add(region)
    return differ


@pytest.mark.skipif(not HAS_RUST, reason="rphonenumbers is not installed")
def test_rust_metadata_differences_are_listed() -> None:
    import rphonenumbers

    versions = (rphonenumbers.__version__, phonenumbers.__version__)
    found = rust_differences()
    assert len(found) < 100, "the comparison itself looks broken"
    assert RUST_METADATA_DIFFERS.get(versions) == frozenset(found), (
        f"add {versions!r}: {sorted(found)} to RUST_METADATA_DIFFERS"
    )


@pytest.mark.skipif(not HAS_RUST, reason="rphonenumbers is not installed")
def test_rust_country_codes_are_the_same() -> None:
    import rphonenumbers._rphonenumbers as native

    theirs = {cc: tuple(regions) for cc, regions in native._country_code_to_region_code().items()}
    assert theirs == {cc: tuple(regions) for cc, regions in COUNTRY_CODE_TO_REGION_CODE.items()}


def test_every_region_has_rules_re2_can_run() -> None:
    unusable = [r for r in sorted(phonenumbers.SUPPORTED_REGIONS) if not region_rules(r).usable]  # type: ignore[union-attr]
    assert unusable == []
