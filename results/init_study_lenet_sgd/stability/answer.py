"""Issue 25's questions, answered from a snapshot of stability runs (under SGD here; the Adam
arms' snapshot, `stability/adam/runs`, goes through the same script).

    python results/init_study_lenet_sgd/stability/answer.py results/init_study_lenet_sgd/stability/runs

The runs: kaiming_normal × g ∈ {0.5, 1, 2}, rewound to θ0 (`pruning.reset.to=0`) or to θ(1 epoch),
each with its stability.csv (two copies per measured round, the test-error barrier on the line
between them). Printed, each as paired differences by seed (mean [95% t CI], p, Holm over the
table's rows, MDD at 80% power, pairs) in percentage points:

(1) does late rewinding remove the large scale's harm? g − 1 for g ∈ {0.5, 2} at each level under
    θ0 and under θ(1 ep), and the change of that gap from θ0 to θ(1 ep) (a difference of paired
    differences: per seed, (g − 1 at θ1ep) − (g − 1 at θ0));
(2) is a network stable from θ(1 ep) where it was not from θ0? the test barrier per rewind point
    and scale (mean [95% t CI]), and θ(1 ep) − θ0 per scale and measured round.
"""

import sys
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

# the SGD study's table printer (results/init_study_lenet_sgd/answer.py): one format for both
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from answer import table

from prune_ready.analyze import mean_ci

LEVELS = {0: "100%", 6: "6.95%", 10: "1.19%", 12: "0.50%", 13: "0.33%"}
PRUNED = (6, 10, 12, 13)  # round 0 trains from θ0 whatever the rewind point: the same runs
MEASURED = (0, 6, 10, 13)  # the rounds with two copies
REWINDS = {"0": "θ0", "1ep": "θ(1 ep)"}


def load(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(accuracies: scale, rewind, seed, round, test_acc; barriers: scale, rewind, seed, round,
    test_barrier), one row per run and round, from each run's config, rounds.csv, stability.csv."""
    accuracies, barriers = [], []
    for stability in sorted(root.rglob("stability.csv")):
        run = stability.parent
        cfg = OmegaConf.load(run / "config.yaml")
        key = {
            "scale": float(cfg.init.scale),
            "rewind": str(cfg.pruning.reset.to),
            "seed": int(cfg.seed),
        }
        rounds = pd.read_csv(run / "rounds.csv")[["round", "test_acc"]]
        accuracies.append(rounds.assign(**key))
        rows = pd.read_csv(stability)
        per_round = rows.groupby("round", as_index=False)["test_barrier"].first()
        barriers.append(per_round.assign(**key))
    return pd.concat(accuracies), pd.concat(barriers)


def by_seed(frame: pd.DataFrame, column: str, scale: float, rewind: str, round_: int) -> pd.Series:
    rows = frame[
        (frame["scale"] == scale) & (frame["rewind"] == rewind) & (frame["round"] == round_)
    ]
    return rows.set_index("seed")[column].sort_index()


def main(root: Path) -> None:
    acc, bar = load(root)
    pairs = sorted(set(zip(acc["scale"], acc["rewind"], strict=True)))
    seeds = {
        p: sorted(acc[(acc["scale"] == p[0]) & (acc["rewind"] == p[1])]["seed"].unique())
        for p in pairs
    }
    print("runs per (g, rewind):", {f"g={g:g} {REWINDS[r]}": len(s) for (g, r), s in seeds.items()})

    rows = []
    for round_ in PRUNED:
        level = LEVELS[round_]
        for g in (0.5, 2.0):
            for rewind, name in REWINDS.items():
                gap = by_seed(acc, "test_acc", g, rewind, round_)
                rows.append(
                    (
                        f"g = {g:g} − g = 1, {name}",
                        level,
                        gap,
                        by_seed(acc, "test_acc", 1.0, rewind, round_),
                    )
                )
    table("(1a) g − 1 under each rewind point: test accuracy", rows)

    rows = []
    for round_ in PRUNED:
        level = LEVELS[round_]
        for g in (0.5, 2.0):
            late = by_seed(acc, "test_acc", g, "1ep", round_) - by_seed(
                acc, "test_acc", 1.0, "1ep", round_
            )
            early = by_seed(acc, "test_acc", g, "0", round_) - by_seed(
                acc, "test_acc", 1.0, "0", round_
            )
            rows.append(
                (f"(g = {g:g} − 1) at θ(1 ep) − at θ0", level, late.dropna(), early.dropna())
            )
    table("(1b) the change of the scale's gap from θ0 to θ(1 ep)", rows)

    print("\n(2a) test barrier (pp), mean [95% t CI], n")
    print(
        "| level | "
        + " | ".join(f"g = {g:g}, {n}" for g in (0.5, 1.0, 2.0) for n in REWINDS.values())
        + " |"
    )
    print("|---" * 7 + "|")
    for round_ in MEASURED:
        cells = []
        for g in (0.5, 1.0, 2.0):
            for rewind in REWINDS:
                values = by_seed(bar, "test_barrier", g, rewind, round_)
                if values.empty:
                    cells.append("—")
                    continue
                e = mean_ci(values.to_numpy())
                cells.append(f"{100 * e.mean:.2f} [{100 * e.low:.2f}, {100 * e.high:.2f}] ({e.n})")
        print(f"| {LEVELS[round_]} | " + " | ".join(cells) + " |")

    rows = [
        (
            f"g = {g:g}: θ(1 ep) − θ0",
            LEVELS[round_],
            by_seed(bar, "test_barrier", g, "1ep", round_),
            by_seed(bar, "test_barrier", g, "0", round_),
        )
        for round_ in MEASURED
        for g in (0.5, 1.0, 2.0)
    ]
    table("(2b) test barrier: θ(1 ep) − θ0", rows)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
