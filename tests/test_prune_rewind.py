"""The prune-and-rewind callback on real MNIST: schedule, rewind values, optimizer reset."""

import csv
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from hydra.utils import instantiate

from prune_ready import results
from prune_ready.pruning import masks
from prune_ready.train import train

LENET = {"fc1": 235_200, "fc2": 30_000, "out": 1_000}
QUICK = ["data.train_subset=600", "pruning.round_length=2ep", "pruning.rounds=2"]


class Probe(pl.Callback):
    """Records, at the start of every round after the first, what the rewind left behind."""

    def __init__(self, every_n_epochs: int | None) -> None:
        self.every_n_epochs, self.starts = every_n_epochs, []

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        epoch = trainer.current_epoch
        if self.every_n_epochs and epoch and epoch % self.every_n_epochs == 0:
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
    length = instantiate(cfg.pruning).round_length
    probe = Probe(length.count if length.unit == "ep" else None)
    run_dir = tmp_path / "run"
    train(cfg, run_dir, callbacks=[probe])
    return probe, run_dir


def test_layerwise_schedule_rewind_and_reset(quick_run):
    probe, run_dir = quick_run  # run(make_cfg, tmp_path) with no overrides, shared (conftest)
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
    assert [int(r["iteration"]) for r in rows] == [20, 40, 60]  # 600 images, batch 60
    assert {r["control"] for r in rows} == {"none"}
    counts = [sum(LENET.values()), 213_060, 170_538]
    assert [int(r["weights_remaining"]) for r in rows] == counts
    for row, count in zip(rows, counts, strict=True):
        assert float(row["weights_remaining_pct"]) == pytest.approx(100 * count / 266_200, abs=1e-4)
        assert int(row["early_stop_epoch"]) in (1, 2)
        assert int(row["early_stop_iteration"]) == 10 * int(row["early_stop_epoch"])
        assert 0.8 < float(row["test_acc"]) <= 1  # 600 MNIST images, 2 epochs: well above chance
    assert float(rows[2]["remaining_pct/out"]) == pytest.approx(81.0)
    saved = torch.load(run_dir / results.MASK)
    assert {n: int(m.sum()) for n, m in saved.items()} == expected
    per_round = results.load_round_masks(run_dir)
    assert sorted(per_round) == [0, 1, 2]
    assert all(bool(m.all()) for m in per_round[0].values())
    for start, r in zip(probe.starts, (1, 2), strict=True):
        assert all(torch.equal(per_round[r][n], m.bool()) for n, m in start["masks"].items())


