"""Phone numbers to E.164 through the ``phonenumbers`` API (libphonenumber metadata).

``rphonenumbers`` (Rust, same API, ~10x faster) is used when importable, else
``phonenumbers`` (installed as ``phonenumberslite``). Only distinct raw values are parsed
(the engine's prepared-contacts cache keeps unchanged rows from coming here at all). Simply
written numbers are first answered column-wise by :mod:`segport.contacts.phone_fast` (the
library's exact answer, without a call per number); the library takes the rest. It holds
the GIL, so big batches of those are spread over processes; small ones stay in-process.
With a per-row country column, rows are grouped by the region they are read in and each
group takes that same path.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from types import ModuleType, TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from segport.contacts._literals import NULL_STR, lit
from segport.contacts.phone_fast import fast_e164
from segport.contacts.rejects import Reason

BACKENDS = ("rphonenumbers", "phonenumbers")
_log = logging.getLogger(__name__)


def _load(backend: str | None) -> ModuleType:
    if backend is not None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown phone backend {backend!r}; use one of {BACKENDS}")
        return importlib.import_module(backend)
    try:
        return importlib.import_module("rphonenumbers")
    except ImportError:
        return importlib.import_module("phonenumbers")


def default_backend() -> str:
    """The module name used when no backend is given: rphonenumbers when importable."""
    return str(_load(None).__name__)


def supported_regions(backend: str | None = None) -> frozenset[str]:
    return frozenset(_load(backend).SUPPORTED_REGIONS)


# rphonenumbers carries rlibphonenumber's own copy of libphonenumber's metadata, not the one
# in the phonenumbers package that the fast path reads. Where the two differ the fast path
# would not give the Rust backend's answer, so these regions (as the default region, or
# anywhere in a country code's region list) are left to the library. Keyed by the
# (rphonenumbers, phonenumbers) versions; tests/unit/contacts/test_phone_fast.py derives the
# set from the metadata compiled into rphonenumbers and fails, printing the entry to add,
# when the installed pair is missing.
RUST_METADATA_DIFFERS: dict[tuple[str, str], frozenset[str]] = {
    ("0.1.0", "9.0.42"): frozenset(
        {"AU", "AX", "BW", "CC", "CN", "CO", "CR", "CV", "CX", "DK", "ES"}
        | {"FI", "GH", "GY", "IN", "KE", "KW", "PG", "PY", "RU", "SH"}
    ),
}


def fast_path_exclusions(backend: str) -> frozenset[str] | None:
    """Regions whose numbers the fast path must leave to ``backend``'s library; None when
    the fast path cannot be used with it (a version pair nobody has compared)."""
    if backend == "phonenumbers":
        return frozenset()  # the very metadata the fast path reads
    versions = (str(_load(backend).__version__), str(_load("phonenumbers").__version__))
    return RUST_METADATA_DIFFERS.get(versions)


def parse_values(
    values: list[str], region: str, backend: str | None = None
) -> tuple[list[str | None], list[str | None]]:
    """Parse raw numbers: (E.164 or None, why not or None) per value.

    Module-level so process pools can run it; imports only the phone library.
    """
    lib: Any = _load(backend)
    parse, valid, fmt = lib.parse, lib.is_valid_number, lib.format_number
    e164_format = lib.PhoneNumberFormat.E164
    parse_error = lib.NumberParseException
    not_valid = f"not a valid phone number (national numbers are read as region {region})"
    out: list[str | None] = []
    why: list[str | None] = []
    for value in values:
        try:
            number = parse(value, region)
        except parse_error:
            out.append(None)
            why.append("not a phone number")
            continue
        if valid(number):
            out.append(fmt(number, e164_format))
            why.append(None)
        else:
            out.append(None)
            why.append(not_valid)
    return out, why


def _exit_with_parent() -> None:
    """Pool worker start-up: exit as soon as the parent dies (even by SIGKILL).

    Without this a worker blocked on its task queue outlives a killed run.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


@dataclass(frozen=True)
class PhoneCheck:
    """Per-row outcome of :meth:`PhoneParser.parse`, aligned with the input.

    ``e164`` is null where there is no usable number; ``details`` is non-null exactly for
    the rows that had a non-empty raw value which could not be made valid (reject rows).
    ``parsed`` counts the distinct values actually parsed (the rest were reused or empty),
    by the fast path or the library; ``fast`` how many of those the fast path answered.
    """

    e164: pa.StringArray
    details: pa.StringArray
    parsed: int
    fast: int = 0
    reasons: pa.StringArray | None = None
    """Reason code per reject row (null elsewhere); None: every reject is ``phone_invalid``."""


