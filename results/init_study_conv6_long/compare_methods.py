"""Issue 22's pruning-at-initialisation question in both Conv-6 regimes: does the init effect
under SNIP and SynFlow (FINDINGS §7: xavier behind kaiming, more than under IMP) survive where
Conv-6 learns?

    python results/init_study_conv6_long/compare_methods.py results/methods_conv6/runs.csv \
        results/init_study_conv6_long/runs results/init_study_conv6_long/pai_runs

At ~5.2% of the weights, kaiming_normal and xavier_normal: each method's mean test accuracy per
init (95% t CI, n), then, paired by seed where both runs ran on one machine, kaiming_normal −
xavier_normal under each method and each pruning-at-initialisation method − IMP per init, as
mean [95% t CI], p, Holm over each table, MDD at 80% power and pairs ("not testable" below 3
pairs or with no spread). Accuracy: the short regime's at each round's end (as FINDINGS §7
reports it), the long regime's at each round's early stop (as §5 does).
"""

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from compare_regimes import finished_rounds, mean_cell, paired_on_one_machine, print_paired

LEVEL = 5.2  # % weights remaining: the round nearest it
INITS = ("kaiming_normal", "xavier_normal")
IMP = ("imp_seed", "imp")  # the short regime's IMP preset, the long regime's


def at_level(rounds: pd.DataFrame) -> pd.DataFrame:
    """Each finished run's round nearest LEVEL (the normal inits at init.scale 1), one row each."""
    rows = rounds[rounds["init"].isin(INITS) & (rounds["init.scale"] == 1.0)].copy()
    rows["gap"] = (rows["weights_remaining_pct"] - LEVEL).abs()
    # each run's nearest round, if it is near (a run pruned at initialisation to 22% is not)
    rows = rows[(rows["gap"] == rows.groupby("run")["gap"].transform("min")) & (rows["gap"] < 1)]
    rows["method"] = rows["pruning"].where(~rows["pruning"].isin(IMP), "imp")
    return rows[rows["method"].isin(["imp", "snip", "synflow"])]


def series(rows: pd.DataFrame, method: str, init: str, metric: str) -> pd.DataFrame:
    chosen = rows[(rows["method"] == method) & (rows["init"] == init)]
    return chosen.drop_duplicates("seed").set_index("seed")[[metric, "machine"]].sort_index()


def table(title: str, rows: list[tuple[str, pd.DataFrame, pd.DataFrame]], metric: str) -> None:
    """(label, x, y) rows: x − y paired by seed on one machine, Holm over the table."""
    tests = [([label], *paired_on_one_machine(x, y, metric)) for label, x, y in rows]
    print_paired(title, ["difference"], tests)


def report(name: str, rounds: pd.DataFrame, metric: str) -> None:
    rows = at_level(rounds)
    level = rows["weights_remaining_pct"].mean()
    print(f"\n## {name}: {metric} at ~{level:.2f}% of the weights, % (mean [95% t CI] (n))")
    print("| method | " + " | ".join(INITS) + " |")
    print("|---|---|---|")
    for method in ("imp", "snip", "synflow"):
        cells = [mean_cell(series(rows, method, init, metric)[metric].to_numpy()) for init in INITS]
        print(f"| {method} | " + " | ".join(cells) + " |")
    kn, xn = INITS
    table(
        f"{name}: kaiming_normal − xavier_normal per method",
        [
            (m, series(rows, m, kn, metric), series(rows, m, xn, metric))
            for m in ("imp", "snip", "synflow")
        ],
        metric,
    )
    table(
        f"{name}: pruning at initialisation − IMP per init",
        [
            (f"{m} − imp, {init}", series(rows, m, init, metric), series(rows, "imp", init, metric))
            for m in ("snip", "synflow")
            for init in INITS
        ],
        metric,
    )


def main(short: str, long_imp: str, long_pai: str) -> None:
    report("short regime (~200 steps a round)", finished_rounds([short]), "test_acc")
    long = finished_rounds([long_imp, long_pai])
    report("long regime (4,000 iterations a round)", long, "test_acc_at_early_stop")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n\n")[1])
    main(*sys.argv[1:])