def test_global_scope_removes_fraction_of_all_survivors(make_cfg, tmp_path):
    probe, run_dir = run(
        make_cfg, tmp_path, "pruning/target=global_rate", "pruning.target.rate=0.5"
    )
    counts = [int(r["weights_remaining"]) for r in read_rounds(run_dir)]
    assert counts == [266_200, 133_100, 66_550]
    per_layer = {n: int(m.sum()) for n, m in probe.starts[0]["masks"].items()}
    assert per_layer != {n: c // 2 for n, c in LENET.items()}  # one threshold, uneven per layer


def test_late_rewinding_restores_the_saved_weights(make_cfg, tmp_path):
    probe, run_dir = run(make_cfg, tmp_path, "pruning.reset.to=1ep")
    theta_k = torch.load(run_dir / results.REWIND)
    theta0 = torch.load(run_dir / results.INIT)
    assert not torch.equal(theta_k["fc1.weight"], theta0["fc1.weight"])
    for start in probe.starts:
        for name, mask in start["masks"].items():
            assert torch.equal(start["params"][f"{name}.weight"], theta_k[f"{name}.weight"] * mask)


def test_dense_control_never_prunes_but_rewinds(make_cfg, tmp_path):
    probe, run_dir = run(make_cfg, tmp_path, "pruning=none")  # with QUICK's rounds=2
    rows = read_rounds(run_dir)
    assert [int(r["weights_remaining"]) for r in rows] == [266_200] * 3
    assert {r["control"] for r in rows} == {"dense"}
    theta0 = torch.load(run_dir / results.INIT)
    for start in probe.starts:
        assert all(int(m.sum()) == m.numel() for m in start["masks"].values())
        assert all(torch.equal(start["params"][n], theta0[n]) for n in theta0)


def test_iteration_schedule_records_early_stop_iteration(make_cfg, tmp_path):
    _, run_dir = run(
        make_cfg,
        tmp_path,
        "pruning=lth",
        "pruning.round_length=30it",
        "pruning.eval_every=10it",
    )
    rows = read_rounds(run_dir)
    assert [int(r["iteration"]) for r in rows] == [30, 60, 90]
    assert [r["epoch"] for r in rows] == ["3", "6", "9"]  # 10 batches an epoch
    for row in rows:
        assert int(row["early_stop_iteration"]) in (10, 20, 30)
        assert float(row["early_stop_epoch"]) == int(row["early_stop_iteration"]) / 10
    with open(run_dir / results.EPOCHS) as f:
        assert len(list(csv.DictReader(f))) == 9  # an evaluation every 10 iterations


def test_oneshot_prunes_the_compounded_rate_in_one_step(make_cfg, tmp_path):
    probe, run_dir = run(
        make_cfg, tmp_path, "pruning=oneshot", "pruning.rounds=1", "pruning.target.steps=3"
    )
    rows = read_rounds(run_dir)
    assert len(rows) == 2
    (start,) = probe.starts
    rate = 1 - 0.8**3
    fc1 = 235_200 - masks.count_to_prune(rate, 235_200)
    assert int(start["masks"]["fc1"].sum()) == fc1 == 120_422
    assert int(start["masks"]["out"].sum()) == 1_000 - masks.count_to_prune(1 - 0.9**3, 1_000)


def test_schedule_that_prunes_everything_is_refused(make_cfg, tmp_path):
    from prune_ready.errors import UserError
    from prune_ready.models import LeNet300100

    cfg = make_cfg("model.prune_rates.output=0.9", "pruning.rounds=40")
    pruning = instantiate(cfg.pruning)
    with pytest.raises(UserError, match="would prune every weight of out by round"):
        pruning.check(LeNet300100())


class AtStep(pl.Callback):
    """The weights after optimizer step `step`, taken by a step hook registered after the
    core's (a training call may run several steps: data.StepBatches)."""

    def __init__(self, step: int) -> None:
        self.at, self.steps, self.params = step, 0, None

    def on_fit_start(self, trainer, pl_module) -> None:
        def after(*_) -> None:
            self.steps += 1
            if self.steps == self.at:
                net = pl_module.net
                self.params = {n: p.detach().clone() for n, p in net.named_parameters()}

        for optimizer in trainer.optimizers:
            optimizer.register_step_post_hook(after)


def test_late_rewind_at_any_iteration_takes_the_weights_after_that_step(make_cfg, tmp_path):
    """QUICK: 10 steps an epoch, evaluations every 10; θ(7 it) falls between two of them."""
    cfg = make_cfg(*QUICK, "pruning.reset.to=7it")
    probe, at_seven = Probe(2), AtStep(7)
    train(cfg, tmp_path / "run", callbacks=[probe, at_seven])
    theta_k = torch.load(tmp_path / "run" / results.REWIND)
    assert theta_k.keys() == at_seven.params.keys()
    assert all(torch.equal(theta_k[n], at_seven.params[n]) for n in theta_k)
    assert len(probe.starts) == 2
    for start in probe.starts:
        for name, mask in start["masks"].items():
            assert torch.equal(start["params"][f"{name}.weight"], theta_k[f"{name}.weight"] * mask)


def test_a_rewind_point_outside_round_zero_is_refused_before_anything_is_written(
    make_cfg, tmp_path
):
    from prune_ready.errors import UserError
    from prune_ready.train import user_error

    cfg = make_cfg("pruning=lth", "pruning.reset.to=1ep")  # a round counted in iterations
    with pytest.raises(Exception) as raised:  # Hydra wraps what the constructor raises
        instantiate(cfg.pruning)
    assert "pruning.reset.to=1ep: a round counted in iterations (50000it) rewinds to a point " in (
        str(user_error(raised.value))
    )
    with pytest.raises(Exception) as raised:
        instantiate(make_cfg("pruning=lth", "pruning.reset.to=50000it").pruning)
    assert "pruning.reset.to=50000it must be in [0, 50000it) into round 0" in str(
        user_error(raised.value)
    )
    assert instantiate(make_cfg("pruning=lth", "pruning.reset.to=250it").pruning)
    # iterations into a round of epochs: checked once an epoch's iterations are known (10 here)
    with pytest.raises(UserError, match=r"reset.to=25it must be in \[0, 2ep\) into round 0 "):
        train(make_cfg(*QUICK, "pruning.reset.to=25it"), tmp_path / "run")
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())


def test_every_rounds_trained_weights_are_kept(make_cfg, tmp_path):
    probe, run_dir = run(make_cfg, tmp_path)
    weights = results.load_round_weights(run_dir)
    round_masks = results.load_round_masks(run_dir)
    assert sorted(weights) == [0, 1, 2]
    for name, (weight, mask) in probe.final.items():  # the last round ends the run
        assert torch.equal(weights[2][f"{name}.weight"], weight)
        assert torch.equal(round_masks[2][name], mask.bool())
    for round_, start in enumerate(probe.starts, start=1):  # round r's masks pruned round r-1's
        for name, mask in start["masks"].items():
            trained = weights[round_ - 1][f"{name}.weight"]
            assert torch.count_nonzero(trained[~round_masks[round_ - 1][name]]) == 0
            assert int(mask.sum()) == int(round_masks[round_][name].sum())
    survivors = sum(int(m.sum()) for layers in round_masks.values() for m in layers.values())
    biases = 3 * sum(p.numel() for n, p in probe.starts[0]["params"].items() if "bias" in n)
    size = (run_dir / results.ROUND_WEIGHTS).stat().st_size
    assert 4 * (survivors + biases) < size < 4 * (survivors + biases) + 20_000  # survivors only
