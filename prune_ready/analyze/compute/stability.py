"""Stability to SGD noise in the analysis: the runs' stability.csv (python -m
prune_ready.stability) as one row per run and round, its barriers described over seeds per line
and round (the analysis's stability.csv), the lines' barriers compared as differences.csv
compares their accuracies (stability_differences.csv), whether the barrier at the rewind point
predicts the ticket's accuracy as predictors.csv asks of θ0's statistics
(stability_predictors.csv), and the barrier beside the ticket's accuracy per rewind point (where
`pruning.reset.to` is a factor; the figures: write/stability_figures.py). Kept apart from
stats.py and the report so that it adds to them without changing them.
"""

from collections.abc import Sequence

import pandas as pd

from prune_ready.analyze.compute.prediction import correlations
from prune_ready.analyze.compute.stats import LEVEL, describe, differences

FILE = "stability.csv"  # prune_ready.stability.FILE (importing it loads the trainer)
PER_ROUND = ("val_barrier", "test_barrier", "l2_distance")  # the same in every α row of a round
METRICS = (*PER_ROUND, "end_test_error")
REWIND = "pruning.reset.to"  # the rewind point as a factor (a sweep pruning.reset.to=0,1ep)
BARRIERS = ("test_barrier", "val_barrier")
PREDICTORS = ("val_barrier", "test_barrier", "l2_distance")  # of round 0: at the rewind point


def barriers(rows: pd.DataFrame, ids: Sequence[str]) -> pd.DataFrame:
    """One row per run and measured round: the ids, round, level, rewind point, barriers, L2
    distance and the end points' mean test error (the copies' own error, the barrier's base)."""
    if rows.empty:
        return pd.DataFrame(columns=[*ids, "round", LEVEL, "rewind", *METRICS])
    keys = [*ids, "round"]
    ends = rows[(rows["alpha"] == 0) | (rows["alpha"] == 1)]
    end_error = ends.groupby(keys, sort=False, dropna=False)["test_error"].mean()
    first = rows[rows["alpha"] == 0].set_index(keys)
    table = first[[LEVEL, "rewind", *PER_ROUND]].join(end_error.rename("end_test_error"))
    return table.reset_index()


def summarize_barriers(
    rows: pd.DataFrame, ids: Sequence[str], factors: Sequence[str]
) -> pd.DataFrame:
    """Per line (factors) and round: n seeds and mean, std and 95% t CI of the barriers, the
    distance, the end points' error and the weights remaining."""
    table = barriers(rows, ids)
    return describe(table, [*factors, "round"], [*METRICS, LEVEL])


def barrier_differences(
    rows: pd.DataFrame,
    ids: Sequence[str],
    factors: Sequence[str],
    reference: str | None = None,
) -> pd.DataFrame:
    """Per measured round (setting × round) and barrier (`metric`: test, validation): every
    line's barrier minus the reference line's, with differences.csv's columns and tests
    (stats.differences: paired by seed where the lines share 2+ seeds run on one kind of
    machine, else Welch; Holm across the lines; the MDD; a note where not testable). The
    reference is `reference` (python -m prune_ready.analyze --reference), else the line with the
    highest mean barrier at that round."""
    table = barriers(rows, ids)
    parts = [
        differences(table, factors, reference, metric).assign(metric=metric) for metric in BARRIERS
    ]
    result = pd.concat(parts, ignore_index=True)
    return result[["metric", *(c for c in result.columns if c != "metric")]]


def barrier_predictors(
    rows: pd.DataFrame,
    rounds: pd.DataFrame,
    ids: Sequence[str],
    factors: Sequence[str],
    levels: Sequence[float],
    choose_below: int,
) -> pd.DataFrame:
    """Does the network's instability at its rewind point predict its tickets? Each run's
    barriers and copy distance at round 0 (the dense network, started from the rewind point:
    θ0, or θk where the run rewinds late) as predictors.csv's θ0 statistics are: Spearman's ρ
    against the ticket's test accuracy and its change from dense at the rounds nearest `levels`,
    per setting, the statistic chosen on seeds below `choose_below` and confirmed on the others
    (prediction.correlations). No rows where no run measured its round 0."""
    table = barriers(rows, ids)
    at_rewind = table.loc[table["round"] == 0, ["run", *PREDICTORS]]
    return correlations(rounds, at_rewind, factors, levels, choose_below)


def summarize_rewind(
    rows: pd.DataFrame, rounds: pd.DataFrame, ids: Sequence[str], factors: Sequence[str]
) -> pd.DataFrame:
    """Per line and measured round, where the rewind point is a factor (else no rows): the test
    barrier beside the ticket's own test accuracy at the end of that round, over seeds."""
    if REWIND not in factors:
        rows = rows.iloc[:0]
    table = barriers(rows, ids).merge(
        rounds[["run", "round", "test_acc"]], on=["run", "round"], how="left"
    )
    return describe(table, [*factors, "round"], ["test_barrier", "test_acc", LEVEL])
