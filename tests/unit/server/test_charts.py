"""The runs chart (server/charts.py): well-formed SVG (parsed with xml.etree), every text
escaped, named for assistive technology, bars scaled to the largest value, no style
attribute or script (the CSP allows neither inline), and nothing but a message when
there is no run."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from segport.server.charts import PANEL, RunPoint, nice_ceiling, run_points, runs_chart

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert('x')</script> & \"quoted\" \x01"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def _point(
    n: int, seconds: float | None, sent: int | None, rejected: int | None, **kw: str
) -> RunPoint:
    name = kw.get("name", "news")
    return RunPoint(
        run_id=n,
        label=f"{name} #{n}",
        title=f"Run {n} of export {name!r} (id {n})",
        status=kw.get("status", "successful"),
        seconds=seconds,
        sent=sent,
        rejected=rejected,
    )


def _bars(root: ET.Element, kind: str) -> list[ET.Element]:
    return [
        r
        for r in root.iter(f"{NS}rect")
        if "chart-bar" in r.get("class", "").split() and f"bar-{kind}" in r.get("class", "").split()
    ]


def test_the_chart_is_well_formed_and_names_itself() -> None:
    points = [_point(1, 12.5, 40, 2), _point(2, 25.0, 80, 0, status="failed")]
    root = _parse(runs_chart(points, chart_id="runs"))
    assert root.tag == f"{NS}svg" and root.get("role") == "img"
    assert root.get("aria-labelledby") == "runs-title runs-desc"
    title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert title is not None and title.get("id") == "runs-title" and title.text
    assert desc is not None and desc.get("id") == "runs-desc"
    assert desc.text is not None and "2 run(s)" in desc.text and "25 s" in desc.text
    assert "Most contacts sent: 80" in desc.text and "Rejected in all: 2" in desc.text
    # no inline style or script: the CSP has no 'unsafe-inline'
    for element in root.iter():
        assert "style" not in element.attrib, element.tag
        assert not any(a.startswith("on") for a in element.attrib), element.tag
        assert element.tag not in (f"{NS}script", f"{NS}style", f"{NS}foreignObject")
    # every bar says its numbers
    titles = [t.text for r in root.iter(f"{NS}rect") for t in r.iter(f"{NS}title")]
    assert "Run 2 of export 'news' (id 2): failed, 25 s" in titles
    assert "Run 1 of export 'news' (id 1): 40 sent" in titles
    assert "Run 1 of export 'news' (id 1): 2 rejected" in titles


def test_every_text_is_escaped() -> None:
    points = [_point(1, 3.0, 5, 1, name=HOSTILE, status=HOSTILE)]
    svg = str(runs_chart(points, chart_id='x" onload="alert(1)'))
    assert "<script" not in svg and "onload" not in svg.replace("x--onload--alert-1-", "")
    root = _parse(svg)  # well-formed: the control character is dropped, the rest escaped
    assert root.get("id", "").startswith("x-")
    texts = "".join(t.text or "" for t in root.iter(f"{NS}title"))
    assert "<script>alert('x')</script> & \"quoted\" " in texts
    assert not [e for e in root.iter() if e.tag.endswith("script")]
    # the status becomes a class name of safe characters only
    classes = " ".join(r.get("class", "") for r in root.iter(f"{NS}rect"))
    assert "<" not in classes and '"' not in classes and "'" not in classes


def test_no_runs_is_a_message_not_an_empty_frame() -> None:
    root = _parse(runs_chart([]))
    assert not list(root.iter(f"{NS}rect"))
    desc = root.find(f"{NS}desc")
    assert desc is not None and desc.text == "No run yet: nothing to chart."
    assert [t.text for t in root.iter(f"{NS}text")] == ["No run yet"]


def test_bars_are_scaled_to_the_largest_value() -> None:
    points = [_point(1, 10.0, 100, 0), _point(2, 5.0, 50, 25), _point(3, 2.5, 0, 10)]
    root = _parse(runs_chart(points))
    heights = [float(b.get("height", "nan")) for b in _bars(root, "successful")]
    assert heights == [PANEL, PANEL / 2, PANEL / 4]  # the axis tops at 10 s
    sent = [float(b.get("height", "nan")) for b in _bars(root, "sent")]
    rejected = [float(b.get("height", "nan")) for b in _bars(root, "rejected")]
    assert sent == [PANEL, PANEL / 2, 0.0] and rejected == [0.0, PANEL / 4, PANEL / 10]
    # bars stand on their panel's base line and stay inside the picture
    width = float(root.get("width", "0"))
    for bar in root.iter(f"{NS}rect"):
        x, w = float(bar.get("x", "0")), float(bar.get("width", "0"))
        assert x >= 0 and x + w <= width
    # the value axis says the top of its scale
    labels = [t.text for t in root.iter(f"{NS}text") if "chart-axis" in t.get("class", "")]
    assert "10" in labels and "100" in labels and "0" in labels


def test_a_run_without_a_duration_or_counts_has_no_bar() -> None:
    points = [_point(1, None, None, None, status="queued"), _point(2, 8.0, 3, 0)]
    root = _parse(runs_chart(points))
    runs = [g for g in root.iter(f"{NS}g") if g.get("class") == "chart-run"]
    assert [g.get("data-run") for g in runs] == ["1", "2"]
    assert not list(runs[0].iter(f"{NS}rect")) and len(list(runs[1].iter(f"{NS}rect"))) == 3


def test_many_runs_fit_and_long_labels_are_cut() -> None:
    points = [_point(n, float(n), n, 0, name="a-very-long-export-name") for n in range(1, 31)]
    root = _parse(runs_chart(points))
    assert len(_bars(root, "successful")) == 30
    labels = [t.text or "" for t in root.iter(f"{NS}text") if t.get("class") == "chart-label"]
    assert 0 < len(labels) < 60  # not one under every slot: they would overlap
    assert all(len(label) <= 14 for label in labels) and labels[0].endswith("…")


@pytest.mark.parametrize(
    ("value", "top"),
    [
        (0, 1),
        (-3, 1),
        (float("nan"), 1),
        (0.3, 0.5),
        (1, 1),
        (7, 10),
        (12, 20),
        (2.2, 2.5),
        (250, 250),
        (251, 500),
        (1e6 + 1, 2e6),
    ],
)
def test_nice_ceiling(value: float, top: float) -> None:
    assert nice_ceiling(value) == pytest.approx(top)


@dataclass
class _Run:
    id: int
    number: int
    export_name: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    sent: int | None
    rejected: int | None


def test_points_come_from_runs_oldest_first() -> None:
    at = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    newest_first = [
        _Run(9, 2, "vip", "failed", at, at + timedelta(seconds=90), 10, 3),
        _Run(4, 1, "news", "queued", None, None, None, None),
    ]
    old, new = run_points(newest_first)
    assert (old.run_id, old.seconds, old.label) == (4, None, "news #1")
    assert (new.run_id, new.seconds, new.sent, new.rejected) == (9, 90.0, 10, 3)
    assert new.title == "Run 2 of export 'vip' (id 9)"
