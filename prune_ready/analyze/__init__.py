"""Analysis of a sweep: one table of every run, statistics over seeds, figures, report, slides.

from prune_ready.analyze import collect, analyse
analysis = analyse(collect(["outputs/default"]))
"""

import importlib
import sys
import types
from typing import Any

# Where each name of the API lives. Imported on first use (PEP 562): the analysis needs pandas,
# scipy and matplotlib (seconds to import), and `python -m prune_ready.analyze --help` should
# answer without them.
_WHERE = {
    "analyse": "prune_ready.analyze.analysis",
    "Analysis": "prune_ready.analyze.analysis",
    "analyze": "prune_ready.analyze.pipeline",
    "collect": "prune_ready.analyze.collect",
    "compare_inits": "prune_ready.analyze.stats",
    "correlations": "prune_ready.analyze.prediction",
    "describe": "prune_ready.analyze.stats",
    "differences": "prune_ready.analyze.stats",
    "dose_response": "prune_ready.analyze.stats",
    "draw": "prune_ready.analyze.figures",
    "FIGURES": "prune_ready.analyze.figures",
    "find_run_dirs": "prune_ready.analyze.collect",
    "finished": "prune_ready.analyze.analysis",
    "holm": "prune_ready.analyze.stats",
    "mask_pairs": "prune_ready.analyze.overlap",
    "mdd": "prune_ready.analyze.stats",
    "mean_ci": "prune_ready.analyze.stats",
    "network_health": "prune_ready.analyze.diagnostics",
    "Options": "prune_ready.analyze.analysis",
    "pair_table": "prune_ready.analyze.overlap",
    "paired": "prune_ready.analyze.stats",
    "Part": "prune_ready.analyze.analysis",
    "rank_agreement": "prune_ready.analyze.stats",
    "run_status": "prune_ready.status",
    "RunStatus": "prune_ready.status",
    "spearman": "prune_ready.analyze.prediction",
    "State": "prune_ready.status",
    "summarize": "prune_ready.analyze.stats",
    "summarize_diagnostics": "prune_ready.analyze.diagnostics",
    "summarize_overlap": "prune_ready.analyze.overlap",
    "Sweep": "prune_ready.analyze.collect",
    "versus_dense": "prune_ready.analyze.stats",
    "welch": "prune_ready.analyze.stats",
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


class _Api(types.ModuleType):
    """The package, keeping its API's names when a submodule of the same name is imported.

    Importing a submodule binds it on its package (``prune_ready.analyze.collect``, the module),
    which would hide the function ``collect`` that `__getattr__` hands out. An eager
    ``from .collect import collect`` rebinds it after the import; a lazy package keeps the
    function by ignoring that binding.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _WHERE and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Api
