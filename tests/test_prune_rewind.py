"""The prune-and-rewind callback on real MNIST: schedule, rewind values, optimizer reset."""

import csv
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch

from prune_ready import results
from prune_ready.pruning import masks
from prune_ready.train import train

LENET = {"fc1": 235_200, "fc2": 30_000, "out": 1_000}
QUICK = ["data.train_subset=600", "pruning.every_n_epochs=2", "pruning.rounds=2"]


class Probe(pl.Callback):
    """Records, at the start of every round after the first, what the rewind left behind."""

    def __init__(self, every_n_epochs: int) -> None:
        self.every_n_epochs, self.starts = every_n_epochs, []

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        epoch = trainer.current_epoch
        if epoch and epoch % self.every_n_epochs == 0:
            net = pl_module.net
            self.starts.append(
                {
                    "params": {n: p.detach().clone() for n, p in net.named_parameters()},
                    "masks": {n: m.clone() for n, m in masks.get_masks(net).items()},
                    "optimizer_state": [len(opt.state) for opt in trainer.optimizers],
                }
            )

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.final = {
            n: (m.weight.detach().clone(), m.weight_mask.clone())
            for n, m in masks.prunable_layers(pl_module.net).items()
        }


def read_rounds(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / results.ROUNDS) as f:
        return list(csv.DictReader(f))


def run(make_cfg, tmp_path: Path, *overrides: str) -> tuple[Probe, Path]:
    cfg = make_cfg(*QUICK, *overrides)
    probe = Probe(cfg.pruning.every_n_epochs)
    run_dir = tmp_path / "run"
    train(cfg, run_dir, callbacks=[probe])
    return probe, run_dir


def test_layerwise_schedule_rewind_and_reset(make_cfg, tmp_path):
    probe, run_dir = run(make_cfg, tmp_path)
    theta0 = torch.load(run_dir / results.INIT)
    assert len(probe.starts) == 2
    expected = dict(LENET)
    rates = {"fc1": 0.2, "fc2": 0.2, "out": 0.1}
    for start in probe.starts:
        for name, mask in start["masks"].items():
            expected[name] -= masks.count_to_prune(rates[name], expected[name])
            assert int(mask.sum()) == expected[name]
            weight = start["params"][f"{name}.weight"]
            assert torch.equal(weight, theta0[f"{name}.weight"] * mask)  # survivors are θ0 exactly
            assert torch.equal(start["params"][f"{name}.bias"], theta0[f"{name}.bias"])
        assert start["optimizer_state"] == [0]  # Adam moments cleared
    for name, (weight, mask) in probe.final.items():  # after two more epochs of Adam steps
        assert torch.count_nonzero(weight[mask == 0]) == 0
        assert int(mask.sum()) == expected[name]
    rows = read_rounds(run_dir)
    assert [int(r["round"]) for r in rows] == [0, 1, 2]
    assert [int(r["epoch"]) for r in rows] == [2, 4, 6]
    counts = [sum(LENET.values()), 213_060, 170_538]
    assert [int(r["weights_remaining"]) for r in rows] == counts
    for row, count in zip(rows, counts, strict=True):
        assert float(row["weights_remaining_pct"]) == pytest.approx(100 * count / 266_200, abs=1e-4)
        assert 1 <= int(row["early_stop_epoch"]) <= 2
        assert 0.8 < float(row["test_acc"]) <= 1  # 600 MNIST images, 2 epochs: well above chance
    assert float(rows[2]["remaining_pct/out"]) == pytest.approx(81.0)
    saved = torch.load(run_dir / results.MASK)
    assert {n: int(m.sum()) for n, m in saved.items()} == expected


def test_global_scope_removes_fraction_of_all_survivors(make_cfg, tmp_path):
    probe, run_dir = run(make_cfg, tmp_path, "pruning.scope=global", "pruning.global_rate=0.5")
    counts = [int(r["weights_remaining"]) for r in read_rounds(run_dir)]
    assert counts == [266_200, 133_100, 66_550]
    per_layer = {n: int(m.sum()) for n, m in probe.starts[0]["masks"].items()}
    assert per_layer != {n: c // 2 for n, c in LENET.items()}  # one threshold, uneven per layer


def test_late_rewinding_restores_the_saved_weights(make_cfg, tmp_path):
    probe, run_dir = run(make_cfg, tmp_path, "pruning.rewind_epoch=1")
    theta_k = torch.load(run_dir / "rewind.pt")
    theta0 = torch.load(run_dir / results.INIT)
    assert not torch.equal(theta_k["fc1.weight"], theta0["fc1.weight"])
    for start in probe.starts:
        for name, mask in start["masks"].items():
            assert torch.equal(start["params"][f"{name}.weight"], theta_k[f"{name}.weight"] * mask)


def test_dense_baseline_never_prunes(make_cfg, tmp_path):
    probe, run_dir = run(make_cfg, tmp_path, "pruning=none")  # with QUICK's rounds=2
    rows = read_rounds(run_dir)
    assert [int(r["weights_remaining"]) for r in rows] == [266_200] * 3
    assert all(int(m.sum()) == m.numel() for m in probe.starts[-1]["masks"].values())
