"""A callback for the preemption test: the first attempt of each run stalls at the start of
round 1 (round 0 is checkpointed by then) and says its process id in a file named after the run,
so that the test can send it the preemption signal there, mid-run (trainer.callbacks=[...])."""

import os
import time
from pathlib import Path

import pytorch_lightning as pl


class StallOnce(pl.Callback):
    def __init__(self, marks: str, seconds: float = 300) -> None:
        self.marks, self.seconds = Path(marks), seconds

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        mark = self.marks / Path(trainer.default_root_dir).name  # seed=<s>: one per run
        if trainer.current_epoch == 1 and not mark.exists():
            mark.write_text(f"{os.getpid()}\n")
            time.sleep(self.seconds)  # until the signal
