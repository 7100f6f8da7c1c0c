"""Analysis of a sweep: one table of every run, statistics over seeds, figures, report, slides.

from prune_ready.analyze import collect, analyse
analysis = analyse(collect(["outputs/default"]))
"""

from prune_ready.analyze.analysis import Analysis, analyse, finished
from prune_ready.analyze.collect import Sweep, collect, find_run_dirs
from prune_ready.analyze.diagnostic_figures import diagnostic_figure_set
from prune_ready.analyze.diagnostics import network_health, summarize_diagnostics
from prune_ready.analyze.figures import FigureFiles, figure_set
from prune_ready.analyze.findings import findings
from prune_ready.analyze.overlap import mask_pairs, pair_table, summarize_overlap
from prune_ready.analyze.pipeline import analyze, draw_figures
from prune_ready.analyze.slides import write_slides
from prune_ready.analyze.stats import (
    compare_inits,
    describe,
    holm,
    mean_ci,
    paired,
    rank_agreement,
    summarize,
    versus_dense,
    welch,
)
from prune_ready.status import RunStatus, State, run_status

__all__ = [
    "Analysis",
    "FigureFiles",
    "RunStatus",
    "State",
    "Sweep",
    "analyse",
    "analyze",
    "collect",
    "compare_inits",
    "describe",
    "diagnostic_figure_set",
    "draw_figures",
    "figure_set",
    "find_run_dirs",
    "findings",
    "finished",
    "holm",
    "mask_pairs",
    "mean_ci",
    "network_health",
    "pair_table",
    "paired",
    "rank_agreement",
    "run_status",
    "summarize",
    "summarize_diagnostics",
    "summarize_overlap",
    "versus_dense",
    "welch",
    "write_slides",
]
