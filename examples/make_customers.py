"""Write examples/customers.csv, the sample customer file the README's walkthrough loads.

Run once; the CSV is committed next to this script, so the README's numbers stay true.
Re-running it with the same seed (and the same `phonenumbers` metadata) writes the same
file:

    python examples/make_customers.py            # writes examples/customers.csv

It looks like a CRM export of a European shop: accented names and cities, emails as
people type them (capitals, stray spaces), phones in each country's national habits,
dates, blanks, and the problems real files have, on purpose: invalid emails, emails with
non-ASCII local parts, missing emails, the same person signed up twice (the same email
in another case), fictional or junk phone numbers, and one phone shared by two people.
"""

from __future__ import annotations

import argparse
import csv
import random
import unicodedata
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

SEED = 2043
ROWS = 450
TODAY = date(2026, 11, 29)  # the export date of the file; dates never pass it

# country: (share of customers, first names, last names, cities, email domains,
# phone formats as written there, x = a random digit)
COUNTRIES: dict[str, tuple[int, list[str], list[str], list[str], list[str], list[str]]] = {
    "GB": (
        45,
        ["Olivia", "Amelia", "Isla", "George", "Arthur", "Oliver", "Harry", "Zoë", "Chloé",
         "Rhys", "Niamh", "Priya", "Mohammed", "Siobhán", "Ffion"],
        ["Smith", "Jones", "Taylor", "Brown", "Williams", "Davies", "Evans", "O'Brien",
         "Patel", "Khan", "Ní Bhriain", "Hughes", "Clarke-Wood"],
        ["London", "Manchester", "Leeds", "Edinburgh", "Cardiff", "Bristol", "Belfast"],
        ["example.co.uk", "example.com", "mail.example.org"],
        ["075xx xxxxxx", "077xx xxxxxx", "079xx xxxxxx", "+44 79xx xxxxxx",
         "+44 (0)77xx xxxxxx", "020 7946 0xxx", "0161 496 0xxx"],
    ),
    "FR": (
        15,
        ["Chloé", "Léa", "Zoé", "Hélène", "François", "Jérôme", "Benoît", "Théo", "Anaïs",
         "Gaëlle"],
        ["Dubois", "Lefèvre", "Moreau", "Girard", "Faure", "Bonnet", "Roché", "Lemaître"],
        ["Paris", "Lyon", "Besançon", "Orléans", "Nîmes", "Saint-Étienne"],
        ["example.fr", "example.com"],
        ["06 xx xx xx xx", "07 xx xx xx xx", "+33 6 xx xx xx xx", "01 xx xx xx xx",
         "06.xx.xx.xx.xx"],
    ),
    "DE": (
        12,
        ["Jürgen", "Jörg", "Lena", "Björn", "Sören", "Käthe", "Lukas", "Mia", "Felix"],
        ["Müller", "Schröder", "Weiß", "Groß", "Köhler", "Schmidt", "Meyer"],
        ["Berlin", "München", "Köln", "Düsseldorf", "Hamburg"],
        ["example.de", "example.com"],
        ["030 xxxxxxx", "030 xxxxxxxx", "0151 xxxxxxxx", "+49 151 xxxxxxxx",
         "+49 (0)30 xxxxxxxx"],
    ),
    "US": (
        9,
        ["José", "Renée", "Aiyana", "Mei", "Ethan", "Madison", "Jackson", "DeShawn"],
        ["García", "Nguyen", "Johnson", "Martínez", "O'Connor", "Smith"],
        ["San Francisco", "New York", "Austin", "Chicago"],
        ["example.com", "example.net"],
        ["(415) 555-01xx", "(212) 2xx-xxxx", "+1 512-2xx-xxxx", "312.2xx.xxxx"],
    ),
    "IE": (
        6,
        ["Siobhán", "Aoife", "Seán", "Niamh", "Pádraig", "Róisín"],
        ["Ó Súilleabháin", "O'Brien", "Murphy", "Kelly", "Byrne"],
        ["Dublin", "Cork", "Galway"],
        ["example.ie", "example.com"],
        ["087 xxx xxxx", "+353 87 xxx xxxx", "01 xxx xxxx"],
    ),
    "ES": (
        5,
        ["José", "María", "Ana María", "Íñigo", "Begoña", "Álvaro"],
        ["García", "Fernández", "Núñez", "Peña", "Muñoz"],
        ["Madrid", "Málaga", "A Coruña", "Cádiz"],
        ["example.es", "example.com"],
        ["6xx xx xx xx", "+34 6xx xx xx xx", "6xx-xxx-xxx"],
    ),
    "PL": (
        4,
        ["Łukasz", "Małgorzata", "Wojciech", "Agnieszka", "Paweł", "Zofia"],
        ["Kowalski", "Wiśniewska", "Wójcik", "Lewandowski", "Dąbrowska"],
        ["Kraków", "Łódź", "Gdańsk", "Warszawa"],
        ["example.pl", "example.com"],
        ["512 xxx xxx", "+48 512 xxx xxx", "+48 22 xxx xx xx"],
    ),
    "DK": (
        4,
        ["Søren", "Mette", "Åse", "Rasmus", "Freja"],
        ["Jørgensen", "Sørensen", "Nielsen", "Hansen", "Møller"],
        ["København", "Aarhus", "Odense"],
        ["example.dk", "example.com"],
        ["20 xx xx xx", "+45 20 xx xx xx", "2x xx xx xx"],
    ),
}  # fmt: skip

