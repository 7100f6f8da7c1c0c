"""What prune_ready needs to know about a network, read off the network itself.

A network is an ``nn.Sequential`` of stages, in forward order, with an ``in_shape`` attribute
(one image's (C, H, W)). The stages prune_ready knows are

- ``nn.Linear`` and ``nn.Conv2d`` (stride 1, 'same' zero padding, odd square kernel): the
  prunable layers, each named by its child name (``fc1``, ``conv3``, ``out``);
- ``nn.ReLU``, ``nn.Flatten`` (from dim 1) and ``nn.MaxPool2d(2)``: the parameter-free steps.

From them follow the layer order that compaction walks (``plan``), each prunable layer's kind
(``conv``; ``output`` for the last linear layer, ``fc`` for the others: the kinds a
``pruning.target.rates`` names) and the input shape. A network written this way needs nothing
else to be trained, pruned, analysed and exported; prune_ready's own networks are two such
modules (``lenet_300_100.py``, ``conv6.py``), and tests/external_nets.py shows networks from
outside the package. Anything else in the sequence is refused in one line, since compaction
and the diagnostics could not follow it.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from torch import nn

from prune_ready.errors import UserError

POOL = 2  # max-pool window and stride
RELU, FLATTEN, MAXPOOL = "relu", "flatten", "pool"
STEPS = (RELU, FLATTEN, MAXPOOL)


@dataclass(frozen=True)
class Description:
    """A network's layers in forward order, its prunable layers' kinds and its input shape."""

    plan: tuple[str, ...]  # prunable layers by name, and the steps RELU, FLATTEN, MAXPOOL
    kinds: Mapping[str, str]  # prunable layer -> conv, fc or output, in forward order
    in_shape: tuple[int, int, int]  # one image's (C, H, W)


def describe(net: nn.Module) -> Description:
    """`net`'s description, walked from its stages (see the module docstring)."""
    name = type(net).__name__
    if not isinstance(net, nn.Sequential) or not hasattr(net, "in_shape"):
        raise UserError(
            f"cannot describe network {name}: prune_ready takes an nn.Sequential of Linear, "
            "Conv2d, ReLU, Flatten and MaxPool2d(2) stages with an in_shape attribute "
            "(see prune_ready/models/description.py)"
        )
    plan, kinds = [], {}
    for child, stage in net.named_children():
        plan.append(step(name, child, stage))
        if isinstance(stage, nn.Linear | nn.Conv2d):
            kinds[child] = "conv" if isinstance(stage, nn.Conv2d) else "fc"
    linear = [child for child, kind in kinds.items() if kind == "fc"]
    if not linear:
        raise UserError(f"cannot describe network {name}: it has no Linear output layer")
    kinds[linear[-1]] = "output"
    channels, height, width = net.in_shape
    return Description(tuple(plan), kinds, (int(channels), int(height), int(width)))


def step(network: str, child: str, stage: nn.Module) -> str:
    """The plan's entry for one stage: the child's name for a weight layer, else the step."""
    if isinstance(stage, nn.Linear | nn.Conv2d):
        if child in STEPS:
            raise UserError(f"network {network}: a weight layer may not be named {child!r}")
        if isinstance(stage, nn.Conv2d) and not same_padded(stage):
            raise UserError(
                f"network {network}: {child} must be a 'same' convolution (stride 1, odd "
                "square kernel, padding kernel // 2, zero padding, no dilation or groups)"
            )
        return child
    if isinstance(stage, nn.ReLU):
        return RELU
    if isinstance(stage, nn.Flatten) and (stage.start_dim, stage.end_dim) == (1, -1):
        return FLATTEN
    if isinstance(stage, nn.MaxPool2d) and is_pool(stage):
        return MAXPOOL
    raise UserError(
        f"network {network}: stage {child} ({stage}) is not one prune_ready knows: Linear, "
        f"Conv2d, ReLU, Flatten() and MaxPool2d({POOL})"
    )


def same_padded(conv: nn.Conv2d) -> bool:
    k = conv.kernel_size
    return (
        k[0] == k[1]
        and k[0] % 2 == 1
        and conv.stride == (1, 1)
        and conv.padding == (k[0] // 2, k[0] // 2)
        and conv.dilation == (1, 1)
        and conv.groups == 1
        and conv.padding_mode == "zeros"
    )


def is_pool(pool: nn.MaxPool2d) -> bool:
    return (
        pool.kernel_size in (POOL, (POOL, POOL))
        and pool.stride in (POOL, (POOL, POOL))
        and pool.padding in (0, (0, 0))
        and pool.dilation in (1, (1, 1))
        and not pool.ceil_mode
        and not pool.return_indices
    )
