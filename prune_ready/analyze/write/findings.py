"""The answer, written out from the statistics: a few findings per model and data set, each one
sentence with its numbers and CIs, a one-line takeaway (a slide's title) and the figure and table
that show it; and what the results do not cover.

0. where one line was run, how accurate it is (nothing to compare);
1. how far down every line stays within SMALL (1 pp) of the reference, the largest gap there,
   how many of those differences are significant and the smallest the seeds could detect (MDD);
2. the sparsest level: the best line, how many fall significantly behind, the runner-up;
3. the cost of pruning: down to where no init loses to its own dense round 0, and how much at
   the sparsest level;
4. the dose (a numeric factor such as init.scale): where accuracy peaks and what the worst
   value costs, paired by seed, sparse against dense;
5. the θ0 statistic chosen on some seeds as the best predictor of robustness, tested on others;
6. (room permitting) the diagnostics of the best and the worst line at the sparsest level.

A finding with nothing to say is left out, and `omitted` says which and why (the report's
appendix lists them): lines within 1 pp of the best only before the first pruned level; a
predictor with no seeds to confirm it on; the same share of dead units in the best and the worst
line. The size the compacted network saves is left out of the cost finding where it is under
SHRINK (a "1.0x fewer" says nothing).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from prune_ready.analyze import labels
from prune_ready.analyze.compute.analysis import Analysis, Part
from prune_ready.analyze.compute.overlap import SAME_INIT, SAME_SEED
from prune_ready.analyze.compute.stats import ALPHA, LEVEL, paired, reason, select, variant_keys

MOST = 5  # findings per model and data set
SMALL = 0.01  # a difference of accuracies the findings call small: 1 percentage point
SHRINK = 1.05  # a compacted network less than this many times smaller than dense: not smaller


@dataclass(frozen=True)
class Finding:
    title: str  # the takeaway, one line
    text: str  # one sentence: the numbers, their CIs and how they were tested
    figure: str | None = None  # the slug of the figure that shows it (figures.FIGURES)
    table: str | None = None  # the analysis table that holds its numbers (report.TABLES)


@dataclass(frozen=True)
class Omitted:
    what: str  # the finding (or the part of one) left out
    why: str  # why it has nothing to say


def assess(part: Part) -> tuple[list[Finding], list[Omitted]]:
    """Up to MOST findings of one model and data set, in the order above, and those left out for
    having nothing to say (findings that do not apply, e.g. a dose without a numeric factor, are
    in neither)."""
    left: list[Omitted] = []
    found = [
        finder(part, left)
        for finder in (single, agreement, sparsest, cost, dose, prediction, diagnosis)
    ]
    return [f for f in found if f is not None][:MOST], left


def findings(part: Part) -> list[Finding]:
    return assess(part)[0]


def omitted(part: Part) -> list[Omitted]:
    return assess(part)[1]


def seeds(counts: Sequence[int]) -> str:
    low, high = int(min(counts)), int(max(counts))
    return f"{low} seed{'s' if high > 1 else ''}" if low == high else f"{low}-{high} seeds"


def used_seeds(table: pd.DataFrame) -> str:
    """The seeds the comparisons in `table` rest on: pairs where paired, else the line's runs."""
    return seeds(table["n_pairs"].where(table["test"] == "paired", table["n_line"]))


def method(table: pd.DataFrame) -> str:
    """How the differences in `table` were tested."""
    tests = set(table["test"])
    if tests == {"paired"}:
        return "paired by seed"
    return "Welch's t" if tests == {"welch"} else "paired by seed where the seeds match, else Welch"


def reference_words(part: Part, where: str = "at each level") -> str:
    reference = part.analysis.options.reference
    return reference if reference else f"the best line {where}"


