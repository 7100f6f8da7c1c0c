"""One progress bar per run: every training step of every round, with the round's latest numbers."""

import sys
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import ProgressBar
from tqdm import tqdm

from prune_ready.pruning.callback import Pruner


class RoundProgressBar(ProgressBar):
    """A single bar over the whole run (not one per epoch and per validation).

    The postfix shows the round, weights remaining and the last validation/test accuracy.
    tqdm redraws at most every `interval` seconds (a step costs ~1 µs), and at most once a
    minute when stderr is not a terminal (cluster logs).
    """

    def __init__(self, interval: float = 0.5) -> None:
        super().__init__()
        self.interval, self.enabled, self.bar = interval, True, None
        self.terminal = sys.stderr.isatty()

    def disable(self) -> None:
        self.enabled = False

    def enable(self) -> None:
        self.enabled = True

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        pruner = find_pruner(trainer)
        self.bar = tqdm(
            total=(pruner.rounds + 1) * pruner.steps_per_round if pruner else None,
            initial=trainer.global_step,
            # a resumed run starts at its checkpoint's round (Pruner.on_train_start ran first)
            desc=f"round {pruner.current_round(trainer.global_step)}/{pruner.rounds}"
            if pruner
            else "train",
            unit="step",
            disable=not self.enabled,
            dynamic_ncols=True,
            mininterval=self.interval if self.terminal else 60,
            file=sys.stderr,
        )

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: Any, outputs: Any, batch: list, *_: Any
    ) -> None:
        self.bar.update(len(batch))  # a chunk of minibatches: one step each

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        pruner = find_pruner(trainer)
        if self.bar is None or pruner is None or pruner.latest is None:
            return
        row = pruner.latest
        self.bar.set_description(f"round {row['round']}/{pruner.rounds}", refresh=False)
        self.bar.set_postfix(
            {
                "weights": f"{row['weights_remaining_pct']:.1f}%",
                "val_acc": f"{row['val_acc']:.4f}",
                "test_acc": f"{row['test_acc']:.4f}",
            },
            refresh=False,
        )
        if self.terminal:  # in a log file, tqdm's once-a-minute updates carry the new postfix
            self.bar.refresh()

    def on_train_end(self, *args: Any) -> None:
        if self.bar is not None:
            self.bar.close()


def find_pruner(trainer: pl.Trainer) -> Pruner | None:
    return next((c for c in trainer.callbacks if isinstance(c, Pruner)), None)
