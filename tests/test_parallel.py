"""Jobs side by side: the joblib launcher, and the decoded-image cache under concurrent first use."""

import subprocess
import sys

import torch

from prune_ready import results
from tests.helpers import REPO, TINY, cli, read_csv


def test_joblib_launcher_runs_two_jobs_in_their_own_directories(data_root, tmp_path):
    launcher = "hydra/launcher=local"  # joblib, n_jobs=2
    result = cli("-m", launcher, "seed=0,1", *TINY, data_root=data_root, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("with 1 torch threads") == 2  # 2 cores shared by 2 jobs
    runs = sorted(tmp_path.glob("outputs/default/*/*/imp/*/seed=*"))
    assert [r.name for r in runs] == ["seed=0", "seed=1"]
    rows = [read_csv(r / results.ROUNDS) for r in runs]
    assert [len(r) for r in rows] == [2, 2]
    assert rows[0][0]["test_acc"] != rows[1][0]["test_acc"]  # each job trained its own seed


DECODE = """
import sys, torch
from prune_ready.data import ImageFolderData
dm = ImageFolderData(folder="cifar10-jpeg", name="cifar10-jpeg", root=sys.argv[1], cache_dir=sys.argv[2])
dm.setup()
torch.save(dm.splits["test"].x[:50].clone(), sys.argv[3])
"""


def test_decoded_image_cache_is_safe_under_concurrent_first_use(data_root, tmp_path):
    cache = tmp_path / "cache"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", DECODE, str(data_root), str(cache), str(tmp_path / f"{i}.pt")],
            cwd=REPO,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    for proc in procs:
        assert proc.wait(timeout=600) == 0, proc.stderr.read()[-2000:]
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
