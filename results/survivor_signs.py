"""The fraction of the surviving weights that are positive in θ0, per layer: the measure
FINDINGS.md quotes for why GraSP fails on Conv-6 (a mask of mostly positive weights amplifies
the non-negative ReLU activations from layer to layer).

    python results/survivor_signs.py outputs/methods_conv6 outputs/init_study_conv6

Reads each finished run's θ0 (init.pt) and final mask (mask.pt) under the sweeps given (runs
are not committed; README.md has the commands that re-create them) and prints the mean over
seeds per model, pruning method, density and init.
"""

import sys
from collections import defaultdict
from pathlib import Path

import torch
from omegaconf import OmegaConf


def positive_fractions(run: Path) -> dict[str, float]:
    """Per prunable layer: the fraction of its surviving weights that are positive in θ0."""
    init = torch.load(run / "init.pt", map_location="cpu")
    masks = torch.load(run / "mask.pt", map_location="cpu")
    return {
        layer: (init[f"{layer}.weight"][mask.bool()] > 0).float().mean().item()
        for layer, mask in masks.items()
    }


def main(sweeps: list[str]) -> None:
    groups: dict[tuple, list[dict[str, float]]] = defaultdict(list)
    for sweep in sweeps:
        for rounds in sorted(Path(sweep).rglob("rounds.csv")):
            run = rounds.parent
            if not (run / "mask.pt").exists():
                continue  # unfinished
            cfg = OmegaConf.load(run / "config.yaml")
            density = OmegaConf.select(cfg, "pruning.density", default=None)
            key = (cfg.model.name, cfg.pruning.name, density, cfg.init.name)
            groups[key].append(positive_fractions(run))
    for (model, method, density, init), runs in sorted(groups.items(), key=str):
        layers = runs[0].keys()
        means = " ".join(f"{k} {sum(r[k] for r in runs) / len(runs):.2f}" for k in layers)
        print(f"{model} {method} density={density} {init} ({len(runs)} seeds): {means}")


if __name__ == "__main__":
    main(sys.argv[1:])
