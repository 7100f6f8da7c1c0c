"""Does a statistic of θ0 predict how well a run survives pruning? (each run's predictors.csv)

For every statistic, Spearman's ρ over runs against the run's robustness: its test accuracy at the
rounds nearest the sparse `levels` (0.5% and 0.33% weights remaining) and the change from its own
dense round 0, per model, data set and setting (pruning method ...), with a percentile bootstrap
CI over seeds (the inits of one seed share its data order and draws: their runs move together).
Picking the largest |ρ| out of a dozen statistics flatters it, so the runs are split by seed: seeds below `choose_below` choose the best statistic, the others (never used to
choose it) say how well it predicts.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from prune_ready.analyze import labels
from prune_ready.analyze.compute.stats import (
    CONFIDENCE,
    LEVEL,
    MIN_N,
    init_keys,
    nearest_points,
    with_change,
)
from prune_ready.analyze.defaults import CHOOSE_BELOW, LEVELS

BOOTSTRAP = 2000
COLUMNS = ["round", LEVEL, "target", "statistic", "split", "seeds", "n_runs"]
COLUMNS += ["rho", "ci_low", "ci_high", "p", "chosen"]


def spearman(
    x: Sequence[float],
    y: Sequence[float],
    seeds: Sequence[int] | None = None,
    resamples: int = BOOTSTRAP,
) -> tuple[float, float, float, float]:
    """(ρ, its two-sided p, CI low, CI high). The CI is the percentile bootstrap over `seeds`:
    the runs of one seed (several inits, which share the seed's data order and draws) are not
    independent, so a resample draws seeds with replacement (a fixed generator) and takes every
    run of each drawn seed; without `seeds`, every pair is its own seed. Resamples with a
    constant side are left out. NaN below 3 pairs or when a side is constant; the CI NaN below
    MIN_N seeds (two seeds make three distinct resamples, not a distribution)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    groups = np.arange(len(x)) if seeds is None else np.asarray(seeds)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y, groups = x[keep], y[keep], groups[keep]
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return np.nan, np.nan, np.nan, np.nan
    result = stats.spearmanr(x, y)
    names, seed_of = np.unique(groups, return_inverse=True)
    if len(names) < MIN_N:
        return float(result.statistic), float(result.pvalue), np.nan, np.nan
    picks = np.random.default_rng(0).integers(0, len(names), (resamples, len(names)))
    draws = np.stack([np.bincount(row, minlength=len(names)) for row in picks])
    weights = draws[:, seed_of]  # how often each run is in each resample
    rx, ry = weighted_ranks(x, weights), weighted_ranks(y, weights)
    total = weights.sum(1, keepdims=True)
    rx = rx - (weights * rx).sum(1, keepdims=True) / total
    ry = ry - (weights * ry).sum(1, keepdims=True) / total
    with np.errstate(invalid="ignore", divide="ignore"):
        rhos = (weights * rx * ry).sum(1) / np.sqrt(
            (weights * rx**2).sum(1) * (weights * ry**2).sum(1)
        )
    tail = 100 * (1 - CONFIDENCE) / 2
    low, high = np.nanpercentile(rhos, [tail, 100 - tail])
    return float(result.statistic), float(result.pvalue), float(low), float(high)


def weighted_ranks(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The mid-ranks of `values` in each resample that holds value i weights[r, i] times, as
    rankdata would give on the resample written out (ties share the mean of their ranks): all
    resamples at once, without building them (their lengths differ when seeds hold different
    numbers of runs)."""
    ties, tie_of = np.unique(values, return_inverse=True)  # sorted distinct values
    per_tie = np.zeros((len(weights), len(ties)))
    np.add.at(per_tie.T, tie_of, weights.T)
    below = np.cumsum(per_tie, axis=1) - per_tie
    return (below + (per_tie + 1) / 2)[:, tie_of]


def setting_keys(factors: Sequence[str]) -> list[str]:
    """The factors a predictor is scored within: model, data, pruning method, control, ... but
    not the init's (its runs differ in θ0) nor a target density (one of its levels)."""
    return [f for f in factors if f not in init_keys(factors) and f not in labels.LEVEL_KEYS]


def correlations(
    rounds: pd.DataFrame,
    predictors: pd.DataFrame,
    factors: Sequence[str],
    levels: Sequence[float] = LEVELS,
    choose_below: int = CHOOSE_BELOW,
    metric: str = "test_acc",
) -> pd.DataFrame:
    """One row per setting × level × target (`metric`, `change`) × statistic × split (choose,
    confirm): ρ with CI and p over the split's runs; `chosen` marks, per setting, level and
    target, the statistic with the largest |ρ| on the choosing seeds (in both splits' rows)."""
    statistics = [c for c in predictors.columns if c != "run"]
    setting = setting_keys(factors)
    table = with_change(rounds, metric).merge(predictors, on="run", how="inner")
    rows = []
    for key, part in table.groupby(setting, dropna=False, sort=True) if len(table) else []:
        for at in nearest_points(part, factors, levels).values():
            point = dict(zip(setting, key, strict=True)) | {"round": at["round"].iloc[0]}
            point[LEVEL] = at[LEVEL].mean()
            for target in (metric, "change"):
                for split, runs in (
                    ("choose", at[at["seed"] < choose_below]),
                    ("confirm", at[at["seed"] >= choose_below]),
                ):
                    for statistic in statistics:
                        rho, p, low, high = spearman(runs[statistic], runs[target], runs["seed"])
                        rows.append(
                            point
                            | {"target": target, "statistic": statistic, "split": split}
                            | {"seeds": seed_range(runs["seed"]), "n_runs": len(runs)}
                            | {"rho": rho, "ci_low": low, "ci_high": high, "p": p}
                        )
    result = pd.DataFrame(rows, columns=[*setting, *COLUMNS[:-1]])
    choosing = result[result["split"] == "choose"].dropna(subset="rho")
    strength = choosing.assign(strength=choosing["rho"].abs())
    groups = strength.groupby([*setting, "round", "target"], dropna=False)
    best = choosing.loc[groups["strength"].idxmax()]
    keys = [*setting, "round", "target", "statistic"]
    marked = best[keys].assign(chosen=True)
    result = result.merge(marked, on=keys, how="left")
    result["chosen"] = result["chosen"].fillna(False).astype(bool)
    # where no statistic could be scored on the choosing seeds (too few runs), nothing to say
    scored = result.groupby([*setting, "round", "target"], dropna=False)["chosen"].transform("any")
    return result.loc[scored, [*setting, *COLUMNS]].reset_index(drop=True)


def seed_range(seeds: pd.Series) -> str:
    """'0-3' (or '0, 2, 5' when not consecutive; '' without seeds)."""
    values = sorted(set(seeds))
    if not values:
        return ""
    if values == list(range(values[0], values[-1] + 1)) and len(values) > 1:
        return f"{values[0]}-{values[-1]}"
    return ", ".join(map(str, values))
