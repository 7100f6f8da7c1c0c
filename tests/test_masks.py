"""The mask mechanism: exact prune counts, layer kinds, masks survive training at zero."""

import pytest
import torch
from torch import nn

from prune_ready.models import Conv6, LeNet300100
from prune_ready.models.description import describe
from prune_ready.pruning import masks
from prune_ready.pruning.methods import magnitude


def lenet(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    net = LeNet300100()
    masks.add_masks(net)
    return net


def test_networks_describe_their_layer_kinds():
    assert describe(LeNet300100()).kinds == {"fc1": "fc", "fc2": "fc", "out": "output"}
    kinds = describe(Conv6()).kinds
    assert list(kinds) == [*(f"conv{i}" for i in range(1, 7)), "fc1", "fc2", "out"]
    assert list(kinds.values()) == ["conv"] * 6 + ["fc", "fc", "output"]


def test_weight_counts_are_the_papers():
    sizes = {n: m.weight.numel() for n, m in masks.prunable_layers(LeNet300100()).items()}
    assert sizes == {"fc1": 235_200, "fc2": 30_000, "out": 1_000}
    conv6 = masks.prunable_layers(Conv6())
    assert sum(m.weight.numel() for m in conv6.values()) == 2_261_184
    assert conv6["fc1"].weight.shape == (256, 4096)


def test_layerwise_prune_removes_exact_fraction_of_survivors():
    net = lenet()
    rates = {"fc1": 0.2, "fc2": 0.2, "out": 0.1}
    expected = {"fc1": 235_200, "fc2": 30_000, "out": 1_000}
    for _ in range(3):
        masks.prune_layerwise(net, magnitude(net), rates)
        for name, mask in masks.get_masks(net).items():
            expected[name] -= masks.count_to_prune(rates[name], expected[name])
            assert int(mask.sum()) == expected[name]
    assert expected == {"fc1": 120_422, "fc2": 15_360, "out": 729}


def test_layerwise_prune_takes_the_smallest_survivors():
    net = lenet()
    before = net.fc2.weight.detach().abs().clone()
    masks.prune_layerwise(net, magnitude(net), {"fc2": 0.5})
    kept = net.fc2.weight_mask.bool()
    assert before[~kept].max() <= before[kept].min()
    assert torch.all(net.fc2.weight[~kept] == 0)
    assert int(net.fc1.weight_mask.sum()) == 235_200  # no rate: untouched


def test_global_prune_removes_exact_fraction_of_all_survivors():
    net = lenet()
    total = 266_200
    for _ in range(2):
        scores = magnitude(net)
        alive = torch.cat([m.flatten() for m in masks.get_masks(net).values()]).bool()
        all_scores = torch.cat([s.flatten() for s in scores.values()])
        masks.prune_global(net, scores, 0.2)
        total -= masks.count_to_prune(0.2, total)
        assert masks.remaining(net)[2] == total
        new_alive = torch.cat([m.flatten() for m in masks.get_masks(net).values()]).bool()
        removed = alive & ~new_alive
        assert all_scores[removed].max() <= all_scores[new_alive].min()


def test_already_pruned_weights_are_never_counted_again():
    net = lenet()
    masks.prune_layerwise(net, magnitude(net), {"out": 0.5})
    # scores that favour pruning the already-pruned weights must not re-select them
    scores = {name: torch.ones_like(m) for name, m in masks.get_masks(net).items()}
    scores["out"] = net.out.weight_mask.clone()
    masks.prune_layerwise(net, scores, {"out": 0.5})
    assert int(net.out.weight_mask.sum()) == 250


def test_masked_weights_stay_zero_through_adam_steps():
    net = lenet()
    masks.prune_layerwise(net, magnitude(net), {"fc1": 0.9, "fc2": 0.9, "out": 0.9})
    masked = masks.MaskedWeights(net)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    x, y = torch.randn(32, 784), torch.randint(0, 10, (32,))
    for _ in range(5):
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
        masked.apply_()
    for w, m in zip(masked.weights, masked.masks, strict=True):
        assert torch.count_nonzero(w[m == 0]) == 0
        assert torch.count_nonzero(w[m == 1]) == int(m.sum())


@pytest.mark.parametrize("rate,n,expected", [(0.2, 10, 2), (0.1, 5, 1), (0.15, 10, 2), (0.2, 1, 0)])
def test_count_to_prune_rounds_half_up(rate, n, expected):
    assert masks.count_to_prune(rate, n) == expected


def test_packed_masks_round_trip():
    from prune_ready.results import pack_mask, unpack_mask

    mask = (torch.rand(7, 3, 3, 3, generator=torch.Generator().manual_seed(0)) > 0.4).float()
    packed = pack_mask(mask)
    assert packed.dtype == torch.uint8 and packed.numel() == -(-mask.numel() // 8)
    assert torch.equal(unpack_mask(packed, mask.shape), mask.bool())
