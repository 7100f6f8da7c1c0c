"""Statistics over seeds: a run is one sample, so every estimate says how many seeds it rests on.

Means carry Student-t confidence intervals; inits are compared at each weights-remaining level
(each round) by Welch's t-test, Holm-corrected across the comparisons at that level; each
level is compared with the same init's dense baseline (round 0 of the same run, so paired by
seed); and two settings (pruning methods, say) at the same level are asked whether they rank the
inits alike (Kendall's tau).
"""

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95
METRICS = ("test_acc", "early_stop_epoch")
LEVEL = "weights_remaining_pct"


@dataclass(frozen=True)
class Estimate:
    """Mean of n samples, their standard deviation (n-1) and a Student-t CI of the mean."""

    mean: float
    std: float
    n: int
    low: float
    high: float


@dataclass(frozen=True)
class Difference:
    """A difference of means with its CI and the two-sided p value of 'no difference'."""

    diff: float
    low: float
    high: float
    p: float


def mean_ci(values: Sequence[float], confidence: float = CONFIDENCE) -> Estimate:
    """Mean ± t(1 - (1-confidence)/2, n-1) · std/√n; NaN std and CI below two samples."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return Estimate(np.nan, np.nan, 0, np.nan, np.nan)
    mean = float(x.mean())
    if n < 2:
        return Estimate(mean, np.nan, n, np.nan, np.nan)
    std = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * std / np.sqrt(n)
    return Estimate(mean, std, n, mean - half, mean + half)


def welch(a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE) -> Difference:
    """mean(a) - mean(b) with Welch's t-test (unequal variances); NaN below two samples each."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = float(a.mean() - b.mean()) if len(a) and len(b) else np.nan
    if len(a) < 2 or len(b) < 2:
        return Difference(diff, np.nan, np.nan, np.nan)
    result = stats.ttest_ind(a, b, equal_var=False)
    ci = result.confidence_interval(confidence)
    return Difference(diff, float(ci.low), float(ci.high), float(result.pvalue))


def paired(
    after: Sequence[float], before: Sequence[float], confidence: float = CONFIDENCE
) -> Difference:
    """mean(after - before) over pairs, with a Student-t CI and paired t-test."""
    d = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
    estimate = mean_ci(d, confidence)
    p = float(stats.ttest_1samp(d, 0.0).pvalue) if estimate.n >= 2 else np.nan
    return Difference(estimate.mean, estimate.low, estimate.high, p)


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjustment (family-wise error); NaN p values stay NaN, others count."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(p, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    m, running = len(valid), 0.0
    for rank, i in enumerate(valid[np.argsort(p[valid], kind="stable")]):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted


def select(table: pd.DataFrame, where: Mapping[str, object]) -> pd.DataFrame:
    """The rows of `table` matching `where` (NaN matches NaN: a config field a run lacks)."""
    mask = pd.Series(True, index=table.index)
    for key, value in where.items():
        mask &= table[key].isna() if pd.isna(value) else table[key] == value
    return table[mask]


def describe(
    table: pd.DataFrame, by: Sequence[str], metrics: Sequence[str] = METRICS
) -> pd.DataFrame:
    """Per group of `by`: n and, per metric, mean, std and CI (columns <metric>_mean, ...)."""
    rows = []
    for key, group in table.groupby(list(by), dropna=False, sort=True):
        row = dict(zip(by, key, strict=True))
        row["n"] = len(group)
        for metric in metrics:
            e = mean_ci(group[metric])
            row |= {
                f"{metric}_mean": e.mean,
                f"{metric}_std": e.std,
                f"{metric}_ci_low": e.low,
                f"{metric}_ci_high": e.high,
            }
        rows.append(row)
    return pd.DataFrame(rows, columns=[*by, "n", *stat_columns(metrics)])


def stat_columns(metrics: Sequence[str]) -> list[str]:
    return [f"{m}_{s}" for m in metrics for s in ("mean", "std", "ci_low", "ci_high")]


def summarize(
    rounds: pd.DataFrame, factors: Sequence[str], metrics: Sequence[str] = METRICS
) -> pd.DataFrame:
    """Per factors × round: the level (mean % weights remaining), n seeds and each metric."""
    by = [*factors, "round"]
    summary = describe(rounds, by, metrics)
    levels = rounds.groupby(by, dropna=False, sort=True)[LEVEL].mean().reset_index()
    summary = summary.merge(levels, on=by, how="left")
    return summary[[*by, LEVEL, "n", *stat_columns(metrics)]]


