"""Each init scheme matches torch.nn.init's formula; the seed alone decides the weights."""

import math

import pytest
import torch
from hydra.utils import instantiate
from torch import nn

from prune_ready import inits
from prune_ready.models import Conv6, LeNet300100
from prune_ready.pruning.masks import prunable_layers

GAIN_RELU = math.sqrt(2)


def fans(w: torch.Tensor) -> tuple[int, int]:
    receptive = w[0, 0].numel() if w.dim() > 2 else 1
    return w.shape[1] * receptive, w.shape[0] * receptive


def expected(name: str, w: torch.Tensor) -> tuple[str, float]:
    """('normal', std) or ('uniform', bound) by the textbook formula for this weight's fans."""
    fan_in, fan_out = fans(w)
    return {
        "xavier_normal": ("normal", math.sqrt(2 / (fan_in + fan_out))),
        "xavier_uniform": ("uniform", math.sqrt(6 / (fan_in + fan_out))),
        "kaiming_normal": ("normal", GAIN_RELU / math.sqrt(fan_in)),
        "kaiming_uniform": ("uniform", GAIN_RELU * math.sqrt(3 / fan_in)),
        "pytorch_default": ("uniform", 1 / math.sqrt(fan_in)),
    }[name]


def scheme(make_cfg, name: str):
    return instantiate(make_cfg(f"init={name}").init.scheme)


@pytest.mark.parametrize("name", inits.STANDARD_SCHEMES)
@pytest.mark.parametrize("net_cls", [LeNet300100, Conv6])
def test_scheme_matches_formula(make_cfg, name, net_cls):
    net = net_cls()
    inits.initialize(net, scheme(make_cfg, name), seed=0)
    for layer_name, layer in prunable_layers(net).items():
        w = layer.weight.detach()
        kind, value = expected(name, w)
        if w.numel() < 2000:  # the small output layers: too few samples for a tight check
            continue
        if kind == "normal":
            assert w.std().item() == pytest.approx(value, rel=0.05), layer_name
            assert w.mean().item() == pytest.approx(0, abs=0.05 * value), layer_name
        else:
            assert w.abs().max().item() <= value, layer_name
            assert w.abs().max().item() >= 0.99 * value, layer_name
            assert w.std().item() == pytest.approx(value / math.sqrt(3), rel=0.05), layer_name
        if name == "pytorch_default":
            assert layer.bias.abs().max() > 0
        else:
            assert torch.count_nonzero(layer.bias) == 0


@pytest.mark.parametrize("name", inits.STANDARD_SCHEMES)
def test_seed_decides_weights(make_cfg, name):
    fill = scheme(make_cfg, name)
    a, b, c = LeNet300100(), LeNet300100(), LeNet300100()
    torch.manual_seed(123)  # the global RNG must not matter
    inits.initialize(a, fill, seed=7)
    torch.manual_seed(456)
    inits.initialize(b, fill, seed=7)
    inits.initialize(c, fill, seed=8)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert not torch.equal(a.fc1.weight, c.fc1.weight)


def test_every_standard_scheme_has_a_config(make_cfg):
    for name in inits.STANDARD_SCHEMES:
        assert make_cfg(f"init={name}").init.name == name


def test_weight_scheme_wraps_layers():
    layer = nn.Linear(4, 3)
    inits.xavier_normal(layer, torch.Generator().manual_seed(0))
    assert torch.count_nonzero(layer.bias) == 0