class PhoneParser:
    """Parses phone columns to E.164; reuse one per run (it may hold a process pool).

    A batch with at least ``fast_threshold`` distinct values (default: 2,000 with
    rphonenumbers, 200 with the slower phonenumbers; below that the library is quicker)
    goes through the fast path first; ``fast=False`` never uses it. ``workers`` extra
    processes (default: CPU count - 1, so the calling process parses too) are started, with
    ``spawn``, the first time a batch leaves at least ``parallel_threshold`` distinct values
    to the library; ``workers=0`` never starts any. Use as a context manager, or call
    :meth:`close`.
    """

    def __init__(
        self,
        *,
        backend: str | None = None,
        workers: int | None = None,
        parallel_threshold: int = 20_000,
        fast: bool = True,
        fast_threshold: int | None = None,
    ) -> None:
        self.backend = str(_load(backend).__name__)
        self.workers = max(0, (os.cpu_count() or 1) - 1) if workers is None else workers
        self.parallel_threshold = parallel_threshold
        self._regions = supported_regions(self.backend)
        self._region_array: pa.Array | None = None
        self._pool: ProcessPoolExecutor | None = None
        self.fast = fast
        self._fast_exclude: frozenset[str] | None = None  # looked up on first use
        if fast_threshold is None:
            fast_threshold = 2_000 if self.backend == "rphonenumbers" else 200
        self.fast_threshold = fast_threshold

    def __enter__(self) -> PhoneParser:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=True, cancel_futures=True)

    def check_region(self, region: str) -> None:
        if region not in self._regions:
            raise ValueError(
                f"phone region {region!r} is not a region libphonenumber knows;"
                " use a two-letter country code such as GB, US or FR"
            )

    def parse(
        self,
        raw: pa.Array | pa.ChunkedArray,
        region: str,
        *,
        countries: pa.Array | pa.ChunkedArray | None = None,
        country_label: str = "the country is",
    ) -> PhoneCheck:
        """Normalise a column of raw phone values (any type castable to string).

        Empty or blank raw values give no number and no reject: the contact simply has no
        phone.

        ``countries``, aligned with ``raw``, gives each row's ISO 3166 alpha-2 country (any
        case, surrounding blanks ignored): national numbers are read in it. ``region`` is
        the fallback for rows whose country is blank. A row whose country is not a region
        the library knows keeps a number written in international form (``+``...), which
        needs no country; any other number of it is a ``phone_country_invalid`` reject,
        its detail quoting the value after ``country_label`` (where it came from): read
        in the fallback region it could become another person's valid number.
        """
        self.check_region(region)
        if isinstance(raw, pa.ChunkedArray):
            raw = raw.combine_chunks()
        text = pc.utf8_trim_whitespace(raw.cast(pa.string()))
        text = pc.if_else(pc.equal(text, lit("")), NULL_STR, text)
        to_parse = text
        if countries is None:
            e164_col, why_col, parsed, fast = self._parse_column(to_parse, region)
            reasons = None
        else:
            if len(countries) != len(raw):
                raise ValueError(f"countries has {len(countries)} rows, raw has {len(raw)}")
            e164_col, why_col, reasons, parsed, fast = self._parse_by_country(
                to_parse, countries, region, country_label
            )
        return PhoneCheck(e164_col, why_col, parsed, fast, reasons)

    def _parse_column(self, to_parse: pa.Array, region: str) -> tuple[pa.Array, pa.Array, int, int]:
        """One region for every row -> (E.164, why not, distinct parsed, fast answers)."""
        encoded = pc.dictionary_encode(to_parse)
        distinct = encoded.dictionary
        e164, why, fast = self._normalise(distinct, region)
        return pc.take(e164, encoded.indices), pc.take(why, encoded.indices), len(distinct), fast

    def _parse_by_country(
        self, to_parse: pa.Array, countries: pa.Array | pa.ChunkedArray, region: str, label: str
    ) -> tuple[pa.Array, pa.Array, pa.Array | None, int, int]:
        """Each row in its own country's region: one pass per region present (a handful in
        real data), each as vectorised as a single-region column."""
        if isinstance(countries, pa.ChunkedArray):
            countries = countries.combine_chunks()
        given = pc.utf8_trim_whitespace(countries.cast(pa.string()))
        given = pc.if_else(pc.equal(given, lit("")), NULL_STR, given)
        codes = pc.utf8_upper(given)
        usable = pc.is_in(codes, value_set=self._region_values())  # false for nulls
        row_region = pc.if_else(usable, codes, lit(region))
        # An unknown country with a national-form number: not parsed, reported.
        unknown = pc.and_(pc.is_valid(codes), pc.invert(usable))
        national = pc.invert(pc.fill_null(pc.starts_with(to_parse, "+"), False))
        blocked = pc.and_(pc.and_(unknown, national), pc.is_valid(to_parse))
        n = len(to_parse)
        e164_col: pa.Array = pa.nulls(n, pa.string())
        why_col: pa.Array = pa.nulls(n, pa.string())
        if pc.any(blocked).as_py():
            to_parse = pc.if_else(blocked, NULL_STR, to_parse)
            shown = pc.utf8_slice_codeunits(given, 0, 20)
            detail = pc.binary_join_element_wise(
                lit(f"{label} '"),
                shown,
                lit(
                    "', which is not a country code phone numbers know (ISO 3166 alpha-2, e.g. GB,"
                    " FR, US), so the national number cannot be read: fix the country, or"
                    " write the number in international form (+...)"
                ),
                lit(""),
            )
            why_col = pc.if_else(blocked, detail, why_col)
        todo = pc.is_valid(to_parse)
        parsed = fast = 0
        regions = pc.unique(row_region.filter(todo)).to_pylist()
        if len(regions) == 1:  # one country (or none given): the plain column path
            e164, why, parsed, fast = self._parse_column(to_parse, regions[0])
            why_col = pc.coalesce(why, why_col)
            return e164, why_col, self._reasons(blocked, why_col), parsed, fast
        for code in regions:
            rows = pc.and_(todo, pc.equal(row_region, lit(code)))
            e164, why, k, f = self._parse_column(to_parse.filter(rows), code)
            e164_col = pc.replace_with_mask(e164_col, rows, e164)
            why_col = pc.replace_with_mask(why_col, rows, why)
            parsed, fast = parsed + k, fast + f
        return e164_col, why_col, self._reasons(blocked, why_col), parsed, fast

    @staticmethod
    def _reasons(blocked: pa.Array, why: pa.Array) -> pa.Array | None:
        """Per-row reason codes when some rows were blocked by their country, else None."""
        if not pc.any(blocked).as_py():
            return None
        invalid = pc.if_else(pc.is_valid(why), lit(Reason.PHONE_INVALID.value), NULL_STR)
        return pc.if_else(blocked, lit(Reason.PHONE_COUNTRY_INVALID.value), invalid)

    def _region_values(self) -> pa.Array:
        if self._region_array is None:
            self._region_array = pa.array(sorted(self._regions), pa.string())
        return self._region_array

    def _normalise(self, values: pa.StringArray, region: str) -> tuple[pa.Array, pa.Array, int]:
        """Distinct values -> (E.164, why not, how many the fast path answered)."""
        fast = None
        if self.fast and len(values) >= self.fast_threshold:
            if self._fast_exclude is None:
                self._fast_exclude = fast_path_exclusions(self.backend)
            if self._fast_exclude is None:
                _log.warning(
                    "phone fast path off: the metadata of %s has not been compared with the"
                    " phonenumbers package's (see RUST_METADATA_DIFFERS in %s)",
                    self.backend,
                    __name__,
                )
                self.fast = False
            else:
                fast = fast_e164(values, region, exclude=self._fast_exclude)
        if fast is None or fast.null_count == len(values):
            e164, why = self._parse_distinct(values.to_pylist(), region)
            return pa.array(e164, pa.string()), pa.array(why, pa.string()), 0
        rest = pc.is_null(fast)
        e164, why = self._parse_distinct(values.filter(rest).to_pylist(), region)
        nothing = pa.nulls(len(values), pa.string())
        e164_col = pc.replace_with_mask(fast, rest, pa.array(e164, pa.string()))
        why_col = pc.replace_with_mask(nothing, rest, pa.array(why, pa.string()))
        return e164_col, why_col, len(values) - rest.true_count

    def _parse_distinct(
        self, values: list[str], region: str
    ) -> tuple[list[str | None], list[str | None]]:
        if self.workers == 0 or len(values) < self.parallel_threshold:
            return parse_values(values, region, self.backend)
        parts = self.workers + 1
        step = -(-len(values) // parts)
        slices = [values[i : i + step] for i in range(0, len(values), step)]
        pool = self._ensure_pool()
        try:
            futures: list[Future[tuple[list[str | None], list[str | None]]]] = [
                pool.submit(parse_values, part, region, self.backend) for part in slices[1:]
            ]
            e164, why = parse_values(slices[0], region, self.backend)
            for future in futures:
                more_e164, more_why = future.result()
                e164.extend(more_e164)
                why.extend(more_why)
        except BrokenProcessPool:
            # A worker died (killed, out of memory, or a __main__ that cannot be
            # re-imported under spawn): finish here, and stay in-process from now on.
            _log.warning("phone parsing pool failed; parsing in-process", exc_info=True)
            self.close()
            self.workers = 0
            return parse_values(values, region, self.backend)
        return e164, why

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the engine runs threads (uploads, DuckDB) that fork would copy.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=context, initializer=_exit_with_parent
            )
        return self._pool
