"""Bad input gets one clear line, a non-zero exit, and writes nothing."""

import shutil
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import cli

CASES = {
    "unknown init": (["init=nope"], "Could not find 'init/nope'"),
    "rate outside (0,1)": (
        ["model.prune_rates.fc=1.5"],
        "error: pruning rate fc=1.5 must be in (0, 1)",
    ),
    "round length < 1": (
        ["pruning.every_n_epochs=0"],
        "error: pruning.every_n_epochs=0 must be at least 1",
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
        "error: init.scale=abc must be a positive number",
    ),
    "unknown control": (["pruning.control=magic"], "error: pruning.control='magic' must be one of"),
}


def files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()]


def assert_refused(result, message: str, cwd: Path) -> None:
    assert result.returncode != 0
    assert message in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert files_under(cwd) == []  # not even an empty run directory is left


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_is_refused(data_root, tmp_path, case):
    overrides, message = CASES[case]
    assert_refused(cli(*overrides, data_root=data_root, cwd=tmp_path), message, tmp_path)
    assert not (tmp_path / "outputs").exists() or not any((tmp_path / "outputs").rglob("seed=*"))


def test_data_root_without_mnist(tmp_path):
    (tmp_path / "data" / "MNIST" / "raw").mkdir(parents=True)
    cwd = tmp_path / "work"
    cwd.mkdir()
    result = cli(data_root=tmp_path / "data", cwd=cwd)
    raw = tmp_path / "data" / "MNIST" / "raw"
    assert_refused(result, f"error: MNIST file {raw}/train-images-idx3-ubyte is missing", cwd)


def test_damaged_mnist_file(data_root, tmp_path):
    raw = tmp_path / "data" / "MNIST" / "raw"
    shutil.copytree(data_root / "MNIST" / "raw", raw)
    with open(raw / "t10k-images-idx3-ubyte", "r+b") as f:
        f.truncate(1_000_000)
    cwd = tmp_path / "work"
    cwd.mkdir()
    result = cli(data_root=tmp_path / "data", cwd=cwd)
    message = f"error: {raw}/t10k-images-idx3-ubyte has 1,000,000 bytes, not the original 7,840,016"
    assert_refused(result, message, cwd)


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
    result = cli(
        "model=conv6",
        "data=cifar10_jpeg",
        "data.val_size=1",
        f"data.cache_dir={tmp_path}/c",
        data_root=tmp_path / "data",
        cwd=cwd,
    )
    assert_refused(result, f"error: could not read image {root}/train/dog/1.jpg", cwd)