def single(part: Part, left: list[Omitted]) -> Finding | None:
    """Where one line was run, nothing is compared: how accurate it is at the sparsest level."""
    summary = part.table("summary")
    if len(part.lines.labels) > 1 or summary.empty:
        return None
    last = summary.loc[summary[LEVEL].idxmin()]
    name, level = next(iter(part.lines.labels.values())), labels.level(last[LEVEL])
    return Finding(
        f"Only {name} was run: {labels.acc(last['test_acc_mean'])} at {level}",
        f"Only {name} was run, so nothing is compared; at {level} weights remaining it reaches "
        f"{labels.acc(last['test_acc_mean'])} test accuracy "
        f"{labels.ci_pp(last['test_acc_ci_low'], last['test_acc_ci_high'])} over {seeds([last['n']])}.",
        "test-acc-vs-weights",
        "accuracy",
    )


def agreement(part: Part, left: list[Omitted]) -> Finding | None:
    """How far down every line stays within SMALL of the reference (leaving out, and naming, the
    lines already further off at the densest level), and what was significant there: a small
    difference can be significant with consistent seeds, or a large one not."""
    table = part.table("differences")
    if table.empty:
        return None
    if table[LEVEL].nunique() == 1:
        left.append(
            Omitted(
                f"how far down the lines stay within {labels.pp(SMALL)} of the best",
                f"the lines meet at one level only, {labels.level(table[LEVEL].iloc[0])}, where "
                "the finding on the sparsest level compares them",
            )
        )
        return None
    densest = table[table[LEVEL] == table[LEVEL].max()]
    apart = densest[densest["diff"].abs() > SMALL]
    how = f"{method(table)}, {used_seeds(table)}, Holm over each level's comparisons"
    if len(apart) == len(densest):
        worst = densest.loc[densest["diff"].abs().idxmax()]
        setting = next(name for name, rows in part.settings(densest) if worst.name in rows.index)
        return Finding(
            f"Already at {labels.level(worst[LEVEL])}, every line differs by more than "
            f"{labels.pp(SMALL)}",
            f"Already at {labels.level(worst[LEVEL])} weights remaining every line differs from "
            f"{reference_words(part, 'there')} by more than {labels.pp(SMALL)}, the most "
            f"{worst['line']}{f' ({setting})' if setting else ''}: "
            f"{labels.pp(worst['diff'], True)} {interval(worst)} ({how}).",
            "differences",
            "differences",
        )
    rest = table[~table["line"].isin(apart["line"])]
    gaps = rest["diff"].abs().groupby(rest[LEVEL]).max().sort_index(ascending=False)
    close = gaps.index[: int((gaps <= SMALL).cumprod().sum())]
    if len(close) < 2:
        left.append(
            Omitted(
                f"how far down the lines stay within {labels.pp(SMALL)} of the best",
                f"only at the densest level, {labels.level(gaps.index[0])}; from "
                f"{labels.level(gaps.index[1]) if len(gaps) > 1 else 'there'} on the gap is "
                f"{labels.pp(gaps.iloc[min(1, len(gaps) - 1)])}",
            )
        )
        return None
    rows = rest[rest[LEVEL].isin(close)]
    gap = rows.loc[rows["diff"].abs().idxmax()]
    significant, tested = rows[rows["p_holm"] < ALPHA], rows[rows["note"] == ""]
    down, every = labels.level(close[-1]), "every line" if apart.empty else "every other line"
    text = (
        f"Down to {down} weights remaining {every} stays within "
        f"{labels.pp(abs(gap['diff']))} of {reference_words(part)}: the largest gap is "
        f"{gap['line']} at {labels.level(gap[LEVEL])}, {labels.pp(gap['diff'], True)} "
        f"{interval(gap)}; "
    )
    if tested.empty:
        text += f"none of the {len(rows)} comparisons there is testable ({reasons(rows)})"
    else:
        text += (
            f"{count(len(significant), len(tested), 'testable comparison')} there "
            f"{'is' if len(significant) == 1 else 'are'} significant ({how}), and the median "
            f"minimum detectable difference (80% power) is {labels.pp(tested['mdd'].median())}"
            + not_tested(rows)
        )
    if len(close) < len(gaps):
        text += f"; at {labels.level(gaps.index[len(close)])} the gap grows to " + labels.pp(
            gaps.iloc[len(close)]
        )
    if len(apart):
        off = [
            f"{r['line']} ({labels.pp(r['diff'], True)} {interval(r)})"
            for r in apart.to_dict("records")
        ]
        text += f"; {' and '.join(off)} {'is' if len(off) == 1 else 'are'} further off from the densest level on"
    reference = part.analysis.options.reference or "the best"
    # the lines left out are named as exceptions: in brackets after "the best" they read as it
    return Finding(
        f"Down to {down} of the weights, all lines"
        + ("" if apart.empty else f" but {' and '.join(apart['line'])}")
        + f" stay within {labels.pp(abs(gap['diff']))} of {reference}",
        text + ".",
        "differences",
        "differences",
    )


