"""What the report says: runs, method, and per model and data set its findings, figures, tables.

Every figure and table is numbered and referred to from the text above it.
"""

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from prune_ready.analyze import labels
from prune_ready.analyze.analysis import Analysis
from prune_ready.analyze.collect import Sweep
from prune_ready.analyze.diagnostic_figures import PAIRS
from prune_ready.analyze.document import Block, Heading, Image, Paragraph, Table
from prune_ready.analyze.figures import MAX_LINES, SLUGS, FigureFiles
from prune_ready.analyze.findings import ALPHA
from prune_ready.analyze.overlap import ALL
from prune_ready.analyze.stats import CONFIDENCE, LEVEL, select
from prune_ready.status import RunStatus, State

METHOD = (
    "Test accuracy is a run's `test_acc` at the end of each round, i.e. just before the next "
    "pruning step (`rounds.csv`); the {early_stop} is the {unit} of minimum validation loss "
    "within the round. Each run is one seed; statistics use the finished runs only. Means carry "
    "{confidence:.0%} confidence intervals from Student's t with n-1 degrees of freedom. At each "
    "weights-remaining level the init with the highest mean is compared with every other init by "
    "Welch's t-test, its p values Holm-adjusted across the comparisons at that level "
    "(significant: p<{alpha}). Changes from the dense baseline pair each run's round with its own "
    "round 0 (same init and seed) and give a Student-t CI of the mean change."
)

DIAGNOSTIC_FIGURES = {  # slug -> what the figure shows, after its number
    "dead-units": (
        "counts the hidden units left dead: no surviving incoming weight, or no surviving "
        "weight of the next layer reading them (all layers but the output layer)"
    ),
    "weight-scale": (
        "divides the survivors' RMS by the RMS the init's formula intends for their surviving "
        "fan-in (1: as intended; below 1: too small for the inputs a unit has left)"
    ),
    "signal": (
        "follows a fixed batch through the rewound network: the RMS of the logits, and the "
        "norm of the first layer's masked loss gradient"
    ),
    "mask-overlap": (
        "compares the masks of two runs at the same sparsity by their Jaccard index "
        "|A∩B| / |A∪B| over all prunable weights, pooled over pairs of each kind; pairs share "
        "runs, so they are not independent and their CIs are descriptive only"
    ),
}
NO_DIAGNOSTICS = (
    "These runs hold no `diagnostics.csv` or `round_masks.pt` (runs from before prune_ready "
    "wrote them), so there are no diagnostic figures."
)


def report_blocks(
    analysis: Analysis, sources: Sequence[str], figures: Sequence[FigureFiles], out_dir: Path
) -> list[Block]:
    """The whole report, top to bottom; figure paths relative to `out_dir`, where it is written."""
    sweep, findings = analysis.sweep, analysis.findings
    early_stop = labels.early_stop(sweep.early_stop)
    tables = TableCounter()
    runs_table = tables.add("runs per configuration, by status")
    blocks: list[Block] = [
        Heading("Analysis of " + ", ".join(f"`{s}`" for s in sources), 1),
        Paragraph(
            f"{len(sweep.runs)} runs were found: {sweep.count(State.FINISHED)} finished, "
            f"{sweep.count(State.UNFINISHED)} unfinished and {sweep.count(State.FAILED)} failed "
            f"({ref(runs_table)}). "
            + METHOD.format(
                confidence=CONFIDENCE,
                alpha=ALPHA,
                early_stop=early_stop,
                unit=early_stop.split()[-1],
            )
        ),
        Table(runs_table, runs_per_config(sweep)),
    ]
    left_out = sweep.runs[sweep.runs["status"] != State.FINISHED]
    if len(left_out):
        caption = tables.add("runs left out of the statistics (unfinished or failed)")
        blocks += [
            Paragraph(f"{ref(caption)} lists the runs that did not finish."),
            Table(caption, not_finished(left_out)),
        ]
    if not findings:
        blocks.append(Paragraph("No run has finished yet, so there are no statistics."))
    keys = labels.series_keys(sweep.factors)
    for (model, data), part in analysis.summary.groupby(labels.SET_KEYS, sort=True):
        name = labels.set_name(model, data)
        where = {"model": model, "data": data}
        accuracy = [f for f in figures if f.set_name == name and f.slug in SLUGS]
        diagnostic = [f for f in figures if f.set_name == name and f.slug not in SLUGS]
        numbers = [ref(f.caption) for f in accuracy]
        captions = [
            tables.add(f"test accuracy (%) by weights remaining ({name})"),
            tables.add(f"{early_stop} by weights remaining ({name})"),
            tables.add(f"the best init's lead over each other init ({name})"),
            tables.add(f"change from each init's own dense baseline ({name})"),
        ]
        refs = [ref(c) for c in captions]
        varying = labels.varying_keys(part, keys)  # e.g. a control
        blocks += [
            Heading(name),
            Paragraph(findings[name]),
            Paragraph(
                f"{numbers[0]} follows test accuracy through training, every round one after "
                f"another; {numbers[1]} samples it at the end of each round, just before "
                f"pruning; {numbers[2]} plots it against the weights remaining, with each init's "
                f"dense baseline as a dashed line; {numbers[3]} shows the {early_stop}. "
                f"{refs[0]} and {refs[1]} give the means with their CIs, {refs[2]} the "
                f"comparisons between inits and {refs[3]} each init's change from its dense "
                "baseline." + panels_note(part, keys, varying)
            ),
            *(image(f, out_dir) for f in accuracy),
            Table(captions[0], wide(part, keys, "test_acc", 100)),
            Table(captions[1], wide(part, keys, sweep.early_stop, 1)),
            Table(captions[2], comparison_table(select(analysis.comparisons, where), varying)),
            Table(captions[3], dense_table(select(analysis.dense, where), keys)),
            *diagnostic_blocks(analysis, where, diagnostic, out_dir, tables, varying),
        ]
    return blocks