# Emails as they go wrong in real files (filled with the person's local part).
BAD_EMAILS = [
    "{local}@example",  # no top-level domain
    "{local}.example.com",  # no @
    "{local}@@example.com",
    "{local}@example,com",
    "{first} {last}@example.com",  # a space inside
    "{local}..x@example.com",  # two dots in a row
]
JUNK_PHONES = ["n/a", "12345", "0000 000000", "call after 6pm"]
COLUMNS = [
    "customer_id", "email", "first_name", "last_name", "phone", "country", "city",
    "lifetime_value", "last_purchase", "signed_up", "newsletter_opt_in",
]  # fmt: skip


def _ascii(text: str) -> str:
    """What people make of their name in an email address: accents, spaces and quotes gone."""
    text = text.replace("ł", "l").replace("Ł", "L").replace("ø", "o").replace("Ø", "O")
    text = text.replace("æ", "ae").replace("ß", "ss")
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain.lower().replace(" ", "").replace("'", "")


def _phone(country: str, rng: random.Random) -> str:
    """A valid number in one of the country's usual formats."""
    import phonenumbers

    pattern = rng.choice(COUNTRIES[country][5])
    raw = pattern
    for _ in range(200):
        raw = "".join(str(rng.randrange(10)) if ch == "x" else ch for ch in pattern)
        if phonenumbers.is_valid_number(phonenumbers.parse(raw, country)):
            return raw
    raise SystemExit(f"no valid number found for {pattern!r} in {country}")


def _email(local: str, domain: str, rng: random.Random) -> str:
    """The address as typed: mostly plain, sometimes with capitals or stray spaces."""
    email = f"{local}@{domain}"
    roll = rng.random()
    if roll < 0.04:
        return email.upper()
    if roll < 0.08:
        return email.capitalize()
    if roll < 0.11:
        return f" {email} "
    return email


