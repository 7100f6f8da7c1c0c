"""Why an init survives pruning, or not: cheap measurements of a pruned network at its rewind point.

Computed at the start of every round (θ0 for round 0, the rewound sparse network after) and
written to diagnostics.csv, one row per round and layer:
  fan_in_mean, fan_in_min   surviving incoming weights per unit (units with any)
  dead_in                   units with no surviving incoming weight
  dead_out                  units that no surviving weight of the next layer reads
  dead                      units that are either (they cannot carry signal)
  weight_rms                root mean square of the surviving weights
  intended_rms              the std the init's formula gives for each unit's *surviving* fan-in
                            (and the layer's mean surviving fan-out), as a root mean square over
                            the surviving weights (so a sparsity-aware init scores exactly 1:1)
  act_rms                   RMS of the layer's output (pre-activation) on a fixed batch
  grad_norm                 L2 norm of the masked loss gradient of the layer's weight, same batch
The prunable layers are taken to feed one another in order (true of LeNet-300-100 and Conv-6).
"""

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from prune_ready import run_format
from prune_ready.inits import FORMULAS, sparse_fans
from prune_ready.pruning.masks import get_masks, prunable_layers


def dead_units(masks: dict[str, Tensor]) -> dict[str, dict[str, int]]:
    """Per layer: units with no surviving incoming weight, none read by the next layer, either."""
    names = list(masks)
    counts = {}
    for i, name in enumerate(names):
        rows = masks[name].reshape(masks[name].shape[0], -1)
        no_in = rows.sum(1) == 0
        no_out = torch.zeros_like(no_in)
        if i + 1 < len(names):
            nxt = masks[names[i + 1]]
            per_input = nxt.transpose(0, 1).reshape(nxt.shape[1], -1).sum(1)
            no_out = per_input.view(len(no_in), -1).sum(1) == 0  # conv -> fc: a channel's positions
        counts[name] = {
            "dead_in": int(no_in.sum()),
            "dead_out": int(no_out.sum()),
            "dead": int((no_in | no_out).sum()),
        }
    return counts


def weight_scale(weight: Tensor, mask: Tensor, formula: str, gain: float) -> dict[str, float]:
    """Surviving fan-in, and the survivors' RMS against the RMS the formula intends for it."""
    fan_in, fan_out = sparse_fans(mask)
    alive = fan_in > 0
    survivors = weight[mask.bool()]
    if not alive.any():
        return {"fan_in_mean": 0.0, "fan_in_min": 0.0, "weight_rms": 0.0, "intended_rms": 0.0}
    fan_in = fan_in[alive]
    intended = FORMULAS[formula](fan_in, fan_out, gain)  # per unit, for each of its weights
    return {
        "fan_in_mean": float(fan_in.mean()),
        "fan_in_min": float(fan_in.min()),
        "weight_rms": float(survivors.square().mean().sqrt()),
        "intended_rms": float(((fan_in * intended.square()).sum() / fan_in.sum()).sqrt()),
    }


def signal(net: nn.Module, x: Tensor, y: Tensor) -> dict[str, dict[str, float]]:
    """Per layer: RMS of its output and norm of its masked weight gradient on the batch (x, y)."""
    layers = prunable_layers(net)
    outputs: dict[str, Tensor] = {}
    hooks = [
        layer.register_forward_hook(lambda m, i, o, name=name: outputs.__setitem__(name, o))
        for name, layer in layers.items()
    ]
    try:
        with torch.inference_mode(False), torch.enable_grad():
            net.zero_grad(set_to_none=True)
            F.cross_entropy(net(x), y).backward()
    finally:
        for hook in hooks:
            hook.remove()
    measured = {}
    for name, layer in layers.items():
        grad = layer.weight.grad * layer.weight_mask
        measured[name] = {
            "act_rms": float(outputs[name].detach().square().mean().sqrt()),
            "grad_norm": float(grad.norm()),
        }
    net.zero_grad(set_to_none=True)
    return measured


@torch.no_grad()
def round_diagnostics(
    net: nn.Module, batch: tuple[Tensor, Tensor], formula: str, gain: float, round_: int
) -> list[dict[str, Any]]:
    """Every measurement above for every prunable layer of `net`, as rows for diagnostics.csv."""
    masks = get_masks(net)
    dead = dead_units(masks)
    flow = signal(net, *batch)
    rows = []
    for name, layer in prunable_layers(net).items():
        scale = weight_scale(layer.weight, masks[name], formula, gain)
        values = {
            "round": round_,
            "layer": name,
            "units": layer.weight.shape[0],
            **{k: round(v, 4) for k, v in scale.items() if k.startswith("fan_in")},
            **dead[name],
            **{k: float(f"{v:.6g}") for k, v in scale.items() if k.endswith("rms")},
            **{k: float(f"{v:.6g}") for k, v in flow[name].items()},
        }
        rows.append(run_format.row(run_format.DIAGNOSTIC_COLUMNS, values))
    return rows
