"""Initialisation schemes, applied to every prunable layer of a network.

A scheme is a function ``scheme(layer, generator)`` that sets the layer's weight and bias; the
`conf/init/*.yaml` group names it with ``_target_`` (plus its arguments) and Hydra instantiates it
as a partial. A new scheme is one function and one yaml file. Schemes built on a
``torch.nn.init`` weight filler set biases to zero, as Frankle & Carbin do; ``pytorch_default``
keeps the layers' own ``reset_parameters`` (weights *and* biases).
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

import torch
from torch import Tensor, nn

from prune_ready.pruning.masks import prunable_layers
from prune_ready.seeding import generator

Scheme = Callable[[nn.Module, torch.Generator], None]

# torch.nn.init schemes, plus the layers' own default; each has a conf/init/<name>.yaml.
STANDARD_SCHEMES = (
    "kaiming_normal",
    "kaiming_uniform",
    "pytorch_default",
    "xavier_normal",
    "xavier_uniform",
)


def weight_scheme(fill: Callable[..., Any]) -> Callable[..., None]:
    """Turn a weight filler ``fill(weight, generator, **kw)`` into a scheme that zeroes biases."""

    @wraps(fill)
    def scheme(layer: nn.Module, generator: torch.Generator, **kwargs: Any) -> None:
        with torch.no_grad():
            fill(layer.weight, generator, **kwargs)
            if layer.bias is not None:
                layer.bias.zero_()

    return scheme


@weight_scheme
def xavier_normal(weight: Tensor, generator: torch.Generator, gain: float = 1.0) -> None:
    """N(0, gain² · 2 / (fan_in + fan_out)) — Glorot & Bengio 2010 (the LTH paper's 'Gaussian Glorot')."""
    nn.init.xavier_normal_(weight, gain=gain, generator=generator)


@weight_scheme
def xavier_uniform(weight: Tensor, generator: torch.Generator, gain: float = 1.0) -> None:
    """U(-a, a) with a = gain · sqrt(6 / (fan_in + fan_out))."""
    nn.init.xavier_uniform_(weight, gain=gain, generator=generator)


@weight_scheme
def kaiming_normal(
    weight: Tensor,
    generator: torch.Generator,
    mode: str = "fan_in",
    nonlinearity: str = "relu",
    a: float = 0.0,
) -> None:
    """N(0, gain² / fan) with gain = sqrt(2) for ReLU — He et al. 2015."""
    nn.init.kaiming_normal_(weight, a=a, mode=mode, nonlinearity=nonlinearity, generator=generator)


@weight_scheme
def kaiming_uniform(
    weight: Tensor,
    generator: torch.Generator,
    mode: str = "fan_in",
    nonlinearity: str = "relu",
    a: float = 0.0,
) -> None:
    """U(-b, b) with b = gain · sqrt(3 / fan)."""
    nn.init.kaiming_uniform_(weight, a=a, mode=mode, nonlinearity=nonlinearity, generator=generator)


def pytorch_default(layer: nn.Module, generator: torch.Generator) -> None:
    """The layer's own ``reset_parameters`` (kaiming_uniform with a=sqrt(5), uniform biases)."""
    seed = int(torch.randint(2**62, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layer.reset_parameters()


def initialize(net: nn.Module, scheme: Scheme, seed: int, stream: str = "init") -> None:
    """Initialise every prunable layer with `scheme`, from the run seed's `stream` (reproducible)."""
    gen = generator(seed, stream)
    for layer in prunable_layers(net).values():
        scheme(layer, gen)