def make_rows(rng: random.Random) -> tuple[list[list[str]], Counter[str]]:
    """The customers, and how many rows of each deliberate problem they hold."""
    problems: Counter[str] = Counter()
    countries = list(COUNTRIES)
    weights = [COUNTRIES[c][0] for c in countries]
    used: set[str] = set()
    rows: list[list[str]] = []
    good: list[list[str]] = []  # rows with a usable email, which a second sign-up may repeat
    for n in range(ROWS):
        customer_id = str(10_001 + n)
        email_ok = False
        opt_in = rng.choices(["true", "false", ""], [68, 29, 3])[0]
        if len(good) > 5 and rng.random() < 0.035:
            # The same person signed up again: same name, email (in another case), place
            # and consent; another phone number, another purchase history.
            first_row = rng.choice(good[:-5])
            email = first_row[1].strip()
            user, _, domain = email.partition("@")
            twin = email.lower() if email != email.lower() else f"{user.title()}@{domain}"
            row = [customer_id, twin, *first_row[2:4], _phone(first_row[5] or "GB", rng),
                   first_row[5], first_row[6]]  # fmt: skip
            opt_in = first_row[10]
            problems["duplicate_email"] += 1
        else:
            blank_country = rng.random() < 0.02
            country = rng.choices(countries, weights)[0]
            _, firsts, lasts, cities, domains, _ = COUNTRIES[country]
            first, last = rng.choice(firsts), rng.choice(lasts)
            local = rng.choice(
                [
                    f"{_ascii(first)}.{_ascii(last)}",
                    f"{_ascii(first)}{_ascii(last)}",
                    f"{_ascii(first)[0]}.{_ascii(last)}",
                    f"{_ascii(first)}_{_ascii(last)}{rng.randrange(1, 99)}",
                ]
            )
            while local in used:  # two different people with the same name
                local = f"{local}{rng.randrange(2, 999)}"
            used.add(local)
            email = _email(local, rng.choice(domains), rng)
            roll = rng.random()
            if roll < 0.015:
                email = ""
                problems["email_missing"] += 1
            elif roll < 0.045:
                email = rng.choice(BAD_EMAILS).format(local=local, first=first, last=last)
                problems["email_invalid"] += 1
            elif roll < 0.055:
                # Some people write their name as it is spelt.
                first = rng.choice([f for f in firsts if not f.isascii()])
                email = f"{first.lower().replace(' ', '.')}@{rng.choice(domains)}"
                problems["email_unicode_local_part"] += 1
            else:
                email_ok = True
            phone = "" if rng.random() < 0.08 else _phone(country, rng)
            if phone and rng.random() < 0.015:
                phone = rng.choice(JUNK_PHONES)
                problems["phone_junk"] += 1
            elif phone and country == "GB" and rng.random() < 0.03:
                # The number from TV dramas, which no one can be texted on.
                phone = f"07700 900{rng.randrange(1000):03d}"
                problems["phone_fictional"] += 1
            row = [customer_id, email, first, last, phone,
                   "" if blank_country else country, rng.choice(cities)]  # fmt: skip
        if rng.random() < 0.03:
            row[2] = ""  # no first name given
            problems["first_name_blank"] += 1
        signed_up = TODAY - timedelta(days=rng.randrange(30, 2_500))
        if rng.random() < 0.06:
            ltv, last_purchase = "", ""  # signed up, never bought
            problems["never_bought"] += 1
        else:
            ltv = f"{min(rng.lognormvariate(4.4, 1.0), 9_999.0):.2f}"
            days_ago = min(int(rng.expovariate(1 / 150)), (TODAY - signed_up).days)
            last_purchase = (TODAY - timedelta(days=days_ago)).isoformat()
        rows.append([*row, ltv, last_purchase, signed_up.isoformat(), opt_in])
        if email_ok:
            good.append(rows[-1])
    # A couple sharing one mobile, both British customers of this year on the newsletter
    # (as the README's segment picks them): the number can go to one of them only.
    couple = [
        r
        for r in good
        if r[5] == "GB" and r[10] == "true" and r[4].startswith("07") and r[8] >= "2026"
    ]
    one, other = rng.sample(couple, 2)
    other[4] = one[4]
    problems["phone_shared"] += 1
    return rows, problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "out", nargs="?", type=Path, default=Path(__file__).with_name("customers.csv")
    )
    args = parser.parse_args()
    rows, problems = make_rows(random.Random(SEED))
    with args.out.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(COLUMNS)
        out.writerows(rows)
    print(f"{args.out}: {len(rows)} customers; on purpose: {dict(sorted(problems.items()))}")


if __name__ == "__main__":
    main()
