"""Statistics over seeds: a run is one sample, so every estimate says how many seeds it rests on.

Means carry Student-t confidence intervals. At each weights-remaining level (each round) every
init (with its init.* settings, e.g. init.scale: a line of the figures) is compared with a
reference line, paired by seed where both ran the same seeds (same data order; same-family inits
share their draws), else by Welch's t-test, Holm-corrected across the comparisons at that level,
with the minimum difference those seeds could detect (`mdd`). Each level is also compared with
the same run's dense round 0 (paired by seed), and two settings (pruning methods, say) at the
same level are asked whether they rank the inits alike (Kendall's tau). `compare_inits` keeps the
original best-vs-each-other Welch table (comparisons.csv).
"""

import functools
import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from prune_ready.analyze import labels
from prune_ready.analyze.read.columns import LEVEL, MACHINE

CONFIDENCE = 0.95
ALPHA = 0.05  # two-sided significance level of every test and of the MDD
POWER = 0.8  # the power the MDD is stated at
MIN_N = 3  # the fewest pairs (paired) or seeds per line (Welch) a test or a difference's CI uses
# A spread (sample std) at most this fraction of the largest |value| compared is no spread: the
# values are equal up to float rounding (0.966 - 0.932 and 0.970 - 0.936 differ by ~1e-17).
NO_SPREAD = 1e-9
METRICS = ("test_acc", "early_stop_epoch")


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
    """A difference of means with its CI, the two-sided p value of 'no difference' and the
    minimum detectable difference (see `mdd`). `note` says why a difference is not testable
    (fewer than MIN_N pairs or seeds, or no spread); then CI, p and MDD are NaN, so that it is
    never called significant and Holm leaves it out of the count."""

    diff: float
    low: float
    high: float
    p: float
    mdd: float = np.nan
    note: str = ""

    @property
    def testable(self) -> bool:
        return not self.note


UNTESTED = "not testable: "  # a note's start: 'not testable: <reason> (<detail>)'


def untested(diff: float, why: str) -> Difference:
    """A difference that is reported but not tested; `why` is '<reason> (<detail>)'."""
    return Difference(diff, np.nan, np.nan, np.nan, np.nan, UNTESTED + why)


def reason(note: str) -> str:
    """'not testable: fewer than 3 pairs (2)' -> 'fewer than 3 pairs' (the note without detail)."""
    return note.removeprefix(UNTESTED).split(" (")[0]


def no_spread(std: float, values: np.ndarray) -> bool:
    """True where `std` is zero up to float rounding of `values` (see NO_SPREAD): a t statistic
    would divide by rounding noise (scipy warns of catastrophic cancellation and gives p ~1e-16)."""
    scale = float(np.abs(values).max()) if len(values) else 0.0
    return bool(std <= NO_SPREAD * scale)


def mdd(se: float, df: float, alpha: float = ALPHA, power: float = POWER) -> float:
    """The smallest true difference a two-sided t-test at `alpha` detects with `power`, from the
    standard error of the difference: noncentrality(df) · se, the exact noncentral-t answer (the
    approximation (t_{1-α/2} + t_{power}) · se is 5% too small at 2 df). Paired: se = s_d/√n,
    df = n-1 (s_d: std of the differences); Welch: se = √(s_a²/n_a + s_b²/n_b), df by
    Welch-Satterthwaite (its t statistic taken as noncentral t with that df)."""
    return noncentrality(float(df), alpha, power) * float(se)


@functools.lru_cache(maxsize=4096)
def noncentrality(df: float, alpha: float = ALPHA, power: float = POWER) -> float:
    """The noncentrality λ of the t statistic at which a two-sided test at `alpha` with `df`
    degrees of freedom rejects with probability `power`: P(T > c) + P(T < -c) = power for T
    noncentral t(df, λ), c = t_{1-α/2, df}. Power grows with λ from α at λ = 0, so the root is
    bracketed by doubling from the normal-theory guess. The lower tail is taken as P(T' > c) for
    T' ~ t(df, -λ) (the same by symmetry): scipy's nct.cdf(-c) returns NaN for some λ."""
    crit = t_quantile(1 - alpha / 2, df)

    def shortfall(nc: float) -> float:
        return float(stats.nct.sf(crit, df, nc) + stats.nct.sf(crit, df, -nc)) - power

    high = crit + t_quantile(power, df)
    while shortfall(high) < 0:
        high *= 2
    return float(optimize.brentq(shortfall, 0.0, high, xtol=1e-12))


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
    half = t_quantile(0.5 + confidence / 2, n - 1) * std / np.sqrt(n)
    return Estimate(mean, std, n, mean - half, mean + half)


