"""Diagnostics on constructed masks and a tiny network, checked against hand computation."""

import math

import pytest
import torch
from torch import nn

from prune_ready import diagnostics
from prune_ready.pruning.masks import add_masks, get_masks
from prune_ready.results import DIAGNOSTICS
from tests.helpers import read_csv


def test_dead_units_in_a_chain():
    masks = {
        "a": torch.tensor([[1.0, 0, 0], [0, 0, 0], [0, 1, 1], [1, 1, 0]]),  # unit 1: no inputs
        "b": torch.tensor([[1.0, 0, 0, 0], [0, 0, 1, 0]]),  # reads a's units 0 and 2 only
        "c": torch.tensor([[0.0, 0], [0, 0]]),  # reads nothing: both b units dead-out
    }
    assert diagnostics.dead_units(masks) == {
        "a": {"dead_in": 1, "dead_out": 2, "dead": 2},  # unit 1 (both), unit 3 (no reader)
        "b": {"dead_in": 0, "dead_out": 2, "dead": 2},
        "c": {"dead_in": 2, "dead_out": 0, "dead": 2},
    }


def test_dead_units_from_convolution_to_linear():
    conv = torch.ones(2, 1, 3, 3)  # 2 channels, flattened to 2 x 4 positions = 8 fc inputs
    fc = torch.zeros(3, 8)
    fc[0, 5] = 1  # reads channel 1 (positions 4..7) only
    counts = diagnostics.dead_units({"conv": conv, "fc": fc})
    assert counts["conv"] == {"dead_in": 0, "dead_out": 1, "dead": 1}
    assert counts["fc"]["dead_in"] == 2


def test_weight_scale_against_hand_values():
    weight = torch.tensor([[2.0, 0, 0, 0], [1.0, -1.0, 0, 0], [0, 0, 0, 0]])
    mask = torch.tensor([[1.0, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]])
    scale = diagnostics.weight_scale(weight, mask, "kaiming", math.sqrt(2))
    assert scale["fan_in_mean"] == 1.5 and scale["fan_in_min"] == 1
    assert scale["weight_rms"] == pytest.approx(math.sqrt((4 + 1 + 1) / 3))
    # per weight: unit 0 intends 2/1, unit 1 intends 2/2 (each for 2 weights) -> (2 + 1 + 1)/3
    assert scale["intended_rms"] == pytest.approx(math.sqrt(4 / 3))


def test_signal_propagation_matches_hand_computation():
    net = nn.Sequential(nn.Linear(2, 2, bias=False), nn.ReLU(), nn.Linear(2, 2, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 2.0], [-1.0, 1.0]]))
        net[2].weight.copy_(torch.tensor([[1.0, 0.0], [0.5, -1.0]]))
    add_masks(net)
    net[2].weight_mask[1, 1] = 0  # pruned: its gradient does not count
    with torch.no_grad():
        net[2].weight.mul_(net[2].weight_mask)
    x, y = torch.tensor([[1.0, 1.0]]), torch.tensor([0])
    measured = diagnostics.signal(net, x, y)
    # by hand: h = W1 x = (3, 0); relu -> (3, 0); z = W2 relu(h) = (3, 1.5)
    assert measured["0"]["act_rms"] == pytest.approx(math.sqrt((9 + 0) / 2))
    assert measured["2"]["act_rms"] == pytest.approx(math.sqrt((9 + 2.25) / 2))
    p = torch.softmax(torch.tensor([3.0, 1.5]), 0)
    dz = p - torch.tensor([1.0, 0.0])  # dL/dz for cross-entropy, batch of one
    grad_w2 = torch.outer(dz, torch.tensor([3.0, 0.0])) * net[2].weight_mask
    assert measured["2"]["grad_norm"] == pytest.approx(grad_w2.norm().item(), rel=1e-6)
    dh = (net[2].weight.T @ dz) * torch.tensor([1.0, 0.0])  # through ReLU
    assert measured["0"]["grad_norm"] == pytest.approx(
        torch.outer(dh, x[0]).norm().item(), rel=1e-6
    )
    assert all(p.grad is None for p in net.parameters())  # leaves no gradient behind
    assert set(get_masks(net)) == {"0", "2"}


@pytest.mark.parametrize(
    "init,ratio_at_rewind", [("sparse_kaiming", 1.0), ("kaiming_normal", None)]
)
def test_diagnostics_written_every_round(make_cfg, tmp_path, preset_run, init, ratio_at_rewind):
    """600 images, 3 rounds of 1 epoch: for sparse_kaiming, its preset fixture's run."""
    from prune_ready.train import train

    run_dir = tmp_path
    if init == "sparse_kaiming":
        run_dir = preset_run("imp_sparse_kaiming")
    else:
        cfg = make_cfg(
            f"init={init}", "data.train_subset=600", "pruning.round_length=1ep", "pruning.rounds=2"
        )
        train(cfg, run_dir)
    rows = read_csv(run_dir / DIAGNOSTICS)
    assert [(int(r["round"]), r["layer"]) for r in rows] == [
        (r, layer) for r in range(3) for layer in ("fc1", "fc2", "out")
    ]
    fc1 = [r for r in rows if r["layer"] == "fc1"]
    assert [float(r["fan_in_mean"]) for r in fc1] == pytest.approx([784, 627.2, 501.76], rel=0.02)
    for row in fc1[1:]:
        ratio = float(row["weight_rms"]) / float(row["intended_rms"])
        if ratio_at_rewind is not None:
            assert ratio == pytest.approx(ratio_at_rewind, rel=1e-4)
        else:  # survivors keep a std that falls short of what their sparse fan-in calls for
            assert ratio < 1
    assert all(float(r["act_rms"]) > 0 and float(r["grad_norm"]) > 0 for r in rows)
