"""The study's own init schemes (step 6): each transform's per-unit statistics match its formula."""

import math

import pytest
import torch
from hydra.utils import instantiate

from prune_ready import inits
from prune_ready.models import LeNet300100
from prune_ready.pruning.masks import prunable_layers


def constructed(shape: tuple[int, ...], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights N(0, 0.1²) and a mask whose density varies by unit (row 0 dead, row 1 one weight)."""
    g = torch.Generator().manual_seed(seed)
    weight = torch.randn(shape, generator=g) * 0.1
    density = torch.linspace(0.05, 0.9, shape[0]).view(-1, *[1] * (len(shape) - 1))
    mask = (torch.rand(shape, generator=g) < density).float()
    mask[0] = 0
    mask[1] = 0
    mask[1].view(-1)[0] = 1
    return weight * mask, mask


@pytest.mark.parametrize("shape", [(40, 60), (12, 8, 3, 3)])
@pytest.mark.parametrize("formula,gain", [("kaiming", math.sqrt(2)), ("xavier", 1.0)])
def test_unit_rescale_gives_each_unit_the_variance_of_its_surviving_fan_in(shape, formula, gain):
    weight, mask = constructed(shape)
    before = weight.clone()
    inits.unit_rescale(weight, mask, formula, gain)
    rows, m = weight.reshape(shape[0], -1), mask.reshape(shape[0], -1)
    fan_in = m.sum(1)
    fan_out = mask.sum() / shape[1]  # mean surviving fan-out per input unit
    for i in range(1, shape[0]):
        target = (
            gain**2 / fan_in[i] if formula == "kaiming" else gain**2 * 2 / (fan_in[i] + fan_out)
        )
        mean_square = rows[i][m[i] == 1].square().mean()
        assert mean_square.item() == pytest.approx(target.item(), rel=1e-5)
        ratio = rows[i][m[i] == 1] / before.reshape(shape[0], -1)[i][m[i] == 1]
        assert torch.allclose(ratio, ratio[0].expand_as(ratio))  # one factor per unit
    assert torch.count_nonzero(weight[0]) == 0  # a dead unit stays dead


def test_layer_rescale_divides_by_root_density():
    weight, mask = constructed((30, 50))
    expected = weight / mask.mean().sqrt()
    inits.layer_rescale(weight, mask)
    assert torch.equal(weight, expected)


@pytest.mark.parametrize("shape", [(40, 60), (12, 8, 3, 3)])
def test_signed_constant_is_plus_minus_dense_std(shape):
    weight, mask = constructed(shape)
    signs = torch.sign(weight)
    inits.signed_constant(weight, mask, "kaiming", math.sqrt(2))
    fan_in = shape[1] * (9 if len(shape) == 4 else 1)
    sigma = math.sqrt(2) / math.sqrt(fan_in)
    assert torch.allclose((weight * mask).abs()[mask == 1], torch.tensor(sigma))
    assert torch.equal(torch.sign(weight), signs)


def test_orthogonal_rows_are_orthonormal_times_gain():
    net = LeNet300100()
    inits.initialize(net, inits.orthogonal, seed=0)
    w = net.fc2.weight.detach()  # 100 x 300: orthonormal rows
    assert torch.allclose(w @ w.T, 2 * torch.eye(100), atol=1e-4)
    assert torch.count_nonzero(net.fc2.bias) == 0


@pytest.mark.parametrize("name", inits.CUSTOM_SCHEMES)
def test_custom_scheme_configs(make_cfg, name):
    init = instantiate(make_cfg(f"init={name}").init)
    assert init.name == name
    net = LeNet300100()
    inits.initialize(net, init.scheme, seed=0)
    assert all(torch.count_nonzero(m.bias) == 0 for m in prunable_layers(net).values())
    assert (init.at_rewind is None) == (name == "orthogonal")
