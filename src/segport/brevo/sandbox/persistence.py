"""The `--state` file: the whole account as one JSON document, written atomically."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from segport.brevo.sandbox.records import Attribute, Contact, ContactList, Folder, Process
from segport.brevo.sandbox.state import AccountState

FORMAT = "segport-sandbox-state/1"


class StateFileError(ValueError):
    """The state file cannot be read; the message names the file and what to do."""


def save_state(state: AccountState, path: Path) -> None:
    with state.lock:
        doc: dict[str, Any] = {
            "format": FORMAT,
            "locale": state.locale,
            "next_ids": state.next_ids,
            "attributes": [a.__dict__ for a in state.attributes.values()],
            "folders": [{"id": f.id, "name": f.name} for f in state.folders.values()],
            "lists": [
                {
                    "id": x.id,
                    "name": x.name,
                    "folder_id": x.folder_id,
                    "created": x.created,
                    "members": x.sorted_members(),
                }
                for x in state.lists.values()
            ],
            "contacts": [c.to_state() for c in state.contacts.values()],
            "processes": [
                {
                    "id": p.id,
                    "name": p.name,
                    "status": p.status,
                    "created": p.created,
                    "reports": p.reports,
                }
                for p in state.processes.values()
            ],
        }
        data = orjson.dumps(doc)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def load_state(path: Path, locale: str) -> AccountState:
    """The account saved in `path`, or a new one when the file does not exist yet."""
    if not path.exists():
        return AccountState(locale)
    try:
        doc = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise StateFileError(
            f"--state {path}: cannot read it ({exc}); move it away to start a fresh account"
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise StateFileError(
            f"--state {path}: not a segport sandbox state file (expected format {FORMAT})"
        )
    state = AccountState(doc.get("locale", locale))
    state.next_ids = {k: int(v) for k, v in doc["next_ids"].items()}
    state.attributes = {a["name"]: Attribute(**a) for a in doc["attributes"]}
    state.folders = {f["id"]: Folder(f["id"], f["name"]) for f in doc["folders"]}
    for x in doc["lists"]:
        state.lists[x["id"]] = ContactList(
            x["id"], x["name"], x["folder_id"], x["created"], set(x["members"])
        )
    for row in doc["contacts"]:
        state.add_contact(Contact.from_state(row))
    for p in doc["processes"]:
        status = p["status"] if p["status"] in ("completed", "failed") else "failed"
        state.processes[p["id"]] = Process(p["id"], p["name"], status, p["created"], p["reports"])
    return state
