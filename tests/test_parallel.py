"""Jobs side by side: the joblib launcher, the decoded-image cache under concurrent first use, and
submitit's jobs requeued after the preemption signal, resuming from their last round."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from lightning_fabric.plugins.environments import SLURMEnvironment

from prune_ready import results
from prune_ready.train import make_trainer
from tests.conftest import built_once
from tests.helpers import REPO, TINY, cifar_slice, cli, cli_env, read_csv


@pytest.fixture(scope="session")
def joblib_grid(data_root, tmp_path_factory) -> Path:
    """A 2-run TINY grid through the joblib launcher, trained once for all workers: checked on
    its own and the reference of the preempted submitit grid. The folder holds `outputs/` and
    the command's `stdout`."""
    with built_once(tmp_path_factory, "joblib-grid") as (folder, done):
        if not done:
            launcher = "hydra/launcher=local"  # joblib, n_jobs=2
            result = cli("-m", launcher, "seed=0,1", *TINY, data_root=data_root, cwd=folder)
            assert result.returncode == 0, result.stderr[-2000:]
            (folder / "stdout").write_text(result.stdout)
    return folder


def test_joblib_launcher_runs_two_jobs_in_their_own_directories(joblib_grid):
    assert (joblib_grid / "stdout").read_text().count("with 1 torch threads") == 2  # 2 cores
    runs = sorted(joblib_grid.glob("outputs/default/*/*/imp/*/seed=*"))
    assert [r.name for r in runs] == ["seed=0", "seed=1"]
    rows = [read_csv(r / results.ROUNDS) for r in runs]
    assert [len(r) for r in rows] == [2, 2]
    assert rows[0][0]["test_acc"] != rows[1][0]["test_acc"]  # each job trained its own seed


DECODE = """
import logging, sys, time
from pathlib import Path
import torch
from prune_ready.data import ImageFolderData
root, cache, out, barrier = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
logging.basicConfig(level=logging.INFO, format="%(message)s")
dm = ImageFolderData(folder="cifar10-jpeg", name="cifar10-jpeg", root=root, cache_dir=cache, val_size=100)
(barrier / out.stem).touch()
while len(list(barrier.iterdir())) < 2:  # both imported: their first uses start together
    time.sleep(0.001)
dm.setup()
torch.save(dm.splits["test"].x[:50].clone(), out)
"""


def test_decoded_image_cache_is_safe_under_concurrent_first_use(data_root, tmp_path):
    """Two processes load the same real slice (2 classes, 2,400 images) with an empty cache, their
    first use released together: one decodes under the lock, the other waits and reads its file."""
    root = cifar_slice(data_root, tmp_path / "data", train=1000, test=200)
    cache, barrier = tmp_path / "cache", tmp_path / "barrier"
    barrier.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", DECODE, *map(str, (root, cache, tmp_path / f"{i}.pt", barrier))],
            cwd=REPO,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    logs = [proc.communicate(timeout=600)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], logs
    assert sorted("decoding 2400 images" in log for log in logs) == [False, True]
    assert [p.name.endswith(".pt") for p in cache.iterdir() if not p.name.endswith(".lock")] == [
        True
    ]
    assert not list(cache.glob(".*tmp"))
    assert torch.equal(torch.load(tmp_path / "0.pt"), torch.load(tmp_path / "1.pt"))


def test_slurm_launcher_preset_composes(make_cfg):
    cfg = make_cfg("hydra/launcher=slurm", "hydra.launcher.partition=gpu", return_hydra=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("submitit_launcher.SlurmLauncher")
    assert (launcher.partition, launcher.gpus_per_node, launcher.max_num_timeout) == ("gpu", 1, 3)
    assert (launcher.timeout_min, launcher.signal_delay_s) == (240, 120)


def grid(*args: str, cwd: Path, data_root: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "prune_ready.train", "-m", "seed=0,1", *TINY, *args],
        cwd=cwd,
        env=cli_env(data_root),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the launcher and every job
    )


