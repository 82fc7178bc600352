"""The baseline: the same import written plainly with the official brevo-python SDK.

Run by bench/export_run.py: sdk_baseline.py --base-url URL --api-key KEY --list-id N
--profiles FILE.parquet. What a developer would write without segport: read the profiles,
check emails with email-validator's rules skipped (a simple "@" test), format phones to
E.164 with phonenumbers, one dict per contact, jsonBody imports of 50,000 contacts (under
10 MB), then poll each process until it completes. Prints a JSON line with its counts.
"""

from __future__ import annotations

import argparse
import json
import time

import phonenumbers
import pyarrow.parquet as pq
from brevo import Brevo
from brevo.contacts import ImportContactsRequestJsonBodyItem

BATCH = 50_000


def e164(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw, "GB")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--list-id", type=int, required=True)
    ap.add_argument("--profiles", required=True)
    args = ap.parse_args()
    client = Brevo(api_key=args.api_key, base_url=args.base_url, timeout=120.0)
    rows = pq.read_table(args.profiles).to_pylist()
    seen: set[str] = set()
    items: list[ImportContactsRequestJsonBodyItem] = []
    for row in rows:
        email = (row["email"] or "").strip().lower()
        if "@" not in email or email in seen:
            continue
        seen.add(email)
        attributes = {"FIRSTNAME": row["first_name"], "LASTNAME": row["last_name"]}
        sms = e164(row["phone"])
        if sms:
            attributes["SMS"] = sms
        items.append(ImportContactsRequestJsonBodyItem(email=email, attributes=attributes))
    processes = []
    for start in range(0, len(items), BATCH):
        answer = client.contacts.import_contacts(
            list_ids=[args.list_id],
            update_existing_contacts=True,
            empty_contacts_attributes=False,
            json_body=items[start : start + BATCH],
        )
        processes.append(answer.process_id)
    for pid in processes:
        while client.process.get_process(pid).status != "completed":
            time.sleep(0.5)
    print(json.dumps({"sent": len(items), "requests": len(processes), "peak_rss_mb": vm_hwm()}))


def vm_hwm() -> int:
    """Peak resident memory of this process (Linux VmHWM), MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return 0


if __name__ == "__main__":
    main()
