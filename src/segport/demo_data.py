"""Realistic sample profiles for `make demo`, with a few bad rows on purpose.

Deterministic (seeded), so the demo prints the same counts every time.
"""

from __future__ import annotations

import csv
import random
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
    "GB": ["07700 900xxx", "+44 7700 900xxx", "0044 (0)7700 900xxx", "020 7946 0xxx"],
    "FR": ["06 12 34 5x xx", "+33 6 12 34 5x xx", "0033 6 12 34 5x xx"],
    "US": ["(415) 555-0xxx", "+1 415-555-0xxx", "415.555.0xxx"],
    "DE": ["+49 (0) 30 901820xx", "030 901820xx"],
}


def _digits(pattern: str, rng: random.Random) -> str:
    return "".join(str(rng.randrange(10)) if ch == "x" else ch for ch in pattern)


def write_sample_profiles(path: Path, count: int = 2_000, seed: int = 7) -> dict[str, int]:
    """Write ``count`` profiles as CSV; returns how many bad rows of each kind it holds."""
    rng = random.Random(seed)
    today = date(2026, 11, 29)
    bad = {"invalid_email": 0, "invalid_phone": 0, "duplicate_email": 0, "malformed_line": 0}
    emails: list[str] = []
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
            local = f"{first}.{last}".lower().replace(" ", "").replace("'", "").replace(";", "")
            email = f"{local}{i}@{rng.choice(DOMAINS)}"
            if i % 9 == 0:
                email = f"  {email.upper()} "  # stray spaces and capitals: normalised, not rejected
            phone = _digits(rng.choice(PHONES[country]), rng)
            if i % 97 == 0:
                email = f"{local}{i}@@example.com"
                bad["invalid_email"] += 1
            elif i % 89 == 0:
                phone = "n/a"
                bad["invalid_phone"] += 1
            elif i % 83 == 0 and emails:
                email = rng.choice(emails)
                bad["duplicate_email"] += 1
            emails.append(email)
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
