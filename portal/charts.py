"""Line charts drawn on the server as inline SVG: readable without JavaScript.

Each point carries a ``<title>`` with its value (shown on hover, over a hit area
larger than the dot), the x axis is labelled through to the last point, each
line ends in its last value, and the chart has a text title for screen readers;
the page shows the same numbers in a table. The SVG scales to its box (viewBox,
width 100%); the stylesheet enlarges its text at phone width.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

WIDTH, HEIGHT = 720, 400
LEFT, RIGHT, TOP, BOTTOM = 76, 80, 20, 48
X_LABELS = 6  # at most this many x labels, so they stay apart at phone width
END_LABEL_GAP = 24  # least vertical distance between two lines' end labels
# Distinguishable in colour and in line style, for readers who cannot tell the colours apart.
STYLES = (
    ("#0b5cad", ""),
    ("#146c2e", "6 3"),
    ("#a4161a", "2 3"),
    ("#7a4b00", "10 3 2 3"),
)


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]  # one per x label; None is a gap


def labelled_ticks(count: int, most: int = X_LABELS) -> list[int]:
    """Indexes of the x labels to draw: evenly spaced, always the first and the last."""
    if count <= 0:
        return []
    every = max(1, math.ceil(count / most))
    ticks = list(range(0, count, every))
    last = count - 1
    if ticks[-1] != last:
        if last - ticks[-1] < every / 2 and len(ticks) > 1:
            ticks.pop()  # too close to the last label to be read beside it
        ticks.append(last)
    return ticks


def _spread(positions: list[tuple[float, int]], gap: float, low: float, high: float) -> dict:
    """End-label heights pushed apart so that no two overlap, kept inside the plot."""
    placed: dict[int, float] = {}
    previous = low - gap
    for y, n in sorted(positions):
        y = max(y, previous + gap)
        placed[n] = y
        previous = y
    overflow = previous - high
    if overflow > 0:
        placed = {n: y - overflow for n, y in placed.items()}
    return placed


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    y_max: float = 100.0,
    unit: str = "%",
) -> Markup:
    """An SVG line chart of ``series`` over ``x_labels`` from 0 to ``y_max``."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    count = max(len(x_labels), 1)
    step = plot_w / max(count - 1, 1)

    def x(i: int) -> float:
        return LEFT + (i * step if count > 1 else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h - (min(max(v, 0.0), y_max) / y_max) * plot_h

    parts = [
        Markup('<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}">').format(
            WIDTH, HEIGHT, title
        ),
        Markup("<title>{}</title>").format(title),
    ]
    for tick in range(5):
        value = y_max * tick / 4
        parts.append(
            Markup(
                '<line class="grid" x1="{l}" x2="{r}" y1="{y:.1f}" y2="{y:.1f}"/>'
                '<text class="axis" x="{tx}" y="{ty:.1f}" text-anchor="end">{v:g}{u}</text>'
            ).format(
                l=LEFT,
                r=WIDTH - RIGHT,
                y=y(value),
                tx=LEFT - 6,
                ty=y(value) + 5,
                v=round(value, 1),
                u=unit,
            )  # fmt: skip
        )
    ticks = labelled_ticks(len(x_labels))
    for i in ticks:
        anchor = "end" if i == count - 1 and count > 1 else "middle"
        if i == 0 and count > 1:
            anchor = "start"
        parts.append(
            Markup('<text class="axis" x="{:.1f}" y="{}" text-anchor="{}">{}</text>').format(
                x(i), HEIGHT - BOTTOM + 24, anchor, x_labels[i]
            )
        )
    ends: list[tuple[float, int]] = []
    last_values: dict[int, tuple[int, float]] = {}
    for n, line in enumerate(series):
        colour, dash = STYLES[n % len(STYLES)]
        points = [(i, v) for i, v in enumerate(line.values) if v is not None]
        path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in points)
        if path:
            parts.append(
                Markup(
                    '<polyline fill="none" stroke="{}" stroke-width="3" stroke-dasharray="{}" '
                    'stroke-linejoin="round" points="{}"/>'
                ).format(colour, dash, path)
            )
        for i, v in points:
            parts.append(
                Markup(
                    '<g><title>{}, {}: {:g}{}</title><circle class="hit" cx="{x:.1f}" '
                    'cy="{y:.1f}" r="12"/><circle class="point" cx="{x:.1f}" cy="{y:.1f}" '
                    'r="4.5" fill="{c}"/></g>'
                ).format(line.label, x_labels[i], round(v, 1), unit, x=x(i), y=y(v), c=colour)
            )
        if points:
            last_values[n] = points[-1]
            ends.append((y(points[-1][1]) + 5, n))
    for n, label_y in _spread(ends, END_LABEL_GAP, TOP + 5, TOP + plot_h + 5).items():
        i, v = last_values[n]
        parts.append(
            Markup('<text class="end-label" x="{:.1f}" y="{:.1f}" fill="{}">{:g}{}</text>').format(
                x(i) + 8, label_y, STYLES[n % len(STYLES)][0], round(v, 1), unit
            )
        )
    parts.append(Markup("</svg>"))
    legend = Markup("").join(
        Markup(
            '<li><svg width="28" height="10" aria-hidden="true"><line x1="0" x2="28" y1="5" '
            'y2="5" stroke="{}" stroke-width="3" stroke-dasharray="{}"/></svg> {}</li>'
        ).format(*STYLES[n % len(STYLES)], line.label)
        for n, line in enumerate(series)
    )
    return Markup('<figure class="chart-box">{}<ul class="legend">{}</ul></figure>').format(
        Markup("").join(parts), legend
    )
