"""Grids survive interruption: SIGKILL and resume, skip finished runs, determinism, divergence."""

import hashlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from prune_ready import machine, results
from tests.conftest import built_once
from tests.helpers import TINY, cli, cli_env, in_process, read_csv

QUICK = [
    "data.train_subset=3000",
    "pruning.round_length=2ep",
    "pruning.rounds=3",
    "progress_bar=null",
]
# Rounds of 25 iterations end mid-epoch (50 batches an epoch), trained by SGD with momentum on a
# warmed-up cosine and rewound to θ10it: the rate at every step follows from the global step, the
# momentum buffers are restored with the optimizer's state, and the data order resumes mid-epoch
ITERATIONS = [
    "pruning=lth",
    "data.train_subset=3000",
    "pruning.round_length=25it",
    "pruning.eval_every=5it",
    "pruning.rounds=3",
    "pruning.reset.to=10it",
    "optimizer=sgd",
    "optimizer.lr=0.05",
    "optimizer.momentum=0.9",
    "lr_schedule=cosine",
    "lr_schedule.warmup=20it",
    "progress_bar=null",
]


def only_run(root: Path) -> Path:
    (run,) = {p.parent for p in root.glob("outputs/**/config.yaml")}
    return run


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Every file under `root`: content hash and modification time."""
    return {
        str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def kill_when(args: list[str], data_root: Path, cwd: Path, rows: int) -> None:
    """Start a run, SIGKILL it once metrics.csv has `rows` rows (mid-round), wait for it to die."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "prune_ready.train", *args],
        cwd=cwd,
        env=cli_env(data_root),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            metrics = list(cwd.glob("outputs/**/metrics.csv"))
            if metrics and len(metrics[0].read_text().splitlines()) - 1 >= rows:
                break
            time.sleep(0.005)
        assert proc.poll() is None, "the run ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()


@pytest.fixture(scope="session")
def quick_reference(data_root, tmp_path_factory) -> Path:
    """QUICK's run, uninterrupted, trained once for all workers: the reference of both tests
    that kill a QUICK run."""
    with built_once(tmp_path_factory, "quick-reference") as (reference, done):
        if not done:
            assert in_process(*QUICK, data_root=data_root, cwd=reference).returncode == 0
    return only_run(reference)


@pytest.mark.parametrize(
    "args,kill_at",
    [(QUICK, 3), (ITERATIONS, 7)],
    ids=["epochs", "iterations_sgd_schedule"],
)
def test_killed_run_resumes_to_identical_results(request, data_root, tmp_path, args, kill_at):
    interrupted = tmp_path / "interrupted"
    interrupted.mkdir()
    if args == QUICK:
        a = request.getfixturevalue("quick_reference")
    else:
        reference = tmp_path / "reference"
        reference.mkdir()
        assert in_process(*args, data_root=data_root, cwd=reference).returncode == 0
        a = only_run(reference)
    kill_when(args, data_root, interrupted, rows=kill_at)  # in round 1: round 0 is checkpointed
    killed = only_run(interrupted)
    assert (killed / results.CHECKPOINT).exists()
    rounds_done = len(read_csv(killed / results.ROUNDS))
    assert rounds_done >= 1
    resumed = cli(*args, data_root=data_root, cwd=interrupted)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming" in resumed.stdout
    b = only_run(interrupted)
    assert (a / results.ROUNDS).read_bytes() == (b / results.ROUNDS).read_bytes()
    drop_seconds = [
        {k: v for k, v in r.items() if k != "seconds"} for r in read_csv(a / "metrics.csv")
    ]
    assert drop_seconds == [
        {k: v for k, v in r.items() if k != "seconds"} for r in read_csv(b / "metrics.csv")
    ]
    assert torch.equal(
        torch.load(a / results.ROUND_MASKS)["rounds"][3]["fc1"],
        torch.load(b / results.ROUND_MASKS)["rounds"][3]["fc1"],
    )
    assert not (b / results.CHECKPOINT).exists()  # finished: the checkpoint is removed
    # each start records where it trained: the reference once, the killed run twice
    (first,) = machine.read(a / results.MACHINE)
    started, resumed_at = machine.read(b / results.MACHINE)
    assert first["from_round"] == started["from_round"] == 0
    assert resumed_at["from_round"] == rounds_done  # the first round the resume trains
    assert first["key"] == started["key"] == resumed_at["key"] == machine.key(first)
    assert machine.run_key([first]) == machine.run_key([started, resumed_at]) == first["key"]


def test_run_killed_in_round_zero_starts_again(data_root, tmp_path, quick_reference):
    interrupted = tmp_path / "interrupted"
    interrupted.mkdir()
    kill_when(QUICK, data_root, interrupted, rows=1)
    assert not (only_run(interrupted) / results.CHECKPOINT).exists()
    assert cli(*QUICK, data_root=data_root, cwd=interrupted).returncode == 0
    assert (quick_reference / results.ROUNDS).read_bytes() == (
        only_run(interrupted) / results.ROUNDS
    ).read_bytes()


