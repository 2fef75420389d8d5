"""The HTML report: one self-contained page (no scripts, styles or images from elsewhere),
rendered by Jinja2 with autoescaping on, so no text from a results file can become markup.

The chart of outcomes by error type is inline SVG whose geometry is computed here.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any, Final

import attrs

from deliverator._report.tally import MAX_ATTEMPTS_BUCKET, Tally

OUTCOME_COLOURS: Final = {"delivered": "#2e7d32", "failed": "#c62828", "ignored": "#9e9e9e"}
_OTHER_COLOUR: Final = "#6a1b9a"
_CHART_WIDTH: Final = 560
_ROW_HEIGHT: Final = 26
_LABEL_WIDTH: Final = 260


@attrs.frozen(kw_only=True)
class Bar:
    """One segment of the chart: an outcome's share of one error type's row."""

    x: float
    width: float
    colour: str
    outcome: str
    count: int


@attrs.frozen(kw_only=True)
class ChartRow:
    """One error type: its label, its bars, its total, and where it sits."""

    label: str
    y: int
    bars: tuple[Bar, ...]
    total: int


def chart_rows(tally: Tally) -> list[ChartRow]:
    """Horizontal stacked bars of events per error type, split by outcome, largest first."""
    per_type: dict[str, dict[str, int]] = {}
    for (outcome, errortype), count in tally.by_errortype.items():
        per_type.setdefault(errortype, {})[outcome] = count
    largest = max((sum(counts.values()) for counts in per_type.values()), default=0)
    rows = []
    ordered = sorted(per_type.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    for position, (errortype, counts) in enumerate(ordered):
        x = float(_LABEL_WIDTH)
        bars = []
        for outcome, count in sorted(counts.items()):
            width = _CHART_WIDTH * count / largest if largest else 0.0
            colour = OUTCOME_COLOURS.get(outcome, _OTHER_COLOUR)
            bars.append(Bar(x=x, width=max(width, 1.0), colour=colour, outcome=outcome, count=count))
            x += width
        rows.append(ChartRow(label=errortype, y=position * _ROW_HEIGHT, bars=tuple(bars), total=sum(counts.values())))
    return rows


def render_page(tally: Tally, source: str) -> str:
    """The report for ``tally`` (counted from ``source``) as one HTML document."""
    from jinja2 import Environment

    environment = Environment(autoescape=True, keep_trailing_newline=True)
    template = environment.from_string(files("deliverator._report").joinpath("report.html.j2").read_text("utf-8"))
    rows = chart_rows(tally)
    return template.render(**_context(tally, source, rows))


def _context(tally: Tally, source: str, rows: list[ChartRow]) -> dict[str, Any]:
    total = tally.records or 1
    attempts_peak = max(tally.attempts.values(), default=1)
    return {
        "source": source,
        "tally": tally,
        "outcomes": [(name, count, 100 * count / total) for name, count in tally.by_outcome.most_common()],
        "statuses": sorted(tally.by_status.items()),
        "errortypes": sorted(tally.by_errortype.items(), key=lambda item: (-item[1], item[0])),
        "messages": tally.top_messages(),
        "attempts": [
            (f"{n}+" if n == MAX_ATTEMPTS_BUCKET else str(n), count, 100 * count / attempts_peak)
            for n, count in sorted(tally.attempts.items())
        ],
        "chart": rows,
        "chart_height": max(1, len(rows)) * _ROW_HEIGHT + 10,
        "chart_width": _LABEL_WIDTH + _CHART_WIDTH + 90,
        "label_width": _LABEL_WIDTH,
        "colours": OUTCOME_COLOURS,
    }


def write_page(tally: Tally, source: str, path: Path) -> None:
    """Write the report page to ``path``."""
    path.write_text(render_page(tally, source), encoding="utf-8")
