"""What the report says, answer first: per model and data set the answer chart (ANSWER), one
line per finding, a table of the findings' numbers and the figures that show them; what the results do not cover; then an appendix with the method, the runs, the other
figures and every table. Every figure and table is numbered and referred to from the text.
"""

from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from prune_ready.analyze import labels
from prune_ready.analyze.compute.analysis import Analysis, Part
from prune_ready.analyze.compute.lines import MAX_LINES
from prune_ready.analyze.compute.overlap import ALL, WINDOW
from prune_ready.analyze.compute.stats import ALPHA, CONFIDENCE, LEVEL, MIN_N, POWER, reason, select
from prune_ready.analyze.read.collect import Sweep
from prune_ready.analyze.write.document import Block, Bullets, Heading, Image, Paragraph, Table
from prune_ready.analyze.write.figures import FIGURES
from prune_ready.analyze.write.figures import left_out as figures_left_out
from prune_ready.analyze.write.findings import Finding, limits, omitted
from prune_ready.analyze.write.overlap_figure import PAIRS
from prune_ready.analyze.write.plots import FigureFiles
from prune_ready.status import RunStatus, State

METHOD = (
    "{accuracy}; the {early_stop} is the {unit} of minimum validation loss "
    "within the round. Each run is one seed; statistics use the finished runs only. Means carry "
    "{confidence:.0%} confidence intervals from Student's t with n-1 degrees of freedom. At each "
    "weights-remaining level every init (with its `init.*` settings, e.g. `init.scale`: a line of "
    "the figures) is compared with {reference}: paired by seed where both ran the same seeds (the "
    "same seed gives the same data order, and inits of one family the same random draws), else "
    "by Welch's t-test; the p values are Holm-adjusted across the comparisons at that level "
    "(significant: p<{alpha}) over the testable ones: fewer than {min_n} pairs (paired) or seeds "
    "in a line (Welch), or no spread (every pair differs by the same amount), is no test, and "
    "such a difference is shown without CI or p, marked not testable. The minimum detectable "
    "difference (MDD) is the true difference such a test would find with {power:.0%} power: "
    "λ · SE, λ the noncentrality at which a noncentral t with the test's df exceeds the "
    "two-sided critical value with probability {power} (exact, not the t-quantile sum), from "
    "the observed spread and n (paired: df = n-1, SE = sd of the differences / √n). Changes "
    "from the dense baseline pair each run's round with its own round 0. `comparisons.csv` keeps "
    "the earlier best-vs-each Welch comparisons (with `init.*` settings as separate groups). "
    "Predictors: Spearman's ρ over runs between each θ0 statistic (`predictors.csv` of the runs) "
    "and the accuracy (or its change from dense) at the sparse levels, with a 95% percentile "
    "bootstrap CI over seeds (all runs of a drawn seed); the best statistic is chosen on seeds below {choose} and tested on "
    "the others. Mask overlap pairs runs up to {window} seeds apart."
)


# What "test accuracy" is, per --accuracy (Options.accuracy)
ACCURACY_WORDS = {
    "round_end": "Test accuracy is a run's `test_acc` at the end of each round, i.e. just before "
    "the next pruning step (`rounds.csv`)",
    "early_stop": "Test accuracy is a run's `test_acc_at_early_stop` (`rounds.csv`; "
    "`--accuracy early_stop`): its test accuracy at each round's {early_stop}, as the "
    "lottery-ticket papers report it, not at the round's end",
}


# The chart a part's section opens with, the first of these it draws: accuracy vs weights
# remaining per init answers the question at a glance; the heatmap where that is missing.
ANSWER = ("test-acc-vs-weights", "differences")


def differences_table(part: Part) -> pd.DataFrame:
    parts = part.settings(part.table("differences"))
    table = pd.concat([rows for _, rows in parts])
    setting = {"setting": [name for name, rows in parts for _ in range(len(rows))]}
    return pd.DataFrame(
        {
            **(setting if len(parts) > 1 else {}),
            "weights remaining": table[LEVEL].map(labels.level),
            "line": table["line"],
            "reference": table["reference"],
            "difference (pp) [95% CI]": spans(table, "diff", "ci_low", "ci_high"),
            "test": [f"{t} (n={n})" for t, n in zip(table["test"], table["n_pairs"], strict=True)],
            "p (Holm)": p_cells(table["p_holm"], table["note"]),
            "MDD (pp)": table["mdd"].map(lambda v: labels.points(v)),
            "Welch: difference [CI]": spans(table, "welch_diff", "welch_ci_low", "welch_ci_high"),
            "Welch: p (Holm)": p_cells(table["welch_p_holm"], table["welch_note"]),
            "Welch: MDD": table["welch_mdd"].map(lambda v: labels.points(v)),
        }
    )


