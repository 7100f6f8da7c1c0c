"""Analysis of a sweep: one table of every run, statistics over seeds, figures, report, slides.

from prune_ready.analyze import collect, analyse
analysis = analyse(collect(["outputs/default"]))
"""

import importlib
from typing import Any

# Where each name of the API lives (no name is also a submodule of this package: those are
# read/, compute/, write/, pipeline, labels, defaults). Imported on first use (PEP 562): the analysis needs pandas,
# scipy and matplotlib (seconds to import), and `python -m prune_ready.analyze --help` should
# answer without them.
_WHERE = {
    "analyse": "prune_ready.analyze.compute.analysis",
    "Analysis": "prune_ready.analyze.compute.analysis",
    "analyze": "prune_ready.analyze.pipeline",
    "collect": "prune_ready.analyze.read.collect",
    "compare_inits": "prune_ready.analyze.compute.stats",
    "correlations": "prune_ready.analyze.compute.prediction",
    "describe": "prune_ready.analyze.compute.stats",
    "differences": "prune_ready.analyze.compute.stats",
    "dose_response": "prune_ready.analyze.compute.stats",
    "draw": "prune_ready.analyze.write.figures",
    "FIGURES": "prune_ready.analyze.write.figures",
    "find_run_dirs": "prune_ready.analyze.read.collect",
    "finished": "prune_ready.analyze.compute.analysis",
    "holm": "prune_ready.analyze.compute.stats",
    "mask_pairs": "prune_ready.analyze.compute.overlap",
    "mdd": "prune_ready.analyze.compute.stats",
    "mean_ci": "prune_ready.analyze.compute.stats",
    "network_health": "prune_ready.analyze.compute.diagnostics",
    "Options": "prune_ready.analyze.compute.analysis",
    "pair_table": "prune_ready.analyze.compute.overlap",
    "paired": "prune_ready.analyze.compute.stats",
    "Part": "prune_ready.analyze.compute.analysis",
    "rank_agreement": "prune_ready.analyze.compute.stats",
    "run_status": "prune_ready.status",
    "RunStatus": "prune_ready.status",
    "spearman": "prune_ready.analyze.compute.prediction",
    "State": "prune_ready.status",
    "summarize": "prune_ready.analyze.compute.stats",
    "summarize_diagnostics": "prune_ready.analyze.compute.diagnostics",
    "summarize_overlap": "prune_ready.analyze.compute.overlap",
    "Sweep": "prune_ready.analyze.read.collect",
    "versus_dense": "prune_ready.analyze.compute.stats",
    "welch": "prune_ready.analyze.compute.stats",
}

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


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value
