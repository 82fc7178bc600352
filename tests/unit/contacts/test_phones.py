"""Phones to E.164: both libraries agree, pools give the same answers, known values are reused."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segport.contacts.phones import PhoneParser, default_backend, parse_values

sys.path.insert(0, str(Path(__file__).parent))
from corpus import phone_corpus

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
HAS_RUST = importlib.util.find_spec("rphonenumbers") is not None


@pytest.fixture(scope="module")
def in_process() -> PhoneParser:
    return PhoneParser(workers=0)


def test_rphonenumbers_is_preferred_when_installed() -> None:
    assert default_backend() == ("rphonenumbers" if HAS_RUST else "phonenumbers")


@pytest.mark.skipif(not HAS_RUST, reason="rphonenumbers is not installed")
def test_both_libraries_agree_on_a_varied_corpus() -> None:
    by_region: dict[str, list[str]] = defaultdict(list)
    for raw, region in phone_corpus(6_000):
        by_region[region].append(raw)
    valid = 0
    for region, values in by_region.items():
        rust = parse_values(values, region, "rphonenumbers")
        pure = parse_values(values, region, "phonenumbers")
        assert rust == pure, region
        valid += sum(v is not None for v in rust[0])
    # the corpus exercises both outcomes
    assert 2_000 < valid < 5_900


def test_examples(in_process: PhoneParser) -> None:
    raw = pa.array(
        [
            "020 7946 0018",
            "+44 20 7946 0018",
            "0044 (0)161 496 0000",
            " 07911 123456 ",
            "n/a",
            "12345",
            "",
            None,
            "+33 6 12 34 56 78",
            "tel:+1-415-555-2671",
        ]
    )
    result = in_process.parse(raw, "GB")
    assert result.e164.to_pylist() == [
        "+442079460018",
        "+442079460018",
        "+441614960000",
        "+447911123456",
        None,
        None,
        None,
        None,
        "+33612345678",
        "+14155552671",
    ]
    details = result.details.to_pylist()
    assert details[4] == "not a phone number"
    assert details[5] is not None and "region GB" in details[5]
    assert details[6] is None and details[7] is None  # empty is no phone, not an error
    assert result.parsed == 8  # the non-empty values; blanks are not parsed


def test_national_numbers_use_the_region(in_process: PhoneParser) -> None:
    raw = pa.array(["06 12 34 56 78"])
    assert in_process.parse(raw, "FR").e164.to_pylist() == ["+33612345678"]
    assert in_process.parse(raw, "GB").e164.to_pylist() == [None]


def test_unknown_region_is_refused(in_process: PhoneParser) -> None:
    with pytest.raises(ValueError, match="'ZZ' is not a region"):
        in_process.parse(pa.array(["1"]), "ZZ")


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown phone backend"):
        PhoneParser(backend="libphone")


def test_process_pool_gives_the_same_result(in_process: PhoneParser) -> None:
    values = [raw for raw, region in phone_corpus(3_000, seed=11) if region == "GB"]
    raw = pa.chunked_array([values[:500], values[500:]])
    with PhoneParser(workers=1, parallel_threshold=100) as pooled:
        parallel = pooled.parse(raw, "GB")
        assert pooled._pool is not None  # the pool really ran
        again = pooled.parse(raw, "GB")  # and is reused
    serial = in_process.parse(raw, "GB")
    assert parallel.e164.to_pylist() == serial.e164.to_pylist() == again.e164.to_pylist()
    assert parallel.details.to_pylist() == serial.details.to_pylist()


def test_fast_path_then_pool_gives_the_library_result() -> None:
    """The fast path answers first; what it leaves goes to the pool; nothing changes."""
    values = [raw for raw, region in phone_corpus(4_000, seed=13) if region in ("GB", "US")]
    raw = pa.array(values)
    with PhoneParser(workers=1, parallel_threshold=50, fast_threshold=0) as both:
        result = both.parse(raw, "GB")
        assert both._pool is not None  # the leftovers really went to the pool
    library = PhoneParser(workers=0, fast=False).parse(raw, "GB")
    assert result.e164.to_pylist() == library.e164.to_pylist()
    assert result.details.to_pylist() == library.details.to_pylist()
    assert result.parsed == library.parsed and 0 < result.fast < result.parsed


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="0123456789 +()-.x/tel:", max_size=20), max_size=20))
def test_output_is_e164_or_explained(values: list[str]) -> None:
    result = PhoneParser(workers=0).parse(pa.array(values, pa.string()), "GB")
    for raw, e164, detail in zip(
        values, result.e164.to_pylist(), result.details.to_pylist(), strict=True
    ):
        if e164 is not None:
            assert E164.match(e164) and detail is None
            # normalising the E.164 form again is a fixed point
            assert parse_values([e164], "US")[0] == [e164]
        else:
            assert (detail is None) == (raw.strip() == "")


def test_a_broken_pool_falls_back_to_in_process(in_process: PhoneParser) -> None:
    """A worker killed mid-run must not lose numbers: the batch finishes in-process."""
    import os
    import signal

    values = [raw for raw, region in phone_corpus(2_000, seed=5) if region == "GB"]
    raw = pa.array(values)
    with PhoneParser(workers=1, parallel_threshold=10) as pooled:
        pooled.parse(raw.slice(0, 50), "GB")  # starts the worker
        assert pooled._pool is not None
        for pid in list(pooled._pool._processes):  # kill our own worker, by id
            os.kill(pid, signal.SIGKILL)
        result = pooled.parse(raw, "GB")
        assert pooled.workers == 0 and pooled._pool is None
    assert result.e164.to_pylist() == in_process.parse(raw, "GB").e164.to_pylist()


def test_pool_workers_exit_when_the_run_is_killed(tmp_path: Path) -> None:
    """SIGKILL of the parent (a killed run) must not leave phone workers behind."""
    import os
    import select
    import signal
    import subprocess

    script = tmp_path / "run.py"
    script.write_text(
        "import time, pyarrow as pa\n"
        "from segport.contacts import PhoneParser\n"
        "if __name__ == '__main__':\n"
        "    p = PhoneParser(workers=1, parallel_threshold=10)\n"
        "    p.parse(pa.array([f'+44 20 7946 {i:04d}' for i in range(100)]), 'GB')\n"
        "    print(*p._pool._processes, flush=True)\n"
        "    time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    worker = int(proc.stdout.readline())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    try:
        # A pidfd becomes readable when its process exits (reaped or not: whoever adopted
        # the worker may not have reaped it yet).
        pidfd = os.pidfd_open(worker)
    except ProcessLookupError:
        return  # already gone
    try:
        exited, _, _ = select.select([pidfd], [], [], 10)
    finally:
        os.close(pidfd)
    if exited:
        return
    os.kill(worker, signal.SIGKILL)  # clean up our own orphan before failing
    pytest.fail(f"phone worker {worker} outlived its killed parent")
