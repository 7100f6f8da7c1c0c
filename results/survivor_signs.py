"""The fraction of the surviving weights that are positive in θ0, per layer: the measure
FINDINGS.md quotes for why GraSP fails on Conv-6 (a mask of mostly positive weights amplifies
the non-negative ReLU activations from layer to layer).

    python results/survivor_signs.py outputs/methods_conv6 outputs/init_study_conv6

Reads each finished run's θ0 (init.pt) and final mask (mask.pt) under the sweeps given (runs
are not committed; README.md has the commands that re-create them) and prints the mean over
seeds per model, pruning method, density and init.
"""

import sys
from pathlib import Path

import torch

from prune_ready.analyze import collect
from prune_ready.status import State

KEYS = ["model", "pruning", "pruning.density", "init"]


def positive_fractions(run: Path) -> dict[str, float]:
    """Per prunable layer: the fraction of its surviving weights that are positive in θ0."""
    init = torch.load(run / "init.pt", map_location="cpu")
    masks = torch.load(run / "mask.pt", map_location="cpu")
    return {
        layer: (init[f"{layer}.weight"][mask.bool()] > 0).float().mean().item()
        for layer, mask in masks.items()
    }


def main(sweeps: list[str]) -> None:
    sweep = collect(sweeps)
    runs = sweep.runs[sweep.runs["status"] == State.FINISHED]
    keys = [k for k in KEYS if k in runs]
    for values, group in runs.groupby(keys, dropna=False, sort=True):
        fractions = [positive_fractions(sweep.base / run) for run in group["run"]]
        means = " ".join(
            f"{layer} {sum(f[layer] for f in fractions) / len(fractions):.2f}"
            for layer in fractions[0]
        )
        setting = " ".join(f"{k}={v}" for k, v in zip(keys, values, strict=True))
        print(f"{setting} ({len(fractions)} seeds): {means}")


if __name__ == "__main__":
    main(sys.argv[1:])
