"""The training recipe (prune_ready.recipe): the optimizer and learning-rate schedule groups.

The rates are read off real runs on MNIST slices (the rate of every optimizer step, recorded by
a step post-hook, and metrics.csv's lr column) and compared with values computed by hand. With
600 training images an epoch is 10 steps of 60, so `2ep` rounds are 20 steps.
"""

from functools import partial
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from prune_ready import results
from prune_ready.pruning.steps import Step
from prune_ready.recipe import Constant, Cosine, StepDecay
from prune_ready.train import train
from tests.helpers import read_csv

SLICE = ("data.train_subset=600", "data.val_size=500", "data.test_subset=500")
SGD = ("optimizer=sgd", "optimizer.lr=0.1")
ROUNDS = ("pruning.round_length=2ep", "pruning.rounds=2")  # 3 rounds of 20 steps


class StepRates(pl.Callback):
    """The learning rate every optimizer step used, and the minibatches it saw."""

    def __init__(self) -> None:
        self.rates: list[float] = []
        self.batches: list[tuple[torch.Tensor, torch.Tensor]] = []

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        optimizer = trainer.optimizers[0]
        optimizer.register_step_post_hook(
            lambda opt, *_: self.rates.append(opt.param_groups[0]["lr"])
        )

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.batches += [(x.clone(), y.clone()) for x, y in batch]

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.final = {n: p.detach().clone() for n, p in pl_module.net.named_parameters()}


def run(make_cfg, run_dir: Path, *overrides: str) -> StepRates:
    rates = StepRates()
    train(make_cfg(*SLICE, *overrides), run_dir, callbacks=[rates])
    return rates


def test_schedules_by_hand():
    """Each schedule's factor at given iterations, bound to 10 steps an epoch and 20-step rounds."""
    warm = Constant(warmup="4it")
    warm.bind(10, 20)
    assert [warm.factor(t) for t in (0, 1, 3, 4, 19)] == [0.25, 0.5, 1.0, 1.0, 1.0]
    step = StepDecay(milestones=["1ep", "15it"], gamma=0.5)
    step.bind(10, 20)
    assert [step.factor(t) for t in (0, 9, 10, 14, 15, 19, 40)] == [
        1,
        1,
        0.5,
        0.5,
        0.25,
        0.25,
        0.25,
    ]
    cosine = Cosine(final=0.1)
    cosine.bind(10, 20)
    # 0.1 + 0.9 (1 + cos(π t / 20)) / 2: t = 5: cos(π/4) = 0.70711 -> 0.86820; t = 10: 0.55
    expected = {0: 1.0, 5: 0.868198, 10: 0.55, 15: 0.231802, 20: 0.1, 35: 0.1}
    for t, factor in expected.items():
        assert cosine.factor(t) == pytest.approx(factor, abs=1e-6)
    assert Constant().constant and not warm.constant


def test_warmup_and_cosine_restart_every_round(make_cfg, tmp_path):
    overrides = (*SGD, *ROUNDS, "lr_schedule=cosine", "lr_schedule.final=0.1")
    rates = run(make_cfg, tmp_path, *overrides, "lr_schedule.warmup=5it").rates
    assert len(rates) == 60
    # t = 0: 0.1 × 1/5 × 1 = 0.02; t = 1: 0.1 × 2/5 × (0.1 + 0.9 (1 + cos(π/20)) / 2) = 0.0397784;
    # t = 4: 0.1 × (0.1 + 0.9 (1 + cos(π/5)) / 2) = 0.0914058;
    # t = 10: 0.1 × 0.55 = 0.055; t = 19: 0.1 × (0.1 + 0.9 (1 + cos(19π/20)) / 2) = 0.0105540
    by_hand = {0: 0.02, 1: 0.0397784, 4: 0.0914058, 10: 0.055, 19: 0.0105540}
    for offset in (0, 20, 40):  # the schedule restarts with every round's rewind to θ0
        for t, lr in by_hand.items():
            assert rates[offset + t] == pytest.approx(lr, rel=1e-5), (offset, t)


