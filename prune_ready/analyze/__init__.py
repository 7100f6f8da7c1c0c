"""Analysis of a sweep: one table of every run, statistics over seeds, figures, report, slides.

from prune_ready.analyze import collect, analyse
analysis = analyse(collect(["outputs/default"]))
"""

from prune_ready.analyze.analysis import Analysis, Options, Part, analyse, finished
from prune_ready.analyze.collect import Sweep, collect, find_run_dirs
from prune_ready.analyze.diagnostics import network_health, summarize_diagnostics
from prune_ready.analyze.figures import FIGURES, draw
from prune_ready.analyze.overlap import mask_pairs, pair_table, summarize_overlap
from prune_ready.analyze.pipeline import analyze
from prune_ready.analyze.prediction import correlations, spearman
from prune_ready.analyze.stats import (
    compare_inits,
    describe,
    differences,
    dose_response,
    holm,
    mdd,
    mean_ci,
    paired,
    rank_agreement,
    summarize,
    versus_dense,
    welch,
)
from prune_ready.status import RunStatus, State, run_status

__all__ = [
    "FIGURES",
    "Analysis",
    "Options",
    "Part",
    "RunStatus",
    "State",
    "Sweep",
    "analyse",
    "analyze",
    "collect",
    "compare_inits",
    "correlations",
    "describe",
    "differences",
    "dose_response",
    "draw",
    "find_run_dirs",
    "finished",
    "holm",
    "mask_pairs",
    "mdd",
    "mean_ci",
    "network_health",
    "pair_table",
    "paired",
    "rank_agreement",
    "run_status",
    "spearman",
    "summarize",
    "summarize_diagnostics",
    "summarize_overlap",
    "versus_dense",
    "welch",
]
