"""Gradual magnitude pruning and RigL, the two methods added as plug-ins of the pruning core."""

import math

import pytest
import pytorch_lightning as pl
import torch

from prune_ready.models import LeNet300100
from prune_ready.pruning import masks
from prune_ready.pruning.gmp import CubicDensity
from prune_ready.pruning.methods import Context
from prune_ready.pruning.rigl import RigL, drop_and_grow, erk_densities
from prune_ready.pruning.schedules import STEP, Event
from prune_ready.train import train

SHORT = (
    "data.train_subset=600",
    "data.val_size=500",
    "data.test_subset=500",
    "data.steps_per_call=1",
)
TOTAL = 266_200


class EveryStep(pl.Callback):
    """The surviving weights per layer after every optimizer step (after the core's hooks)."""

    def on_train_start(self, trainer, pl_module) -> None:  # after the core's: any init event
        self.start = {n: m.clone() for n, m in masks.get_masks(pl_module.net).items()}

    def on_fit_start(self, trainer, pl_module) -> None:
        net, self.alive = pl_module.net, [masks.alive_counts(pl_module.net)]
        for optimizer in trainer.optimizers:
            optimizer.register_step_post_hook(lambda *_: self.alive.append(masks.alive_counts(net)))


def test_gmp_follows_the_cubic_schedule_and_ends_at_the_target(make_cfg, tmp_path):
    cfg = make_cfg(
        *SHORT,
        "pruning=gmp",
        "pruning.round_length=4ep",  # 40 iterations
        "pruning.schedule.every=5it",
        "pruning.schedule.start=5it",
        "pruning.schedule.stop=30it",  # events after iterations 10, 15, 20, 25, 30
        "pruning.target.density=0.05",
    )
    probe = EveryStep()
    train(cfg, tmp_path, callbacks=[probe])
    totals = [sum(a.values()) for a in probe.alive]  # totals[s]: after iteration s
    assert len(totals) == 41 and totals[:10] == [TOTAL] * 10
    for k, step in enumerate((10, 15, 20, 25, 30), start=1):
        density = 0.05 + 0.95 * (1 - k / 5) ** 3
        assert totals[step] == masks.keep_count(density, TOTAL), step
        assert totals[step : step + 5] == [totals[step]] * min(5, 41 - step)  # none in between
    assert totals[-1] == masks.keep_count(0.05, TOTAL)  # the target, exactly
    assert CubicDensity(0.05).at(0.0) == 1.0 and CubicDensity(0.05).at(1.0) == 0.05


def test_erk_densities_by_hand():
    shapes = {"fc1": (300, 784), "fc2": (100, 300), "out": (10, 100)}
    d = erk_densities(shapes, 0.07)
    # raw (n_in + n_out)/(n_in n_out) × size: fc1 1084, fc2 400, out 110 (sum 1594); ε·0.11 > 1
    # makes `out` dense; the other 17,634 kept weights are shared as 1084 : 400
    assert d["out"] == 1.0
    assert d["fc1"] == pytest.approx(17_634 / 1484 * 1084 / 235_200)
    assert d["fc2"] == pytest.approx(17_634 / 1484 * 400 / 30_000)
    assert sum(d[n] * math.prod(s) for n, s in shapes.items()) == pytest.approx(0.07 * TOTAL)


def test_drop_and_grow_by_hand():
    gen = torch.Generator().manual_seed(0)
    mask = (torch.rand(20, 30, generator=gen) < 0.3).float()
    weight = torch.randn(20, 30, generator=gen) * mask
    grad = torch.randn(20, 30, generator=gen)
    before = weight.clone()
    survivors = mask.bool().clone()
    k = math.floor(0.25 * int(survivors.sum()))
    fresh = drop_and_grow(weight, mask, grad, 0.25)
    smallest = before.abs().masked_fill(~survivors, math.inf).flatten().argsort()[:k]
    kept = survivors.flatten().clone()
    kept[smallest] = False  # the k survivors of smallest |w| are dropped
    kept = kept.view(20, 30)
    grown = fresh == 0
    assert int(grown.sum()) == k and not bool((grown & kept).any())
    assert grad.abs()[grown].min() >= grad.abs()[~kept & ~grown].max()  # largest |g| not kept
    assert torch.equal(mask.bool(), kept | grown)
    assert int(mask.sum()) == int(survivors.sum())  # density exactly constant
    assert torch.count_nonzero(weight[grown]) == 0  # regrown at zero
    assert torch.equal(weight[kept], before[kept])
    assert torch.count_nonzero(weight[~mask.bool()]) == 0


def test_rigl_keeps_every_layers_density_exactly_and_zeroes_regrown_moments(make_cfg, tmp_path):
    cfg = make_cfg(
        *SHORT,
        "pruning=rigl",
        "pruning.round_length=3ep",
        "pruning.schedule.every=5it",
        "pruning.schedule.stop=25it",
        "pruning.update.density=0.1",
    )
    probe = EveryStep()
    train(cfg, tmp_path, callbacks=[probe])
    net = LeNet300100()
    densities = RigL(0.1).layer_densities(net)
    sizes = {n: m.weight.numel() for n, m in masks.prunable_layers(net).items()}
    expected = {n: masks.keep_count(densities[n], sizes[n]) for n in sizes}
    assert all(alive == expected for alive in probe.alive[1:])  # every step, every layer
    final = torch.load(tmp_path / "mask.pt")
    assert {n: int(m.sum()) for n, m in final.items()} == expected
    assert {n: int(m.sum()) for n, m in probe.start.items()} == expected  # ERK, exactly
    assert not torch.equal(final["fc1"], probe.start["fc1"])  # connections moved

    layer = torch.nn.Linear(30, 20)
    masks.add_masks(net := torch.nn.Sequential(layer))
    layer.weight_mask.copy_(torch.rand(20, 30, generator=torch.Generator().manual_seed(1)) < 0.3)
    optimizer = torch.optim.Adam(net.parameters())
    layer.weight.grad = torch.randn(20, 30)
    optimizer.step()  # moments everywhere
    context = Context(torch.Generator(), -1, optimizers=[optimizer])
    RigL(0.3, alpha=0.5)(net, Event(STEP, 0.0, 5), context)
    grown = (layer.weight_mask == 1) & (layer.weight == 0)
    assert int(grown.sum()) > 0
    for moment in ("exp_avg", "exp_avg_sq"):
        assert torch.count_nonzero(optimizer.state[layer.weight][moment][grown]) == 0
