"""Which run endings raise an alert: ``failed,skipped,rejected-over:5%`` parsed and matched.

A rule is a set of conditions; a run that meets any one of them raises the alert:

* an ending status: ``failed``, ``skipped``, ``canceled``, ``successful``;
* ``rejected-over:N%``: the run ended (``successful`` or ``failed``) with more than N per
  cent of its members' rows set aside (the run record's ``rejected`` over its
  ``members``), N from 0 to 100, decimals allowed (``0.5%``);
* ``rejected-over:N``: more than N rows set aside (a whole number).

Only ended runs match: a ``queued`` or ``processing`` run never raises an alert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from segport.errors import Invalid

__all__ = ["ENDINGS", "AlertRule", "RejectedOver", "matches", "parse_rule"]

# The statuses a run ends with (service.run_model.STATUSES, less the unfinished ones).
ENDINGS = ("failed", "skipped", "canceled", "successful")
# Endings whose counts mean something: a skipped or canceled run sent nothing to judge.
_COUNTED = frozenset({"successful", "failed"})
_REJECTED_OVER = "rejected-over"
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
FIELD = "on"


@dataclass(frozen=True)
class RejectedOver:
    """More than ``limit`` rejected rows, or more than ``limit`` per cent of the members
    when ``percent``."""

    limit: Decimal
    percent: bool

    @property
    def spec(self) -> str:
        return f"{_REJECTED_OVER}:{self.limit:f}{'%' if self.percent else ''}"

    def exceeded(self, rejected: int, members: int) -> bool:
        if self.percent:
            # rejected / members > limit / 100, in integers and Decimals: no float rounding
            return members > 0 and rejected * 100 > self.limit * members
        return rejected > self.limit


@dataclass(frozen=True)
class AlertRule:
    """The run endings an alert is raised for. ``spec`` writes it back as it is parsed."""

    endings: frozenset[str]
    rejected_over: RejectedOver | None = None

    @property
    def spec(self) -> str:
        parts = [e for e in ENDINGS if e in self.endings]
        if self.rejected_over is not None:
            parts.append(self.rejected_over.spec)
        return ",".join(parts)

    def __str__(self) -> str:
        return self.spec


def _usage() -> str:
    return (
        f"use a comma-separated list of {', '.join(ENDINGS)}, "
        f"{_REJECTED_OVER}:N (rows) or {_REJECTED_OVER}:N% (of the members)"
    )


def _parse_rejected_over(value: str, token: str) -> RejectedOver:
    text = value.strip()
    percent = text.endswith("%")
    number = text[:-1].strip() if percent else text
    if not _NUMBER.match(number):
        raise Invalid(
            f"alert condition {token!r}: {number!r} is not a number; write "
            f"{_REJECTED_OVER}:100 (more than 100 rows) or {_REJECTED_OVER}:5% "
            "(more than 5% of the members)",
            field=FIELD,
            code="invalid_alert_rule",
        )
    try:
        limit = Decimal(number)
    except InvalidOperation as exc:  # the pattern lets through only what Decimal reads
        raise Invalid(
            f"alert condition {token!r}: {number!r} is not a number", field=FIELD
        ) from exc
    if percent and limit > 100:
        raise Invalid(
            f"alert condition {token!r}: a share of the members is at most 100%",
            field=FIELD,
            code="invalid_alert_rule",
        )
    if not percent and limit != limit.to_integral_value():
        raise Invalid(
            f"alert condition {token!r}: a number of rows is a whole number "
            f"(or write a share of the members: {_REJECTED_OVER}:{number}%)",
            field=FIELD,
            code="invalid_alert_rule",
        )
    return RejectedOver(limit=limit.normalize() if percent else limit, percent=percent)


def parse_rule(text: str) -> AlertRule:
    """The rule written as ``failed,skipped[,rejected-over:5%]`` (case and spaces around
    the commas do not matter); :class:`~segport.errors.Invalid` with ``field="on"`` naming
    what is wrong otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise Invalid(
            f"an alert needs the run endings it is for: {_usage()}",
            field=FIELD,
            code="invalid_alert_rule",
        )
    endings: set[str] = set()
    rejected_over: RejectedOver | None = None
    for raw in text.split(","):
        token = raw.strip()
        if not token:
            raise Invalid(
                f"alert conditions {text!r} hold an empty condition (two commas, or one at "
                f"an end): {_usage()}",
                field=FIELD,
                code="invalid_alert_rule",
            )
        name, colon, value = token.partition(":")
        name = name.strip().lower()
        if name == _REJECTED_OVER:
            if not colon or not value.strip():
                raise Invalid(
                    f"alert condition {token!r} needs its limit: {_REJECTED_OVER}:100 or "
                    f"{_REJECTED_OVER}:5%",
                    field=FIELD,
                    code="invalid_alert_rule",
                )
            parsed = _parse_rejected_over(value, token)
            if rejected_over is not None and parsed != rejected_over:
                raise Invalid(
                    f"alert conditions {text!r} give two limits on rejected rows "
                    f"({rejected_over.spec} and {parsed.spec}): keep one",
                    field=FIELD,
                    code="invalid_alert_rule",
                )
            rejected_over = parsed
        elif name in ENDINGS and not colon:
            endings.add(name)
        else:
            hint = ""
            if name in ("error", "failure", "fail"):
                hint = " (did you mean failed?)"
            elif name in ("success", "succeeded", "ok"):
                hint = " (did you mean successful?)"
            elif name in ("cancelled", "cancel"):
                hint = " (did you mean canceled?)"
            elif name in ("queued", "processing", "not_started"):
                hint = " (a run that has not ended raises no alert)"
            raise Invalid(
                f"alert condition {token!r} is not known{hint}: {_usage()}",
                field=FIELD,
                code="invalid_alert_rule",
            )
    return AlertRule(endings=frozenset(endings), rejected_over=rejected_over)


def _count(record: dict[str, Any], key: str, summary_key: str) -> int | None:
    """A count of the run record, or of its summary when the record has none."""
    value = record.get(key)
    if value is None:
        summary = record.get("summary")
        if isinstance(summary, dict):
            value = summary.get(summary_key)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def matches(rule: AlertRule, run_record: dict[str, Any]) -> bool:
    """Whether the run (its record as JSON: ``RunView.to_dict()``) raises the alert."""
    status = run_record.get("status")
    if status not in ENDINGS:
        return False  # not ended (queued, processing) or not a run record
    if status in rule.endings:
        return True
    if rule.rejected_over is None or status not in _COUNTED:
        return False
    rejected = _count(run_record, "rejected", "rejected_total")
    if rejected is None:
        return False
    members = _count(run_record, "members", "members") or 0
    return rule.rejected_over.exceeded(rejected, members)