def p_cells(p: pd.Series, notes: pd.Series) -> list[str]:
    """Each p value, or why there is none ('not testable: fewer than 3 pairs')."""
    return [
        f"not testable: {reason(n)}" if n else labels.p_value(v)
        for v, n in zip(p, notes, strict=True)
    ]


def spans(table: pd.DataFrame, diff: str, low: str, high: str) -> list[str]:
    return [
        f"{labels.points(d, True)} {interval(lo, hi)}"
        for d, lo, hi in zip(table[diff], table[low], table[high], strict=True)
    ]


def dose_table(part: Part) -> pd.DataFrame:
    table, dose = part.table("dose").sort_values("round", kind="stable"), part.analysis.dose_factor
    keys = [k for k in labels.series_keys(part.factors) if k != dose]
    return pd.DataFrame(
        {
            "weights remaining": table[LEVEL].map(labels.level),
            "line": labels.line_labels(table, keys),
            dose: table[dose],
            "test accuracy (%)": [cell(row, "test_acc", 100) for _, row in table.iterrows()],
            "change from dense (pp)": [cell(row, "change", 100) for _, row in table.iterrows()],
        }
    )


def correlations_table(part: Part) -> pd.DataFrame:
    table = part.table("correlations")
    return pd.DataFrame(
        {
            "weights remaining": table[LEVEL].map(labels.level),
            "target": table["target"].map({"test_acc": "test accuracy", "change": "change"}),
            "statistic": [
                f"**{s}**" if c else s
                for s, c in zip(table["statistic"], table["chosen"], strict=True)
            ],
            "seeds": [
                f"{s} ({split}, {n} runs)"
                for s, split, n in zip(table["seeds"], table["split"], table["n_runs"], strict=True)
            ],
            "ρ [95% bootstrap CI]": [
                "n/a" if pd.isna(r) else f"{r:+.2f} [{lo:+.2f}, {hi:+.2f}]"
                for r, lo, hi in zip(table["rho"], table["ci_low"], table["ci_high"], strict=True)
            ],
            "p": table["p"].map(labels.p_value),
        }
    )


def sizes_table(part: Part) -> pd.DataFrame:
    """Per level and line: what the compacted network keeps, means over the seeds."""
    table = part.table("sizes").sort_values("round", kind="stable")

    def kept(name: str) -> list[str]:
        return [
            f"{k:,.0f} of {n:,.0f}"
            for k, n in zip(table[name], table[f"{name}_total"], strict=True)
        ]

    return pd.DataFrame(
        {
            "weights remaining": table[LEVEL].map(labels.level),
            "line": labels.line_labels(table, labels.series_keys(part.factors)),
            "inputs kept": kept("inputs"),
            "hidden units kept": kept("hidden_units"),
            "parameters": table["params_compact"].map("{:,.0f}".format),
            "bytes (dense layers)": table["bytes_compact"].map("{:,.0f}".format),
            "bytes (CSR linear layers)": table["bytes_sparse"].map("{:,.0f}".format),
            "n": table["n"],
        }
    )


def health_table(part: Part) -> pd.DataFrame:
    health, keys = part.table("health_summary"), labels.series_keys(part.factors)
    dead = wide(health, keys, "dead_hidden_pct", 1)
    ratio = wide(health, keys, "rms_ratio", 1, digits=2)
    return dead.merge(
        ratio, on=["round", "weights remaining"], suffixes=(": dead %", ": RMS ratio")
    )


