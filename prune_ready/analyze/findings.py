"""The findings, written out from the statistics: one paragraph per model and data set.

Each paragraph leads with the sparsest level at which inits were compared (where pruning has had
the most effect), gives the best init's lead with its CI and Holm-adjusted p values, each init's
change from its own dense baseline, the diagnostics there that may explain it (the best against
the least accurate init: dead hidden units, the survivors' weight scale, how much their masks
overlap), and how often the best init's lead held across all levels.
"""

from collections.abc import Sequence

import pandas as pd

from prune_ready.analyze import labels
from prune_ready.analyze.overlap import ALL, SAME_INIT, SAME_SEED
from prune_ready.analyze.stats import LEVEL, select

ALPHA = 0.05


def findings(
    summary: pd.DataFrame,
    comparisons: pd.DataFrame,
    dense: pd.DataFrame,
    factors: Sequence[str],
    health: pd.DataFrame,
    overlap: pd.DataFrame,
) -> dict[str, str]:
    """'<model> on <data>' -> its findings paragraph. `health` (the network's diagnostics per
    config and round, Analysis.health_summary) and `overlap` (mask_overlap) add the evidence."""
    others = labels.series_keys(factors)[1:]
    paragraphs = {}
    for (model, data), rows in summary.groupby(labels.SET_KEYS, sort=True):
        sentences = []
        varying = [k for k in others if rows[k].nunique(dropna=False) > 1]
        parts = rows.groupby(varying, dropna=False, sort=True) if varying else [((), rows)]
        for combo, part in parts:
            setting = dict(zip(varying, combo, strict=True))
            where = {"model": model, "data": data, **setting}
            prefix = ", ".join(f"{k}={labels.value(v)}" for k, v in setting.items())
            prefix = f"With {prefix}: " if prefix else ""
            diagnostics = select(health, where), select(overlap, where)
            sentences.append(
                prefix
                + describe_part(
                    part, select(comparisons, where), select(dense, where), *diagnostics
                )
            )
        paragraphs[labels.set_name(model, data)] = " ".join(sentences)
    return paragraphs


def describe_part(
    summary: pd.DataFrame,
    comparisons: pd.DataFrame,
    dense: pd.DataFrame,
    health: pd.DataFrame,
    overlap: pd.DataFrame,
) -> str:
    if comparisons.empty:
        last = summary[summary["round"] == summary["round"].max()].iloc[0]
        text = (
            f"only {last['init']} was run; at {labels.level(last[LEVEL])} weights remaining "
            f"(round {last['round']}) it reaches {labels.acc(last['test_acc_mean'])} test accuracy "
            f"{labels.ci_pp(last['test_acc_ci_low'], last['test_acc_ci_high'])} over "
            f"{last['n']} seed{'s' if last['n'] > 1 else ''}."
        )
        diagnosed = evidence(health, overlap, last["round"], last["init"], None)
        return text[0].upper() + text[1:] + dense_sentence(dense, last["round"]) + diagnosed
    sparsest = comparisons["round"].max()
    at = comparisons[comparisons["round"] == sparsest]
    runner_up = at.loc[at["diff"].idxmin()]
    n = sorted({*at["n_best"], *at["n_other"]})
    seeds = (f"{n[0]}" if len(n) == 1 else f"{n[0]}-{n[-1]}") + (
        " seed" if n[-1] == 1 else " seeds"
    )
    lead = (
        f"At {labels.level(at[LEVEL].iloc[0])} weights remaining (round {sparsest}, the sparsest "
        f"level compared, {seeds} per init), {at['best'].iloc[0]} is best with "
        f"{labels.acc(at['best_mean'].iloc[0])} test accuracy, ahead of {runner_up['other']} by "
        f"{labels.pp(runner_up['diff'])} {labels.ci_pp(runner_up['ci_low'], runner_up['ci_high'])}; "
    )
    tests = ", ".join(verdict(row.p_holm, row.other) for row in at.itertuples())
    worst = at.loc[at["other_mean"].idxmin(), "other"]
    diagnosed = evidence(health, overlap, sparsest, at["best"].iloc[0], worst)
    return (
        lead
        + tests
        + "."
        + dense_sentence(dense, sparsest)
        + diagnosed
        + " "
        + across_levels(comparisons)
    )