def test_submitit_requeues_preempted_jobs_and_they_resume_from_their_last_round(
    data_root, tmp_path, joblib_grid
):
    """A 2-run grid through submitit's local executor: in round 1 each job gets SIGUSR2, the signal
    submitit has Slurm send before the time limit or a preemption (the local executor sends it 30 s
    before hydra.launcher.timeout_min; here the test sends it, at a chosen point, since 30 s can
    fall into a busy machine's start-up), is requeued by submitit and resumes after round 0, to
    the numbers of the same grid uninterrupted (the joblib grid's)."""
    preempted, marks = tmp_path / "preempted", tmp_path / "m"
    preempted.mkdir(), marks.mkdir()
    stall = f"trainer.callbacks=[{{_target_:tests.slow_round.StallOnce,marks:'{marks}'}}]"
    job = grid("hydra/launcher=slurm_local", stall, cwd=preempted, data_root=data_root)
    try:
        deadline, signalled = time.monotonic() + 300, set()
        while len(signalled) < 2 and time.monotonic() < deadline and job.poll() is None:
            for mark in marks.iterdir():  # a run stalled in round 1, its pid inside
                if mark.name not in signalled and mark.read_text().endswith("\n"):
                    os.kill(int(mark.read_text()), signal.SIGUSR2)
                    signalled.add(mark.name)
            time.sleep(0.1)
        assert signalled == {"seed=0", "seed=1"}, "the runs did not both reach round 1"
        err = job.communicate(timeout=600)[1]
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
    assert job.returncode == 0, err[-3000:]
    runs = sorted(preempted.glob("outputs/default/*/*/imp/*/seed=*"))
    logs = sorted((preempted / "outputs/default/.submitit").glob("*/*_0_log.out"))
    assert [r.name for r in runs] == ["seed=0", "seed=1"] and len(logs) == 2
    for path in logs:
        log, job_id = path.read_text(), path.name.split("_")[0]
        submitit = [line.split(" - ", 1)[1] for line in log.splitlines() if " - " in line]
        start, load = submitit[:2]  # "Starting with JobEnvironment(...)", "Loading pickle: ..."
        assert submitit[2].startswith("Job has not timed out.")  # a preemption, not the limit
        assert submitit[3:] == [
            f"Caught signal SIGUSR2 on {socket.gethostname()}: this job is preempted.",
            "Calling checkpoint method.",
            f"Requeued job {job_id} (3 remaining timeouts)",
            start,  # the same job again, from the pickle the checkpoint method wrote
            load,
            "Job completed successfully",
            "Exiting after successful completion",
        ]
        (run,) = [r for r in runs if f"run {r} with" in log]
        assert log.count(f"resuming {run} after round 0") == 1
    for run in runs:
        twin = joblib_grid / run.relative_to(preempted)
        assert (run / results.ROUNDS).read_bytes() == (twin / results.ROUNDS).read_bytes()
        assert len(read_csv(run / results.ROUNDS)) == 2
        assert not (run / results.CHECKPOINT).exists()


SLURM_JOB = {  # what srun sets for the one task of a job
    "SLURM_NTASKS": "1",
    "SLURM_NTASKS_PER_NODE": "1",
    "SLURM_JOB_NAME": "train",
    "SLURM_JOB_ID": "1",
    "SLURM_PROCID": "0",
    "SLURM_LOCALID": "0",
    "SLURM_NODEID": "0",
    "SLURM_NODELIST": "node1",
}


def test_on_slurm_lightning_leaves_requeueing_to_submitit(make_cfg, tmp_path, monkeypatch):
    """Lightning's own SLURM auto-requeue (on SIGUSR1 a mid-round checkpoint in the working
    directory, then scontrol requeue) is off: a second requeue path would resume mid-round."""
    for key, value in SLURM_JOB.items():
        monkeypatch.setenv(key, value)
    cfg = make_cfg("data.train_subset=300")
    trainer = make_trainer(cfg, tmp_path / "run", instantiate(cfg.pruning), callbacks=[])
    environment = trainer._accelerator_connector.cluster_environment
    assert isinstance(environment, SLURMEnvironment) and environment.auto_requeue is False
    before = signal.getsignal(signal.SIGUSR1)
    trainer._signal_connector.register_signal_handlers()  # what trainer.fit does first
    try:
        assert signal.getsignal(signal.SIGUSR1) is before
    finally:
        trainer._signal_connector.teardown()
    assert trainer.default_root_dir == str(tmp_path / "run")  # nothing of Lightning's in the cwd
