"""Contacts at scale: prepare (emails, names, phones) and chunk 1M rows.

Run: .venv/bin/python bench/contacts.py [--rows 1000000] [--batch 100000] [--repeat 1]
     [--pure-sample 50000] [--phones-only]

Synthetic profiles like those of shared/research/deps-bench.md: ~2 % invalid emails, ~1 %
UTF-8 local parts, 5 % mixed case, 1 % stray whitespace, ~1 % duplicate people under a new
id, names with semicolons/quotes/line breaks/emoji, and phones in mixed national and
international formats (export region GB) with ~3 % junk. Data is built before any clock
starts. Every timed step is the public segport.contacts API the engine calls. Phones are
also timed on bench/export_run.py's phone column (five GB spellings, 2 % junk), each with
the library alone (``fast=False``) and with the fast path first, and on national numbers
of eight countries with a per-row country column (``make_mixed_phones``).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from segport.contacts import (
    ContactMapping,
    PhoneCheck,
    PhoneParser,
    concat_rejects,
    default_backend,
    iter_import_chunks,
    prepare_batch,
)
from segport.contacts.phones import parse_values

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_run import phone as export_phone

T = TypeVar("T")
FIRST = ["Anna", "Bob", "Chloé", "Dmitri", "Émile", "Fatima", "Grace", "Hiro", "Inès", "Jo"]
ASCII_FIRST = ["anna", "bob", "chloe", "dmitri", "emile", "fatima", "grace", "hiro", "ines"]
DOMAINS = ["example.com", "mail.co.uk", "x.io", "gmail.com", "yahoo.fr"]
AWKWARD = ['Renée "Ré"', "O'Brien; Jr", "Line\nBreak", "Zoë 😀", "0042", "Smith, J."]


def make_profiles(n: int, seed: int = 1) -> pa.Table:
    rng = random.Random(seed)

    def digits(k: int) -> str:
        return "".join(rng.choices("0123456789", k=k))

    phone_makers: list[Callable[[], str]] = [
        lambda: f"+44 20 {digits(4)} {digits(4)}",
        lambda: f"020 {digits(4)} {digits(4)}",
        lambda: f"07{rng.choice('1234589')}{digits(2)} {digits(6)}",
        lambda: f"0044 (0)161 {digits(3)} {digits(4)}",
        lambda: f"+44 (0)7{rng.choice('1234589')}{digits(2)} {digits(6)}",
        lambda: f"(0113) {digits(3)} {digits(4)}",
        lambda: f"+1 415-{digits(3)}-{digits(4)}",
        lambda: f"+1 (212) {digits(3)}-{digits(4)}",
        lambda: f"00 33 6 {digits(2)} {digits(2)} {digits(2)} {digits(2)}",
        lambda: f"+33 (0)6 {digits(2)} {digits(2)} {digits(2)} {digits(2)}",
        lambda: f"+49 (0) 89 {digits(7)}",
        lambda: f"+34 6{digits(2)} {digits(3)} {digits(3)}",
    ]
    junk = ["n/a", "12345", "tel:", "", "none", "0", "+44"]
    ids, emails, firsts, lasts, phones = [], [], [], [], []
    for i in range(n):
        r = rng.random()
        if r < 0.01 and i > 0:  # the same person again under a new id
            j = rng.randrange(i)
            email, phone = emails[j].upper(), phones[j]
        else:
            local = f"{rng.choice(ASCII_FIRST)}.{i}"
            domain = rng.choice(DOMAINS) if rng.random() < 0.99 else "bücher.de"
            email = f"{local}@{domain}"
            e = rng.random()
            if e < 0.02:
                email = rng.choice([f"{local}@", f"{local}@@x.com", f"{local} x@y.com", "n/a"])
            elif e < 0.03:
                email = f"zoë.{i}@example.com"
            elif e < 0.08:
                email = email.title()
            elif e < 0.09:
                email = f"  {email} "
            phone = rng.choice(junk) if rng.random() < 0.03 else rng.choice(phone_makers)()
        ids.append(i)
        emails.append(email)
        firsts.append(rng.choice(AWKWARD) if rng.random() < 0.02 else rng.choice(FIRST))
        lasts.append(f"Lastname{rng.randrange(50_000)}")
        phones.append(phone)
    return pa.table(
        {
            "customer_id": pa.array(ids, pa.int64()),
            "email": emails,
            "first_name": firsts,
            "last_name": lasts,
            "phone": phones,
        }
    )


class Timing(float):
    """Wall seconds (the float value) with the CPU seconds spent, pool children included."""

    cpu: float


def _cpu() -> float:
    own = time.process_time()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], T], repeat: int) -> tuple[Timing, T]:
    """Median wall time of ``repeat`` runs; CPU time counts children once they are reaped."""
    times: list[tuple[float, float]] = []
    result: T | None = None
    for _ in range(repeat):
        gc.collect()
        t, c = time.perf_counter(), _cpu()
        result = fn()
        times.append((time.perf_counter() - t, _cpu() - c))
    assert result is not None
    wall, cpu = sorted(times)[len(times) // 2]
    timing = Timing(wall)
    timing.cpu = cpu
    return timing, result


def json_bodies(contacts: pa.Table, attrs: list[str], max_bytes: int) -> tuple[int, int]:
    """The jsonBody alternative, for comparison: orjson per row, greedy byte-bounded join."""
    envelope = len(orjson.dumps({"jsonBody": [], "listIds": [2147483647]})) + 128
    bodies, total, size = 0, 0, envelope
    for batch in contacts.to_batches(max_chunksize=50_000):
        cols = batch.to_pydict()
        for i, email in enumerate(cols["EMAIL"]):
            attributes = {a: cols[a][i] for a in attrs if cols[a][i] is not None}
            row = len(orjson.dumps({"email": email, "attributes": attributes})) + 1
            if size + row > max_bytes:
                bodies, total, size = bodies + 1, total + size, envelope
            size += row
    return bodies + 1, total + size


def phone_figures(data: str, column: pa.ChunkedArray, repeat: int) -> list[tuple[str, float, str]]:
    """``PhoneParser.parse`` of a whole column: library alone, then fast path first; one
    process, then a spawned pool (start-up included)."""
    out: list[tuple[str, float, str]] = []
    distinct = len(pc.unique(column))
    for fast in (False, True):
        how = f"fast path + {default_backend()}" if fast else f"{default_backend()} alone"

        def one(fast: bool = fast) -> PhoneCheck:
            return PhoneParser(workers=0, fast=fast).parse(column, "GB")

        secs, result = timed(one, repeat)
        note = f"{distinct:,} distinct"
        if fast:
            note += f", {result.fast:,} answered by the fast path"
        out.append((f"phones ({data}), {how}, 1 process", secs, note))

        def pooled(fast: bool = fast) -> PhoneCheck:
            with PhoneParser(fast=fast) as parser:
                return parser.parse(column, "GB")

        secs, result = timed(pooled, repeat)
        valid = len(result.e164) - result.e164.null_count
        out.append((f"phones ({data}), {how}, 2 cores", secs, f"{valid:,} valid"))
    return out


def make_mixed_phones(n: int, seed: int = 3) -> tuple[pa.Array, pa.Array]:
    """National numbers of eight countries with each row's country (mixed case, 5 % blank
    and read as GB, 1 % not a country code), 10 % in international form, 2 % junk."""
    rng = random.Random(seed)

    def d(k: int) -> str:
        return "".join(rng.choices("0123456789", k=k))

    national: dict[str, Callable[[], str]] = {
        "GB": lambda: f"07{rng.choice('1234589')}{d(2)} {d(6)}",
        "FR": lambda: f"06 {d(2)} {d(2)} {d(2)} {d(2)}",
        "DE": lambda: f"0151 {d(8)}",
        "US": lambda: f"({rng.choice(['415', '212', '646'])}) {rng.choice('2345')}{d(2)}-{d(4)}",
        "IE": lambda: f"087 {d(3)} {d(4)}",
        "NL": lambda: f"06-{d(8)}",
        "IT": lambda: f"3{rng.choice('2345')}{d(1)} {d(7)}",
        "BE": lambda: f"04{rng.choice('789')}{d(1)} {d(2)} {d(2)} {d(2)}",
    }
    codes = {"GB": 44, "FR": 33, "DE": 49, "US": 1, "IE": 353, "NL": 31, "IT": 39, "BE": 32}
    regions = list(national)
    phones, countries = [], []
    for _ in range(n):
        region = rng.choice(regions)
        phone = national[region]()
        if rng.random() < 0.1:
            phone = f"+{codes[region]} {phone.lstrip('0')}"
        if rng.random() < 0.02:
            phone = rng.choice(["n/a", "12345", "", "0"])
        r = rng.random()
        country: str | None = region if r < 0.6 else region.lower() if r < 0.94 else None
        if r >= 0.99:
            country = "UK"
        phones.append(phone)
        countries.append(country)
    return pa.array(phones), pa.array(countries, pa.string())


def mixed_figures(rows: int, repeat: int) -> list[tuple[str, float, str]]:
    """``PhoneParser.parse`` of mixed-country numbers, one process: one region for every
    row (what an export could do before --phone-country-column) vs each row's country."""
    phones, countries = make_mixed_phones(rows)
    out: list[tuple[str, float, str]] = []
    with PhoneParser(workers=0) as parser:
        secs, result = timed(lambda: parser.parse(phones, "GB"), repeat)
        valid = len(result.e164) - result.e164.null_count
        out.append(("phones (mixed countries), one region GB, 1 process", secs, f"{valid:,} valid"))
        secs, result = timed(lambda: parser.parse(phones, "GB", countries=countries), repeat)
        valid = len(result.e164) - result.e164.null_count
        note = f"{valid:,} valid, {result.fast:,} answered by the fast path"
        out.append(("phones (mixed countries), each row's country, 1 process", secs, note))
    return out


