"""``results.html``: the results as a page, with charts drawn on the server.

Each comparison gets a chart of its contenders' CTR (and conversion rate): a dot at
the observed rate and a bar across its 95% interval, the winner in green. The chart
is inline SVG whose geometry is computed here and drawn by the template
(``templates/preview/results.html.j2``, overridable with ``--templates``), where
every label is escaped; no script, nothing loaded from the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import TemplateError

from adloom import safepath
from adloom.delivery.render import RESULTS_PAGE
from adloom.errors import InputError
from adloom.outdir import Deliverable
from adloom.resources import template_env
from adloom.results.analysis import Analysis, Comparison, Line
from adloom.results.join import Joined
from adloom.results.stats import MetricName, Rate

PAGE_FILE = RESULTS_PAGE  # the preview's index pages link it
PAGE = Deliverable("the results page (adloom results)", (PAGE_FILE,))
TEMPLATE = "preview/results.html.j2"
LABEL_W, PLOT_W, ROW_H, PAD = 260, 420, 22, 24
METRICS: tuple[MetricName, ...] = ("ctr", "cvr")


@dataclass(frozen=True)
class Bar:
    label: str
    y: float
    low: float  # x of the interval's ends and of the rate, px
    high: float
    at: float
    text: str  # "3.10% (2.61-3.66%)"
    winner: bool


@dataclass(frozen=True)
class Chart:
    title: str
    width: int
    height: int
    plot_x: int
    plot_w: int
    bars: tuple[Bar, ...]
    ticks: tuple[tuple[float, str], ...]  # x, label


@dataclass(frozen=True)
class Section:
    comparison: Comparison
    charts: tuple[Chart, ...]


def _rate(line: Line, metric: MetricName) -> Rate | None:
    return line.ctr if metric == "ctr" else line.cvr


def chart(comparison: Comparison, metric: MetricName) -> Chart | None:
    rated = [(line, r) for line in comparison.lines if (r := _rate(line, metric))]
    if not rated:
        return None
    top = max(r.high for _, r in rated) or 1.0
    scale = PLOT_W / top
    bars = tuple(
        Bar(
            line.label,
            PAD + i * ROW_H + ROW_H / 2,
            LABEL_W + r.low * scale,
            LABEL_W + r.high * scale,
            LABEL_W + r.value * scale,
            f"{r.value:.2%} ({r.low:.2%}-{r.high:.2%})",
            line.winner and metric == "ctr",
        )
        for i, (line, r) in enumerate(rated)
    )
    ticks = tuple((LABEL_W + k / 4 * PLOT_W, f"{k / 4 * top:.1%}") for k in range(5))
    title = "CTR" if metric == "ctr" else "conversion rate"
    height = PAD * 2 + ROW_H * len(bars)
    return Chart(title, LABEL_W + PLOT_W + 170, height, LABEL_W, PLOT_W, bars, ticks)


def sections(comparisons: Sequence[Comparison]) -> list[Section]:
    out = []
    for comparison in comparisons:
        charts = tuple(c for m in METRICS if (c := chart(comparison, m)))
        out.append(Section(comparison, charts))
    return out


def write_page(
    out: Path,
    analysis: Analysis,
    joined: Joined,
    *,
    reports: Sequence[str],
    campaign: str,
    templates: Path | None = None,
) -> Path:
    env = template_env(
        templates, html=True
    )  # sandboxed, as the preview: a shared template runs no code
    try:
        html = env.get_template(TEMPLATE).render(
            campaign=campaign,
            reports=reports,
            joined=joined,
            analysis=analysis,
            slots=sections(analysis.slots),
            dimensions=sections(analysis.dimensions),
            generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        )
    except TemplateError as err:
        raise InputError(
            f"cannot render {PAGE_FILE}: {err}",
            hint="fix the template in --templates DIR/preview/, or run without --templates",
        ) from err
    return safepath.write_bytes(out, out / PAGE_FILE, html.encode("utf-8"))
