"""How `segport exports list` and `show` put an export into words: one line, the data
matching, the schedule, the phone region, empty values and list sharing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from segport.cli.workspace import when

if TYPE_CHECKING:
    from segport.service import ExportView


def describe(v: ExportView) -> str:
    c = v.config
    return (
        f"segments {', '.join(c.segments)} -> list {c.list_id} on {v.connection_label}, "
        f"mode {c.mode}"
    )


def mapping_lines(v: ExportView) -> list[str]:
    m = v.config.mapping
    lines = [f"EMAIL <- {m.email}"]
    if m.first_name:
        lines.append(f"{m.first_name_attribute or 'first name'} <- {m.first_name}")
    if m.last_name:
        lines.append(f"{m.last_name_attribute or 'last name'} <- {m.last_name}")
    if m.phone:
        lines.append(f"SMS <- {m.phone}")
    lines += [f"{attr} <- {col}" for attr, col in m.attributes.items()]
    return lines


LIST_HEADERS = [
    *("name", "connection", "segments", "schedule", "next firing"),
    *("last status", "last run", "you may"),
]


def schedule(v: ExportView) -> str:
    c = v.config
    return f"{c.cron} ({c.timezone})" if c.schedule == "cron" else c.schedule


def last_fired(v: ExportView) -> list[tuple[str, str]]:
    fired = v.next_firing.last_fired_at if v.next_firing else None
    return [("last fired", f"for {when(fired)}")] if fired else []


def region_label(v: ExportView) -> str:
    if v.config.phone_region:
        return v.config.phone_region
    default = v.default_phone_region
    return f"{default} (default)" if default else "-"


def empty_values(mode: str) -> str:
    if mode == "keep":
        return "keep (a value emptied in the profiles stays in Brevo)"
    return "clear (a value emptied in the profiles is emptied in Brevo)"


def shared(v: ExportView) -> str:
    others = ", ".join(v.list_peers)
    if v.config.share_list:
        return f"yes, with {others}" if others else "yes (no other export on the list now)"
    return f"no, but {others} uses the list too" if others else "no"
