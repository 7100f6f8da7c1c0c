"""Shared fixtures: the real data root, a composed Hydra config, and trained runs that several
test files read (trained once a session: the suite's time is mostly short trainings)."""

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from prune_ready.train import CONF_DIR
from tests.helpers import REPO, TINY

RUN = Path("default/lenet_300_100-mnist/xavier_normal/imp/seed=0")  # TINY's, below output_root


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (-n 2) each worker trains with 1 torch thread unless told otherwise:
    two workers at 2 threads each would oversubscribe 2 cores, and torch's threads then stall on
    each other. The tests' runs are tiny, so a second thread bought them little."""
    if "PYTEST_XDIST_WORKER" in os.environ:
        os.environ.setdefault("PRUNE_READY_THREADS", "1")


@contextlib.contextmanager
def built_once(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[tuple[Path, bool]]:
    """(a folder every worker of this test session shares, whether it is already built): the
    first worker to arrive builds it while the others wait on a lock, then they read it. For
    read-only fixtures that cost whole trainings: each pytest-xdist worker would otherwise
    build its own copy of a session fixture."""
    root = tmp_path_factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:
        root = root.parent  # the session's folder, above each worker's own
    folder, built = root / f"shared-{name}", root / f"shared-{name}" / ".built"
    with open(root / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = built.exists()
        if not done:  # nothing, or what a failed build left
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
        yield folder, done
        built.touch()


# Files of tests that each run whole jobs in subprocesses (kills, signals, launchers, DDP) for
# tens of seconds: started first, so that the workers do not end on one of them while the other
# waits (the longest jobs first shortens the suite by up to the longest one).
LONG_FIRST = ("test_ddp", "test_parallel", "test_resume", "test_stability", "test_faults")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def first(item: pytest.Item) -> bool:
        return item.module is not None and item.module.__name__.split(".")[-1] in LONG_FIRST

    items.sort(key=lambda item: not first(item))  # stable: the files keep their own order


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


def compose_train(
    data_root: Path, output_root: Path, *overrides: str, return_hydra: bool = False
) -> DictConfig:
    """compose('train', overrides) with the real data root, output under `output_root`."""
    with initialize_config_dir(CONF_DIR, version_base="1.3"):
        return compose(
            "train",
            return_hydra_config=return_hydra,
            overrides=[
                f"data.root={data_root}",
                f"paths.output_root={output_root}",
                "progress_bar=null",
                *overrides,
            ],
        )


@pytest.fixture
def make_cfg(data_root: Path, tmp_path: Path):
    """compose('train', overrides) with the real data root and output under tmp_path."""

    def make(*overrides: str, return_hydra: bool = False) -> DictConfig:
        return compose_train(data_root, tmp_path, *overrides, return_hydra=return_hydra)

    return make


@pytest.fixture(scope="session")
def quick_run(data_root: Path, tmp_path_factory: pytest.TempPathFactory):
    """The default IMP run on QUICK (600 images, 3 rounds of 2 epochs) and its Probe: what every
    round after the first started from. Read, never written, by test_prune_rewind's layer-wise
    test and as the ticket of test_controls' reinit and layer-wise random_prune branches."""
    from prune_ready.train import train
    from tests.test_prune_rewind import QUICK, Probe

    root = tmp_path_factory.mktemp("quick")
    probe, run_dir = Probe(2), root / "run"  # QUICK: rounds of 2 epochs
    train(compose_train(data_root, root, *QUICK), run_dir, callbacks=[probe])
    return probe, run_dir


def train_tiny(root: Path, data_root: Path, *overrides: str) -> Path:
    """A TINY run (and `overrides`) trained in, and from the working directory, `root`."""
    from prune_ready.train import train

    run_dir = root / RUN
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)  # Lightning's default logger would write ./lightning_logs
        train(compose_train(data_root, root, *TINY, *overrides), run_dir)
    return run_dir


@pytest.fixture(scope="session")
def tiny_run(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A TINY run with logger=none, alone under its root: read, never written, by test_loggers
    (what a run without a logger writes; the results any logger leaves unchanged) and
    test_recorders (the results any recorder leaves unchanged)."""
    return train_tiny(tmp_path_factory.mktemp("tiny"), data_root, "logger=none")


@pytest.fixture(scope="session")
def preset_run(data_root: Path, tmp_path_factory: pytest.TempPathFactory):
    """preset_run(name): the run of test_preset_invariance's PRESETS[name], trained on first use
    and shared for the session (read, never written: the fixture test compares it, and other
    tests assert on the same runs instead of training near copies of them)."""
    from tests.test_preset_invariance import run_preset

    root, done = tmp_path_factory.mktemp("presets"), {}

    def get(name: str) -> Path:
        if name not in done:
            run_preset(name, data_root, root / name)
            done[name] = root / name
        return done[name]

    return get
