"""The statistics of a sweep: computed once over its finished runs, shared by every output."""

from dataclasses import dataclass

import pandas as pd

from prune_ready.analyze import stats
from prune_ready.analyze.collect import Sweep
from prune_ready.analyze.findings import findings
from prune_ready.status import State


@dataclass(frozen=True)
class Analysis:
    sweep: Sweep
    summary: pd.DataFrame  # per factors × round: n, mean, std, CI (summary.csv)
    comparisons: pd.DataFrame  # best init vs each other, per level (comparisons.csv)
    dense: pd.DataFrame  # each level vs its own round 0, paired by seed (dense.csv)
    findings: dict[str, str]  # '<model> on <data>' -> paragraph


def finished(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["status"] == State.FINISHED]


def analyse(sweep: Sweep) -> Analysis:
    """Statistics over the finished runs (unfinished and failed ones are listed, not used)."""
    rounds, factors = finished(sweep.rounds), sweep.factors
    summary = stats.summarize(rounds, factors)
    comparisons = stats.compare_inits(rounds, factors)
    dense = stats.versus_dense(rounds, factors)
    return Analysis(
        sweep, summary, comparisons, dense, findings(summary, comparisons, dense, factors)
    )
