"""A deterministic corpus of raw phone values in mixed national and international formats."""

from __future__ import annotations

import random

JUNK = ["n/a", "12345", "tel:", "", "   ", "none", "+", "0", "++44", "abc-def", "0000000000"]


def phone_corpus(n: int, seed: int = 7) -> list[tuple[str, str]]:
    """(raw value, default region) pairs: the formats real profile tables hold."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []

    def d(k: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(k))

    makers = [
        ("GB", lambda: f"+44 20 {d(4)} {d(4)}"),
        ("GB", lambda: f"020 {d(4)} {d(4)}"),
        ("GB", lambda: f"07{rng.choice('123456789')}{d(2)} {d(6)}"),
        ("GB", lambda: f"0044 (0)161 {d(3)} {d(4)}"),
        ("GB", lambda: f"+44 (0)7{d(3)} {d(6)}"),
        ("US", lambda: f"({rng.choice(['415', '212', '646', '305'])}) {d(3)}-{d(4)}"),
        ("US", lambda: f"+1 {rng.choice(['415', '212'])}-{d(3)}-{d(4)}"),
        ("US", lambda: f"{rng.choice(['415', '617'])}.{d(3)}.{d(4)}"),
        ("US", lambda: f"1-800-{d(3)}-{d(4)}"),
        ("FR", lambda: f"06 {d(2)} {d(2)} {d(2)} {d(2)}"),
        ("FR", lambda: f"00 33 6{d(8)}"),
        ("FR", lambda: f"+33 (0)1 {d(2)} {d(2)} {d(2)} {d(2)}"),
        ("DE", lambda: f"+49 (0) 89 {d(7)}"),
        ("DE", lambda: f"0151 {d(8)}"),
        ("DE", lambda: f"030/{d(7)}"),
        ("ES", lambda: f"+34 6{d(2)} {d(3)} {d(3)}"),
        ("ES", lambda: f"9{d(8)}"),
        ("GB", lambda: f"tel:+44-20-{d(4)}-{d(4)}"),
        ("GB", lambda: f"+44 20 {d(4)} {d(4)} ext. {d(3)}"),
        ("GB", lambda: d(rng.randint(3, 16))),
        ("US", lambda: f"+{d(rng.randint(6, 17))}"),
        ("FR", lambda: rng.choice(JUNK)),
        ("GB", lambda: f"+44 7700 9{d(5)}"),
        ("IN", lambda: f"+91 9{d(9)}"),
        ("JP", lambda: f"090-{d(4)}-{d(4)}"),
        ("BR", lambda: f"(11) 9{d(4)}-{d(4)}"),
        ("GB", lambda: f"０２０ {d(4)} {d(4)}"),  # full-width digits
    ]
    for _ in range(n):
        region, make = rng.choice(makers)
        out.append((make(), region))
    return out
