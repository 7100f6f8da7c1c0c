"""The column names the analysis adds to what runs write (run directories' own files and columns
are named in prune_ready.run_format), and the types it reads diagnostics.csv with: kept here, below
both the reading and the statistics, so that neither imports the other for a name."""

from prune_ready.run_format import DIAGNOSTIC_COLUMNS

LEVEL = "weights_remaining_pct"
MACHINE = "machine"  # a run's machine key (runs.csv, after seed), where runs record one
DIAGNOSTIC_TYPES = {"round": int, "layer": str}  # the measures are floats
DIAGNOSTICS = {  # diagnostics.csv: column -> type
    column: DIAGNOSTIC_TYPES.get(column, float) for column in DIAGNOSTIC_COLUMNS
}
