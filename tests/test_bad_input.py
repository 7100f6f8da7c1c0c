"""Bad input gets one clear line, a non-zero exit, and writes nothing: no file, and no directory
(not even the parents of the run directory that the run made)."""

import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest
import torch
from PIL import Image

from prune_ready.errors import UserError
from prune_ready.schema import validate
from prune_ready.train import CONF_DIR, check_settings
from tests.helpers import TINY, cli, in_process

CASES = {
    "rate outside (0,1)": (
        ["model.prune_rates.fc=1.5"],
        "error: pruning rate fc=1.5 must be in (0, 1)",
    ),
    "round length < 1": (
        ["pruning.round_length=0ep"],
        "error: pruning.round_length=0ep must be at least 1 iteration",
    ),
    "prunes everything": (
        ["model.prune_rates.output=0.9", "pruning.rounds=40"],
        "error: pruning.rounds=40 would prune every weight of out by round 4",  # 1000,100,10,1,0
    ),
    "init scale not positive": (
        ["init.scale=0"],
        "error: init.scale=0 must be a positive number",
    ),
    "init scale not a number": (
        ["init.scale=abc"],
        "error: init.scale='abc': expected a number",
    ),
    "unknown control": (
        ["pruning.control=magic"],
        "error: pruning.control='magic': expected one of 'none', 'dense', 'reinit', 'random_prune', "
        "'stability'",
    ),
    "learning rate not positive": (["model.lr=-1"], "error: model.lr=-1 must be a positive number"),
    "unknown accelerator (Lightning's refusal)": (
        ["trainer.accelerator=tpux"],
        "error: trainer: You selected an invalid accelerator name: `accelerator='tpux'`.",
    ),
    "optimizer setting not a number": (
        ["optimizer=sgd", "optimizer.lr=0.1", "optimizer.momentum=abc"],
        "error: optimizer.momentum='abc': expected a number",
    ),
    "momentum torch refuses": (
        ["optimizer=sgd", "optimizer.lr=0.1", "optimizer.momentum=-1"],
        "error: optimizer: Invalid momentum value: -1",
    ),
    "sgd without a learning rate": (
        ["optimizer=sgd"],
        "error: optimizer.lr must be set: add optimizer.lr=<value>",
    ),
    "decay factor not positive": (
        ["lr_schedule=step", "lr_schedule.gamma=-1"],
        "error: lr_schedule.gamma=-1 must be a positive number",
    ),
    "milestone outside the round": (
        ["lr_schedule=step", "lr_schedule.milestones=[5ep]"],
        "error: lr_schedule.milestones: 5ep is not within a round (pruning.round_length=5ep)",
    ),
    "a run length the schedule governs": (
        ["trainer.max_epochs=1"],
        "error: trainer.max_epochs cannot be set: a run is pruning.rounds + 1 rounds of "
        "pruning.round_length",
    ),
    "Lightning's debug run, added with +": (
        ["+trainer.fast_dev_run=true"],
        "error: trainer.fast_dev_run cannot be set: a run is pruning.rounds + 1 rounds",
    ),
    "a refused job of a multirun": (
        ["-m", "model.lr=abc", "seed=0,1"],
        "error: model.lr='abc': expected a number",
    ),
    # every job of a sweep is checked before the first one runs (the first here would train)
    "a bad value after a good one in a sweep": (
        ["-m", "model.lr=0.0012,-1", *TINY],
        "error: model.lr=-1 must be a positive number",
    ),
    "a sweep whose second job prunes everything": (
        ["-m", "pruning.rounds=1,40", "model.prune_rates.output=0.9", *TINY[:2]],
        "error: pruning.rounds=40 would prune every weight of out by round 4",
    ),
    "a sweep from a preset's own values": (
        ["-m", "+experiment=lth_lenet_smoke", "optimizer=sgd", "optimizer.lr=0.1,-1"],
        "error: optimizer.lr=-1 must be a positive number",
    ),
}


def assert_refused(result, message: str, cwd: Path, before: Sequence[Path] = ()) -> None:
    """Non-zero exit, one line on stderr beginning with `message`, and nothing new in `cwd`."""
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr[-2000:]
    assert sorted(cwd.rglob("*")) == sorted(before)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_is_refused(data_root, tmp_path, case):
    overrides, message = CASES[case]
    assert_refused(in_process(*overrides, data_root=data_root, cwd=tmp_path), message, tmp_path)


SETTINGS = {  # refused before anything is built (the command line: as model.lr=-1 above)
    "model.prune_rates.fc=abc": "model.prune_rates.fc='abc': expected a number",
    "init.formula=gauss": "init.formula='gauss': expected one of 'kaiming', 'xavier'",
    "data.batch_size=0": "data.batch_size=0 must be at least 1",
    "+trainer.max_epochs=1": (  # the compose API (the command line is refused before Hydra)
        "trainer.max_epochs cannot be set: a run is pruning.rounds + 1 rounds of "
        "pruning.round_length, evaluated every pruning.eval_every (set those); for a quick "
        "check run add debug=true"
    ),
    "data.eval_batch_size=0": "data.eval_batch_size=0 must be at least 1",
    "effective_batch_size=120": (
        "effective_batch_size=120 only records data.batch_size (60): set data.batch_size instead"
    ),
}


@pytest.mark.parametrize("override", sorted(SETTINGS))
def test_setting_is_refused_in_one_line(make_cfg, override):
    cfg = make_cfg(override)
    with pytest.raises(UserError) as raised:
        validate(cfg)
        check_settings(cfg)
    assert str(raised.value) == SETTINGS[override]


