"""The smallest exact equivalent of a pruned network ("compaction"), worked out from its masks.

A pruned network still computes every unit of every layer, though many do nothing:
- a hidden unit with no surviving weight from anything that depends on the image outputs a
  constant, relu(its bias + what constant inputs add): the constant is folded into the biases
  of the layer it feeds, and the unit is removed;
- a unit with no surviving weight to a kept unit is never read: removed;
- an input feature (a pixel; for a conv net an input channel) that no kept unit reads is not
  even gathered.
For a conv net the unit is a channel (a filter), and the first linear layer reads only the
flattened features of the kept channels that its surviving weights touch. A constant channel
feeding a padded convolution adds a position-dependent map (the zero padding cuts the kernel
off at the borders), so a conv layer absorbing one gets a bias *map* of its output's shape
(out × H × W numbers); where that costs more parameters than keeping the constant channels
as channels (their filters, and the next layer's weights reading them), they are kept instead.

Which units go depends on the masks and the network's description alone (`structure`: its
layers in forward order and its input shape, read off the network by
`prune_ready.models.description.describe`, so any network built of the stages it knows can be
compacted); the values only enter the folded constants (`compact`). One forward pass (which units depend on the image) and one backward
pass (which of those a kept unit reads) reach the fixed point of "remove dead units, repeat
until nothing changes": a unit read through a surviving weight by a kept unit is kept itself,
and removing an unread unit only takes inputs away from units that are unread already.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from prune_ready.errors import UserError
from prune_ready.models.description import FLATTEN, MAXPOOL, POOL, RELU, Description

# The forward passes compaction can follow, as a pattern over a plan's entries: conv layers
# (C), each with a ReLU (r) and maybe a max-pool (p), one flatten (f), then linear layers (L)
# each with a ReLU, and the output layer (O) last.
COMPACTABLE = re.compile(r"(Crp?)*f(Lr)*O")
LETTERS = {RELU: "r", MAXPOOL: "p", FLATTEN: "f", "conv": "C", "fc": "L", "output": "O"}

FLOAT_BYTES = 4  # fp32


@dataclass(frozen=True)
class Layer:
    """One weight layer: what of it the compacted network keeps, as indices into the original."""

    name: str
    conv: bool
    relu: bool  # a ReLU follows
    pool: bool  # a max-pool follows the ReLU
    size: tuple[int, int]  # a conv layer's input height and width
    live_in: Tensor  # bool per original input: depends on the image (else it is a constant)
    kept_in: Tensor  # int64: the inputs kept (live, and read by a kept output)
    kept_out: Tensor  # int64: the outputs kept (every one of the last layer: the logits)
    reads: Tensor  # bool (out, in): a surviving weight joins them (any kernel position)
    bias_map: bool  # conv: a kept output reads a constant channel, so its bias varies by position


@dataclass(frozen=True)
class Structure:
    """What compaction keeps of a network, from its masks alone."""

    plan: tuple[str, ...]
    in_shape: tuple[int, int, int]
    layers: tuple[Layer, ...]
    input_index: Tensor | None  # pixels (LeNet) or channels (conv) gathered; None: all, in order
    flat_index: Tensor | None  # conv: what the first linear layer reads of the kept channels'
    # flattened output; None: all of it, in order

    @property
    def convolutional(self) -> bool:
        return self.layers[0].conv


def compactable_plan(network: Description) -> tuple[str, ...]:
    """The network's plan, if compaction can follow it (else one line saying why not)."""
    letters = "".join(LETTERS[network.kinds.get(entry, entry)] for entry in network.plan)
    if not COMPACTABLE.fullmatch(letters):
        raise UserError(
            f"cannot compact a network whose forward is {' '.join(network.plan)}: compaction "
            "follows conv layers (each with a ReLU, maybe a max-pool), a flatten, then linear "
            "layers each with a ReLU but the last"
        )
    return network.plan