TABLES: dict[str, tuple[str, str, Callable[[Part], pd.DataFrame]]] = {
    # key (a Finding's table) -> title, the Part table it needs (left out if empty), builder
    "differences": (
        "each line's test accuracy minus {reference}",
        "differences",
        differences_table,
    ),
    "accuracy": (
        "test accuracy (%) by weights remaining",
        "summary",
        lambda p: wide(p.table("summary"), labels.series_keys(p.factors), "test_acc", 100),
    ),
    "dense": (
        "change from each line's own dense round 0",
        "dense",
        lambda p: dense_table(p.table("dense"), labels.series_keys(p.factors)),
    ),
    "dose": ("test accuracy and its change from dense against {dose}", "dose", dose_table),
    "correlations": (
        "θ0 statistics against robustness (Spearman's ρ over runs)",
        "correlations",
        correlations_table,
    ),
    "sizes": (
        "the compacted network (dead units and unread inputs removed) by weights remaining",
        "sizes",
        sizes_table,
    ),
    "early_stop": (
        "{early_stop} by weights remaining",
        "summary",
        lambda p: wide(p.table("summary"), labels.series_keys(p.factors), p.early_stop, 1),
    ),
    "health": (
        "dead hidden units (%) and survivors' RMS ÷ intended RMS (×)",
        "health_summary",
        health_table,
    ),
    "overlap": (
        "mask overlap (Jaccard index, all prunable weights)",
        "pooled_overlap",
        lambda p: overlap_table(
            p.table("overlap"), labels.varying_keys(p.rounds, labels.series_keys(p.factors))
        ),
    ),
}


def report_blocks(
    analysis: Analysis,
    sources: Sequence[str],
    figures: Sequence[FigureFiles],
    found: dict[str, list[Finding]],
    out_dir: Path,
) -> list[Block]:
    """The whole report, top to bottom; figure paths relative to `out_dir`, where it is written."""
    sweep, parts = analysis.sweep, analysis.parts()
    tables = TableCounter()
    numbers_captions = {p.name: tables.add(f"the findings' numbers ({p.name})") for p in parts}
    runs_caption = tables.add("runs per configuration, by status")
    left_out = sweep.runs[sweep.runs["status"] != State.FINISHED]
    left_caption = tables.add("runs left out (unfinished or failed)") if len(left_out) else ""
    part_tables = {part.name: numbered_tables(part, tables) for part in parts}
    words = FIGURES[0].words(parts[0]) if parts else {}
    blocks: list[Block] = [
        Heading("Initialisation and pruning: " + ", ".join(f"`{s}`" for s in sources), 1),
        Paragraph(
            f"{len(sweep.runs)} runs: {sweep.count(State.FINISHED)} finished, "
            f"{sweep.count(State.UNFINISHED)} unfinished, {sweep.count(State.FAILED)} failed "
            f"({ref(runs_caption)}"
            + (f"; {ref(left_caption)} lists those left out" if left_caption else "")
            + "). The answer first: a chart, one line per finding (with the figure and table "
            "that show it) and a table of the findings' numbers ("
            + listing([ref(c) for c in numbers_captions.values()])
            + "); how the numbers were made is in the appendix."
        ),
    ]
    appendix: list[Block] = []
    for part in parts:
        mine = [f for f in figures if f.set_name == part.name]
        numbers = {f.slug: ref(f.caption) for f in mine}
        refs = {key: ref(caption) for key, (caption, _) in part_tables[part.name].items()}
        where = [
            "; ".join(filter(None, (numbers.get(f.figure or ""), refs.get(f.table or ""))))
            for f in found[part.name]
        ]
        items = [f"**{f.title}** ({w})" for f, w in zip(found[part.name], where, strict=True)]
        cited = [numbers[f.figure] for f in found[part.name] if f.figure in numbers]
        last = max((int(n.split()[-1]) for n in cited), default=0)
        shown = [f for f in mine if f.number <= last]
        answer = next((f for slug in ANSWER for f in shown if f.slug == slug), None)
        first = figure_blocks(part, [answer], out_dir) if answer else []
        blocks += [Heading(part.name), *first[:1], Bullets(items, ordered=True)]
        if found[part.name]:
            blocks.append(Table(numbers_captions[part.name], numbers_table(found[part.name])))
        blocks += first[1:] + figure_blocks(part, [f for f in shown if f != answer], out_dir)
        appendix += [Heading(f"{part.name}: the other figures and the tables", 3)]
        appendix += figure_blocks(part, [f for f in mine if f.number > last], out_dir)
        captions = [caption for caption, _ in part_tables[part.name].values()]
        appendix.append(Paragraph(listing([ref(c) for c in captions]) + " give the numbers."))
        appendix += [Table(caption, table) for caption, table in part_tables[part.name].values()]
        appendix += left_out_blocks(part)
    blocks += [Heading("What these results do not cover"), Bullets(limits(analysis))]
    early_stop = labels.early_stop(sweep.early_stop)
    options = analysis.options
    blocks += [
        Heading("Appendix"),
        Heading("How the numbers were made", 3),
        Paragraph(
            METHOD.format(
                accuracy=ACCURACY_WORDS[options.accuracy].format(early_stop=early_stop),
                early_stop=early_stop,
                unit=early_stop.split()[-1],
                confidence=CONFIDENCE,
                reference=words.get("reference", "the best line at that level"),
                alpha=ALPHA,
                power=POWER,
                min_n=MIN_N,
                choose=options.choose_below,
                window=WINDOW,
            )
        ),
        Table(runs_caption, runs_per_config(sweep)),
    ]
    if len(left_out):
        blocks.append(Table(left_caption, not_finished(left_out)))
    return blocks + appendix


