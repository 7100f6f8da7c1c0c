"""θ0 statistics (prune_ready.predictors): written at a run's start, recomputed for existing runs
from init.pt or from the config alone, and the maths of two of them by hand."""

import csv

import pytest
import torch
from torch import nn

from prune_ready import predictors, results
from prune_ready.train import train


def read_row(path) -> dict[str, str]:
    with open(path, newline="") as f:
        (row,) = list(csv.DictReader(f))
    return row


def test_a_run_writes_them_and_the_command_recomputes_them_with_or_without_init_pt(
    make_cfg, data_root, tmp_path
):
    run = tmp_path / "run"
    cfg = make_cfg(
        "data.train_subset=300", "pruning.rounds=0", "pruning.round_length=1ep", "init.scale=0.5"
    )
    train(cfg, run)
    written = read_row(run / results.PREDICTORS)
    assert set(written) >= {"act_rms/fc1", "logit_rms", "snip_top1", "jacobian_spread"}
    assert float(written["act_rms/out"]) == float(written["logit_rms"]) > 0
    assert 0.01 < float(written["magnitude_top1"]) < 1  # the top 1% hold more than 1% of |w|

    predictors.main([str(tmp_path), "--force", "--data-root", str(data_root)])
    assert read_row(run / results.PREDICTORS) == written  # from init.pt: the same θ0
    (run / results.INIT).unlink()
    predictors.main([str(tmp_path), "--force", "--data-root", str(data_root)])
    assert read_row(run / results.PREDICTORS) == written  # θ0 rebuilt from the config alone


def test_top_share_by_hand():
    scores = {"a": torch.tensor([1.0, 2.0, 3.0, 4.0] * 25), "b": torch.tensor([94.0])}
    # 101 entries: the top 1% is the single largest, 94 of 94 + 250
    assert predictors.top_share(scores) == pytest.approx(94 / 344)
    assert predictors.top_share(scores, fraction=0.03) == pytest.approx((94 + 4 + 4) / 344)


def test_jacobian_spectrum_of_a_scaled_orthogonal_map():
    net = nn.Linear(6, 6, bias=False)
    nn.init.orthogonal_(net.weight, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        net.weight.mul_(2.0)  # every singular value 2: no spread, gain 2
    spread, gain = predictors.jacobian_spectrum(net, torch.randn(5, 6))
    assert spread == pytest.approx(0.0, abs=1e-6)  # float32 Jacobian
    assert gain == pytest.approx(2.0, rel=1e-6)