def print_figures(rows: int, batch_rows: int, figures: list[tuple[str, float, str]]) -> None:
    print()
    print(f"| step ({rows:,} rows, batches of {batch_rows:,}) | wall s | CPU s | notes |")
    print("| --- | ---: | ---: | --- |")
    for name, secs, note in figures:
        cpu = f"{secs.cpu:.2f}" if isinstance(secs, Timing) else "–"
        print(f"| {name} | {secs:.2f} | {cpu} | {note} |")


def run(rows: int, batch_rows: int, repeat: int, pure_sample: int, phones_only: bool) -> None:
    t = time.perf_counter()
    profiles = make_profiles(rows)
    print(f"built {rows:,} synthetic profiles in {time.perf_counter() - t:.1f} s (not timed)")
    mapping = ContactMapping(
        email="email", first_name="first_name", last_name="last_name", phone="phone"
    )
    attrs = list(mapping.attribute_columns)
    batches = profiles.to_batches(max_chunksize=batch_rows)
    figures: list[tuple[str, float, str]] = []  # Timing where measured

    # 1. emails alone (inside prepare_batch too)
    from segport.contacts import check_emails

    secs, emails = timed(lambda: check_emails(profiles.column("email")), repeat)
    figures.append(
        (
            "emails: trim, lower, RE2 rule, IDNA for non-ASCII",
            secs,
            f"{emails.emails.null_count:,} rejected",
        )
    )

    # 2. phones: library alone vs fast path first, one core vs both, on both data sets
    r = random.Random(7)
    export_phones = pa.array([export_phone(r, i) for i in range(rows)])
    for data, column in (("contacts", profiles.column("phone")), ("export_run", export_phones)):
        figures += phone_figures(data, column, repeat)
    figures += mixed_figures(rows, repeat)
    if phones_only:
        print_figures(rows, batch_rows, figures)
        return
    if pure_sample:
        sample = profiles.column("phone").to_pylist()[:pure_sample]
        t = time.perf_counter()
        parse_values(sample, "GB", "phonenumbers")
        pure = (time.perf_counter() - t) * rows / pure_sample
        figures.append(
            (
                "phones, pure-Python phonenumbers, 1 process (extrapolated)",
                pure,
                f"from {pure_sample:,} rows",
            )
        )

    # 3. the contacts steps of a run: prepare per batch, chunk
    def prepare_all(fast: bool = True) -> tuple[pa.Table, pa.Table]:
        with PhoneParser(fast=fast) as parser:
            out = [prepare_batch(b, mapping, "customer_id", phone_parser=parser) for b in batches]
        return pa.concat_tables([p.contacts for p in out]), concat_rejects([p.rejects for p in out])

    secs_slow, _ = timed(lambda: prepare_all(fast=False), repeat)
    figures.append(
        (f"(before) prepare_batch x {len(batches)}, phones without the fast path", secs_slow, "")
    )
    secs_prepare, (contacts, rejects) = timed(prepare_all, repeat)
    figures.append(
        (
            f"prepare_batch x {len(batches)} batches (emails, names, phones)",
            secs_prepare,
            f"{contacts.num_rows:,} contacts, {rejects.num_rows:,} reject rows",
        )
    )
    # (A run de-duplicates and fingerprints in SQL over its state: bench/export_run.py.)
    final = contacts

    def chunk_all() -> list[tuple[int, int]]:
        return [
            (c.row_count, c.byte_size)
            for c in iter_import_chunks(
                iter(final.to_batches(max_chunksize=batch_rows)), attrs, carry=["_customer_id"]
            )
        ]

    secs_chunk, chunks = timed(chunk_all, repeat)
    csv_bytes = sum(b for _, b in chunks)
    figures.append(
        (
            "iter_import_chunks, fileBody CSV, 8,000,000-byte requests",
            secs_chunk,
            f"{len(chunks)} bodies, {csv_bytes / 1e6:.1f} MB,"
            f" largest {max(b for _, b in chunks):,} B",
        )
    )
    secs_json, (json_count, json_total) = timed(lambda: json_bodies(final, attrs, 8_000_000), 1)
    figures.append(
        (
            "(comparison) jsonBody with orjson, per-row greedy join",
            secs_json,
            f"{json_count} bodies, {json_total / 1e6:.1f} MB",
        )
    )

    total = secs_prepare + secs_chunk
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print_figures(rows, batch_rows, figures)
    cpu_total = sum(t.cpu for t in (secs_prepare, secs_chunk))
    print(f"| **prepare + chunk** | **{total:.2f}** | {cpu_total:.2f} | |")
    print(
        f"\nCSV/JSON size ratio: {json_total / csv_bytes:.2f}x; peak RSS of this process"
        f" {peak:.0f} MB (holds the synthetic table and every intermediate for the report)"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--pure-sample", type=int, default=50_000)
    parser.add_argument("--phones-only", action="store_true", help="stop after the phones")
    args = parser.parse_args()
    run(args.rows, args.batch, args.repeat, args.pure_sample, args.phones_only)


if __name__ == "__main__":
    main()
