"""Pacing arithmetic with an injected clock, and the client's answers to 429s."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from segport.brevo import BrevoClient, RateLimitedError
from segport.brevo.pacing import (
    CONTACTS,
    OTHER,
    Pacer,
    RateLimitHeaders,
    TokenBucket,
    WaitTooLong,
    family_of,
)

from .conftest import FakeClock, Script, json_response

Make = Callable[..., tuple[BrevoClient, Script]]


def limit_headers(remaining: int, reset: int, limit: int = 10) -> dict[str, str]:
    return {
        "x-sib-ratelimit-limit": str(limit),
        "x-sib-ratelimit-remaining": str(remaining),
        "x-sib-ratelimit-reset": str(reset),
    }


def test_families() -> None:
    assert family_of("/contacts") == CONTACTS
    assert family_of("/contacts/lists/3/contacts/add") == CONTACTS
    assert family_of("/contactsfoo") == OTHER
    assert family_of("/account") == OTHER
    assert family_of("/processes/12") == OTHER


def test_headers_parsing() -> None:
    parsed = RateLimitHeaders.from_headers(limit_headers(0, 7))
    assert (parsed.limit, parsed.remaining, parsed.reset) == (10, 0, 7)
    assert parsed.exhausted
    assert not RateLimitHeaders.from_headers({}).exhausted
    junk = RateLimitHeaders.from_headers({"x-sib-ratelimit-remaining": "lots"})
    assert junk.remaining is None
    # a reset given as a Unix timestamp is turned into seconds from now
    epoch = RateLimitHeaders.from_headers(
        {"x-sib-ratelimit-reset": "1800000030"}, wall_clock=lambda: 1_800_000_000.0
    )
    assert epoch.reset == 30


def test_token_bucket_spaces_requests_evenly() -> None:
    bucket = TokenBucket(rate=10, burst=1)
    delays = [bucket.reserve(at=0.0) for _ in range(5)]
    assert delays == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    # after an idle second, the next request goes at once
    assert bucket.reserve(at=2.0) == 0.0


def test_token_bucket_burst() -> None:
    bucket = TokenBucket(rate=10, burst=3)
    delays = [bucket.reserve(at=0.0) for _ in range(5)]
    assert delays == pytest.approx([0.0, 0.0, 0.0, 0.1, 0.2])


@given(
    rate=st.floats(min_value=0.5, max_value=100),
    gaps=st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=60),
)
def test_no_window_of_one_second_exceeds_rate_plus_one(rate: float, gaps: list[float]) -> None:
    """Whatever the arrival pattern, sends paced with burst 1 never crowd a 1 s window."""
    bucket = TokenBucket(rate=rate, burst=1)
    now, sends = 0.0, []
    for gap in gaps:
        now += gap
        sends.append(now + bucket.reserve(at=now))
    for i, start in enumerate(sends):
        in_window = [t for t in sends[i:] if t < start + 1.0]
        assert len(in_window) <= rate + 1


def test_pacer_only_paces_contacts_and_honours_blocks() -> None:
    clock = FakeClock(now=0.0)
    pacer = Pacer(5.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        pacer.acquire(CONTACTS, max_wait=60)
        pacer.acquire(OTHER, max_wait=60)
    assert clock.sleeps == pytest.approx([0.2, 0.2])
    pacer.observe(OTHER, RateLimitHeaders(limit=100, remaining=0, reset=42))
    with pytest.raises(WaitTooLong) as caught:
        pacer.acquire(OTHER, max_wait=10)
    assert caught.value.wait == pytest.approx(42)
    assert pacer.acquire(OTHER, max_wait=60) == pytest.approx(42)


def test_exhausted_one_second_window_of_a_paced_family_is_not_a_block() -> None:
    clock = FakeClock(now=0.0)
    pacer = Pacer(10.0, clock=clock, sleep=clock.sleep)
    pacer.observe(CONTACTS, RateLimitHeaders(limit=10, remaining=0, reset=1))
    assert pacer.reserve(CONTACTS, max_wait=60) == 0.0
    pacer.observe(CONTACTS, RateLimitHeaders(limit=36000, remaining=0, reset=900))
    with pytest.raises(WaitTooLong):
        pacer.reserve(CONTACTS, max_wait=60)


def test_429_waits_for_the_announced_reset_then_succeeds(scripted: Make, clock: FakeClock) -> None:
    too_many = json_response(429, {"code": "too_many_requests", "message": "slow down"},
                             limit_headers(0, 3))  # fmt: skip
    client, script = scripted(too_many, json_response(200, {"attributes": []}))
    assert client.get_attributes() == []
    assert script.times[1] - script.times[0] == pytest.approx(3.0)


def test_429_without_headers_backs_off_from_one_second(scripted: Make) -> None:
    bare = json_response(429, {"message": "Too many requests"})
    client, script = scripted(bare, bare, bare, json_response(200, {"attributes": []}))
    client.get_attributes()
    gaps = [b - a for a, b in zip(script.times, script.times[1:], strict=False)]
    assert gaps == pytest.approx([1.0, 2.0, 4.0], abs=0.11)


def test_429_beyond_the_cap_raises_with_the_needed_wait(scripted: Make) -> None:
    hourly = json_response(429, {"code": "too_many_requests", "message": "limit reached"},
                           limit_headers(0, 1800, limit=100))  # fmt: skip
    client, script = scripted(hourly, max_rate_limit_wait=60)
    with pytest.raises(RateLimitedError) as caught:
        client.get_account()
    error = caught.value
    assert error.retry_after == pytest.approx(1800) and error.status == 429
    assert "1800 s" in str(error) and "60 s" in str(error)
    assert len(script.requests) == 1
    # the next call of the same family fails fast, without a request
    with pytest.raises(RateLimitedError) as again:
        client.get_account()
    assert again.value.status is None and len(script.requests) == 1


def test_remaining_zero_on_success_blocks_the_next_call(scripted: Make, clock: FakeClock) -> None:
    last = json_response(200, {"attributes": []}, limit_headers(0, 20, limit=100))
    client, script = scripted(last, json_response(200, {"email": "a@b.c"}))
    client.get_account()  # /account: the "other" family, 100 per hour
    client.get_account()
    assert script.times[1] - script.times[0] == pytest.approx(20.0)


def test_429_storm_is_bounded(scripted: Make) -> None:
    storm = json_response(429, {"message": "x"}, limit_headers(0, 1))
    client, script = scripted(*[storm] * 4, max_rate_limited_retries=3)
    with pytest.raises(RateLimitedError):
        client.get_attributes()
    assert len(script.requests) == 4


def test_429_retries_do_not_use_the_error_budget(scripted: Make) -> None:
    storm = json_response(429, {"message": "x"}, limit_headers(0, 1))
    client, script = scripted(*[storm] * 4, json_response(200, {"attributes": []}), max_retries=1)
    assert client.get_attributes() == []
    assert len(script.requests) == 5


def test_contacts_calls_are_spaced_by_the_rate(scripted: Make) -> None:
    ok = json_response(200, {"attributes": []})
    client, script = scripted(*[ok] * 5, requests_per_second=4)
    for _ in range(5):
        client.get_attributes()
    gaps = [b - a for a, b in zip(script.times, script.times[1:], strict=False)]
    assert gaps == pytest.approx([0.25] * 4)
    assert client.seconds_paced == pytest.approx(1.0)


def test_pacing_can_be_turned_off(scripted: Make, clock: FakeClock) -> None:
    ok = json_response(200, {"attributes": []})
    client, script = scripted(*[ok] * 5, requests_per_second=None)
    for _ in range(5):
        client.get_attributes()
    assert clock.sleeps == [] and len(script.requests) == 5
