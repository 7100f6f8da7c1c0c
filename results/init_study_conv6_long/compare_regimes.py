"""Issue 22's questions, side by side in the two Conv-6 regimes: the short one of FINDINGS §5/§9
(rounds of ~200 Adam steps on 4,000 images: `init_study_conv6/`, `init_scale_conv6/`) and the
one where Conv-6 learns (rounds of 4,000 iterations on 45,000 images: this folder's runs).

    python results/init_study_conv6_long/compare_regimes.py \
        results/init_study_conv6/runs.csv results/init_scale_conv6/runs.csv \
        results/init_study_conv6_long/runs

Per regime, at 100%, ~22% and ~5.2% of the weights (the levels both reach): each setting's mean
test accuracy (95% t CI, n), then, paired by seed, kaiming_normal − xavier_normal (does the
kaiming-over-xavier lead survive?), kaiming_normal × 0.5 − kaiming_normal (the scale dial) and
xavier_normal − kaiming_normal × 0.5 (is xavier's smaller scale all that sets it apart?), as
mean [95% t CI], p, Holm over the regime's table, MDD at 80% power and pairs; then the same
differences in each run's change from its own dense round (a gap already there before pruning
is about training, not about surviving pruning); and, for the long regime, how each setting's
rounds overfit (training and validation loss at the round's end, the lowest validation loss),
and the differences in the lowest validation loss, paired by seed. A pair counts only
where both runs ran on one machine (their `machine` keys; the short regime's runs.csv files
predate the key: their runs count as one machine's, as FINDINGS §5/§9 paired them); fewer than 3
pairs, or no spread, is not testable.
Accuracy: test accuracy at the end of each round (the short regime's measure) and, for the long
regime, also at its early stop (minimum validation loss: it overfits within a round).
"""

import sys

import numpy as np
import pandas as pd

from prune_ready.analyze import collect, holm, mean_ci, paired
from prune_ready.analyze.compute.stats import Difference, pairing_keys

LEVELS = (100.0, 22.1, 5.2)  # % weights remaining; each regime's nearest round
SETTINGS = {  # name -> (init, init.scale)
    "kaiming_normal": ("kaiming_normal", 1.0),
    "xavier_normal": ("xavier_normal", 1.0),
    "kaiming_normal × 0.5": ("kaiming_normal", 0.5),
}
DIFFERENCES = (
    ("kaiming_normal", "xavier_normal"),
    ("kaiming_normal × 0.5", "kaiming_normal"),
    ("xavier_normal", "kaiming_normal × 0.5"),  # does xavier_normal land where g = 0.5 does?
)


def finished_rounds(paths: list[str]) -> pd.DataFrame:
    """The finished runs' rounds of every path (a runs.csv or a folder of runs), one table."""
    tables = []
    for path in paths:
        table = collect(path).table()
        table = table[table["status"] == "finished"].copy()
        for column, default in (("init.scale", 1.0), ("machine", "unrecorded")):
            if column not in table:
                table[column] = default
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def by_seed(
    rounds: pd.DataFrame, setting: tuple[str, float], level: float, metric: str
) -> pd.DataFrame:
    """metric and machine of one setting (init, init.scale) at the round nearest `level`,
    indexed by seed."""
    init, scale = setting
    rows = rounds[(rounds["init"] == init) & (rounds["init.scale"] == scale)]
    if rows.empty:
        return pd.DataFrame(columns=[metric, "machine"])
    nearest = (rows["weights_remaining_pct"] - level).abs()
    rows = rows[nearest == nearest.min()]
    return rows.drop_duplicates("seed").set_index("seed")[[metric, "machine"]].sort_index()


def report(
    name: str,
    rounds: pd.DataFrame,
    metric: str,
    settings: dict[str, tuple[str, float]] = SETTINGS,
    pairs: tuple[tuple[str, str], ...] = DIFFERENCES,
    levels: tuple[float, ...] = LEVELS,
) -> None:
    """Each of `settings` at each of `levels` (the first dense), then `pairs` (setting names)
    paired by seed: in `metric`, and in its change from each run's dense round."""
    print(f"\n## {name}: {metric}, % (mean [95% t CI] (n))")
    print("| setting | " + " | ".join(f"~{level:g}%" for level in levels) + " |")
    print("|---" * (1 + len(levels)) + "|")
    for setting, key in settings.items():
        cells = []
        for level in levels:
            cells.append(mean_cell(by_seed(rounds, key, level, metric)[metric].to_numpy()))
        print(f"| {setting} | " + " | ".join(cells) + " |")
    differences(name, rounds, metric, levels, False, settings, pairs)
    differences(name, rounds, metric, levels[1:], True, settings, pairs)


def differences(
    name: str,
    rounds: pd.DataFrame,
    metric: str,
    levels: tuple[float, ...],
    change: bool,
    settings: dict[str, tuple[str, float]],
    pairs: tuple[tuple[str, str], ...],
) -> None:
    """`pairs` paired by seed at `levels`, Holm over the table: of `metric`, or (`change`) of
    its change from each run's own dense round (is the gap there before any pruning?)."""
    rows = []
    for (a, b), level in ((d, level) for d in pairs for level in levels):
        x, y = (
            by_seed(rounds, settings[a], level, metric),
            by_seed(rounds, settings[b], level, metric),
        )
        if change:
            x[metric] -= by_seed(rounds, settings[a], 100.0, metric)[metric]
            y[metric] -= by_seed(rounds, settings[b], 100.0, metric)[metric]
        rows.append(([f"{a} − {b}", f"~{level:g}%"], *paired_on_one_machine(x, y, metric)))
    what = "the change from dense round 0" if change else metric
    print_paired(f"{name}: {what}", ["difference", "level"], rows)


