"""RigL (Evci et al. 2020) as a plug-in: sparse from the start, connections dropped and regrown.

A mask update for the core's Periodic schedule with ``at_init: true`` (conf/pruning/rigl.yaml):
- before training: a random mask keeping `density` of the weights, the same density in every
  layer (``uniform``) or Erdős–Rényi-Kernel (``erk``: layer density ∝ (sum of its dimensions) /
  (their product), dense layers capped at 1), each layer's count exact;
- every ΔT steps until `stop`: in every layer drop the ⌊α_t · survivors⌋ surviving weights of
  smallest magnitude and regrow as many among the weights not kept, those with the largest
  magnitude of the dense gradient of the step just taken; α_t = α/2 · (1 + cos(π t / T_end)).
  Regrown weights start at zero with zeroed Adam moments; the density stays exactly constant.
"""

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from prune_ready.errors import UserError
from prune_ready.pruning import masks
from prune_ready.pruning.methods import Context, random
from prune_ready.pruning.schedules import INIT, Event


def erk_densities(shapes: dict[str, tuple[int, ...]], density: float) -> dict[str, float]:
    """Per-layer densities with ERK's proportions whose kept weights total `density`."""
    sizes = {name: math.prod(shape) for name, shape in shapes.items()}
    raw = {name: sum(shape) / sizes[name] for name, shape in shapes.items()}
    dense: set[str] = set()
    while True:
        budget = density * sum(sizes.values()) - sum(sizes[n] for n in dense)
        sparse = [n for n in shapes if n not in dense]
        scale = budget / sum(raw[n] * sizes[n] for n in sparse)
        full = [n for n in sparse if scale * raw[n] >= 1]
        if not full:
            return {n: 1.0 if n in dense else scale * raw[n] for n in shapes}
        dense.update(full)


@dataclass
class RigL:
    density: float
    distribution: Literal["uniform", "erk"] = "erk"
    alpha: float = 0.3

    def __post_init__(self) -> None:
        if not 0 < self.density < 1:
            raise UserError(f"pruning.update.density={self.density} must be in (0, 1)")
        if not 0 < self.alpha <= 1:
            raise UserError(f"pruning.update.alpha={self.alpha} must be in (0, 1]")

    def layer_densities(self, net: nn.Module) -> dict[str, float]:
        layers = masks.prunable_layers(net)
        if self.distribution == "uniform":
            return dict.fromkeys(layers, self.density)
        return erk_densities({n: tuple(m.weight.shape) for n, m in layers.items()}, self.density)

    @torch.no_grad()
    def __call__(self, net: nn.Module, event: Event, context: Context) -> None:
        if event.kind == INIT:
            sizes = {n: m.numel() for n, m in masks.get_masks(net).items()}
            keep = {n: masks.keep_count(d, sizes[n]) for n, d in self.layer_densities(net).items()}
            masks.remove_layerwise(
                net, random(net, context), {n: sizes[n] - keep[n] for n in sizes}
            )
            return
        fraction = self.alpha / 2 * (1 + math.cos(math.pi * event.progress))
        for layer in masks.prunable_layers(net).values():
            fresh = drop_and_grow(layer.weight, layer.weight_mask, layer.weight.grad, fraction)
            for optimizer in context.optimizers:  # regrown weights: no momentum to inherit
                state = optimizer.state.get(layer.weight, {})
                for moment in ("exp_avg", "exp_avg_sq"):
                    if moment in state:
                        state[moment].mul_(fresh)


def drop_and_grow(weight: Tensor, mask: Tensor, grad: Tensor | None, fraction: float) -> Tensor:
    """Drop the ⌊fraction · survivors⌋ survivors of smallest |w|, regrow as many weights of
    largest |grad| among those not kept, at zero. Returns 0 at the regrown weights, 1 elsewhere
    (in the weight's shape), for the caller to reset their optimizer state."""
    flat_mask = mask.flatten()  # copies in logical order, whatever the memory format
    alive = flat_mask.bool()
    fresh = torch.ones_like(flat_mask)
    k = math.floor(fraction * int(alive.sum()))
    if k and grad is not None:
        magnitude = torch.where(alive, weight.detach().abs().flatten(), math.inf)
        flat_mask[torch.sort(magnitude, stable=True).indices[:k]] = 0
        candidates = torch.where(flat_mask.bool(), -math.inf, grad.abs().flatten())
        grown = torch.sort(candidates, descending=True, stable=True).indices[:k]
        flat_mask[grown] = 1
        fresh[grown] = 0
        mask.copy_(flat_mask.view(mask.shape))
    fresh = fresh.view(mask.shape)
    weight.mul_(mask * fresh)  # dropped ones and regrown ones at zero
    return fresh
