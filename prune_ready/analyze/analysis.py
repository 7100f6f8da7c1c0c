"""The statistics of a sweep: computed once over its finished runs, shared by every output."""

from dataclasses import dataclass

import pandas as pd

from prune_ready.analyze import stats
from prune_ready.analyze.collect import Sweep
from prune_ready.analyze.diagnostics import HEALTH, network_health, summarize_diagnostics
from prune_ready.analyze.findings import findings
from prune_ready.analyze.overlap import mask_pairs, summarize_overlap
from prune_ready.errors import UserError
from prune_ready.status import State


@dataclass(frozen=True)
class Analysis:
    sweep: Sweep
    summary: pd.DataFrame  # per factors × round: n, mean, std, CI (summary.csv)
    comparisons: pd.DataFrame  # best init vs each other, per level (comparisons.csv)
    dense: pd.DataFrame  # each level vs its own round 0, paired by seed (dense.csv)
    agreement: pd.DataFrame  # settings at one level: same init ranking? (rank_agreement.csv)
    diagnostics: pd.DataFrame  # per factors × round × layer: means over seeds (diagnostics.csv)
    health: pd.DataFrame  # per run × round: the network's diagnostics in a few numbers
    health_summary: pd.DataFrame  # the same per factors × round: n, mean, std, CI
    overlap: pd.DataFrame  # mask Jaccard per kind of pair, round and layer (mask_overlap.csv)
    findings: dict[str, str]  # '<model> on <data>' -> paragraph


def finished(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["status"] == State.FINISHED]


def analyse(sweep: Sweep) -> Analysis:
    """Statistics over the finished runs (unfinished and failed ones are listed, not used)."""
    rounds, factors = finished(sweep.rounds), sweep.factors
    if rounds.empty:
        counts = sweep.runs["status"].value_counts()
        raise UserError(
            f"no finished run under {sweep.base} yet ({len(sweep.runs)} runs: "
            + ", ".join(f"{n} {state}" for state, n in counts.items())
            + "): nothing to analyse"
        )
    summary = stats.summarize(
        rounds, factors, ("test_acc", "test_acc_at_early_stop", sweep.early_stop)
    )
    comparisons = stats.compare_inits(rounds, factors)
    dense = stats.versus_dense(rounds, factors)
    diagnostics = finished(sweep.diagnostics)
    health = network_health(diagnostics, sweep.id_columns)
    health_summary = stats.summarize(health, factors, HEALTH)
    overlap = summarize_overlap(mask_pairs(sweep), rounds, factors)
    return Analysis(
        sweep,
        summary,
        comparisons,
        dense,
        stats.rank_agreement(summary, factors),
        summarize_diagnostics(diagnostics, factors),
        health,
        health_summary,
        overlap,
        findings(summary, comparisons, dense, factors, health_summary, overlap),
    )