def test_step_schedule_and_the_logged_rate(make_cfg, tmp_path):
    overrides = (*SGD, *ROUNDS, "lr_schedule=step", "lr_schedule.milestones=[1ep]")
    rates = run(make_cfg, tmp_path, *overrides, "lr_schedule.gamma=0.5").rates
    round_ = [0.1] * 10 + [0.05] * 10
    assert rates == pytest.approx(round_ * 3, rel=1e-12)
    # metrics.csv and TensorBoard: the rate of the last step before each evaluation
    logged = [float(row["lr"]) for row in read_csv(tmp_path / results.EPOCHS)]
    assert logged == [0.1, 0.05] * 3
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    assert [e.value for e in events.Scalars("train/lr")] == pytest.approx([0.1, 0.05] * 3)


def test_rewinding_to_theta_k_rewinds_the_schedule_to_k(make_cfg, tmp_path):
    """Round 0 runs the cosine from t = 0; after rewinding to θk (k = 1ep = 10 steps) a round's
    step i is the schedule's t = 10 + i, which stays at the final rate from t = 20 on."""
    overrides = (*SGD, *ROUNDS, "pruning.reset.to=1ep", "lr_schedule=cosine")
    rates = run(make_cfg, tmp_path, *overrides, "lr_schedule.final=0.1").rates
    assert rates[0] == pytest.approx(0.1) and rates[10] == pytest.approx(0.055)
    for start in (20, 40):
        assert rates[start] == pytest.approx(0.055, rel=1e-9)  # t = 10, not 0
        assert rates[start + 5] == pytest.approx(0.0231802, rel=1e-5)  # t = 15
        assert rates[start + 10 : start + 20] == pytest.approx([0.01] * 10, rel=1e-9)


@pytest.mark.parametrize(
    ("pruning", "round_1"),
    [("lr_rewind", [0.1] * 10 + [0.05] * 10), ("finetune", [0.05] * 20)],
)
def test_kept_weights_replay_or_continue_the_schedule(make_cfg, tmp_path, pruning, round_1):
    """Learning-rate rewinding replays the schedule each round; fine-tuning continues it."""
    overrides = (*SGD, f"pruning={pruning}", *ROUNDS, "lr_schedule=step")
    rates = run(
        make_cfg, tmp_path, *overrides, "lr_schedule.milestones=[1ep]", "lr_schedule.gamma=0.5"
    )
    assert rates.rates[:20] == pytest.approx([0.1] * 10 + [0.05] * 10, rel=1e-12)
    assert rates.rates[20:40] == pytest.approx(round_1, rel=1e-12)


def test_sgd_with_momentum_matches_a_plain_torch_loop(make_cfg, tmp_path):
    """Dense round of 20 steps on real MNIST minibatches: the framework's weights equal a plain
    torch.optim.SGD loop's from the same θ0 over the same batches, bit for bit (the masks are all
    ones, and re-masking multiplies by 1)."""
    sgd = ("optimizer.momentum=0.9", "optimizer.nesterov=true", "optimizer.weight_decay=1e-4")
    dense = ("pruning=none", "pruning.round_length=2ep")
    cfg = make_cfg(*SLICE, *SGD, *sgd, *dense)
    recorded = StepRates()
    train(cfg, tmp_path, callbacks=[recorded])
    assert len(recorded.batches) == 20

    net = instantiate(cfg.model.net, in_shape=(1, 28, 28), num_classes=10)
    net.load_state_dict(torch.load(tmp_path / results.INIT))  # θ0
    optimizer = torch.optim.SGD(
        net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4
    )
    for x, y in recorded.batches:
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(net(x), y).backward()
        optimizer.step()
    theta0 = torch.load(tmp_path / results.INIT)
    for name, param in net.named_parameters():
        assert not torch.equal(param, theta0[name])  # it trained
        assert torch.equal(param.detach(), recorded.final[name]), name