@functools.lru_cache(maxsize=4096)
def t_quantile(q: float, df: float) -> float:
    """Student's t quantile, remembered: describe() asks for the same few thousands of times."""
    return float(stats.t.ppf(q, df))


def welch(a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE) -> Difference:
    """mean(a) - mean(b) with Welch's t-test (unequal variances). Not testable (see Difference)
    below MIN_N seeds in either line, or when neither line has any spread (the standard error is
    0; one constant line beside a spread one is tested: its variance term is 0)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = float(a.mean() - b.mean()) if len(a) and len(b) else np.nan
    if len(a) < MIN_N or len(b) < MIN_N:
        return untested(diff, f"fewer than {MIN_N} seeds in a line ({len(a)} and {len(b)})")
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    if no_spread(se, np.concatenate([a, b])):
        return untested(diff, "no spread (each line's seeds all scored the same)")
    with warnings.catch_warnings():  # a constant line's variance is rounding noise, and ~0
        warnings.filterwarnings("ignore", "Precision loss", RuntimeWarning)
        result = stats.ttest_ind(a, b, equal_var=False)
    ci = result.confidence_interval(confidence)
    return Difference(
        diff, float(ci.low), float(ci.high), float(result.pvalue), mdd(se, float(result.df))
    )


def paired(
    after: Sequence[float], before: Sequence[float], confidence: float = CONFIDENCE
) -> Difference:
    """mean(after - before) over pairs, with a Student-t CI, paired t-test and MDD. Not testable
    (see Difference) below MIN_N pairs, or when every pair differs by the same amount."""
    after, before = np.asarray(after, dtype=float), np.asarray(before, dtype=float)
    keep = ~(np.isnan(after) | np.isnan(before))
    after, before = after[keep], before[keep]
    d = after - before
    e = mean_ci(d, confidence)
    if e.n < MIN_N:
        return untested(e.mean, f"fewer than {MIN_N} pairs ({e.n})")
    if no_spread(e.std, np.concatenate([after, before])):
        return untested(e.mean, "no spread (every pair differs by the same amount)")
    p = float(stats.ttest_1samp(d, 0.0).pvalue)
    return Difference(e.mean, e.low, e.high, p, mdd(e.std / np.sqrt(e.n), e.n - 1))


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
    if summary.empty:  # e.g. no diagnostics: the key columns' types are unknown
        return summary.assign(**{LEVEL: []})[[*by, LEVEL, "n", *stat_columns(metrics)]]
    levels = rounds.groupby(by, dropna=False, sort=True)[LEVEL].mean().reset_index()
    summary = summary.merge(levels, on=by, how="left")
    return summary[[*by, LEVEL, "n", *stat_columns(metrics)]]


def compare_inits(
    rounds: pd.DataFrame, factors: Sequence[str], metric: str = "test_acc"
) -> pd.DataFrame:
    """At each level: the init with the best mean, and its lead over each other init.

    One row per (level, other init): diff = best - other with Welch's CI, p and Holm's p
    (adjusted across the testable comparisons at that level; `note` says why one is not
    testable). Levels with one init give no rows.
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
                    "note": t.note,
                }
            )
    columns = [*others, "round", LEVEL, "best", "other", "n_best", "n_other", "best_mean"]
    columns += ["other_mean", "diff", "ci_low", "ci_high", "p", "p_holm", "note"]
    return pd.DataFrame(rows, columns=columns)


def init_keys(factors: Sequence[str]) -> list[str]:
    """The factors that make an init what it is: its name and its init.* settings (init.scale)."""
    return [f for f in factors if f == "init" or f.startswith("init.")]


def variant_keys(factors: Sequence[str]) -> list[str]:
    """The factors that tell the lines compared apart: the init's and the mask control (a
    ticket's reinit and random_prune branches are compared with it, paired by seed)."""
    return [*init_keys(factors), *(f for f in factors if f == "pruning.control")]


