"""The GPU path (trainer=gpu): data resident on the device, masks hold, mixed precision, compile.

Skipped without CUDA; run on a GPU machine with `pytest tests/test_gpu.py`.
"""

import pytest
import pytorch_lightning as pl
import torch

from prune_ready import results
from prune_ready.train import train
from tests.helpers import read_csv

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


class DeviceProbe(pl.Callback):
    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.x_device = batch[0][0].device
        self.data_device = trainer.datamodule.splits["train"].x.device


@pytest.mark.parametrize(
    "overrides",
    [[], ["trainer.precision=bf16-mixed"], ["model.compile=true"]],
    ids=["fp32", "bf16", "compile"],
)
def test_gpu_run_keeps_data_on_the_device_and_masks_exact(make_cfg, tmp_path, overrides):
    cfg = make_cfg(
        "trainer=gpu",
        "data.train_subset=1200",
        "pruning.round_length=1ep",
        "pruning.rounds=2",
        *overrides,
    )
    probe = DeviceProbe()
    train(cfg, tmp_path, callbacks=[probe])
    assert probe.x_device.type == "cuda" and probe.data_device.type == "cuda"
    rows = read_csv(tmp_path / results.ROUNDS)
    assert [int(r["weights_remaining"]) for r in rows] == [266_200, 213_060, 170_538]
    assert float(rows[0]["test_acc"]) > 0.85
    final = torch.load(tmp_path / results.MASK, map_location="cpu")
    assert int(final["fc1"].sum()) == 150_528