def numbers_table(found: Sequence[Finding]) -> pd.DataFrame:
    """The findings' full sentences (numbers, CIs, tests), below their one-line takeaways."""
    return pd.DataFrame(
        {
            "finding": [f"{i}. {f.title}" for i, f in enumerate(found, 1)],
            "the numbers and how they were tested": [f.text for f in found],
        }
    )


def left_out_blocks(part: Part) -> list[Block]:
    """What `part`'s findings and figures leave out, and why: findings with nothing to say and
    figures without data or with nothing to show (none: no blocks)."""
    items = [f"The finding on {o.what}: {o.why}." for o in omitted(part)]
    items += [
        f"The figure of {spec.title.format(**spec.words(part))}: {why}."
        for spec, why in figures_left_out(part)
    ]
    if not items:
        return []
    return [Paragraph(f"Left out for {part.name}, and why:"), Bullets(items)]


def numbered_tables(part: Part, tables: "TableCounter") -> dict[str, tuple[str, pd.DataFrame]]:
    """key -> (caption, table) of the TABLES that have rows for `part`, numbered in order."""
    words = FIGURES[0].words(part)
    return {
        key: (tables.add(f"{title.format(**words)} ({part.name})"), build(part))
        for key, (title, needs, build) in TABLES.items()
        if part.has(needs)
    }


def figure_blocks(part: Part, figures: Sequence[FigureFiles], out_dir: Path) -> list[Block]:
    """Each figure with the sentence saying what it shows, from its registry entry."""
    specs = {spec.slug: spec for spec in FIGURES}
    blocks: list[Block] = []
    for figure in figures:
        spec = specs[figure.slug]
        blocks += [
            Image(figure.caption, rel(figure.png, out_dir), rel(figure.svg, out_dir)),
            Paragraph(
                f"{ref(figure.caption)} {spec.caption.format(**spec.words(part))}."
                + (panels_note(part) if spec.needs == "rounds" else "")
            ),
        ]
    return blocks


def overlap_table(overlap: pd.DataFrame, varying: Sequence[str]) -> pd.DataFrame:
    """Levels as rows, one column per kind of pair: 'J [CI] (n pairs)', pooled over inits."""
    pooled = overlap[(overlap["layer"] == ALL) & (overlap["init_a"] == ALL)]
    rows = []
    for key, part in pooled.groupby([*varying, "round"], dropna=False, sort=True):
        setting = dict(zip(varying, key[:-1], strict=True))
        row = {"setting": ", ".join(f"{k}={labels.value(v)}" for k, v in setting.items())}
        row |= {"round": key[-1], "weights remaining": labels.level(part[LEVEL].iloc[0])}
        for kind, (_, legend) in PAIRS.items():
            match = part[part["comparison"] == kind]
            row[legend] = jaccard_cell(match.iloc[0]) if len(match) else ""
        row["chance"] = f"{part['chance_mean'].mean():.2g}"
        rows.append(row)
    table = pd.DataFrame(rows)
    return table if varying else table.drop(columns="setting")