def differences(
    rounds: pd.DataFrame,
    factors: Sequence[str],
    reference: str | None = None,
    metric: str = "test_acc",
) -> pd.DataFrame:
    """At each level (setting × round), every line minus the reference line.

    Lines are the inits with their init.* settings, labelled as in the figures; the reference is
    the line with the best mean at that level, or the line named `reference` (its label, or an
    init name that labels one line) where it ran. Where the two lines share 2+ seeds (each pair
    run on one kind of machine, where runs record it) the test is paired by seed (mean
    difference over the shared seeds, t CI, paired t p), else Welch's; the
    welch_* columns always hold Welch's. p_holm (welch_p_holm) adjusts across the testable
    comparisons at that level; mdd is the minimum detectable difference of the test used (80%
    power, α=0.05); note (welch_note) says why a comparison is not testable (CI, p, MDD blank).
    """
    variants = variant_keys(factors)
    setting = [f for f in factors if f not in variants]
    label = labels.line_labels(rounds, variants)
    rows = []
    for key, level in rounds.groupby([*setting, "round"], dropna=False, sort=True):
        samples = {
            name: runs.set_index(pairing_keys(runs))[metric].dropna()
            for name, runs in level.groupby(label[level.index], sort=True)
        }
        ref = reference_line(samples, reference)
        if ref is None or len(samples) < 2:
            continue
        tests = {}
        for name, x in samples.items():
            if name != ref:
                shared = x.index.intersection(samples[ref].index)
                unpaired = welch(x, samples[ref])
                test = paired(x[shared], samples[ref][shared]) if len(shared) >= 2 else unpaired
                tests[name] = (test, unpaired, len(shared))
        adjusted = holm([t.p for t, _, _ in tests.values()])
        welch_adjusted = holm([u.p for _, u, _ in tests.values()])
        first = dict(zip([*setting, "round"], key, strict=True))
        for (name, (t, u, shared)), p_holm, welch_holm in zip(
            tests.items(), adjusted, welch_adjusted, strict=True
        ):
            x = samples[name]
            rows.append(
                first
                | {LEVEL: level[LEVEL].mean(), "reference": ref, "line": name}
                | {"test": "paired" if shared >= 2 else "welch", "n_reference": len(samples[ref])}
                | {"n_line": len(x), "n_pairs": shared, "reference_mean": samples[ref].mean()}
                | {"line_mean": x.mean(), "diff": t.diff, "ci_low": t.low, "ci_high": t.high}
                | {"p": t.p, "p_holm": p_holm, "mdd": t.mdd, "welch_diff": u.diff}
                | {"welch_ci_low": u.low, "welch_ci_high": u.high, "welch_p": u.p}
                | {"welch_p_holm": welch_holm, "welch_mdd": u.mdd, "note": t.note}
                | {"welch_note": u.note}
            )
    columns = [*setting, "round", LEVEL, "reference", "line", "test", "n_reference", "n_line"]
    columns += ["n_pairs", "reference_mean", "line_mean", "diff", "ci_low", "ci_high", "p"]
    columns += ["p_holm", "mdd", "welch_diff", "welch_ci_low", "welch_ci_high", "welch_p"]
    columns += ["welch_p_holm", "welch_mdd", "note", "welch_note"]
    return pd.DataFrame(rows, columns=columns)


def pairing_keys(runs: pd.DataFrame) -> pd.Series:
    """What makes two runs a pair: the seed (the same data order, and the same draws for inits of
    one family), and where runs record it the kind of machine they trained on (one seed sums in
    another order on another CPU and differs by tenths of a point: such runs are no pair)."""
    if MACHINE not in runs:
        return runs["seed"]
    return runs["seed"].astype(str) + "@" + runs[MACHINE].fillna("").astype(str)


def reference_line(samples: Mapping[str, pd.Series], reference: str | None) -> str | None:
    """The best line (highest mean; the first in label order on a tie), else the line `reference`
    names: its label, or the one label starting with that init's name (None where it did not run)."""
    if reference is None:
        return max(samples, key=lambda name: samples[name].mean())
    if reference in samples:
        return reference
    named = [name for name in samples if name.split(",")[0] == reference]
    return named[0] if len(named) == 1 else None


def nearest_points(
    table: pd.DataFrame, factors: Sequence[str], wanted: Sequence[float]
) -> dict[float, pd.DataFrame]:
    """wanted level -> the rows of `table` at the point (round, and pruning density where one sets
    the weights remaining) whose mean level is nearest to it on a log scale. A point nearest to
    several wanted levels is kept once, for the first (a sweep that stops at 64% has no 0.5%)."""
    keys = [*(k for k in labels.LEVEL_KEYS if k in factors), "round"]
    points = table.groupby(keys, dropna=False, sort=True)[LEVEL].mean()
    log = np.log(points.to_numpy(dtype=float))
    chosen: dict[float, pd.DataFrame] = {}
    taken: set[int] = set()
    for level in wanted:
        i = int(np.argmin(np.abs(log - np.log(level))))
        if i not in taken:
            taken.add(i)
            values = points.index[i] if len(keys) > 1 else (points.index[i],)
            chosen[level] = select(table, dict(zip(keys, values, strict=True)))
    return chosen


