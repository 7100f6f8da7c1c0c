"""Small constructed sweeps for the analysis tests, given as an analysis's runs.csv: a table of
rounds (run, model, data, init, pruning, any other factor, seed, round, weights_remaining_pct,
test_acc, ...) becomes a Sweep through the same path as `python -m prune_ready.analyze runs.csv`."""

from pathlib import Path

import pandas as pd

from prune_ready.analyze import Sweep, collect

IDS = ["run", "status", "rounds_done", "rounds_expected", "reason"]


def sweep_of(rounds: pd.DataFrame, factors: list[str], path: Path) -> Sweep:
    """`rounds` (finished runs, one row per run × round) written as path/runs.csv and collected;
    test_acc_at_early_stop and early_stop_epoch default to test_acc and 1."""
    table = rounds.copy()
    table = table.assign(
        status="finished",
        rounds_done=table.groupby("run")["round"].transform("size"),
        rounds_expected=table.groupby("run")["round"].transform("size"),
        reason="",
    )
    table["test_acc_at_early_stop"] = table.get("test_acc_at_early_stop", table["test_acc"])
    table["early_stop_epoch"] = table.get("early_stop_epoch", 1)
    rest = [c for c in table.columns if c not in [*IDS, *factors, "seed"]]
    path.mkdir(parents=True, exist_ok=True)
    table[[*IDS, *factors, "seed", *rest]].to_csv(path / "runs.csv", index=False)
    return collect(path / "runs.csv")
