"""Charts drawn on the server: inline SVG built as a string, no script and no style
attribute (the Content-Security-Policy has no ``'unsafe-inline'``): shapes are coloured by
presentation attributes (``fill=``) and CSS classes in ``static/pages.css``.

:func:`runs_chart` draws recent runs: how long each took (top) and how many contacts it
sent and rejected (bottom), oldest on the left. Every text is escaped; the SVG names
itself (``<title>``, ``<desc>``) and each bar says its numbers (its own ``<title>``), and
the page shows the same numbers in a table (:class:`RunPoint` is what both read).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Protocol

from markupsafe import Markup

__all__ = ["RunPoint", "nice_ceiling", "run_points", "runs_chart"]

WIDTH = 720
PANEL = 110  # the height of each panel's plot area
LEFT = 64  # room for the value axis' labels
RIGHT = 12
TOP = 28
GAP = 46  # between the panels: the x labels of the top one and the bottom one's heading
BOTTOM = 40
HEIGHT = TOP + PANEL + GAP + PANEL + BOTTOM
MAX_BAR = 56.0
FILLS = {  # presentation attributes: the colours when the stylesheet does not load
    "successful": "#146c2e",
    "failed": "#b3261e",
    "canceled": "#b3261e",
    "sent": "#0b57d0",
    "rejected": "#b3261e",
}
OTHER_FILL = "#8a5a00"
# XML 1.0 has no place for most control characters, even escaped: they are dropped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CLASS = re.compile(r"[^a-z0-9_-]")


class _Run(Protocol):
    """What a point is made from: a run as the services show it (``RunView``)."""

    @property
    def id(self) -> int: ...
    @property
    def number(self) -> int: ...
    @property
    def export_name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def started_at(self) -> datetime | None: ...
    @property
    def finished_at(self) -> datetime | None: ...
    @property
    def sent(self) -> int | None: ...
    @property
    def rejected(self) -> int | None: ...


@dataclass(frozen=True)
class RunPoint:
    """One run on the chart (and in the table under it). ``seconds``, ``sent`` and
    ``rejected`` are None when the run did not get that far."""

    run_id: int
    label: str  # under its bars: "news #3"
    title: str  # "Run 3 of export 'news' (id 17)"
    status: str
    seconds: float | None
    sent: int | None
    rejected: int | None


def run_points(runs: Iterable[_Run]) -> list[RunPoint]:
    """Points of ``runs`` (newest first, as the services list them), oldest first."""
    points = []
    for run in runs:
        seconds = None
        if run.started_at is not None and run.finished_at is not None:
            seconds = max((run.finished_at - run.started_at).total_seconds(), 0.0)
        points.append(
            RunPoint(
                run_id=run.id,
                label=f"{run.export_name} #{run.number}",
                title=f"Run {run.number} of export {run.export_name!r} (id {run.id})",
                status=run.status,
                seconds=seconds,
                sent=run.sent,
                rejected=run.rejected,
            )
        )
    return points[::-1]


def _text(value: object) -> str:
    """``value`` as XML text or an attribute's value: escaped, quotes included."""
    return escape(_NOT_XML.sub("", str(value)), quote=True)