def versus_dense(
    rounds: pd.DataFrame, factors: Sequence[str], metric: str = "test_acc"
) -> pd.DataFrame:
    """Each pruned level minus round 0 of the same run (same init and seed): paired diff, CI, p
    (blank, and `note` says why, where not testable: fewer than MIN_N runs or no spread). Only
    a dense round 0 is a baseline: pruning at initialisation starts pruned, and its later rounds
    (training on at that level) have no dense round of their own to be compared with."""
    is_dense = (rounds["round"] == 0) & (rounds[LEVEL] == 100)
    dense = rounds.loc[is_dense, ["run", metric]].rename(columns={metric: "dense"})
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
                "note": d.note,
            }
        )
    columns = [*factors, "round", LEVEL, "n", "dense_mean", "mean", "diff", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=[*columns, "p", "note"])


def with_change(rounds: pd.DataFrame, metric: str = "test_acc") -> pd.DataFrame:
    """`rounds` plus `change`: `metric` minus the same run's dense round 0 (NaN for a run whose
    round 0 is already pruned, e.g. pruning at initialisation)."""
    first = rounds[(rounds["round"] == 0) & (rounds[LEVEL] == 100)].set_index("run")[metric]
    return rounds.assign(change=rounds[metric] - rounds["run"].map(first))


def dose_factor(rounds: pd.DataFrame, factors: Sequence[str]) -> str | None:
    """The numeric factor with the most values (2 or more), e.g. init.scale; None without one.
    Keys that set the weights remaining (pruning densities) are the x axis, not a dose."""
    numeric = [
        f
        for f in factors
        if f not in labels.LEVEL_KEYS
        and pd.api.types.is_numeric_dtype(rounds[f])
        and rounds[f].nunique() >= 2
    ]
    return max(numeric, key=lambda f: rounds[f].nunique(), default=None)


def dose_response(
    rounds: pd.DataFrame,
    factors: Sequence[str],
    dose: str,
    levels: Sequence[float],
    metric: str = "test_acc",
) -> pd.DataFrame:
    """Per setting × value of the `dose` factor, at the rounds nearest the wanted `levels` (per
    setting, see nearest_points): n seeds, mean and t CI of `metric` and of its change from the
    run's own dense round 0 (`change`)."""
    others = [f for f in factors if f != dose]
    rounds = with_change(rounds, metric)
    setting = [f for f in others if f not in labels.LEVEL_KEYS]
    parts = [
        rows
        for _, part in rounds.groupby(setting, dropna=False, sort=False)
        for rows in nearest_points(part, factors, levels).values()
    ]
    table = describe(pd.concat(parts), [*others, dose, "round"], [metric, "change", LEVEL])
    table = table.rename(columns={f"{LEVEL}_mean": LEVEL})
    return table[[*others, dose, "round", LEVEL, "n", *stat_columns([metric, "change"])]]


def rank_agreement(
    summary: pd.DataFrame, factors: Sequence[str], metric: str = "test_acc", tolerance: float = 0.1
) -> pd.DataFrame:
    """Do two settings rank the inits alike at the same sparsity?

    Settings are the factors other than model, data and init (e.g. pruning method and density).
    For every pair of (setting, round) points of one model and data set whose levels agree within
    `tolerance` (relative), over the inits both ran (at least 3): Kendall's tau between their
    mean `metric`s, with its two-sided p (tau 1: same order; 0: unrelated; -1: reversed) and
    `min_p`, the p of a perfect agreement over that many inits (exact: 2/k! without ties), the
    smallest p it could reach: over k <= 4 inits (1/12 at k = 4) no tau is significant at 0.05,
    whatever the orders, so 'none significant' there says nothing.
    """
    settings = [f for f in factors if f not in ("model", "data", "init")]
    columns = ["model", "data", "setting_a", "round_a", "level_a", "setting_b", "round_b"]
    columns += ["level_b", "n_inits", "order_a", "order_b", "tau", "p", "min_p"]
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
            best = smallest_tau_p(len(inits))
            rows.append([*pair, len(inits), *orders, tau.statistic, tau.pvalue, best])
    return pd.DataFrame(rows, columns=columns)


@functools.lru_cache(maxsize=64)
def smallest_tau_p(k: int) -> float:
    """The two-sided p of Kendall's tau for two identical orders of k items (scipy's method for
    k items without ties): no tau over k items has a smaller p."""
    return float(stats.kendalltau(range(k), range(k)).pvalue)


def order(means: pd.Series) -> str:
    """'a > b > c': the index by decreasing value."""
    return " > ".join(means.sort_values(ascending=False, kind="stable").index)
