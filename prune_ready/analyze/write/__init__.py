"""Writing: figures (one registry, `figures.FIGURES`), findings, the report and the slides, from
the computed tables. A figure over an existing table is one entry in that registry; one needing a
new statistic is a table entry in compute/analysis.py plus its figure entry here."""
