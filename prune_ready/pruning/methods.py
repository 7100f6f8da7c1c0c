"""Pruning scores: each method maps a network to one score tensor per prunable layer.

The lowest-scoring surviving weights are the ones pruned (see masks.prune_layerwise/prune_global).
A method is a function ``score(net, context) -> {layer name: scores}``; a new one is one function
here (or anywhere importable) and one `conf/pruning/*.yaml` naming it with ``_target_``.
"""

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from prune_ready.pruning.masks import prunable_layers


@dataclass
class Context:
    """What a score function may draw on besides the network."""

    generator: torch.Generator  # this pruning step's own random stream
    round: int  # the round that just ended


def magnitude(net: nn.Module, context: Context | None = None) -> dict[str, Tensor]:
    """|w|: the smallest weights are pruned (Han et al. 2015; Frankle & Carbin 2019)."""
    return {name: layer.weight.detach().abs() for name, layer in prunable_layers(net).items()}


def random(net: nn.Module, context: Context) -> dict[str, Tensor]:
    """Uniform random scores: a random mask, at exactly the rates a magnitude prune would use."""
    return {
        name: torch.rand(layer.weight.shape, generator=context.generator).to(layer.weight.device)
        for name, layer in prunable_layers(net).items()
    }