def test_an_optimizer_is_a_partial_of_its_torch_class(make_cfg):
    from prune_ready.recipe import optimizer_factory

    make = optimizer_factory(make_cfg("optimizer=adamw")["optimizer"])
    assert isinstance(make, partial) and make.func is torch.optim.AdamW
    assert make.keywords["lr"] == 1.2e-3 and make.keywords["weight_decay"] == 0.01
    adam = optimizer_factory(make_cfg()["optimizer"])
    assert adam.func is torch.optim.Adam and adam.keywords["fused"] is True
    assert adam.keywords["betas"] == [0.9, 0.999] and "name" not in adam.keywords


def test_warmup_longer_than_a_round_is_refused():
    from prune_ready.errors import UserError

    with pytest.raises(UserError, match=r"lr_schedule.warmup=6ep is longer than a round"):
        Constant(warmup="6ep").check(Step.parse("5ep"))
    Constant(warmup="5ep").check(Step.parse("5ep"))  # a whole round of warmup is allowed


def test_a_recipe_other_than_the_default_is_a_level_of_the_run_path():
    from prune_ready.rundir import run_variant

    assert run_variant(["optimizer=adam", "lr_schedule=constant"]) == ""  # the default restated
    assert run_variant(["optimizer=sgd", "optimizer.lr=0.05", "lr_schedule=cosine"]) == (
        "lr_schedule=cosine,optimizer.lr=0.05,optimizer=sgd/"
    )


def test_old_adam_runs_and_new_sgd_runs_are_one_analysis(make_cfg, tmp_path):
    """A sweep of runs made before the recipe groups (configs without optimizer and lr_schedule),
    runs of the default recipe, and SGD runs at two rates: the old and new Adam runs are one
    setting, and the optimizer and the rate are the factors that tell the lines apart."""
    import yaml
    from omegaconf import OmegaConf

    from prune_ready.analyze.read.collect import collect

    overrides = {
        "old": [],
        "adam": [],
        "sgd_1": ["optimizer=sgd", "optimizer.lr=0.1"],
        "sgd_2": ["optimizer=sgd", "optimizer.lr=0.05"],
    }
    for run, extra in overrides.items():
        config = OmegaConf.to_container(make_cfg(*extra), resolve=True)
        if run == "old":
            del config["optimizer"], config["lr_schedule"]
        (tmp_path / run).mkdir()
        (tmp_path / run / results.CONFIG).write_text(yaml.safe_dump(config))
    sweep = collect(tmp_path)
    assert sweep.factors == ["model", "data", "init", "pruning", "optimizer", "optimizer.lr"]
    by_run = sweep.runs.set_index("run")
    assert by_run["optimizer"].to_dict() == {
        "adam": "adam",
        "old": "adam",
        "sgd_1": "sgd",
        "sgd_2": "sgd",
    }
    assert by_run["optimizer.lr"].to_dict() == {
        "adam": 0.0012,
        "old": 0.0012,
        "sgd_1": 0.1,
        "sgd_2": 0.05,
    }


def test_the_old_recipe_is_todays_default_recipe(make_cfg):
    """A config without the recipe groups (a run made before them) reads as today's default
    optimizer and schedule at its model.lr, node for node; a newer config keeps its own."""
    from omegaconf import OmegaConf

    from prune_ready.recipe import old_recipe, run_recipe

    cfg = OmegaConf.create(OmegaConf.to_container(make_cfg(), resolve=True))
    default = {"optimizer": cfg.optimizer, "lr_schedule": cfg.lr_schedule}
    assert OmegaConf.to_container(OmegaConf.create(default)) == old_recipe(0.0012)
    del cfg["optimizer"], cfg["lr_schedule"]
    cfg.model.lr = 0.003
    optimizer, schedule = run_recipe(cfg)
    assert optimizer.lr == 0.003 and optimizer.name == "adam" and schedule.name == "constant"
    sgd = make_cfg("optimizer=sgd", "optimizer.lr=0.1", "lr_schedule=cosine")
    assert [node.name for node in run_recipe(sgd)] == ["sgd", "cosine"]
