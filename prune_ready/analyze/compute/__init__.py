"""Computing: the tables of an analysis from what reading gave, one registry of them
(`analysis.TABLES`: name, how it is computed, its CSV) — statistics over seeds (`stats`), the θ0
predictors (`prediction`), mask overlap, network health, compacted sizes, stability — and the
lines the tables and figures are drawn per (`lines`). Imports nothing from writing."""
