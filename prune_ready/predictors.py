"""Prune-readiness at θ0: cheap statistics of the dense initial network, before any training.

Whether one of them predicts how well a run survives pruning is the question; they are
computed for every run at its start (predictors.csv, one row) and, for runs made before, from
their init.pt (or, for a run directory without one, θ0 rebuilt from its config: the schemes draw
from the run seed's own stream, so θ0 is a function of the config alone) by

    python -m prune_ready.predictors SWEEP [SWEEP ...] [--force]

All use the same fixed batch for every run (the first 256 validation images; see
data.InMemoryData.fixed_batch), so runs differ only in θ0:
  act_rms/<layer>       RMS of each layer's pre-activation (logit_rms: the output layer's)
  grad_norm_first       norm of the loss gradient of the first layer's weight
  snip_top1, synflow_top1, magnitude_top1
                        the share of the SNIP (|g ⊙ w|), SynFlow and |w| score mass that the top
                        1% of all weights hold (how concentrated a pruning score is)
  jacobian_spread       mean over 32 images of the std of log singular values of the
                        input-output Jacobian (0 = dynamical isometry; Saxe et al. 2014)
  jacobian_gain         mean over the images of the geometric mean of those singular values
"""

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from omegaconf import OmegaConf
from torch import Tensor, nn
from tqdm import tqdm

from prune_ready import manifest, results
from prune_ready.build import build
from prune_ready.cli import add_data_root
from prune_ready.errors import UserError
from prune_ready.pruning import masks, methods
from prune_ready.seeding import generator

JACOBIAN_IMAGES = 32


def top_share(scores: dict[str, Tensor], fraction: float = 0.01) -> float:
    """The share of the total score that the top `fraction` of all entries hold."""
    flat = torch.cat([s.detach().flatten().double() for s in scores.values()])
    k = max(1, math.floor(fraction * flat.numel()))
    total = flat.sum()
    return float(flat.topk(k).values.sum() / total) if total > 0 else math.nan


def activations(net: nn.Module, x: Tensor) -> dict[str, Tensor]:
    """Every prunable layer's output on `x`."""
    outputs: dict[str, Tensor] = {}
    hooks = [
        layer.register_forward_hook(lambda m, i, o, n=name: outputs.__setitem__(n, o.detach()))
        for name, layer in masks.prunable_layers(net).items()
    ]
    try:
        with torch.no_grad():
            net(x)
    finally:
        for hook in hooks:
            hook.remove()
    return outputs


def jacobian_spectrum(net: nn.Module, x: Tensor) -> tuple[float, float]:
    """(mean std of log σ, mean geometric mean of σ) of d logits / d input over the images."""
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        logits = net(x)
        rows = [
            torch.autograd.grad(logits[:, k].sum(), x, retain_graph=True)[0].flatten(1)
            for k in range(logits.shape[1])
        ]  # the images are independent: row k of every image's Jacobian at once
    jacobians = torch.stack(rows, 1).double()  # (images, outputs, inputs)
    logs = torch.linalg.svdvals(jacobians).clamp(min=1e-300).log()
    return float(logs.std(1).mean()), float(logs.mean(1).exp().mean())


def statistics(net: nn.Module, batch: tuple[Tensor, Tensor]) -> dict[str, float]:
    """Every statistic above for the dense network `net` (at θ0) on `batch`."""
    x, y = batch
    layers = masks.prunable_layers(net)
    names = list(layers)
    acts = activations(net, x)
    row: dict[str, float] = {
        f"act_rms/{name}": float(acts[name].square().mean().sqrt()) for name in names
    }
    row["logit_rms"] = row[f"act_rms/{names[-1]}"]
    first = layers[names[0]].weight
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(F.cross_entropy(net(x), y), [first])
    row["grad_norm_first"] = float(grad.norm())
    context = methods.Context(generator(0, "predictors"), -1, batch=(x, y))
    row["snip_top1"] = top_share(methods.snip(net, context))
    row["synflow_top1"] = top_share(methods.synflow(net, context))
    row["magnitude_top1"] = top_share(methods.magnitude(net))
    row["jacobian_spread"], row["jacobian_gain"] = jacobian_spectrum(net, x[:JACOBIAN_IMAGES])
    return {k: float(f"{v:.6g}") for k, v in row.items()}


def write(run_dir: Path, row: dict[str, Any]) -> None:
    results.write_csv_atomic(run_dir / results.PREDICTORS, [row])
    manifest.reseal(run_dir, results.PREDICTORS)  # a finished run's manifest must list it


def for_run(run_dir: Path, data_cache: dict[str, Any], root: str | None) -> dict[str, float]:
    """The statistics of an existing run, from its config.yaml and init.pt, or θ0 rebuilt from the
    config without one (its data read from `root` if given, else from where the run read it)."""
    cfg = OmegaConf.load(run_dir / results.CONFIG)
    if root:
        cfg.data.root = root
    key = OmegaConf.to_yaml(cfg.data)
    built = build(cfg, data_cache.get(key))
    data_cache[key] = built.datamodule
    if (run_dir / results.INIT).is_file():
        built.net.load_state_dict(torch.load(run_dir / results.INIT))
    return statistics(built.net, built.datamodule.fixed_batch())


def main(argv: Sequence[str] | None = None) -> None:
    from prune_ready.analyze.read.collect import find_run_dirs

    parser = argparse.ArgumentParser(
        prog="python -m prune_ready.predictors",
        description="Compute the θ0 statistics (predictors.csv) of runs that lack them.",
    )
    parser.add_argument("paths", nargs="+", help="sweep directories (outputs/<study>)")
    parser.add_argument("--force", action="store_true", help="recompute existing files too")
    add_data_root(parser, "each run's")
    args = parser.parse_args(argv)
    try:
        runs = find_run_dirs(args.paths)
        todo = [d for d in runs if args.force or not (d / results.PREDICTORS).is_file()]
        cache: dict[str, Any] = {}
        for run_dir in tqdm(todo, desc="θ0 statistics", unit="run", file=sys.stderr):
            write(run_dir, for_run(run_dir, cache, args.data_root))
    except UserError as e:
        sys.exit(f"error: {e}")
    print(
        f"{len(todo)} of {len(runs)} runs computed ({len(runs) - len(todo)} had {results.PREDICTORS})"
    )


if __name__ == "__main__":
    main()
