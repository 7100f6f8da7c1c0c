"""Shared fixtures: the real data root and a composed Hydra config."""

import os
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from prune_ready.train import CONF_DIR
from tests.helpers import REPO


def find_data_root() -> Path:
    root = Path(os.environ.get("PRUNE_READY_DATA", REPO.parent / "shared" / "data"))
    if not (root / "MNIST" / "raw").is_dir():
        pytest.fail(
            f"the tests need the real MNIST under {root}/MNIST/raw: "
            "set PRUNE_READY_DATA to the folder holding MNIST/",
            pytrace=False,
        )
    return root


@pytest.fixture(scope="session")
def data_root() -> Path:
    return find_data_root()


@pytest.fixture
def make_cfg(data_root: Path, tmp_path: Path):
    """compose('train', overrides) with the real data root and output under tmp_path."""

    def make(*overrides: str, return_hydra: bool = False) -> DictConfig:
        with initialize_config_dir(CONF_DIR, version_base="1.3"):
            return compose(
                "train",
                return_hydra_config=return_hydra,
                overrides=[
                    f"data.root={data_root}",
                    f"paths.output_root={tmp_path}",
                    "progress_bar=null",
                    *overrides,
                ],
            )

    return make
