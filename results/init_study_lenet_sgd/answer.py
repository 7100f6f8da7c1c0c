"""Issue 24's questions under SGD, answered from the analysis's runs.csv of each study.

    python results/init_study_lenet_sgd/answer.py SGD_RUNS_CSV ADAM_DIAL_RUNS_CSV [ADAM_HERE_RUNS_CSV]

(a) the dose-response: kaiming_normal × g minus g = 1, paired by seed, under SGD beside the same
    computation on the Adam dial of FINDINGS §9 (`init_scale_lenet/`: another machine, so the two
    are set side by side, never paired with each other);
(b) the standard inits under SGD: each level's best by mean and the others' paired differences
    from it;
(c) SGD's ticket minus Adam's for the same init and seed, paired only where the two runs ran on
    the same machine (the optional third file: Adam runs made beside the SGD grid).

Every table: mean difference (pp) [95% t CI], the paired t-test's p, Holm's adjustment over the
table's comparisons (stated per table), the minimum detectable difference (80% power, α 0.05) and
the number of pairs. Accuracy is the study's: test accuracy at the end of each round.
"""

import sys
from collections.abc import Sequence

import pandas as pd

from prune_ready.analyze import holm, paired

LEVELS = {6: "6.95%", 10: "1.19%", 12: "0.50%", 13: "0.33%"}  # init_study_lenet's rounds
STANDARD = ("xavier_normal", "xavier_uniform", "kaiming_normal", "kaiming_uniform")
SCALES = (0.25, 0.5, 2.0)
Rows = list[tuple[str, str, pd.Series, pd.Series]]  # label, level, after, before (by seed)


def finished(path: str) -> pd.DataFrame:
    runs = pd.read_csv(path)
    runs = runs[runs["status"] == "finished"].copy()
    if "init.scale" not in runs:
        runs["init.scale"] = 1.0
    return runs


def accuracy(runs: pd.DataFrame, init: str, scale: float, round_: int) -> pd.Series:
    """Test accuracy of one setting at one round, indexed by seed."""
    rows = runs[(runs["init"] == init) & (runs["init.scale"] == scale) & (runs["round"] == round_)]
    return rows.set_index("seed")["test_acc"]


def table(title: str, rows: Rows) -> None:
    """Print paired differences (after − before) with Holm over the table's rows."""
    diffs = [paired(*after.align(before, join="inner")) for *_, after, before in rows]
    adjusted = holm([d.p for d in diffs])
    print(f"\n{title} (Holm over the table's {sum(d.p == d.p for d in diffs)} tested rows)")
    print("| comparison | level | diff (pp) [95% CI] | p | Holm p | MDD (pp) | pairs |")
    print("|---|---|---|---|---|---|---|")
    for (label, level, after, before), d, p_holm in zip(rows, diffs, adjusted, strict=True):
        n = len(after.index.intersection(before.index))
        ci = f"{100 * d.diff:+.2f} [{100 * d.low:+.2f}, {100 * d.high:+.2f}]"
        if d.note:
            ci = f"{100 * d.diff:+.2f} ({d.note})"
        print(f"| {label} | {level} | {ci} | {d.p:.3g} | {p_holm:.3g} | {100 * d.mdd:.2f} | {n} |")


def dose_rows(runs: pd.DataFrame) -> Rows:
    reference = {r: accuracy(runs, "kaiming_normal", 1.0, r) for r in LEVELS}
    return [
        (f"g = {g:g} − g = 1", level, accuracy(runs, "kaiming_normal", g, r), reference[r])
        for r, level in LEVELS.items()
        for g in SCALES
        if not accuracy(runs, "kaiming_normal", g, r).empty
    ]


def standard_rows(runs: pd.DataFrame) -> Rows:
    rows = []
    for r, level in LEVELS.items():
        means = {i: accuracy(runs, i, 1.0, r).mean() for i in STANDARD}
        best = max(means, key=means.__getitem__)
        print(f"  {level}: " + ", ".join(f"{i} {100 * m:.2f}%" for i, m in means.items()))
        rows += [
            (f"{i} − {best} (best)", level, accuracy(runs, i, 1.0, r), accuracy(runs, best, 1.0, r))
            for i in STANDARD
            if i != best
        ]
    return rows


def optimizer_rows(sgd: pd.DataFrame, adam: pd.DataFrame) -> Rows:
    rows = []
    for init in sorted(set(adam["init"]) & set(sgd["init"])):
        for r, level in LEVELS.items():
            s, a = accuracy(sgd, init, 1.0, r), accuracy(adam, init, 1.0, r)
            same = same_machine(sgd, adam, init)
            rows.append((f"{init}: SGD − Adam", level, s[s.index.isin(same)], a))
    return rows


def same_machine(sgd: pd.DataFrame, adam: pd.DataFrame, init: str) -> Sequence[int]:
    """The seeds whose SGD and Adam runs of `init` share one machine key (pairs only there)."""

    def key(runs: pd.DataFrame) -> pd.Series:
        one = (runs["init"] == init) & (runs["init.scale"] == 1.0) & (runs["round"] == 0)
        return runs[one].set_index("seed")["machine"]

    s, a = key(sgd), key(adam)
    common = s.index.intersection(a.index)
    return [seed for seed in common if s[seed] == a[seed]]


def main(sgd_csv: str, adam_dial_csv: str, adam_here_csv: str | None = None) -> None:
    sgd, adam_dial = finished(sgd_csv), finished(adam_dial_csv)
    print(f"SGD runs: {sgd['run'].nunique()}, seeds {sorted(int(s) for s in sgd['seed'].unique())}")
    table("(a) SGD: kaiming_normal × g − g = 1, paired by seed", dose_rows(sgd))
    table("(a) Adam (init_scale_lenet, §9): the same computation", dose_rows(adam_dial))
    print("\n(b) SGD: mean test accuracy of the standard inits")
    table("(b) SGD: each standard init − the level's best, paired by seed", standard_rows(sgd))
    if adam_here_csv:
        table(
            "(c) SGD − Adam, same init and seed, same machine",
            optimizer_rows(sgd, finished(adam_here_csv)),
        )


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__.splitlines()[2].strip())
    main(*sys.argv[1:])
