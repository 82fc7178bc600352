"""What a run did, in numbers: the summary every face shows and the run record keeps."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Final statuses, in the platform's vocabulary (design.md).
SUCCESSFUL = "successful"
FAILED = "failed"
SKIPPED = "skipped"
CANCELED = "canceled"


@dataclass
class RunSummary:
    """Counts, timings and outcome of one run (or of a dry run, which sends nothing).

    ``members`` are the distinct profiles of the export's segments; ``valid`` the contacts
    left after validation and de-duplication; ``new``/``changed``/``unchanged`` compare
    them with what Brevo holds from this export; ``sent`` is how many went to Brevo
    (new + changed, or all valid with ``--full``); ``removed`` the list memberships taken
    away in mirror mode. ``rejected`` counts rejected or altered rows by reason code,
    ``brevo_failures`` the rows Brevo's import reports named, by reason code.

    ``rejected`` splits in two: ``not_sent`` counts the contacts kept out of the list, by
    the reason that kept them out; ``sent_without_field`` the values left out of contacts
    that were sent, by reason (a contact missing two values counts under each).
    ``changes`` counts what Brevo accepted (``added``, ``updated``, ``removed``), listed in
    ``changes_csv``.
    """

    export_name: str
    status: str = SUCCESSFUL
    message: str | None = None
    reason: str | None = None  # why it ended so (service.run_model lists the codes)
    run_id: int | None = None
    run_number: int | None = None  # the run's number within its export, as users see it
    list_id: int | None = None
    mode: str = "add"
    full: bool = False
    dry_run: bool = False
    resumed: bool = False
    members: int = 0
    valid: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    sent: int = 0
    unconfirmed: int = 0  # of ``sent``: Brevo took them, the import's end is not yet known
    removed: int = 0
    to_remove: int = 0
    removal_refused: str | None = None
    chunks: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    not_sent: dict[str, int] = field(default_factory=dict)
    sent_without_field: dict[str, int] = field(default_factory=dict)
    brevo_failures: dict[str, int] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: dict[str, int] = field(default_factory=dict)  # peak so far, after each stage
    total_seconds: float = 0.0
    rejected_csv: str | None = None
    changes: dict[str, int] = field(default_factory=dict)
    changes_csv: str | None = None
    # The change record of an earlier run this run completed (run id -> its counts now):
    # chunks that run left unconfirmed, which Brevo confirmed once this run settled them.
    earlier_run_changes: dict[str, dict[str, int]] = field(default_factory=dict)
    samples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    @property
    def brevo_failures_total(self) -> int:
        return sum(self.brevo_failures.values())

    @property
    def not_sent_total(self) -> int:
        return sum(self.not_sent.values())

    @property
    def sent_without_field_total(self) -> int:
        return sum(self.sent_without_field.values())

    def effects(self) -> tuple[dict[str, int], dict[str, int]]:
        """``rejected`` split by effect: (not sent, sent without a field)."""
        if self.not_sent or self.sent_without_field:
            return self.not_sent, self.sent_without_field
        return split_by_effect(self.rejected)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rejected_total"] = self.rejected_total
        data["brevo_failures_total"] = self.brevo_failures_total
        data["not_sent_total"] = self.not_sent_total
        data["sent_without_field_total"] = self.sent_without_field_total
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSummary:
        known = {f for f in cls.__dataclass_fields__}
        summary = cls(**{k: v for k, v in data.items() if k in known})
        if "not_sent" not in data and summary.rejected:
            summary.not_sent, summary.sent_without_field = split_by_effect(summary.rejected)
        return summary


def split_by_effect(rejected: dict[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """Counts by reason split into (not sent, sent without a field) by what each reason
    does to a contact: for summaries recorded before the split was counted."""
    from segport.contacts.rejects import not_sent_reasons

    dropped = set(not_sent_reasons())
    not_sent = {k: n for k, n in rejected.items() if k in dropped}
    return not_sent, {k: n for k, n in rejected.items() if k not in dropped}