def structure(masks: Mapping[str, Tensor], network: Description) -> Structure:
    """Which inputs, units and channels the compacted network keeps (`network`: its layers in
    forward order and one image's (C, H, W), from `prune_ready.models.description.describe`)."""
    plan, in_shape = compactable_plan(network), network.in_shape
    pinned: dict[str, Tensor] = {}  # constant channels kept as channels
    while True:
        s = units_kept(masks, plan, tuple(in_shape), pinned)
        cheaper = False
        for before, layer in zip(s.layers, s.layers[1:], strict=False):
            if not layer.bias_map:
                continue
            constant = ~layer.live_in & layer.reads[layer.kept_out].any(0)
            area, kernel = layer.size[0] * layer.size[1], masks[layer.name][0, 0].numel()
            as_map = len(layer.kept_out) * (area - 1)
            as_channels = int(constant.sum()) * (
                (len(layer.kept_out) + len(before.kept_in)) * kernel + 1
            )
            if as_channels < as_map:
                pinned[before.name] = pinned.get(before.name, constant) | constant
                cheaper = True
        if not cheaper:
            return s


def units_kept(
    masks: Mapping[str, Tensor],
    plan: tuple[str, ...],
    in_shape: tuple[int, int, int],
    pinned: Mapping[str, Tensor],
) -> Structure:
    """`structure`, with the `pinned` outputs of some layers treated as depending on the image."""
    channels, height, width = in_shape
    live, size = torch.ones(channels, dtype=torch.bool), (height, width)
    forward = []  # (position in plan, name, input size, live inputs, reads)
    for i, step in enumerate(plan):
        if step == FLATTEN:
            live, size = live.repeat_interleave(size[0] * size[1]), (1, 1)
        elif step == MAXPOOL:
            size = (size[0] // POOL, size[1] // POOL)
        elif step != RELU:
            mask = masks[step].bool()
            reads = mask.flatten(2).any(2) if mask.dim() == 4 else mask
            forward.append((i, step, size, live, reads))
            live = reads[:, live].any(1)
            if step in pinned:
                live = live | pinned[step]
    needed = torch.ones(len(live), dtype=torch.bool)  # every logit
    layers = []
    for k in reversed(range(len(forward))):
        i, name, size, live_in, reads = forward[k]
        read = reads[needed]
        needed_in = live_in & read.any(0)
        conv = masks[name].dim() == 4
        layers.append(
            Layer(
                name=name,
                conv=conv,
                relu=plan[i + 1 : i + 2] == (RELU,),
                pool=plan[i + 2 : i + 3] == (MAXPOOL,),
                size=size,
                live_in=live_in,
                kept_in=needed_in.nonzero().flatten(),
                kept_out=needed.nonzero().flatten(),
                reads=reads,
                bias_map=conv and bool(read[:, ~live_in].any()),
            )
        )
        if k > 0:  # the previous layer's outputs; through a flatten, a channel feeds many inputs
            needed = needed_in.view(len(forward[k - 1][4]), -1).any(1)
    layers.reverse()
    return Structure(
        plan=plan,
        in_shape=(channels, height, width),
        layers=tuple(layers),
        input_index=unless_identity(layers[0].kept_in, len(layers[0].live_in)),
        flat_index=flat_index(layers) if layers[0].conv else None,
    )


def unless_identity(index: Tensor, total: int) -> Tensor | None:
    """`index`, or None when it keeps all `total` entries in order (no gather needed)."""
    return None if len(index) == total else index


def flat_index(layers: Sequence[Layer]) -> Tensor | None:
    """A conv net's first linear layer's kept inputs (original flat indices, channel-major) as
    indices into the flattened output of the kept channels of the last conv layer."""
    last_conv = next(k for k, layer in enumerate(layers) if not layer.conv) - 1
    channels, first_linear = layers[last_conv], layers[last_conv + 1]
    positions = len(first_linear.live_in) // len(channels.reads)
    new_channel = torch.full((len(channels.reads),), -1, dtype=torch.long)
    new_channel[channels.kept_out] = torch.arange(len(channels.kept_out))
    kept = first_linear.kept_in
    index = new_channel[kept // positions] * positions + kept % positions
    return unless_identity(index, len(channels.kept_out) * positions)


@torch.no_grad()
def compact(
    structure: Structure, params: Mapping[str, Tensor], masks: Mapping[str, Tensor]
) -> list[tuple[Tensor, Tensor]]:
    """Each layer's compacted (weight, bias), the constants of the removed units folded into
    the biases (a conv layer's bias is a map of its output's (out, H, W) where `bias_map`)."""
    layers = {layer.name: layer for layer in structure.layers}
    dtype = next(iter(params.values())).dtype
    const = torch.zeros(structure.in_shape, dtype=dtype)  # each unit's value where constant
    compacted = []
    for step in structure.plan:
        if step == FLATTEN:
            const = const.flatten()
        elif step == RELU:
            const = const.relu()
        elif step == MAXPOOL:
            const = F.max_pool2d(const.unsqueeze(0), POOL).squeeze(0)
        else:
            layer = layers[step]
            weight = params[f"{step}.weight"] * masks[step]
            bias = params[f"{step}.bias"]
            if layer.conv:
                constant_in = (const * ~layer.live_in.view(-1, 1, 1)).unsqueeze(0)
                const = F.conv2d(constant_in, weight, bias, padding=weight.shape[-1] // 2)[0]
                kept_bias = const[layer.kept_out] if layer.bias_map else bias[layer.kept_out]
            else:
                const = F.linear(const * ~layer.live_in, weight, bias)
                kept_bias = const[layer.kept_out]
            compacted.append((weight[layer.kept_out][:, layer.kept_in], kept_bias))
    return compacted


def index_dtype(largest: int) -> torch.dtype:
    """The smallest integer type holding 0..`largest`: indices are stored small and widened
    to int64 where they are used."""
    for dtype in (torch.uint8, torch.int16, torch.int32):
        if largest <= torch.iinfo(dtype).max:
            return dtype
    return torch.int64


def index_bytes(index: Tensor | None) -> int:
    if index is None or not len(index):
        return 0
    return len(index) * index_dtype(int(index.max())).itemsize


def input_stats_size(s: Structure) -> int:
    """How many normalisation constants (each of mean and std) the compacted network holds:
    one per kept input channel of a conv net; none for an MLP, whose first layer absorbs them."""
    return len(s.layers[0].kept_in) if s.convolutional else 0


def compact_sizes(masks: Mapping[str, Tensor], network: Description) -> dict[str, int]:
    """The size of the compacted network of a round's masks, without its weights (the analysis
    reports it per init and level): kept inputs (pixels, or channels of a conv net), units per
    layer, surviving weights (all, and those the compacted network keeps), and parameters and
    raw tensor bytes (torch.save adds a few hundred bytes a tensor) of the compacted network
    stored dense (`compact`) and with its linear layers as CSR (`sparse`; conv layers stay
    dense: torch has no sparse convolution)."""
    s = structure(masks, network)
    first = s.layers[0]
    row = {"inputs": len(first.kept_in), "inputs_total": len(first.live_in)}
    row |= {f"units/{layer.name}": len(layer.kept_out) for layer in s.layers}
    row |= {f"units_total/{layer.name}": len(layer.reads) for layer in s.layers}
    row["hidden_units"] = sum(len(layer.kept_out) for layer in s.layers[:-1])
    row["hidden_units_total"] = sum(len(layer.reads) for layer in s.layers[:-1])
    row["weights"] = sum(int(masks[layer.name].count_nonzero()) for layer in s.layers)
    row["weights_total"] = sum(masks[layer.name].numel() for layer in s.layers)
    params = {"compact": 0, "sparse": 0}
    extra_bytes = {"compact": 0, "sparse": 0}  # index tensors
    weights_kept = 0
    for layer in s.layers:
        mask = masks[layer.name].bool()[layer.kept_out][:, layer.kept_in]
        nnz = int(mask.count_nonzero())
        weights_kept += nnz
        outputs = len(layer.kept_out)
        bias = outputs * (layer.size[0] * layer.size[1] if layer.bias_map else 1)
        params["compact"] += mask.numel() + bias
        if layer.conv:
            params["sparse"] += mask.numel() + bias
        else:
            params["sparse"] += nnz + bias
            extra_bytes["sparse"] += nnz * index_dtype(max(len(layer.kept_in) - 1, 0)).itemsize
            extra_bytes["sparse"] += (outputs + 1) * index_dtype(nnz).itemsize
    row["weights_kept"] = weights_kept
    shared = index_bytes(s.input_index) + index_bytes(s.flat_index)
    shared += 2 * FLOAT_BYTES * input_stats_size(s)
    for kind in ("compact", "sparse"):
        row[f"params_{kind}"] = params[kind]
        row[f"bytes_{kind}"] = FLOAT_BYTES * params[kind] + extra_bytes[kind] + shared
    return row
