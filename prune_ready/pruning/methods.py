"""Pruning scores: each method maps a network to one score tensor per prunable layer.

The lowest-scoring surviving weights are the ones pruned (see masks.prune_layerwise/prune_global).
A new method is one function here (or anywhere importable) and one `conf/pruning/*.yaml` naming it.
"""

from torch import Tensor, nn

from prune_ready.pruning.masks import prunable_layers


def magnitude(net: nn.Module) -> dict[str, Tensor]:
    """|w|: the smallest weights are pruned (Han et al. 2015; Frankle & Carbin 2019)."""
    return {name: layer.weight.detach().abs() for name, layer in prunable_layers(net).items()}
