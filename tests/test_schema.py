"""Every config file composes, validates against its typed schema and instantiates; wrong keys
and types are refused in one line naming the key."""

from pathlib import Path

import pytest
from hydra.utils import instantiate

from prune_ready.errors import UserError
from prune_ready.models import LeNet300100
from prune_ready.pruning.steps import Step
from prune_ready.recipe import optimizer_factory
from prune_ready.schema import validate
from prune_ready.train import CONF_DIR
from tests.helpers import cli

GROUPS = ("data", "model", "init", "pruning", "optimizer", "lr_schedule", "trainer")
OPTIONS = [
    (group, path.stem) for group in GROUPS for path in sorted(Path(CONF_DIR, group).glob("*.yaml"))
] + [  # the pruning parts, each composed into IMP (or PaI for the ones it needs)
    (f"pruning/{part.name}", path.stem)
    for part in sorted(Path(CONF_DIR, "pruning").iterdir())
    if part.is_dir()
    for path in sorted(part.glob("*.yaml"))
]


@pytest.mark.parametrize(("group", "option"), OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_every_config_file_validates_and_instantiates(make_cfg, group, option):
    lr = ["optimizer.lr=0.1"] if (group, option) == ("optimizer", "sgd") else []  # no default
    cfg = make_cfg(f"{group}={option}", *lr)
    validate(cfg)
    if group in ("init", "pruning") or group.startswith("pruning/"):
        part = instantiate(cfg.pruning if group.startswith("pruning") else cfg.init)
        assert part is not None
        if group == "pruning":
            part.check(LeNet300100())
    elif group == "model":
        assert instantiate(
            cfg.model.net, in_shape=(3, 32, 32) if option == "conv6" else (1, 28, 28)
        )
    elif group == "data":
        assert instantiate(cfg.data).name == cfg.data.name
    elif group == "optimizer":
        optimizer = optimizer_factory(cfg.optimizer)(LeNet300100().parameters())
        assert type(optimizer).__name__.lower() == option
    elif group == "lr_schedule":
        schedule = instantiate(cfg.lr_schedule)
        schedule.check(Step.parse(cfg.pruning.round_length))
        schedule.bind(steps_per_epoch=917, round_steps=5 * 917)  # LeNet on MNIST, 5ep rounds
        assert schedule.name == option and schedule.factor(0) == 1.0
    elif option == "cpu":
        assert instantiate(cfg.trainer, enable_progress_bar=False).max_epochs is None


CASES = {
    "model.lr=abc": "model.lr='abc': expected a number",
    "pruning.rounds=1.5": "pruning.rounds=1.5: expected an integer",
    "pruning.round_length=5": "pruning.round_length=5: expected a length such as 5ep or 500it",
    "pruning.target.steps=two": "pruning.target.steps='two': expected an integer",
    "+pruning.target.typo=1": "pruning.target.typo is not a setting here: the settings are rates, steps",
    "trainer.precision=bf17": "trainer.precision='bf17': expected one of 64, 32, 16,",
    "data.batch_size=big": "data.batch_size='big': expected an integer",
    "pruning.control=magic": "pruning.control='magic': expected one of 'none', 'dense', 'reinit'",
    "seed=abc": "seed='abc': expected an integer",
    "optimizer.weight_decay=abc": "optimizer.weight_decay='abc': expected a number",
    "optimizer.fused=yes": "optimizer.fused='yes': expected true or false or null",
    "+optimizer.momentum=0.9": "optimizer.momentum is not a setting here: the settings are amsgrad,",
    "lr_schedule.warmup=5": "lr_schedule.warmup=5: expected a length such as 5ep or 500it",
    "lr_schedule=cosine lr_schedule.final=abc": "lr_schedule.final='abc': expected a number",
    "optimizer=sgd": "optimizer.lr must be set: add optimizer.lr=<value>",
}


@pytest.mark.parametrize("override", sorted(CASES))
def test_a_wrong_key_or_type_is_named_in_one_line(make_cfg, override):
    with pytest.raises(UserError) as raised:
        validate(make_cfg(*override.split()))
    assert str(raised.value).startswith(CASES[override])
    assert "\n" not in str(raised.value)


def test_model_lr_abc_on_the_command_line(data_root, tmp_path):
    (tmp_path / "keep").touch()  # the working directory is the user's: it stays
    out = cli("model.lr=abc", data_root=data_root, cwd=tmp_path)
    assert out.returncode != 0
    assert out.stderr.strip().splitlines() == ["error: model.lr='abc': expected a number"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]
