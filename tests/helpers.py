"""Helpers shared by the tests: the command line in a subprocess or in this process, CSV reading."""

import contextlib
import csv
import io
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# A run of seconds: 300 MNIST images, one pruning step after a 1-epoch round, no progress bar.
TINY = (
    "data.train_subset=300",
    "pruning.round_length=1ep",
    "pruning.rounds=1",
    "progress_bar=null",
)

# The files a finished run without a rewind point of its own holds, whatever its loggers.
RUN_FILES = frozenset(
    {
        ".lock",
        "config.yaml",
        "diagnostics.csv",
        "init.pt",
        "machine.json",
        "manifest.json",
        "mask.pt",
        "metrics.csv",
        "predictors.csv",
        "round_masks.pt",
        "round_weights.pt",
        "rounds.csv",
    }
)


def cifar_slice(data_root: Path, dest: Path, train: int, test: int) -> Path:
    """A real slice of cifar10-jpeg in its layout under `dest`: the first `train` and `test`
    images of two classes (airplane, cat). Returns the data root that holds it."""
    for split, n in (("train", train), ("test", test)):
        for label in ("airplane", "cat"):
            folder = dest / "cifar10-jpeg" / split / label
            folder.mkdir(parents=True)
            for image in sorted((data_root / "cifar10-jpeg" / split / label).iterdir())[:n]:
                shutil.copyfile(image, folder / image.name)
    return dest


def cli_env(data_root: Path) -> dict[str, str]:
    return {**os.environ, "PRUNE_READY_DATA": str(data_root), "PYTHONPATH": str(REPO)}


def cli(*args: str, data_root: Path, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """`python -m prune_ready.train ARGS` in `cwd`, with the data root set."""
    return subprocess.run(
        [sys.executable, "-m", "prune_ready.train", *args],
        cwd=cwd,
        env=cli_env(data_root),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def in_process(*args: str, data_root: Path, cwd: Path) -> subprocess.CompletedProcess:
    """`python -m prune_ready.train ARGS` run in this process: the same main() as the command,
    its exit status, stdout and stderr as the process would give them (sys.exit("error: ...")
    prints the line and exits 1), without the ~4 s a new process spends importing torch and
    Lightning (when every command started one, those imports were over a third of the suite's
    time). Python warnings go to pytest's summary, not to stderr (pytest also drops the filters
    a module sets as it is imported, which a user's process keeps). The environment and the root
    logger (Hydra configures it for each job) are restored afterwards. `cli` is for what needs a
    process of its own: kills, signals, concurrent launches, DDP, a file that must load alone,
    and a refusal held to one line of stderr with no warning above it."""
    from hydra.core.global_hydra import GlobalHydra

    from prune_ready.train import main

    out, err, code = io.StringIO(), io.StringIO(), 0
    root = logging.getLogger()
    handlers, level, environ = list(root.handlers), root.level, dict(os.environ)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        os.environ["PRUNE_READY_DATA"] = str(data_root)
        mp.setattr(sys, "argv", ["prune_ready.train", *args])
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                main()
        except SystemExit as e:
            if isinstance(e.code, str):
                print(e.code, file=err)
            code = e.code if isinstance(e.code, int) else int(e.code is not None)  # as a process
        finally:
            GlobalHydra.instance().clear()  # as a new process would find it
            root.handlers[:] = handlers
            root.setLevel(level)  # not root.level =: setLevel also clears the loggers' caches
            os.environ.clear()
            os.environ.update(environ)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))
