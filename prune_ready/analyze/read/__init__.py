"""Reading: every run of a sweep (or a committed runs.csv) into one table per file
(`collect`), old runs' configs brought into today's layout (`migrate`), and the column names the
analysis adds (`columns`). Imports nothing from computing or writing."""