def jaccard_cell(row: pd.Series) -> str:
    ci = (
        ""
        if pd.isna(row["jaccard_ci_low"])
        else (f" [{row['jaccard_ci_low']:.2f}, {row['jaccard_ci_high']:.2f}]")
    )
    return f"{row['jaccard_mean']:.2f}{ci} (n={row['n_pairs']})"


class TableCounter:
    """Numbers tables in the order they are added: add(title) -> 'Table n: title'."""

    def __init__(self) -> None:
        self.count = 0

    def add(self, title: str) -> str:
        self.count += 1
        return f"Table {self.count}: {title}"


def runs_per_config(sweep: Sweep) -> pd.DataFrame:
    return (
        sweep.runs.groupby(sweep.factors, dropna=False, sort=True)
        .agg(
            seeds=("seed", lambda s: ", ".join(str(v) for v in sorted(s))),
            finished=("status", lambda s: int((s == State.FINISHED).sum())),
            unfinished=("status", lambda s: int((s == State.UNFINISHED).sum())),
            failed=("status", lambda s: int((s == State.FAILED).sum())),
        )
        .reset_index()
    )


def not_finished(runs: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run": runs["run"],
            "status": [
                RunStatus(State(r.status), r.rounds_done, r.rounds_expected, r.reason).describe()
                for r in runs.itertuples()
            ],
        }
    )


def wide(
    summary: pd.DataFrame, keys: Sequence[str], metric: str, scale: float, digits: int = 1
) -> pd.DataFrame:
    """Levels as rows, one column per line of the figures: 'mean [CI] (n)'."""
    names = labels.series_labels(summary, keys)
    table = (
        summary.groupby("round", sort=True)[LEVEL]
        .mean()
        .map(labels.level)
        .to_frame("weights remaining")
    )
    for combo, label in names.items():
        line = select(summary, dict(zip(keys, combo, strict=True))).set_index("round")
        table[label] = [
            cell(line.loc[r], metric, scale, digits) if r in line.index else "" for r in table.index
        ]
    return table.reset_index()


def cell(row: pd.Series, metric: str, scale: float, digits: int = 1) -> str:
    mean, low, high = (scale * row[f"{metric}_{s}"] for s in ("mean", "ci_low", "ci_high"))
    ci = "" if pd.isna(low) else f" [{low:.{digits}f}, {high:.{digits}f}]"
    return f"{mean:.{digits}f}{ci} (n={row['n']})"


def dense_table(dense: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    varying = labels.varying_keys(dense, keys)
    combos = dense[list(keys)].itertuples(index=False, name=None)
    table = pd.DataFrame(
        {
            "round": dense["round"],
            "weights remaining": dense[LEVEL].map(labels.level),
            "line": [
                labels.series_label(dict(zip(keys, combo, strict=True)), varying)
                for combo in combos
            ],
            "change (pp) [95% CI]": [
                f"{labels.points(r.diff, True)} {interval(r.ci_low, r.ci_high)}"
                for r in dense.itertuples()
            ],
            "p (paired t)": p_cells(dense["p"], dense["note"]),
            "n": dense["n"],
        }
    )
    return table.sort_values(["round", "line"], kind="stable")


def interval(low: float, high: float) -> str:
    return "[n/a]" if pd.isna(low) else f"[{labels.points(low)}, {labels.points(high)}]"


def listing(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return " and ".join(filter(None, (", ".join(items[:-1]), items[-1]))) if items else ""


def ref(caption: str) -> str:
    """'Table 3: title' -> 'Table 3'."""
    return caption.split(":")[0]


def rel(path: Path, out_dir: Path) -> str:
    return path.relative_to(out_dir).as_posix()


def panels_note(part: Part) -> str:
    """The sentence saying how figures with more lines than fit one plot are split."""
    keys = labels.series_keys(part.factors)
    if len(part.rounds[keys].drop_duplicates()) <= MAX_LINES:
        return ""
    varying = labels.varying_keys(part.rounds, keys)
    along = [k for k in varying if k in labels.LEVEL_KEYS]
    note = (
        f" With more than {MAX_LINES} lines, it has one panel per setting of "
        f"{', '.join(f'`{k}`' for k in varying)}, its lines the inits (one colour each, the "
        "same in every panel)"
    )
    if along:
        note += f"; `{along[0]}` runs along the weights axis instead"
    return note + "."