def ci_text(low: float, high: float, note: str) -> str:
    """'[95% CI a, b]', or, for a difference that was not tested, why ('[not testable: no
    spread]'; the detail stays in the table)."""
    return f"[not testable: {reason(note)}]" if note else labels.ci_pp(low, high)


def interval(row: Mapping[str, object]) -> str:
    """ci_text of a differences.csv or dense.csv row."""
    return ci_text(row["ci_low"], row["ci_high"], row["note"])


def reasons(rows: pd.DataFrame) -> str:
    """Why the untestable differences among `rows` are not testable: 'fewer than 3 pairs; ...'."""
    return "; ".join(sorted({reason(n) for n in rows["note"] if n}))


def not_tested(rows: pd.DataFrame, noun: str = "comparison") -> str:
    """'; 2 of 6 comparisons are not testable (fewer than 3 pairs)', or '' where all were."""
    k = int((rows["note"] != "").sum())
    if not k:
        return ""
    return (
        f"; {count(k, len(rows), noun)} {'is' if k == 1 else 'are'} not testable ({reasons(rows)})"
    )


def count(k: int, n: int, noun: str = "comparison") -> str:
    """'1 of 8 comparisons', '0 of 3 comparisons'."""
    return f"{k} of {n} {noun}{'s' if n != 1 else ''}"


