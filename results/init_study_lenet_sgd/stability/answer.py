"""Issue 25's questions, answered from a snapshot of stability runs (under SGD here; the Adam
arms' snapshot, `stability/adam/runs`, goes through the same script).

    python results/init_study_lenet_sgd/stability/answer.py results/init_study_lenet_sgd/stability/runs

The runs: kaiming_normal at init scales g (1 and others), rewound to θ0 (`pruning.reset.to=0`) and
to later iterates θk (`stability/runs`: g ∈ {0.5, 1, 2} × {θ0, θ(1 ep)}; `stability/rewind_sweep/
runs`: g ∈ {1, 2} × {θ0, θ(100 it), θ(500 it), θ(1 ep), θ(2 ep)}), each with its stability.csv
(two copies per measured round, the test-error barrier on the line between them). Printed, each
as paired differences by seed (mean [95% t CI], p, Holm over the table's rows, MDD at 80% power,
pairs) in percentage points:

(1) does late rewinding remove the large scale's harm? g − 1 for each g ≠ 1 at each level under
    each rewind point, and the change of that gap from θ0 to each θk (a difference of paired
    differences: per seed, (g − 1 at θk) − (g − 1 at θ0));
(2) is a network stable from θk where it was not from θ0? the test barrier per rewind point and
    scale (mean [95% t CI]), and θk − θ0 per scale and measured round.
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
REWINDS = {  # pruning.reset.to -> its name, in the order of training time
    "0": "θ0",
    "100it": "θ(100 it)",
    "500it": "θ(500 it)",
    "1ep": "θ(1 ep)",
    "2ep": "θ(2 ep)",
}


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
    rewinds = {r: name for r, name in REWINDS.items() if r in set(acc["rewind"])}
    late = {r: name for r, name in rewinds.items() if r != "0"}
    scales = sorted(set(acc["scale"]))
    others = [g for g in scales if g != 1.0]

    rows = []
    for round_ in PRUNED:
        level = LEVELS[round_]
        for g in others:
            for rewind, name in rewinds.items():
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

    def gap(g: float, rewind: str, round_: int) -> pd.Series:
        return by_seed(acc, "test_acc", g, rewind, round_) - by_seed(
            acc, "test_acc", 1.0, rewind, round_
        )

    rows = [
        (f"(g = {g:g} − 1) at {name} − at θ0", LEVELS[round_], after.dropna(), before.dropna())
        for round_ in PRUNED
        for g in others
        for rewind, name in late.items()
        for after, before in [(gap(g, rewind, round_), gap(g, "0", round_))]
    ]
    names = " / ".join(late.values())
    table(f"(1b) the change of the scale's gap from θ0 to {names}", rows)

    print("\n(2a) test barrier (pp), mean [95% t CI], n")
    print(
        "| level | "
        + " | ".join(f"g = {g:g}, {n}" for g in scales for n in rewinds.values())
        + " |"
    )
    print("|---" * (1 + len(scales) * len(rewinds)) + "|")
    for round_ in MEASURED:
        cells = []
        for g in scales:
            for rewind in rewinds:
                values = by_seed(bar, "test_barrier", g, rewind, round_)
                if values.empty:
                    cells.append("—")
                    continue
                e = mean_ci(values.to_numpy())
                cells.append(f"{100 * e.mean:.2f} [{100 * e.low:.2f}, {100 * e.high:.2f}] ({e.n})")
        print(f"| {LEVELS[round_]} | " + " | ".join(cells) + " |")

    rows = [
        (
            f"g = {g:g}: {name} − θ0",
            LEVELS[round_],
            by_seed(bar, "test_barrier", g, rewind, round_),
            by_seed(bar, "test_barrier", g, "0", round_),
        )
        for round_ in MEASURED
        for g in scales
        for rewind, name in late.items()
    ]
    table(f"(2b) test barrier: {names} − θ0", rows)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
