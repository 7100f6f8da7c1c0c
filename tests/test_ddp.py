"""One run over two CPU processes (DDP, gloo): the same masks and weights on every rank, one
writer, whole-set evaluation (the numbers of a single process), and resume after SIGKILL."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from prune_ready import results
from tests.conftest import built_once
from tests.helpers import RUN_FILES, cli, cli_env, read_csv

STUDY = (
    "data.train_subset=1200",
    "data.val_size=1000",
    "data.test_subset=1000",
    "pruning.round_length=2ep",  # 20 iterations a round: each process trains on 30 of every 60
    "pruning.rounds=2",
    "progress_bar=null",
)
DDP = ("trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2")


def only_run(root: Path) -> Path:
    (run,) = {p.parent for p in root.glob("outputs/**/config.yaml")}
    return run


def probe(out: Path) -> str:
    out.mkdir()
    return f"trainer.callbacks=[{{_target_:tests.ddp_probe.MaskHashes,out:'{out}'}}]"


@pytest.fixture(scope="session")
def ddp_run(data_root, tmp_path_factory) -> Path:
    """STUDY over 2 processes with the mask-hash probe (it reads, it changes nothing), trained
    once for all workers: the run both tests check. Its folder holds `outputs/`, the probe's
    `hashes/` and the command's `stdout`."""
    with built_once(tmp_path_factory, "ddp-run") as (folder, done):
        if not done:
            (folder / "job").mkdir()
            out = cli(
                *STUDY, *DDP, probe(folder / "hashes"), data_root=data_root, cwd=folder / "job"
            )
            assert out.returncode == 0, out.stderr[-3000:]
            (folder / "stdout").write_text(out.stdout)
    return folder


def test_ddp_on_two_cpu_processes(data_root, tmp_path, ddp_run):
    assert cli(*STUDY, data_root=data_root, cwd=tmp_path).returncode == 0
    assert (ddp_run / "stdout").read_text().count("with 1 torch threads") == 2  # 2 cores, 2 ranks
    ranks = [(ddp_run / "hashes" / f"rank{r}.txt").read_text().splitlines() for r in (0, 1)]
    assert len(ranks[0]) == 6 and ranks[0] == ranks[1]  # every epoch, rounds 0-2: identical
    run = only_run(ddp_run / "job")
    assert {p.name for p in run.iterdir() if p.is_file()} == RUN_FILES  # rank 0's files only
    config = OmegaConf.load(run / results.CONFIG)  # the batch is split, not multiplied
    assert (config.effective_batch_size, config.trainer.devices) == (60, 2)
    assert len(list((run / "tb").glob("events.*"))) == 1
    assert sorted(p.name for p in (ddp_run / "job").iterdir()) == ["outputs"]  # no lightning_logs
    a, b = read_csv(only_run(tmp_path) / results.ROUNDS), read_csv(run / results.ROUNDS)
    assert [r["weights_remaining"] for r in a] == [r["weights_remaining"] for r in b]
    for x, y in zip(a, b, strict=True):  # the same minibatches: equal up to float summation
        for key in ("val_acc", "test_acc", "test_acc_at_early_stop"):
            assert abs(float(x[key]) - float(y[key])) <= 0.002, (key, x[key], y[key])


def test_ddp_resumes_after_the_whole_job_is_killed(data_root, tmp_path, ddp_run):
    interrupted = tmp_path / "interrupted"
    interrupted.mkdir()
    job = subprocess.Popen(
        [sys.executable, "-m", "prune_ready.train", *STUDY, *DDP],
        cwd=interrupted,
        env=cli_env(data_root),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: both ranks
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and job.poll() is None:
            metrics = list(interrupted.glob("outputs/**/metrics.csv"))
            if metrics and len(metrics[0].read_text().splitlines()) - 1 >= 3:  # in round 1
                break
            time.sleep(0.01)
        assert job.poll() is None, "the run ended before it could be killed"
        os.killpg(job.pid, signal.SIGKILL)
    finally:
        job.wait()
    killed = only_run(interrupted)
    assert (killed / results.CHECKPOINT).exists()
    resumed = cli(*STUDY, *DDP, data_root=data_root, cwd=interrupted)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming" in resumed.stdout
    a, b = only_run(ddp_run / "job"), only_run(interrupted)  # the probe changes no number
    assert (a / results.ROUNDS).read_bytes() == (b / results.ROUNDS).read_bytes()
    assert not (b / results.CHECKPOINT).exists()