def _number(value: float) -> str:
    """A number as an axis or a title says it: whole numbers without decimals."""
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _coord(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above ``value`` (1 for
    nothing): the top of a value axis."""
    if not value > 0 or not math.isfinite(value):
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * power * (1 + 1e-9):
            return step * power
    return 10.0 * power  # pragma: no cover (10 always fits)


def _short(label: str, most: int = 14) -> str:
    """A label as it fits under a bar (the bar's title and the table say it in full)."""
    return label if len(label) <= most else label[: most - 1] + "…"


def _duration(seconds: float | None) -> str:
    return "no duration" if seconds is None else f"{_number(round(seconds, 1))} s"


def _count(value: int | None) -> str:
    return "—" if value is None else _number(value)


def _axis(top: float, scale: float, unit: str) -> list[str]:
    """A panel's value axis: lines and labels at 0, half and the top of ``scale``."""
    parts = []
    for fraction in (0.0, 0.5, 1.0):
        y = top + PANEL - fraction * PANEL
        parts.append(
            f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_coord(y)}" '
            f'y2="{_coord(y)}" stroke="#d5d9e0" stroke-width="1"/>'
        )
        parts.append(
            f'<text class="chart-axis" x="{LEFT - 6}" y="{_coord(y + 4)}" '
            f'text-anchor="end" font-size="11" fill="#5b6475">'
            f"{_text(_number(scale * fraction))}{_text(unit)}</text>"
        )
    return parts


def _bar(
    x: float,
    width: float,
    bottom: float,
    value: float,
    scale: float,
    kind: str,
    label: str,
) -> str:
    height = PANEL * value / scale
    fill = FILLS.get(kind, OTHER_FILL)
    return (
        f'<rect class="chart-bar bar-{_CLASS.sub("-", kind.lower())}" x="{_coord(x)}" '
        f'y="{_coord(bottom - height)}" width="{_coord(width)}" height="{_coord(height)}" '
        f'fill="{fill}" data-value="{_text(value)}"><title>{_text(label)}</title></rect>'
    )


def _heading(y: float, words: str) -> str:
    return (
        f'<text class="chart-heading" x="{LEFT}" y="{_coord(y)}" font-size="13" '
        f'font-weight="600" fill="#1d2330">{_text(words)}</text>'
    )


def _description(points: Sequence[RunPoint]) -> str:
    timed = [p for p in points if p.seconds is not None]
    counted = [p for p in points if p.sent is not None]
    words = [
        f"Durations and contact counts of the last {len(points)} run(s), oldest first; "
        "the table under the chart has every number."
    ]
    if timed:
        longest = max(timed, key=lambda p: p.seconds or 0.0)
        words.append(f"Longest: {_duration(longest.seconds)} ({longest.title}).")
    if counted:
        most = max(counted, key=lambda p: p.sent or 0)
        words.append(f"Most contacts sent: {_count(most.sent)} ({most.title}).")
        words.append(f"Rejected in all: {_count(sum(p.rejected or 0 for p in counted))}.")
    return " ".join(words)


def runs_chart(points: Sequence[RunPoint], *, chart_id: str = "runs-chart") -> Markup:
    """An inline ``<svg>`` of ``points`` (oldest first): durations on top, contacts sent
    and rejected below, one slot per run. ``chart_id`` prefixes the ids it holds."""
    ident = _CLASS.sub("-", chart_id.lower()) or "chart"
    title = "Recent runs: duration and contacts"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{ident}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc">'
        f'<title id="{ident}-title">{_text(title)}</title>'
    )
    if not points:
        return Markup(
            head
            + f'<desc id="{ident}-desc">No run yet: nothing to chart.</desc>'
            + f'<text class="chart-empty" x="{WIDTH // 2}" y="{HEIGHT // 2}" '
            'text-anchor="middle" font-size="14" fill="#5b6475">No run yet</text></svg>'
        )
    parts = [head, f'<desc id="{ident}-desc">{_text(_description(points))}</desc>']
    slot = (WIDTH - LEFT - RIGHT) / len(points)
    seconds_scale = nice_ceiling(max((p.seconds or 0.0) for p in points))
    count_scale = nice_ceiling(max(max(p.sent or 0, p.rejected or 0) for p in points))
    top1, top2 = TOP, TOP + PANEL + GAP
    bottom1, bottom2 = top1 + PANEL, top2 + PANEL
    parts.append(_heading(top1 - 10, "Duration (seconds)"))
    parts.extend(_axis(top1, seconds_scale, ""))
    parts.append(_heading(top2 - 10, "Contacts sent and rejected"))
    parts.extend(_axis(top2, count_scale, ""))
    # a legend for the bottom panel: the colours say which bar is which
    legend_x = WIDTH - RIGHT - 200
    for i, (kind, words) in enumerate((("sent", "sent"), ("rejected", "rejected"))):
        key_x = legend_x + i * 100
        parts.append(
            f'<rect class="chart-key bar-{kind}" x="{key_x}" y="{_coord(top2 - 20)}" width="10" '
            f'height="10" fill="{FILLS[kind]}"/>'
            f'<text class="chart-axis" x="{key_x + 14}" y="{_coord(top2 - 11)}" font-size="11" '
            f'fill="#5b6475">{_text(words)}</text>'
        )
    # a label under every slot when they fit, else under every few
    every = max(1, math.ceil(len(points) * 70 / (WIDTH - LEFT - RIGHT)))
    for i, p in enumerate(points):
        x = LEFT + i * slot
        # bars at most MAX_BAR wide, centred in their slot (a few runs make wide slots)
        bar = min(slot - 2 * min(slot * 0.15, 8.0), MAX_BAR)
        pad = (slot - bar) / 2
        parts.append(f'<g class="chart-run" data-run="{p.run_id}">')
        if p.seconds is not None:
            parts.append(
                _bar(
                    x + pad,
                    bar,
                    bottom1,
                    p.seconds,
                    seconds_scale,
                    p.status,
                    f"{p.title}: {p.status}, {_duration(p.seconds)}",
                )
            )
        half = bar / 2
        for j, (kind, value) in enumerate((("sent", p.sent), ("rejected", p.rejected))):
            if value is not None:
                parts.append(
                    _bar(
                        x + pad + j * half,
                        half,
                        bottom2,
                        value,
                        count_scale,
                        kind,
                        f"{p.title}: {_count(value)} {kind}",
                    )
                )
        if i % every == 0:
            for bottom in (bottom1, bottom2):
                parts.append(
                    f'<text class="chart-label" x="{_coord(x + slot / 2)}" '
                    f'y="{_coord(bottom + 16)}" text-anchor="middle" font-size="10" '
                    f'fill="#5b6475">{_text(_short(p.label))}</text>'
                )
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))