def verdict(p_holm: float, other: str) -> str:
    """E.g. 'not significant vs xavier_normal (p=0.21, Holm)'."""
    if pd.isna(p_holm):
        return f"untested vs {other} (a test needs 2+ seeds per init)"
    word = "significant" if p_holm < ALPHA else "not significant"
    return f"{word} vs {other} ({labels.p_value(p_holm)}, Holm)"


def dense_sentence(dense: pd.DataFrame, round_: int) -> str:
    at = dense[dense["round"] == round_]
    if at.empty:
        return ""
    changes = ", ".join(
        f"{row.init} {labels.pp(row.diff, sign=True)} {labels.ci_pp(row.ci_low, row.ci_high)}"
        for row in at.itertuples()
    )
    return (
        f" Against their own dense baselines (round 0 of the same run, paired by seed): {changes}."
    )


def across_levels(comparisons: pd.DataFrame) -> str:
    """How often each init is best, and at how many levels its lead is significant vs all."""
    per_level = comparisons.groupby("round").agg(
        best=("best", "first"), significant=("p_holm", lambda p: bool((p < ALPHA).all()))
    )
    counts = per_level["best"].value_counts()
    best = ", ".join(
        f"{init} {'is best ' if i == 0 else ''}at {k}" for i, (init, k) in enumerate(counts.items())
    )
    return (
        f"Over the {len(per_level)} levels compared, {best}; the best init's lead over every "
        f"other init is significant (Holm, α={ALPHA}) at "
        f"{int(per_level['significant'].sum())} of the {len(per_level)}."
    )


def evidence(
    health: pd.DataFrame, overlap: pd.DataFrame, round_: int, best: str, worst: str | None
) -> str:
    """E.g. ' At 0.40% weights remaining (means over seeds), a leaves 3.1% of hidden units dead vs
    12.0% for b; its survivors' RMS is ...', or '' where the runs have no diagnostics."""
    at = health[health["round"] == round_].set_index("init")
    clauses = []
    if best in at.index:
        dead, ratio = at["dead_hidden_pct_mean"], at["rms_ratio_mean"]
        clauses.append(
            f"{best} leaves {dead[best]:.1f}% of hidden units dead" + versus(dead, worst, "{:.1f}%")
        )
        clauses.append(
            f"its survivors' RMS is {ratio[best]:.2f}× the RMS its init intends for their "
            f"fan-in" + versus(ratio, worst, "{:.2f}×")
        )
    clauses += mask_clause(overlap[overlap["round"] == round_])
    if not clauses:
        return ""
    level = pd.concat([at[LEVEL], overlap.loc[overlap["round"] == round_, LEVEL]]).mean()
    return (
        f" At {labels.level(level)} weights remaining (means over seeds), "
        + "; ".join(clauses)
        + "."
    )


def versus(values: pd.Series, other: str | None, fmt: str) -> str:
    """' vs 12.0% for b' (nothing without another init)."""
    if other is None or other not in values.index:
        return ""
    return f" vs {fmt.format(values[other])} for {other}"


def mask_clause(overlap: pd.DataFrame) -> list[str]:
    """How much masks overlap across inits and across seeds (all weights, pooled pairs)."""
    pooled = overlap[(overlap["layer"] == ALL) & (overlap["init_a"] == ALL)]
    jaccard = pooled.set_index("comparison")["jaccard_mean"]
    chance = f" (random masks of the same sparsity: J={pooled['chance_mean'].mean():.2g})"
    seeds = f"{jaccard[SAME_INIT]:.2f} between seeds of one init" if SAME_INIT in jaccard else ""
    if SAME_SEED in jaccard:
        text = f"masks of different inits (same seed) overlap by J={jaccard[SAME_SEED]:.2f}"
        return [text + (f" vs {seeds}" if seeds else "") + chance]
    return [f"masks overlap by J={seeds}{chance}"] if seeds else []
