"""The one mask mechanism used by every pruning method.

Every prunable layer (each ``nn.Linear`` and ``nn.Conv2d``) carries a float buffer
``weight_mask`` of the weight's shape (1 = surviving, 0 = pruned), so masks travel with
``state_dict``, checkpoints and ``.to(device)``. Pruned weights are held at exactly zero by
multiplying every weight by its mask after each optimizer step (``MaskedWeights.apply_``: one
fused ``_foreach_mul_`` call, no Python loop over layers). Biases are never pruned.
"""

import math

import torch
from torch import Tensor, nn

PRUNABLE = (nn.Linear, nn.Conv2d)
MASK = "weight_mask"


def prunable_layers(net: nn.Module) -> dict[str, nn.Module]:
    """Every Linear and Conv2d layer, by module name, in definition order."""
    return {name: m for name, m in net.named_modules() if isinstance(m, PRUNABLE)}


def add_masks(net: nn.Module) -> None:
    """Give every prunable layer an all-ones mask, unless it has one already."""
    for layer in prunable_layers(net).values():
        if not hasattr(layer, MASK):
            layer.register_buffer(MASK, torch.ones_like(layer.weight))


def get_masks(net: nn.Module) -> dict[str, Tensor]:
    """Each prunable layer's mask, by layer name."""
    return {name: getattr(layer, MASK) for name, layer in prunable_layers(net).items()}


def set_masks(net: nn.Module, masks: dict[str, Tensor]) -> None:
    """Install `masks` (copied in place) and zero the weights they prune."""
    layers = prunable_layers(net)
    for name, mask in masks.items():
        getattr(layers[name], MASK).copy_(mask)
    MaskedWeights(net).apply_()


def remaining(net: nn.Module) -> tuple[float, dict[str, float], int]:
    """Fraction of weights surviving over all prunable layers, per layer, and their count."""
    masks = get_masks(net)
    alive = alive_counts(net)
    per_layer = {name: alive[name] / m.numel() for name, m in masks.items()}
    count = sum(alive.values())
    return count / sum(m.numel() for m in masks.values()), per_layer, count


def count_to_prune(rate: float, surviving: int) -> int:
    """How many of `surviving` weights a prune at `rate` removes: rate x surviving, half rounded up."""
    return math.floor(rate * surviving + 0.5)


def _lowest(scores: Tensor, alive: Tensor, k: int) -> Tensor:
    """Flat indices of the k lowest scores among the surviving entries (ties by lower index)."""
    masked = torch.where(alive.to(scores.device), scores, torch.full_like(scores, math.inf))
    return torch.sort(masked, stable=True).indices[:k]


def alive_counts(net: nn.Module) -> dict[str, int]:
    """Surviving weights per prunable layer."""
    return {name: int(m.sum()) for name, m in get_masks(net).items()}


@torch.no_grad()
def remove_layerwise(net: nn.Module, scores: dict[str, Tensor], counts: dict[str, int]) -> None:
    """In each layer, remove the `counts[layer]` lowest-scoring surviving weights."""
    for name, mask in get_masks(net).items():
        flat = mask.flatten()  # a copy in logical order, whatever the memory format
        flat[_lowest(scores[name].flatten(), flat.bool(), counts.get(name, 0))] = 0.0
        mask.copy_(flat.view(mask.shape))
    MaskedWeights(net).apply_()


@torch.no_grad()
def remove_global(net: nn.Module, scores: dict[str, Tensor], count: int) -> None:
    """Across all layers together, remove the `count` lowest-scoring surviving weights."""
    layer_masks = get_masks(net)
    flat = torch.cat([m.flatten() for m in layer_masks.values()])
    all_scores = torch.cat([scores[name].flatten() for name in layer_masks])
    flat[_lowest(all_scores, flat.bool(), count)] = 0.0
    parts = flat.split([m.numel() for m in layer_masks.values()])
    for mask, part in zip(layer_masks.values(), parts, strict=True):
        mask.copy_(part.view(mask.shape))
    MaskedWeights(net).apply_()


def prune_layerwise(net: nn.Module, scores: dict[str, Tensor], rates: dict[str, float]) -> None:
    """In each layer, remove the lowest-scoring `rates[layer]` fraction of its surviving weights."""
    counts = {n: count_to_prune(rates.get(n, 0.0), a) for n, a in alive_counts(net).items()}
    remove_layerwise(net, scores, counts)


def prune_global(net: nn.Module, scores: dict[str, Tensor], rate: float) -> None:
    """Across all layers together, remove the lowest-scoring `rate` fraction of survivors."""
    remove_global(net, scores, count_to_prune(rate, sum(alive_counts(net).values())))


def keep_count(density: float, size: int) -> int:
    """How many of `size` weights a density keeps: density x size, half rounded up."""
    return math.floor(density * size + 0.5)


def prune_to_density(
    net: nn.Module, scores: dict[str, Tensor], density: float, scope: str = "global"
) -> None:
    """Remove the lowest-scoring survivors until exactly `density` of the weights remain: of
    each layer (``layerwise``) or of all of them (``global``)."""
    sizes = {name: m.numel() for name, m in get_masks(net).items()}
    alive = alive_counts(net)
    if scope == "layerwise":
        counts = {n: max(alive[n] - keep_count(density, sizes[n]), 0) for n in sizes}
        remove_layerwise(net, scores, counts)
    else:
        total = sum(alive.values()) - keep_count(density, sum(sizes.values()))
        remove_global(net, scores, max(total, 0))


class MaskedWeights:
    """The (weight, mask) pairs of a network, gathered once, for a cheap per-step re-masking.

    Build it after the network is on its final device: moving a module replaces its buffers.
    """

    def __init__(self, net: nn.Module) -> None:
        layers = prunable_layers(net).values()
        self.weights = [layer.weight for layer in layers]
        self.masks = [getattr(layer, MASK) for layer in layers]

    @torch.no_grad()
    def apply_(self) -> None:
        """Zero every pruned weight, in place."""
        torch._foreach_mul_(self.weights, self.masks)
