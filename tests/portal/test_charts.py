"""The SVG line chart: labelled through the last point, a value on every point, scalable."""

from __future__ import annotations

import re

from portal.charts import Series, labelled_ticks, line_chart


def test_x_labels_always_reach_the_last_point():
    for count in range(1, 40):
        ticks = labelled_ticks(count)
        assert ticks[0] == 0 and ticks[-1] == count - 1
        assert len(ticks) <= 7
        assert ticks == sorted(set(ticks))


def test_every_point_names_its_value_and_each_line_ends_in_its_last_value():
    weeks = [f"W{n}" for n in range(1, 14)]
    chart = str(
        line_chart(
            "Weekly rates",
            weeks,
            [
                Series("Accepted", [50.0 + n for n in range(13)]),
                Series("Let die", [None] * 12 + [7]),
            ],
        )
    )
    assert re.search(r'<svg class="chart" viewBox="0 0 \d+ \d+"', chart)
    titles = re.findall(r"<title>([^<]*)</title>", chart)
    assert "Accepted, W13: 62%" in titles and "Let die, W13: 7%" in titles
    assert len([t for t in titles if t.startswith("Accepted, ")]) == 13
    assert re.findall(r'class="end-label"[^>]*>([^<]*)<', chart) == ["62%", "7%"]
    assert ">W13</text>" in chart  # the last week is labelled on the axis
