"""A callback for the DDP tests: each process writes a hash of its masks and weights at the
start of every round, to a folder outside the run directory (trainer.callbacks=[...])."""

import hashlib
from pathlib import Path

import pytorch_lightning as pl

from prune_ready.pruning import masks


class MaskHashes(pl.Callback):
    def __init__(self, out: str) -> None:
        self.out = Path(out)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        net, digest = pl_module.net, hashlib.sha256()
        for mask in masks.get_masks(net).values():
            digest.update(mask.cpu().numpy().tobytes())
        for param in net.parameters():
            digest.update(param.detach().cpu().numpy().tobytes())
        with open(self.out / f"rank{trainer.global_rank}.txt", "a") as f:
            f.write(f"{trainer.global_step} {digest.hexdigest()}\n")