def test_rerunning_a_finished_multirun_trains_nothing_and_changes_nothing(data_root, tmp_path):
    args = ["-m", "seed=0,1", *TINY]
    assert in_process(*args, data_root=data_root, cwd=tmp_path).returncode == 0
    before = snapshot(tmp_path / "outputs")
    again = in_process(*args, data_root=data_root, cwd=tmp_path)
    assert again.returncode == 0
    assert again.stdout.count("skipped") == 2 and "finished: 2 of 2 rounds" in again.stdout
    assert "early stop" not in again.stdout  # no table of rounds: nothing was trained
    after = snapshot(tmp_path / "outputs")
    # Hydra's sweeper rewrites its own record of the sweep on every launch: same content
    assert after.pop("default/multirun.yaml")[0] == before.pop("default/multirun.yaml")[0]
    assert after == before


def test_a_different_config_in_the_same_directory_is_refused(data_root, tmp_path):
    """As when a config file's default changed since the run: same path, other results."""
    args = list(TINY)
    assert in_process(*args, data_root=data_root, cwd=tmp_path).returncode == 0
    run = only_run(tmp_path)
    before = snapshot(tmp_path / "outputs")
    clash = in_process(
        *args, f"hydra.run.dir='{run}'", "model.lr=0.01", data_root=data_root, cwd=tmp_path
    )
    assert clash.returncode == 1
    last = clash.stderr.strip().splitlines()[-1]
    # adam's optimizer.lr is model.lr: both differ
    assert last.startswith(
        f"error: {run} holds a run of another config (model.lr: 0.0012 -> 0.01; "
        "optimizer.lr: 0.0012 -> 0.01)"
    )
    assert snapshot(tmp_path / "outputs") == before


def test_identical_runs_give_identical_results(make_cfg, tmp_path):
    """Also when Lightning is handed one minibatch per call instead of 16: a speed knob only."""
    from prune_ready.train import train

    quick = ["data.train_subset=600", "pruning.round_length=1ep", "pruning.rounds=2"]
    train(make_cfg(*quick), tmp_path / "a")
    train(make_cfg(*quick), tmp_path / "b")
    train(make_cfg(*quick, "data.steps_per_call=1"), tmp_path / "c")
    rounds = [(tmp_path / d / results.ROUNDS).read_bytes() for d in "abc"]
    assert rounds[0] == rounds[1] == rounds[2]
    masks = [torch.load(tmp_path / d / results.MASK)["fc1"] for d in "abc"]
    assert torch.equal(masks[0], masks[1]) and torch.equal(masks[0], masks[2])


def test_divergence_fails_one_run_and_the_multirun_goes_on(data_root, tmp_path):
    result = in_process("-m", "model.lr=1.2e-3,1e38", *TINY, data_root=data_root, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    ok, bad = (
        next(tmp_path.glob(f"outputs/**/*model.lr={lr}*/seed=0")) for lr in ("0.0012", "1e+38")
    )
    assert len(read_csv(ok / results.ROUNDS)) == 2 and not (ok / results.FAILED).exists()
    reason = (bad / results.FAILED).read_text()
    assert reason.startswith("train/loss is nan at iteration 5 (round 0)")
    assert f"failed {bad}" in result.stdout
    again = in_process("model.lr=1e38", *TINY, data_root=data_root, cwd=tmp_path)
    assert (
        again.returncode == 0 and "skipped" in again.stdout and "failed with 0 of 2" in again.stdout
    )


def test_options_added_since_a_run_do_not_make_it_another_config(make_cfg):
    from omegaconf import OmegaConf

    from prune_ready.rundir import config_differences

    new = make_cfg("data.train_subset=300")
    old = OmegaConf.create(OmegaConf.to_container(new, resolve=True))
    del old.pruning["ticket"]  # an option the older run's tool did not have yet
    old.data.root = "/elsewhere"  # where the data lives does not change results
    assert config_differences(old, new) == []
    old.model.lr = 0.01
    assert config_differences(old, new) == ["model.lr: 0.01 -> 0.0012"]


def test_a_run_another_process_holds_is_skipped(make_cfg, tmp_path):
    import fcntl

    from prune_ready.rundir import LOCK
    from prune_ready.train import train

    tmp_path.mkdir(exist_ok=True)
    with open(tmp_path / LOCK, "a") as held:  # as if another process were training here
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert train(make_cfg("data.train_subset=300", "pruning.rounds=0"), tmp_path) is None
    assert not (tmp_path / results.CONFIG).exists()


def test_the_same_grid_launched_twice_splits_its_runs(data_root, tmp_path):
    args = [
        "-m",
        "seed=0,1,2,3",
        "data.train_subset=600",
        "pruning.round_length=2ep",
        "pruning.rounds=1",
        "progress_bar=null",
    ]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "prune_ready.train", *args],
            cwd=tmp_path,
            env=cli_env(data_root),
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=600)[0] for proc in procs]
    assert all(proc.returncode == 0 for proc in procs)
    trained = [out.count("early stop") for out in outputs]  # one table of rounds per run trained
    assert sum(trained) == 4
    for run in tmp_path.glob("outputs/**/seed=*"):
        assert len(read_csv(run / results.ROUNDS)) == 2
