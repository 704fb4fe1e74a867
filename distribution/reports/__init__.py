"""Partner-manager analytics: hand-over figures, source quality, trends, planning, digest.

* ``period``: report periods on the vendor's local calendar;
* ``figures``: per partner, tier, kind, region or week, counted in SQL;
* ``rollup``, ``rolled``, ``tally``: closed days rolled up per partner, and read back;
* ``drill``: the exact assignments and leads behind any figure;
* ``sources``: source and campaign quality, lead by lead;
* ``planning``: leads needed for a revenue target, against flow and capacity;
* ``tables`` and ``export``: every report as a CSV or XLSX table;
* ``digest``: the weekly email to partner managers;
* ``seed``: a large realistic data set for the benchmark.
"""
