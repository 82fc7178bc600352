"""Realistic sample profiles for `make demo`, with a few bad rows on purpose.

Deterministic (seeded), so the demo prints the same counts every time.
"""

from __future__ import annotations

import csv
import random
import unicodedata
from datetime import date, timedelta
from pathlib import Path

FIRST = [
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Noah", "Oliver", "George", "Arthur", "Leo",
    "Chloé", "Zoë", "José", "Renée", "Siobhán", "Björn", "Łukasz", "Ana María", "Aiyana", "Mei",
]  # fmt: skip
LAST = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Evans",
    "O'Brien", "García", "Müller", "Dubois", "Nguyen", "Kowalski", "van der Berg", "Smith; Jr.",
]  # fmt: skip
DOMAINS = ["example.com", "example.co.uk", "mail.example.org", "example.fr", "example.de"]
# (country, phone formats in that country's national habits; x = a random digit)
PHONES = {
    "GB": ["07911 xxxxxx", "+44 7911 xxxxxx", "0044 (0)7911 xxxxxx", "020 7xxx xxxx"],
    "FR": ["06 12 xx xx xx", "+33 6 12 xx xx xx", "0033 6 12 xx xx xx"],
    "US": ["(415) 2xx-xxxx", "+1 415-2xx-xxxx", "415.2xx.xxxx"],
    "DE": ["+49 (0) 30 901820xx", "030 901820xx"],
}


def _ascii(text: str) -> str:
    """What most email providers make of a name: accents dropped."""
    text = text.replace("ł", "l").replace("Ł", "L")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _digits(pattern: str, rng: random.Random) -> str:
    return "".join(str(rng.randrange(10)) if ch == "x" else ch for ch in pattern)


def _phone(country: str, rng: random.Random) -> str:
    """A number in one of the country's usual formats, in a range that is really allocated."""
    import phonenumbers

    pattern = rng.choice(PHONES[country])
    for _ in range(200):
        raw = _digits(pattern, rng)
        if phonenumbers.is_valid_number(phonenumbers.parse(raw, country)):
            return raw
    return raw


def write_sample_profiles(path: Path, count: int = 2_000, seed: int = 7) -> dict[str, int]:
    """Write ``count`` profiles as CSV; returns how many bad rows of each kind it holds."""
    rng = random.Random(seed)
    today = date(2026, 11, 29)
    bad = {"invalid_email": 0, "invalid_phone": 0, "duplicate_email": 0, "malformed_line": 0}
    emails: dict[str, list[str]] = {}
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(
            [
                "customer_id", "email", "first_name", "last_name", "phone", "country",
                "lifetime_value", "last_purchase", "newsletter",
            ]
        )  # fmt: skip
        for i in range(1, count + 1):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            country = rng.choice(list(PHONES))
            local = _ascii(f"{first}.{last}".lower()).replace(" ", "").replace("'", "")
            local = local.replace(";", "")
            if i % 250 == 0:
                local = f"{first}".lower()  # an internationalised local part, as some people have
            email = f"{local}{i}@{rng.choice(DOMAINS)}"
            if i % 9 == 0:
                email = f"  {email.upper()} "  # stray spaces and capitals: normalised, not rejected
            phone = _phone(country, rng)
            if i % 97 == 0:
                email = f"{local}{i}@@example.com"
                bad["invalid_email"] += 1
            elif i % 89 == 0:
                phone = "n/a"
                bad["invalid_phone"] += 1
            elif i % 83 == 0 and emails.get(country):
                # The same person under a second customer id (a second sign-up, say).
                email = rng.choice(emails[country])
                bad["duplicate_email"] += 1
            emails.setdefault(country, []).append(email)
            ltv = round(rng.lognormvariate(4.5, 1.0), 2)
            last_purchase = today - timedelta(days=rng.randrange(0, 400))
            out.writerow(
                [
                    i, email, first, last, phone, country, ltv,
                    last_purchase.isoformat(), rng.random() < 0.7,
                ]
            )  # fmt: skip
        # One line the CSV reader cannot use: the load reports it by line and keeps the rest.
        fh.write('99999,"broken@example.com,Unclosed,quote\n')
        bad["malformed_line"] += 1
    return bad
