"""Line charts drawn on the server as inline SVG: readable without JavaScript.

Each point carries a ``<title>`` with its value, the chart has a text title and
description for screen readers, and the page shows the same numbers in a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 36
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
                tx=LEFT - 4,
                ty=y(value) + 4,
                v=round(value, 1),
                u=unit,
            )  # fmt: skip
        )
    every = max(1, count // 8)
    for i, label in enumerate(x_labels):
        if i % every == 0:
            parts.append(
                Markup(
                    '<text class="axis" x="{:.1f}" y="{}" text-anchor="middle">{}</text>'
                ).format(x(i), HEIGHT - BOTTOM + 16, label)
            )
    for n, line in enumerate(series):
        colour, dash = STYLES[n % len(STYLES)]
        points = [(i, v) for i, v in enumerate(line.values) if v is not None]
        path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in points)
        if path:
            parts.append(
                Markup(
                    '<polyline fill="none" stroke="{}" stroke-width="2" stroke-dasharray="{}" '
                    'points="{}"/>'
                ).format(colour, dash, path)
            )
        for i, v in points:
            parts.append(
                Markup(
                    '<circle cx="{:.1f}" cy="{:.1f}" r="3" fill="{}"><title>{}, {}: {:g}{}</title>'
                    "</circle>"
                ).format(x(i), y(v), colour, line.label, x_labels[i], round(v, 1), unit)
            )
    parts.append(Markup("</svg>"))
    legend = Markup("").join(
        Markup(
            '<li><svg width="28" height="10" aria-hidden="true"><line x1="0" x2="28" y1="5" '
            'y2="5" stroke="{}" stroke-width="2" stroke-dasharray="{}"/></svg> {}</li>'
        ).format(*STYLES[n % len(STYLES)], line.label)
        for n, line in enumerate(series)
    )
    return Markup('<figure class="chart-box">{}<ul class="legend">{}</ul></figure>').format(
        Markup("").join(parts), legend
    )
