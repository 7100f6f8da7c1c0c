"""Pruning scores: each method maps a network to one score tensor per prunable layer.

The lowest-scoring surviving weights are the ones pruned (see prune_ready.pruning.masks). A
method is a function ``score(net, context) -> {layer name: scores}``; a new one is one function
here (or anywhere importable) and one `conf/pruning/*.yaml` naming it with ``_target_``.
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from prune_ready.pruning.masks import prunable_layers


@dataclass
class Context:
    """What a score function (or a mask update) may draw on besides the network."""

    generator: torch.Generator  # this pruning step's own random stream
    round: int  # the round that just ended (-1: at initialisation or during training)
    batch: tuple[Tensor, Tensor] | None = None  # training images and labels, for data-driven scores
    optimizers: list[torch.optim.Optimizer] = field(default_factory=list)  # e.g. to reset moments


def magnitude(net: nn.Module, context: Context | None = None) -> dict[str, Tensor]:
    """|w|: the smallest weights are pruned (Han et al. 2015; Frankle & Carbin 2019)."""
    return {name: layer.weight.detach().abs() for name, layer in prunable_layers(net).items()}


def random(net: nn.Module, context: Context) -> dict[str, Tensor]:
    """Uniform random scores: a random mask, at exactly the rates a magnitude prune would use."""
    return {
        name: torch.rand(layer.weight.shape, generator=context.generator).to(layer.weight.device)
        for name, layer in prunable_layers(net).items()
    }


def snip(net: nn.Module, context: Context) -> dict[str, Tensor]:
    """|g ⊙ w| on a batch: the loss's sensitivity to each connection (Lee et al. 2019)."""
    x, y = context.batch
    layers = prunable_layers(net)
    grads = gradients(lambda: F.cross_entropy(net(x), y), [m.weight for m in layers.values()])
    return {
        name: (grad * layer.weight).detach().abs()
        for (name, layer), grad in zip(layers.items(), grads, strict=True)
    }


def grasp(net: nn.Module, context: Context, temperature: float = 200.0) -> dict[str, Tensor]:
    """w ⊙ Hg on a batch (Wang et al. 2020), logits divided by `temperature` as in the paper.

    GraSP removes the weights with the *highest* -w ⊙ Hg (those whose removal harms gradient
    flow least); in this module's lowest-is-pruned convention that is the lowest w ⊙ Hg."""
    x, y = context.batch
    weights = [m.weight for m in prunable_layers(net).values()]

    def loss() -> Tensor:
        return F.cross_entropy(net(x) / temperature, y)

    g = gradients(loss, weights)

    def g_dot_grad() -> Tensor:  # g · ∇L, whose gradient is Hg
        grad = torch.autograd.grad(loss(), weights, create_graph=True)
        return sum((a * b).sum() for a, b in zip(grad, g, strict=True))

    hg = gradients(g_dot_grad, weights)
    return {
        name: (w * h).detach() for name, w, h in zip(prunable_layers(net), weights, hg, strict=True)
    }


def synflow(net: nn.Module, context: Context) -> dict[str, Tensor]:
    """|∂R/∂w ⊙ w|, R the output sum of the network with |θ| on an all-ones input (Tanaka et al.
    2020): data-free; only the input's shape is taken from the batch. Computed in float64 on a
    copy, as R grows with depth. Iterated over an exponential density schedule by the callback."""
    positive = copy.deepcopy(net).double()
    with torch.no_grad():
        for param in positive.parameters():
            param.abs_()
    x = context.batch[0]
    ones = torch.ones((1, *x.shape[1:]), dtype=torch.float64, device=x.device)
    layers = prunable_layers(positive)
    grads = gradients(lambda: positive(ones).sum(), [m.weight for m in layers.values()])
    return {
        name: (grad * layer.weight).detach().abs()
        for (name, layer), grad in zip(layers.items(), grads, strict=True)
    }


def gradients(objective: Callable[[], Tensor], weights: list[Tensor]) -> tuple[Tensor, ...]:
    """d objective() / d weights, also when called inside Lightning's inference mode."""
    with torch.inference_mode(False), torch.enable_grad():
        return torch.autograd.grad(objective(), weights)