def diagnostic_blocks(
    analysis: Analysis,
    where: dict[str, str],
    figures: Sequence[FigureFiles],
    out_dir: Path,
    tables: "TableCounter",
    varying: Sequence[str],
) -> list[Block]:
    """What the diagnostic `figures` of one model and data set show, them, and their tables."""
    name = labels.set_name(where["model"], where["data"])
    health = select(analysis.health_summary, where)
    overlap = select(analysis.overlap, where)
    shown = [f"{ref(f.caption)} {DIAGNOSTIC_FIGURES[f.slug]}" for f in figures]
    if not shown:
        return [Paragraph(NO_DIAGNOSTICS)]
    keys = labels.series_keys(analysis.sweep.factors)
    content = []
    if len(health):
        dead = tables.add(f"dead hidden units (% of hidden units) by weights remaining ({name})")
        scale = tables.add(
            f"survivors' RMS ÷ intended RMS, whole network, by weights remaining ({name})"
        )
        content += [
            Table(dead, wide(health, keys, "dead_hidden_pct", 1)),
            Table(scale, wide(health, keys, "rms_ratio", 1, digits=2)),
        ]
    if len(overlap):
        content.append(
            Table(
                tables.add(f"mask overlap (Jaccard index, all prunable weights) ({name})"),
                overlap_table(overlap, varying),
            )
        )
    refs = [ref(t.caption) for t in content]
    listed = " and ".join([", ".join(refs[:-1]), refs[-1]]) if len(refs) > 1 else refs[0]
    return [
        Paragraph(
            "The diagnostics describe the network each round starts from: the rewound, pruned "
            "network, measured before training (`diagnostics.csv`). "
            + "; ".join(shown)
            + f". {listed} give the numbers; `diagnostics.csv` and `mask_overlap.csv` hold them "
            "per layer."
        ),
        *(image(f, out_dir) for f in figures),
        *content,
    ]


def image(figure: FigureFiles, out_dir: Path) -> Image:
    return Image(figure.caption, rel(figure.png, out_dir), rel(figure.svg, out_dir))


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


def comparison_table(comparisons: pd.DataFrame, varying: Sequence[str]) -> pd.DataFrame:
    """One row per comparison; a 'setting' column names the `varying` factors besides init."""
    setting = {
        "setting": [
            ", ".join(f"{k}={labels.value(v)}" for k, v in zip(varying, row, strict=True))
            for row in comparisons[list(varying)].itertuples(index=False, name=None)
        ]
    }
    return pd.DataFrame(
        {
            **(setting if varying else {}),
            "round": comparisons["round"],
            "weights remaining": comparisons[LEVEL].map(labels.level),
            "best": comparisons["best"],
            "vs": comparisons["other"],
            "lead (pp) [95% CI]": [
                f"{100 * r.diff:.1f} {interval(r.ci_low, r.ci_high)}"
                for r in comparisons.itertuples()
            ],
            "p (Welch)": comparisons["p"].map(labels.p_value),
            "p (Holm)": comparisons["p_holm"].map(labels.p_value),
        }
    )


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
                f"{100 * r.diff:+.1f} {interval(r.ci_low, r.ci_high)}" for r in dense.itertuples()
            ],
            "p (paired t)": dense["p"].map(labels.p_value),
            "n": dense["n"],
        }
    )
    return table.sort_values(["round", "line"], kind="stable")


def interval(low: float, high: float) -> str:
    return "[n/a]" if pd.isna(low) else f"[{100 * low:.1f}, {100 * high:.1f}]"


def ref(caption: str) -> str:
    """'Table 3: title' -> 'Table 3'."""
    return caption.split(":")[0]


def rel(path: Path, out_dir: Path) -> str:
    return path.relative_to(out_dir).as_posix()


def panels_note(summary: pd.DataFrame, keys: list[str], varying: list[str]) -> str:
    """The sentence saying how figures with more lines than fit one plot are split."""
    if len(summary[keys].drop_duplicates()) <= MAX_LINES:
        return ""
    along = [k for k in varying if k in labels.LEVEL_KEYS]
    note = (
        f" A figure that would draw more than {MAX_LINES} lines has one panel per setting of "
        f"{', '.join(f'`{k}`' for k in varying)}, its lines the inits (one colour each, the "
        "same in every panel)"
    )
    if along:
        note += f"; where the x axis is the weights remaining, `{along[0]}` runs along it instead"
    return note + "."
