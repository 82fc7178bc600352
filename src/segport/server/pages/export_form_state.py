"""The Add export and Edit forms' state: the fields as typed (strings), read from a post
or from an export, and turned into what the services take (an ``ExportConfig`` to add, an
``ExportEdit`` of the current export, a ``NewList`` to create). A value the form cannot
read (a list ID, a profile limit) is refused naming its field, like the service's refusals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from segport.errors import Invalid
from segport.service import (
    CLEAR,
    Clear,
    ExportConfig,
    ExportEdit,
    ExportMapping,
    ExportView,
    NewList,
    parse_attributes,
)

DEFAULT_LIMIT = 1_000_000  # the service's default profile limit (ExportConfig)
MAX_ATTRIBUTE_ROWS = 10  # a posted form holds at most 50 fields (pages.base)

_ROW = re.compile(r"^attr-(\d{1,2})$")
_SEGMENT = re.compile(r"^segment-(\d{1,4})$")


@dataclass
class ExportForm:
    """What the form holds, as typed (strings): posted, or read from an export."""

    connection: str = ""
    name: str = ""
    list_choice: str = "existing"  # existing | new (Add only)
    list_id: str = ""
    new_list: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    attributes: list[tuple[str, str]] = field(default_factory=list)  # (attribute, column)
    segments: list[str] = field(default_factory=list)
    mode: str = "add"
    empty_values: str = "clear"
    schedule: str = "system"
    cron: str = ""
    timezone: str = ""
    profile_limit: str = str(DEFAULT_LIMIT)

    @classmethod
    def posted(cls, form: dict[str, str]) -> ExportForm:
        rows: dict[int, tuple[str, str]] = {}
        for key, value in form.items():
            found = _ROW.match(key)
            if found:
                i = int(found.group(1))
                rows[i] = (value.strip(), form.get(f"col-{i}", "").strip())
        picked = {int(m.group(1)): v.strip() for k, v in form.items() if (m := _SEGMENT.match(k))}
        segments = [picked[i] for i in sorted(picked) if picked[i]]
        return cls(
            connection=form.get("connection", "").strip(),
            name=form.get("name", ""),
            list_choice="new" if form.get("list_choice") == "new" else "existing",
            list_id=form.get("list_id", "").strip(),
            new_list=form.get("new_list", ""),
            email=form.get("email", "").strip(),
            first_name=form.get("first_name", "").strip(),
            last_name=form.get("last_name", "").strip(),
            phone=form.get("phone", "").strip(),
            attributes=[rows[i] for i in sorted(rows)][:MAX_ATTRIBUTE_ROWS],
            segments=list(dict.fromkeys(segments)),
            mode=form.get("mode", "add"),
            empty_values=form.get("empty_values", "clear"),
            schedule=form.get("schedule", "system"),
            cron=form.get("cron", ""),
            timezone=form.get("timezone", ""),
            profile_limit=form.get("profile_limit", "").strip(),
        )

    @classmethod
    def of(cls, view: ExportView) -> ExportForm:
        c = view.config
        m = c.mapping
        return cls(
            connection=c.connection or "",
            name=c.name,
            list_id=str(c.list_id),
            email=m.email,
            first_name=m.first_name or "",
            last_name=m.last_name or "",
            phone=m.phone or "",
            attributes=list(m.attributes.items()),
            segments=list(c.segments),
            mode=c.mode,
            empty_values=c.empty_values,
            schedule=c.schedule,
            cron=c.cron or "",
            timezone=c.timezone or "",
            profile_limit=str(c.profile_limit),
        )

    def attribute_mapping(self) -> dict[str, str]:
        """The filled rows as the service reads ``ATTR=COLUMN`` (a half-filled row is
        refused by it, naming the row)."""
        pairs = [f"{a}={c}" for a, c in self.attributes if a or c]
        return parse_attributes(pairs)

    def number(self, value: str, name: str, what: str) -> int:
        try:
            return int(value.replace(",", "").replace("_", "").strip())
        except ValueError:
            raise Invalid(
                f"{what}: give a whole number", code=f"{name}_invalid", field=name
            ) from None

    def limit(self) -> int:
        return self.number(self.profile_limit, "profile_limit", "the profile limit")

    def own_schedule(self) -> tuple[str | None, str | None]:
        """The cron expression and zone, for an export on its own schedule only."""
        if self.schedule.strip().lower() != "cron":
            return None, None
        return self.cron.strip() or None, self.timezone.strip() or None

    def config(self) -> ExportConfig:
        """The export the form describes (Add); checked by the service."""
        list_id = 0
        if self.list_choice == "existing":
            if not self.list_id:
                raise Invalid(
                    "pick the Brevo list the export fills, or create a new one",
                    code="list_missing",
                    field="list_id",
                )
            list_id = self.number(self.list_id, "list_id", "the Brevo list ID")
        cron, timezone = self.own_schedule()
        return ExportConfig(
            name=self.name,
            connection=self.connection or None,
            list_id=list_id,
            segments=tuple(self.segments),
            mapping=ExportMapping(
                email=self.email,
                first_name=self.first_name or None,
                last_name=self.last_name or None,
                phone=self.phone or None,
                attributes=self.attribute_mapping(),
            ),
            mode=self.mode,
            profile_limit=self.limit(),
            schedule=self.schedule,
            cron=cron,
            timezone=timezone,
            empty_values=self.empty_values,
        )

    def new_list_choice(self) -> NewList | None:
        if self.list_choice != "new":
            return None
        if not self.new_list.strip():
            raise Invalid(
                "give the name of the Brevo list to create, or pick an existing list",
                code="new_list_missing",
                field="new_list",
            )
        return NewList(self.new_list.strip())

    def edit(self, current: ExportView) -> ExportEdit:
        """Every setting of the form, as an edit of ``current`` (its attribute rows
        replace the current ones)."""
        if not self.list_id:
            raise Invalid(
                "pick the Brevo list the export fills", code="list_missing", field="list_id"
            )
        cron, timezone = self.own_schedule()
        return ExportEdit(
            name=self.name,
            connection=self.connection or None,
            list_id=self.number(self.list_id, "list_id", "the Brevo list ID"),
            segments=tuple(self.segments),
            email=self.email,
            first_name=_clearable(self.first_name),
            last_name=_clearable(self.last_name),
            phone=_clearable(self.phone),
            remove_attributes=tuple(current.config.mapping.attributes),
            add_attributes=self.attribute_mapping(),
            mode=self.mode,
            profile_limit=self.limit(),
            schedule=self.schedule,
            cron=cron,
            timezone=timezone,
            empty_values=self.empty_values,
        )


def _clearable(value: str) -> str | Clear:
    return value or CLEAR
