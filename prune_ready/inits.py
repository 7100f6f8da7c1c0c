"""Initialisation schemes, applied to every prunable layer of a network.

An init (`conf/init/*.yaml`, instantiated as an `Init`) has two parts:
- ``scheme(layer, generator)`` sets a layer's weight and bias at θ0. Schemes built on a
  ``torch.nn.init`` weight filler set biases to zero, as Frankle & Carbin do; ``pytorch_default``
  keeps the layers' own ``reset_parameters`` (weights *and* biases).
- ``at_rewind(weight, mask)`` (optional) transforms the surviving weights every time a pruned
  network is rewound: the sparsity-aware schemes of step 6 of the study.
`formula` and `gain` state the per-weight standard deviation the scheme intends (``kaiming``:
gain/√fan_in, ``xavier``: gain·√(2/(fan_in+fan_out))); the sparsity-aware transforms and the
diagnostics apply them to the fan-in and fan-out a pruned layer actually has.
`scale` (``init.scale=g``, default 1) is a dial on the scheme's scale: every prunable weight of θ0
is multiplied by g right after the scheme draws it (biases untouched), and the transforms that
set an absolute size (signed_constant's ±σ, unit_rescale's target) use g·σ. For one seed every g
shares the same random draws, so runs differing only in g are paired by construction.
A new scheme is one function here (or anywhere importable) and one yaml file.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal

import torch
from torch import Tensor, nn

from prune_ready.errors import UserError
from prune_ready.pruning.masks import prunable_layers
from prune_ready.seeding import generator

Scheme = Callable[[nn.Module, torch.Generator], None]
AtRewind = Callable[[Tensor, Tensor], None]

# torch.nn.init schemes, plus the layers' own default; each has a conf/init/<name>.yaml.
STANDARD_SCHEMES = (
    "kaiming_normal",
    "kaiming_uniform",
    "pytorch_default",
    "xavier_normal",
    "xavier_uniform",
)
# The study's own schemes (step 6), each with a conf/init/<name>.yaml.
CUSTOM_SCHEMES = (
    "layer_scaled",
    "orthogonal",
    "signed_constant",
    "sparse_kaiming",
    "sparse_xavier",
)


@dataclass(frozen=True)
class Init:
    """An init as configured: θ0 scheme, optional transform at every rewind, intended std."""

    name: str
    scheme: Scheme
    formula: Literal["kaiming", "xavier"] = "kaiming"  # the std rule the scheme follows
    gain: float = math.sqrt(2)
    at_rewind: AtRewind | None = None
    scale: float = 1.0  # θ0's weights times this (see the module docstring)

    def __post_init__(self) -> None:
        if self.formula not in FORMULAS:
            raise ValueError(f"init formula {self.formula!r} must be one of {sorted(FORMULAS)}")
        if not (
            isinstance(self.scale, int | float) and math.isfinite(self.scale) and self.scale > 0
        ):
            raise UserError(
                f"init.scale={self.scale} must be a positive number (1 = the scheme's own)"
            )


def kaiming_std(fan_in: Any, fan_out: Any, gain: float) -> Any:
    return gain / fan_in**0.5


def xavier_std(fan_in: Any, fan_out: Any, gain: float) -> Any:
    return gain * (2 / (fan_in + fan_out)) ** 0.5


FORMULAS = {"kaiming": kaiming_std, "xavier": xavier_std}


def fans(weight: Tensor) -> tuple[int, int]:
    """Dense fan-in and fan-out, as torch.nn.init counts them."""
    receptive = weight[0, 0].numel()
    return weight.shape[1] * receptive, weight.shape[0] * receptive


def sparse_fans(mask: Tensor) -> tuple[Tensor, Tensor]:
    """Per output unit: surviving incoming weights; and the layer's mean surviving fan-out per
    input unit (input channel for convolutions)."""
    rows = mask.reshape(mask.shape[0], -1)
    return rows.sum(1), rows.sum() / mask.shape[1]


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


@weight_scheme
def orthogonal(weight: Tensor, generator: torch.Generator, gain: float = math.sqrt(2)) -> None:
    """A (semi-)orthogonal matrix times gain (Saxe et al. 2014); convolutions flattened per unit.

    Rows of unit norm give each weight variance gain²/fan_in when fan_out <= fan_in."""
    nn.init.orthogonal_(weight, gain=gain, generator=generator)


def pytorch_default(layer: nn.Module, generator: torch.Generator) -> None:
    """The layer's own ``reset_parameters`` (kaiming_uniform with a=sqrt(5), uniform biases)."""
    seed = int(torch.randint(2**62, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layer.reset_parameters()


def initialize(
    net: nn.Module, scheme: Scheme, seed: int, stream: str = "init", scale: float = 1.0
) -> None:
    """Initialise every prunable layer with `scheme`, from the run seed's `stream` (reproducible),
    and multiply the weights by `scale` (the draws do not depend on it)."""
    gen = generator(seed, stream)
    for layer in prunable_layers(net).values():
        scheme(layer, gen)
        if scale != 1:
            with torch.no_grad():
                layer.weight.mul_(scale)


# Transforms at every rewind: ``at_rewind(weight, mask)`` edits a pruned layer's surviving
# weights in place (the callback zeroes the pruned ones again afterwards).


@torch.no_grad()
def unit_rescale(
    weight: Tensor, mask: Tensor, formula: str = "kaiming", gain: float = 2**0.5, scale: float = 1.0
) -> None:
    """Sparsity-aware rescaling (Evci et al. 2022): each unit's surviving weights get one common
    factor so that their mean square equals the scheme's variance for the unit's *surviving*
    fan-in: kaiming gain²/fan_in_i, xavier gain²·2/(fan_in_i + mean surviving fan-out); times
    scale² (the init's dial)."""
    fan_in, fan_out = sparse_fans(mask)
    target = (scale * FORMULAS[formula](fan_in, fan_out, gain)) ** 2
    rows = (weight * mask).reshape(weight.shape[0], -1)
    mean_square = rows.square().sum(1) / fan_in.clamp(min=1)
    scale = torch.where(mean_square > 0, (target / mean_square.clamp(min=1e-30)).sqrt(), 1.0)
    weight.mul_(scale.view(-1, *[1] * (weight.dim() - 1)))


@torch.no_grad()
def layer_rescale(weight: Tensor, mask: Tensor) -> None:
    """Divide the layer's weights by √density: the dense std scaled to the layer's mean fan-in."""
    density = mask.mean()
    if density > 0:
        weight.div_(density.sqrt())


@torch.no_grad()
def signed_constant(
    weight: Tensor, mask: Tensor, formula: str = "kaiming", gain: float = 2**0.5, scale: float = 1.0
) -> None:
    """Each weight set to ±scale·σ, σ the scheme's dense std for the layer, with the sign of its
    value at the rewind point (Zhou et al. 2019, 'Deconstructing Lottery Tickets')."""
    weight.copy_(torch.sign(weight) * (scale * FORMULAS[formula](*fans(weight), gain)))
