"""A callback for the signal tests: the first time any run reaches round 1 (round 0 is
checkpointed by then), its process sends itself a signal, as `kill` or Ctrl+C would
(trainer.callbacks=[...]); a file named `mark` says it happened."""

import os
import signal
from pathlib import Path

import pytorch_lightning as pl


class SignalOnce(pl.Callback):
    def __init__(self, mark: str, signal_name: str) -> None:
        self.mark, self.signal = Path(mark), signal.Signals[signal_name]

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.current_epoch == 1 and not self.mark.exists():
            self.mark.write_text(f"{os.getpid()}\n")
            if self.signal is signal.SIGINT:  # a suite started in the background inherits
                signal.signal(signal.SIGINT, signal.default_int_handler)  # SIGINT ignored
            os.kill(os.getpid(), self.signal)