def compare_inits(
    rounds: pd.DataFrame, factors: Sequence[str], metric: str = "test_acc"
) -> pd.DataFrame:
    """At each level: the init with the best mean, and its lead over each other init.

    One row per (level, other init): diff = best - other with Welch's CI, p and Holm's p
    (adjusted across the comparisons at that level). Levels with one init give no rows.
    """
    others = [f for f in factors if f != "init"]
    rows = []
    for key, level in rounds.groupby([*others, "round"], dropna=False, sort=True):
        samples = {init: g[metric].dropna().to_numpy() for init, g in level.groupby("init")}
        if len(samples) < 2:
            continue
        best = max(samples, key=lambda init: samples[init].mean())
        tests = {init: welch(samples[best], x) for init, x in samples.items() if init != best}
        adjusted = holm([t.p for t in tests.values()])
        for (init, t), p_holm in zip(tests.items(), adjusted, strict=True):
            rows.append(
                {
                    **dict(zip([*others, "round"], key, strict=True)),
                    LEVEL: level[LEVEL].mean(),
                    "best": best,
                    "other": init,
                    "n_best": len(samples[best]),
                    "n_other": len(samples[init]),
                    "best_mean": samples[best].mean(),
                    "other_mean": samples[init].mean(),
                    "diff": t.diff,
                    "ci_low": t.low,
                    "ci_high": t.high,
                    "p": t.p,
                    "p_holm": p_holm,
                }
            )
    columns = [*others, "round", LEVEL, "best", "other", "n_best", "n_other", "best_mean"]
    return pd.DataFrame(
        rows, columns=[*columns, "other_mean", "diff", "ci_low", "ci_high", "p", "p_holm"]
    )


def versus_dense(
    rounds: pd.DataFrame, factors: Sequence[str], metric: str = "test_acc"
) -> pd.DataFrame:
    """Each pruned level minus round 0 of the same run (same init and seed): paired diff, CI, p."""
    dense = rounds.loc[rounds["round"] == 0, ["run", metric]].rename(columns={metric: "dense"})
    pairs = rounds[rounds["round"] > 0].merge(dense, on="run", how="inner")
    rows = []
    for key, level in pairs.groupby([*factors, "round"], dropna=False, sort=True):
        d = paired(level[metric], level["dense"])
        rows.append(
            {
                **dict(zip([*factors, "round"], key, strict=True)),
                LEVEL: level[LEVEL].mean(),
                "n": len(level),
                "dense_mean": level["dense"].mean(),
                "mean": level[metric].mean(),
                "diff": d.diff,
                "ci_low": d.low,
                "ci_high": d.high,
                "p": d.p,
            }
        )
    columns = [
        *factors,
        "round",
        LEVEL,
        "n",
        "dense_mean",
        "mean",
        "diff",
        "ci_low",
        "ci_high",
        "p",
    ]
    return pd.DataFrame(rows, columns=columns)


def rank_agreement(
    summary: pd.DataFrame, factors: Sequence[str], metric: str = "test_acc", tolerance: float = 0.1
) -> pd.DataFrame:
    """Do two settings rank the inits alike at the same sparsity?

    Settings are the factors other than model, data and init (e.g. pruning method and density).
    For every pair of (setting, round) points of one model and data set whose levels agree within
    `tolerance` (relative), over the inits both ran (at least 3): Kendall's tau between their
    mean `metric`s, with its two-sided p (tau 1: same order; 0: unrelated; -1: reversed).
    """
    settings = [f for f in factors if f not in ("model", "data", "init")]
    columns = ["model", "data", "setting_a", "round_a", "level_a", "setting_b", "round_b"]
    columns += ["level_b", "n_inits", "order_a", "order_b", "tau", "p"]
    rows = []
    for (model, data), part in summary.groupby(["model", "data"], sort=True):
        points = []
        for key, group in part.groupby([*settings, "round"], dropna=False, sort=True):
            setting = ", ".join(
                f"{k}={v}" for k, v in zip(settings, key[:-1], strict=True) if pd.notna(v)
            )
            means = group.set_index("init")[f"{metric}_mean"].dropna()
            points.append((setting, key[-1], group[LEVEL].mean(), means))
        for a, b in itertools.combinations(points, 2):
            (setting_a, round_a, level_a, means_a), (setting_b, round_b, level_b, means_b) = a, b
            inits = sorted(means_a.index.intersection(means_b.index))
            if (
                setting_a == setting_b
                or abs(level_a - level_b) > tolerance * max(level_a, level_b)
                or len(inits) < 3
            ):
                continue
            tau = stats.kendalltau(means_a[inits], means_b[inits])
            pair = [model, data, setting_a, round_a, level_a, setting_b, round_b, level_b]
            orders = [order(means_a[inits]), order(means_b[inits])]
            rows.append([*pair, len(inits), *orders, tau.statistic, tau.pvalue])
    return pd.DataFrame(rows, columns=columns)


def order(means: pd.Series) -> str:
    """'a > b > c': the index by decreasing value."""
    return " > ".join(means.sort_values(ascending=False, kind="stable").index)