@pytest.mark.parametrize(
    "overrides",
    [
        ["init=nope"],
        ["model=nope"],
        ["pruning=nope"],
        ["trainer=nope"],
        ["optimizer=nope"],
        ["lr_schedule=nope"],
        # every value of a sweep is checked before any job runs (or the sweep directory is made)
        ["-m", "init=xavier_normal,nope", "data.train_subset=300", "pruning.rounds=0"],
    ],
)
def test_unknown_group_option(data_root, tmp_path, overrides):
    """One line naming the options conf/<group>/ holds, instead of Hydra's dozen."""
    group = next(o for o in overrides if "nope" in o).split("=")[0]
    options = ", ".join(sorted(p.stem for p in (Path(CONF_DIR) / group).glob("*.yaml")))
    message = f"error: {group}=nope: no such option; choose one of: {options}"
    assert_refused(cli(*overrides, data_root=data_root, cwd=tmp_path), message, tmp_path)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
@pytest.mark.parametrize(
    ("trainer", "fix"),
    [
        (["trainer=gpu"], "use trainer=cpu"),
        (["trainer=ddp"], "use trainer.accelerator=cpu (DDP over CPU processes)"),
    ],
)
def test_gpu_trainer_without_cuda(data_root, tmp_path, trainer, fix):
    result = in_process(*trainer, data_root=data_root, cwd=tmp_path)
    assert_refused(result, f"error: no CUDA device found: {fix}", tmp_path)


def test_directories_that_were_there_stay(data_root, tmp_path):
    """Only what the refused run made goes: outputs/default/<model>-<data>/ were there (empty)."""
    (tmp_path / "outputs/default/lenet_300_100-mnist").mkdir(parents=True)
    before = sorted(tmp_path.rglob("*"))
    result = in_process("model.lr=abc", data_root=data_root, cwd=tmp_path)
    assert_refused(result, "error: model.lr='abc': expected a number", tmp_path, before)


def test_data_root_without_mnist(tmp_path):
    (tmp_path / "data" / "MNIST" / "raw").mkdir(parents=True)
    cwd = tmp_path / "work"
    cwd.mkdir()
    result = in_process(data_root=tmp_path / "data", cwd=cwd)
    raw = tmp_path / "data" / "MNIST" / "raw"
    assert_refused(result, f"error: MNIST file {raw}/train-images-idx3-ubyte is missing", cwd)


def test_damaged_mnist_file(data_root, tmp_path):
    raw = tmp_path / "data" / "MNIST" / "raw"
    shutil.copytree(data_root / "MNIST" / "raw", raw)
    with open(raw / "t10k-images-idx3-ubyte", "r+b") as f:
        f.truncate(1_000_000)
    cwd = tmp_path / "work"
    cwd.mkdir()
    result = in_process(data_root=tmp_path / "data", cwd=cwd)
    message = f"error: {raw}/t10k-images-idx3-ubyte has 1,000,000 bytes, not the original 7,840,016"
    assert_refused(result, message, cwd)


REPLACE = "the file is damaged; replace it (or delete it and set data.download=true)"


@pytest.mark.parametrize(
    ("name", "offset", "new", "message"),
    [
        (  # the images' magic number 2051 (0x803) made 2052: the size is still the original's
            "train-images-idx3-ubyte",
            0,
            b"\x00\x00\x08\x04",
            "has the magic number 2052, not 2051 (MNIST images): " + REPLACE,
        ),
        (
            "t10k-images-idx3-ubyte",
            8,  # the row count
            b"\x00\x00\x00\x1d",
            "says it holds 10000x29x28, not 10000x28x28: " + REPLACE,
        ),
        (  # label 123 and 124 of the test set made 200 and 10 (a training run took them in)
            "t10k-labels-idx1-ubyte",
            8 + 123,
            b"\xc8\x0a",
            "has 2 labels outside 0-9 (the first: 200 at index 123): " + REPLACE,
        ),
    ],
)
def test_mnist_file_with_a_wrong_header_or_labels(data_root, tmp_path, name, offset, new, message):
    raw = tmp_path / "data" / "MNIST" / "raw"
    shutil.copytree(data_root / "MNIST" / "raw", raw)
    with open(raw / name, "r+b") as f:
        f.seek(offset)
        f.write(new)
    cwd = tmp_path / "work"
    cwd.mkdir()
    result = in_process(*TINY, data_root=tmp_path / "data", cwd=cwd)
    assert_refused(result, f"error: {raw}/{name} {message}", cwd)


def test_damaged_jpeg(tmp_path):
    root = tmp_path / "data" / "cifar10-jpeg"
    for split in ("train", "test"):
        for label in ("cat", "dog"):
            (root / split / label).mkdir(parents=True)
            for i in range(3):
                Image.new("RGB", (32, 32), (i * 40, 0, 0)).save(root / split / label / f"{i}.jpg")
    (root / "train" / "dog" / "1.jpg").write_bytes(b"not a jpeg")
    cwd = tmp_path / "work"
    cwd.mkdir()
    result = in_process(
        "model=conv6",
        "data=cifar10_jpeg",
        "data.val_size=1",
        f"data.cache_dir={tmp_path}/c",
        data_root=tmp_path / "data",
        cwd=cwd,
    )
    assert_refused(result, f"error: could not read image {root}/train/dog/1.jpg", cwd)