def mean_cell(values: np.ndarray) -> str:
    """'mean [95% t CI] (n)' in %, or the one value and its n, or '—' for none."""
    if len(values) < 2:
        return f"{100 * values.mean():.2f} ({len(values)})" if len(values) else "—"
    e = mean_ci(values)
    return f"{100 * e.mean:.2f} [{100 * e.low:.2f}, {100 * e.high:.2f}] ({e.n})"


def paired_on_one_machine(x: pd.DataFrame, y: pd.DataFrame, column: str) -> tuple[Difference, int]:
    """x − y in `column` (frames indexed by seed, with a `machine` column), paired as the
    analysis pairs runs (stats.pairing_keys: one seed on one kind of machine), and how many pairs
    that is."""
    keyed = []
    for frame in (x, y):
        runs = frame.reset_index()  # the seed a column again, where pairing_keys reads it
        keyed.append(runs.set_index(pairing_keys(runs))[column])
    a, b = keyed
    shared = a.index.intersection(b.index)
    return paired(a[shared], b[shared]), len(shared)


def print_paired(
    title: str, keys: list[str], rows: list[tuple[list[str], Difference, int]], pp: bool = True
) -> None:
    """rows of (key cells, difference, pairs) as a table, Holm over its testable rows: in
    percentage points with the MDD (pp), else in the metric's own units to 3 decimals."""
    adjusted = holm([d.p for _, d, _ in rows])
    scale, digits = (100, 2) if pp else (1, 3)
    tested = sum(d.testable for _, d, _ in rows)
    print(f"\n{title}, paired by seed (Holm over the {tested} tested)")
    columns = (
        ["diff (pp) [95% CI]", "p", "Holm p", "MDD (pp)"]
        if pp
        else ["diff [95% CI]", "p", "Holm p"]
    )
    print("| " + " | ".join([*keys, *columns, "pairs"]) + " |")
    print("|---" * (len(keys) + len(columns) + 1) + "|")
    blanks = " — |" * (len(columns) - 1)
    for (cells, d, n), p_holm in zip(rows, adjusted, strict=True):
        where = "| " + " | ".join(cells) + " |"
        if not n:
            print(f"{where} — (no pairs yet) |{blanks} 0 |")
        elif not d.testable:
            print(f"{where} {scale * d.diff:+.{digits}f} ({d.note}) |{blanks} {n} |")
        else:
            ci = f"[{scale * d.low:+.{digits}f}, {scale * d.high:+.{digits}f}]"
            mdd = f" {100 * d.mdd:.2f} |" if pp else ""
            print(
                f"{where} {scale * d.diff:+.{digits}f} {ci} | {d.p:.3g} | {p_holm:.3g} |{mdd} {n} |"
            )


def overfitting(path: str) -> None:
    """The long regime's rounds overfit (no data augmentation): per setting and round, the mean
    over finished runs of the training loss and the validation loss at the round's end, the
    lowest validation loss and how much the loss rose from it by the round's end (the runs'
    metrics.csv: an evaluation every 500 iterations); then DIFFERENCES in the lowest validation
    loss, paired by seed (one machine), Holm over the table: does one init generalise better?"""
    epochs = collect(path).epochs
    epochs = epochs[epochs["status"] == "finished"]
    per_run = epochs.groupby(["init", "init.scale", "seed", "round"]).agg(
        level=("weights_remaining_pct", "last"),
        machine=("machine", "first"),
        train_end=("train_loss", "last"),
        val_low=("val_loss", "min"),
        val_end=("val_loss", "last"),
    )
    per_run["rise"] = per_run["val_end"] - per_run["val_low"]
    print("\n## long regime: how each round overfits, means over seeds (n)")
    print("| setting | weights | train loss at end | val loss: lowest | at end | rise | n |")
    print("|---|---|---|---|---|---|---|")
    for setting, key in SETTINGS.items():
        for _, runs in per_run.loc[key].groupby("round"):
            m = runs.drop(columns="machine").mean()
            print(
                f"| {setting} | {m['level']:.1f}% | {m['train_end']:.3f} | {m['val_low']:.3f} | "
                f"{m['val_end']:.3f} | {m['rise']:+.3f} | {len(runs)} |"
            )
    rows = []
    rounds = sorted(per_run.index.get_level_values("round").unique())
    for (a, b), round_ in ((d, r) for d in DIFFERENCES for r in rounds):
        x = per_run.loc[SETTINGS[a]].xs(round_, level="round")
        y = per_run.loc[SETTINGS[b]].xs(round_, level="round")
        cells = [f"{a} − {b}", f"{x['level'].iloc[0]:.1f}%"]
        rows.append((cells, *paired_on_one_machine(x, y, "val_low")))
    print_paired("lowest validation loss", ["difference", "weights"], rows, pp=False)


def main(short: list[str], long: str) -> None:
    short_rounds, long_rounds = finished_rounds(short), finished_rounds([long])
    report("short regime (~200 steps a round)", short_rounds, "test_acc")
    report("long regime (4,000 iterations a round)", long_rounds, "test_acc")
    report("long regime (4,000 iterations a round)", long_rounds, "test_acc_at_early_stop")
    overfitting(long)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__.split("\n\n")[1])
    main(sys.argv[1:-1], sys.argv[-1])