def at_sparsest(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of `table` at its sparsest level, of the last round there: pruning at
    initialisation with several rounds trains on at one level, and its last is the most trained."""
    at = table[table[LEVEL] == table[LEVEL].min()]
    return at[at["round"] == at["round"].max()]


def sparsest(part: Part, left: list[Omitted]) -> Finding | None:
    table = part.table("differences")
    if table.empty:
        return None
    clauses, bests = [], []
    for setting, rows in part.settings(table):
        at = at_sparsest(rows)
        first = at.iloc[0]
        behind = at[at["p_holm"] < ALPHA]
        runner = at.loc[at["diff"].idxmax()]
        worst = at.loc[at["diff"].idxmin()]
        where = f"{setting}: " if setting else ""
        near = int((at["diff"].abs() <= SMALL).sum())
        clause = (
            f"{where}at {labels.level(first[LEVEL])} weights remaining (the sparsest), "
            f"{first['reference']} reaches {labels.acc(first['reference_mean'])}; "
            f"{count(near, len(at), 'other line')} {'is' if 1 in (near, len(at)) else 'are'} within "
            f"{labels.pp(SMALL)} of it and {len(behind)} "
            f"{'falls' if len(behind) == 1 else 'fall'} significantly behind"
        )
        if len(behind) and len(at) > 1:  # one other line is said once, as the nearest
            clause += (
                f" (the furthest {worst['line']}, {labels.pp(worst['diff'], True)} "
                f"{interval(worst)})"
            )
        clause += not_tested(at) + (
            f"; {'the nearest' if len(at) > 1 else 'the other line'}, {runner['line']}, is "
            f"{labels.pp(runner['diff'], True)} {interval(runner)}"
        )
        if not runner["note"]:
            clause += f", with an MDD of {labels.pp(runner['mdd'])}"
        clauses.append(clause)
        tested = int((at["note"] == "").sum())
        bests.append(
            Best(setting, labels.level(first[LEVEL]), first["reference"], len(behind), tested)
        )
    text = "; ".join(clauses)
    return Finding(
        sparsest_title(bests),
        f"{capital(text)} ({method(table)}, {used_seeds(table)}, Holm).",
        "differences",
        "differences",
    )


@dataclass(frozen=True)
class Best:
    """The best line of a setting at its sparsest level, and how many of the testable others
    fall significantly behind it."""

    setting: str
    level: str
    line: str
    behind: int
    tested: int


def sparsest_title(bests: list[Best]) -> str:
    """The sparsest finding's title, one line: with several settings a short part each, and the
    level said once where they share it."""
    if len(bests) == 1:
        (b,) = bests
        behind = (
            f"{count(b.behind, b.tested, 'testable line')} significantly behind"
            if b.tested
            else "the differences are not testable"
        )
        return f"At {b.level}, {b.line} is best; {behind}"
    one_level = len({b.level for b in bests}) == 1
    parts = [
        f"{b.setting}{'' if one_level else f' ({b.level})'} {b.line}, "
        + (f"{b.behind} of {b.tested}" if b.tested else "not testable")
        for b in bests
    ]
    where = (
        f"at {bests[0].level} in each setting" if one_level else "at each setting's sparsest level"
    )
    return f"Best {where} (lines significantly behind): " + "; ".join(parts)


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def cost(part: Part, left: list[Omitted]) -> Finding | None:
    table = part.table("dense")
    if table.empty:
        return None
    table = table.assign(line=labels.line_labels(table, labels.series_keys(part.factors)))
    tested = table[table["note"] == ""]
    loses = (tested["ci_high"] < 0).groupby(tested[LEVEL]).any().sort_index(ascending=False)
    kept = loses.index[: int((~loses).cumprod().sum())]
    at = at_sparsest(table)
    least, most = at.loc[at["diff"].idxmax()], at.loc[at["diff"].idxmin()]
    sparse = labels.level(at[LEVEL].iloc[0])
    who, amount = change_span(at, least, most)
    if tested.empty:
        return Finding(
            f"At {sparse} {who} from dense by {amount} (not testable)",
            f"None of the {len(table)} changes from each line's own dense round 0 is testable "
            f"({reasons(table)}); at {sparse} "
            + (
                f"they range from {least['line']} {labels.pp(least['diff'], True)} to "
                f"{most['line']} {labels.pp(most['diff'], True)}."
                if who == LINES
                else f"{who} by {amount}{one_run(at)}."
            )
            + gain(part, least["line"], left),
            "test-acc-vs-weights",
            "dense",
        )
    if len(kept) == len(loses):
        keep = f"No line loses significantly to its own dense round 0 at any level down to {sparse}"
    elif len(kept):
        keep = (
            f"No line loses significantly to its own dense round 0 down to {labels.level(kept[-1])}"
        )
    else:
        keep = (
            f"From the first pruned level, {labels.level(loses.index[0])}, on, some line loses "
            "significantly to its own dense round 0"
        )
    return Finding(
        (
            "No significant loss to dense at any level"  # the sparsest included: said once
            if len(kept) == len(loses)
            else f"No significant loss to dense down to {labels.level(kept[-1])}"
            if len(kept)
            else f"Losses to dense from {labels.level(loses.index[0])} on"
        )
        + f"; at {sparse} {who} by {amount}",
        f"{keep} (paired by seed, {seeds(table['n'])}, 95% t CIs, not corrected for the many "
        f"levels{not_tested(table, 'change')}); at {sparse} "
        + (
            f"the change ranges from {least['line']} {labels.pp(least['diff'], True)} "
            f"{interval(least)} to {most['line']} {labels.pp(most['diff'], True)} "
            f"{interval(most)}."
            if who == LINES
            else f"{who} by {amount}"
            + (f" {interval(least)}." if len(at) == 1 else " (CIs in the table).")
        )
        + gain(part, least["line"], left),
        "test-acc-vs-weights",
        "dense",
    )


LINES = "the lines change"  # change_span's subject where the lines' changes differ


def change_span(at: pd.DataFrame, least: pd.Series, most: pd.Series) -> tuple[str, str]:
    """Subject and amount of 'at <level> <subject> by <amount>' for the dense.csv rows `at` of
    one level (`least` and `most`: the rows that change least and most): 'the lines change',
    'between -5.5 pp and +4.1 pp'; said once where one line is left, or where every line's
    change reads the same ('from X +0.07 pp to X +0.07 pp' tells the reader nothing twice)."""
    low, high = labels.pp(most["diff"], True), labels.pp(least["diff"], True)
    if len(at) == 1:
        return f"{least['line']} changes", high
    if low == high:
        return ("both" if len(at) == 2 else f"all {len(at)}") + " lines change", high
    return LINES, f"between {low} and {high}"


def one_run(rows: pd.DataFrame) -> str:
    """' (one run)' where each of `rows` rests on one run, so no spread is known; else ''."""
    return " (one run)" if (rows["n"] == 1).all() else ""


def gain(part: Part, line: str, left: list[Omitted]) -> str:
    """What pruning buys `line` at its sparsest level: its compacted network's size (from the
    masks, mean over seeds) against its dense one; '' without masks."""
    sizes = part.table("sizes")
    sizes = sizes.assign(line=labels.line_labels(sizes, labels.series_keys(part.factors)))
    mine = sizes[sizes["line"] == line]
    if mine.empty or mine["round"].nunique() < 2:
        return ""
    dense, sparse = mine.loc[mine["round"].idxmin()], mine.loc[mine["round"].idxmax()]
    text = what_it_buys(line, dense, sparse)
    if not text:
        left.append(
            Omitted(
                f"what pruning buys {line} in size",
                f"its compacted network at {labels.level(sparse[LEVEL])} is less than "
                f"{SHRINK:g}x smaller than dense, as dense layers and with CSR linear layers",
            )
        )
    return text


def what_it_buys(line: str, dense: Mapping[str, float], sparse: Mapping[str, float]) -> str:
    """' What it buys: ...' from a sizes.csv row of the dense and of the sparsest round: the
    units and inputs kept, the parameters as dense layers and the bytes with CSR linear layers,
    each saving said only where it is at least SHRINK-fold; '' where neither is."""
    fewer = dense["params_compact"] / sparse["params_compact"]
    smaller = dense["bytes_compact"] / sparse["bytes_sparse"]
    if fewer < SHRINK and smaller < SHRINK:
        return ""
    parts = []
    if fewer >= SHRINK:
        parts.append(
            f"{sparse['params_compact']:,.0f} parameters as dense layers ({fewer:,.1f}x fewer "
            "than dense)"
        )
    if smaller >= SHRINK:
        parts.append(
            f"{sparse['bytes_sparse'] / 1000:,.1f} kB with CSR linear layers ({smaller:,.1f}x "
            f"smaller than dense's {dense['bytes_compact'] / 1000:,.0f} kB)"
        )
    return (
        f" What it buys: at {labels.level(sparse[LEVEL])}, {line}'s tickets compact to "
        f"{sparse['inputs']:,.0f} of {sparse['inputs_total']:,.0f} inputs and "
        f"{sparse['hidden_units']:,.0f} of {sparse['hidden_units_total']:,.0f} hidden units: "
        f"{', '.join(parts)} (means of {seeds([sparse['n']])})."
    )


def dose(part: Part, left: list[Omitted]) -> Finding | None:
    factor, table = part.analysis.dose_factor, part.table("dose")
    if factor is None or table.empty:
        return None
    rounds = part.rounds
    sparse, dense = table["round"].max(), table["round"].min()
    keys = [k for k in labels.series_keys(part.factors) if k != factor]
    varying = labels.varying_keys(table, keys)  # over all lines: what tells them apart
    clauses, titles = [], []
    groups = table[table["round"] == sparse].groupby(keys, dropna=False, sort=False)
    for combo, rows in sorted(groups, key=lambda g: tuple(map(labels.order, g[0]))):
        if rows[factor].nunique() < 2:
            continue
        where = dict(zip(keys, combo, strict=True))
        best = rows.loc[rows["test_acc_mean"].idxmax()]
        worst = rows.loc[rows["test_acc_mean"].idxmin()]
        gaps = [
            paired_gap(select(rounds, where), factor, worst[factor], best[factor], r)
            for r in (sparse, dense)
        ]
        name = labels.series_label(where, varying)
        level = labels.level(best[LEVEL])
        clauses.append(
            f"at {level} weights remaining, {name} does best at {factor}={best[factor]:g} "
            f"({labels.acc(best['test_acc_mean'])}); {factor}={worst[factor]:g} differs from it "
            f"by {labels.pp(gaps[0].diff, True)} {ci_text(gaps[0].low, gaps[0].high, gaps[0].note)} "
            f"there and by {labels.pp(gaps[1].diff, True)} "
            f"{ci_text(gaps[1].low, gaps[1].high, gaps[1].note)} in the dense round 0"
        )
        titles.append(
            f"{name}: {factor}={best[factor]:g} does best at {level}; "
            f"{factor}={worst[factor]:g} costs {labels.pp(-gaps[0].diff)}"
        )
    if not clauses:
        return None
    n = seeds(table.loc[table["round"] == sparse, "n"])
    return Finding(
        titles[0] if len(titles) == 1 else "; ".join(titles),
        capital("; ".join(clauses)) + f" (paired by seed, {n}).",
        "dose-response",
        "dose",
    )


def paired_gap(rounds: pd.DataFrame, factor: str, a: float, b: float, round_: int):
    """Test accuracy at factor=a minus at factor=b in `round_`, paired by seed."""
    at = rounds[rounds["round"] == round_].set_index("seed")
    x, y = at.loc[at[factor] == a, "test_acc"], at.loc[at[factor] == b, "test_acc"]
    shared = x.index.intersection(y.index)
    return paired(x[shared], y[shared])


def prediction(part: Part, left: list[Omitted]) -> Finding | None:
    table = part.table("correlations")
    chosen = table[table["chosen"]]
    if chosen.empty:
        return None
    at = chosen[chosen[LEVEL] == chosen[LEVEL].min()]
    statistics = table["statistic"].nunique()
    clauses, verdicts = [], []
    for target, rows in at.groupby("target", sort=False):
        choose = rows[rows["split"] == "choose"].iloc[0]
        confirm = rows[rows["split"] == "confirm"].iloc[0]
        what = "test accuracy" if target == "test_acc" else "change from dense"
        clause = (
            f"for the {what}, {choose['statistic']} ranked best on seeds {choose['seeds']} "
            f"(ρ={choose['rho']:+.2f}, {choose['n_runs']} runs)"
        )
        if confirm["n_runs"] < 3 or pd.isna(confirm["rho"]):
            clause += f", and the seeds kept to confirm it have {confirm['n_runs']} runs: untested"
            verdicts.append("untested")
        else:
            holds = confirm["ci_low"] > 0 or confirm["ci_high"] < 0
            clause += (
                f"; on seeds {confirm['seeds']}, not used to choose it, ρ={confirm['rho']:+.2f} "
                f"[95% bootstrap CI {confirm['ci_low']:+.2f}, {confirm['ci_high']:+.2f}] "
                f"({confirm['n_runs']} runs): "
                + ("it predicts" if holds else "no evidence that it predicts")
            )
            verdicts.append("confirmed" if holds else "not confirmed")
        clauses.append(clause)
    level = labels.level(at[LEVEL].iloc[0])
    if set(verdicts) == {"untested"}:
        left.append(
            Omitted(
                f"the θ0 predictor of robustness at {level}",
                f"no seed at or above {part.analysis.options.choose_below} to test the statistic "
                "chosen on the others: untested",
            )
        )
        return None
    names = " and ".join(dict.fromkeys(at["statistic"]))
    return Finding(
        f"θ0 predictor of robustness at {level} ({names}): {', '.join(dict.fromkeys(verdicts))}",
        f"Of {statistics} statistics of θ0 (Spearman's ρ over runs at {level} weights "
        f"remaining), " + "; ".join(clauses) + ".",
        "predictors",
        "correlations",
    )


def diagnosis(part: Part, left: list[Omitted]) -> Finding | None:
    """The dead units and weight scale of the best and the least accurate line at the sparsest
    level compared, and how much their masks overlap. Where several settings (pruning methods,
    say) reach that level, the one whose lines lie furthest apart there: each setting's lines are
    compared only with each other."""
    table, health = part.table("differences"), part.table("health_summary")
    if table.empty or health.empty:
        return None
    sparsest = table[table[LEVEL] == table[LEVEL].min()]
    setting, at = min(
        ((name, at_sparsest(rows)) for name, rows in part.settings(sparsest)),
        key=lambda s: s[1]["diff"].min(),
    )
    round_, best = at["round"].iloc[0], at["reference"].iloc[0]
    worst = at.loc[at["diff"].idxmin(), "line"]
    keys = variant_keys(part.factors)
    rows = part.in_setting(health, setting)
    rows = rows[rows["round"] == round_]
    rows = rows.assign(line=labels.line_labels(rows, keys)).set_index("line")
    if best not in rows.index or worst not in rows.index:
        return None
    dead, ratio = rows["dead_hidden_pct_mean"], rows["rms_ratio_mean"]
    named = f" ({setting})" if setting else ""
    if f"{dead[best]:.1f}" == f"{dead[worst]:.1f}":
        left.append(
            Omitted(
                "the dead units of the best and the least accurate line",
                f"both leave {dead[best]:.1f}% of hidden units dead at the sparsest level{named}",
            )
        )
        return None
    within = f"{setting}; " if setting else ""
    text = (
        f"At {labels.level(at[LEVEL].iloc[0])} weights remaining ({within}means over seeds), "
        f"{best} leaves {dead[best]:.1f}% of hidden units dead against "
        f"{dead[worst]:.1f}% for {worst}; "
        f"its survivors' RMS is {ratio[best]:.2f}× what its init intends for their fan-in, "
        f"against {ratio[worst]:.2f}×"
    )
    runs = part.rounds[labels.line_labels(part.rounds, keys) == best]
    where = {k: runs[k].iloc[0] for k in keys[1:]} | {"round": round_}  # its init.*, control
    jaccard = select(part.in_setting(part.pooled_overlap, setting), where).set_index("comparison")[
        "jaccard_mean"
    ]
    if {SAME_INIT, SAME_SEED} <= set(jaccard.index):
        text += (
            f"; masks of different inits (same seed) overlap by J={jaccard[SAME_SEED]:.2f}, "
            f"masks of one init's seeds by J={jaccard[SAME_INIT]:.2f}"
        )
    return Finding(
        f"At the sparsest level{named}, {best} keeps {dead[best]:.1f}% dead units, {worst} "
        f"{dead[worst]:.1f}%",
        text + ".",
        "dead-units",
        "health",
    )


def limits(analysis: Analysis) -> list[str]:
    """What the results do not cover, from what the sweep holds."""
    sweep = analysis.sweep
    runs = sweep.runs[sweep.runs["status"] == "finished"]
    sets = sorted({labels.set_name(m, d) for m, d in zip(runs["model"], runs["data"], strict=True)})
    inits = sorted(set(runs["init"]))
    rounds = analysis.summary
    per_config = rounds.groupby([*sweep.factors], dropna=False)["n"].max()
    out = [
        f"Other models and data sets: only {', '.join(sets)}.",
        f"Other inits: only {', '.join(inits)}.",
        f"Sparser networks: the sparsest level reached is {labels.level(rounds[LEVEL].min())} "
        "weights remaining.",
        f"Small effects: {seeds(per_config)} per setting; differences below the minimum "
        "detectable difference (see the differences table) could not have been told from noise.",
        "Other training recipes: one optimiser, learning rate, schedule and rewind point per "
        "setting, as in the runs' config.yaml.",
        "Causes: the θ0 statistics and diagnostics are correlations over runs, not experiments.",
    ]
    unreachable = analysis.agreement[analysis.agreement["min_p"] >= ALPHA]
    if len(unreachable):
        k = int(unreachable["n_inits"].max())
        out.append(
            f"Whether the init ranking carries over, where {k} or fewer inits are ranked: "
            f"{len(unreachable)} of {len(analysis.agreement)} pairs of settings in "
            f"rank_agreement.csv; Kendall's τ over {k} inits cannot reach p<{ALPHA} (its "
            f"smallest p, for identical orders, is {unreachable['min_p'].min():.3f}), so none of "
            "those is significant whatever the orders."
        )
    left = sweep.count("unfinished") + sweep.count("failed")
    if left:
        out.append(f"{left} unfinished or failed runs: they are listed, not analysed.")
    return out
