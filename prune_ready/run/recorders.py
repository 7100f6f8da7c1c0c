"""What a run writes into its directory, one small callback per job, each reacting to the round
events the pruning core sends (prune_ready.pruning.callback.Pruner). Which ones a run has, in
which order, is the `recorders` config group (conf/recorders/default.yaml; a recorder from
outside the package is a subclass of Recorder named there). The events:

  on_run_start(core, trainer, net)            a fresh run, before training: net holds θ0
  on_evaluation(core, trainer, net, round, step)   after every evaluation
  on_rewind_point(core, trainer, state)       θk was taken (late rewinding)
  on_round_end(core, trainer, net, round)     a round's training ended (before any pruning)
  on_round_start(core, trainer, net, round)   the network a round starts from is ready
  on_resume(core, trainer, round)             a run restored from its checkpoint resumes at the
                                              start of `round` (its round-start events are past)

They are Lightning callbacks too, so their state is checkpointed with the run and Lightning's
own hooks (e.g. on_fit_end) reach them. Only the global-zero process writes files.
"""

import logging
import math
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytorch_lightning as pl
from torch import Tensor, nn

from prune_ready import checkpoints, diagnostics, learning, predictors, results, run_format
from prune_ready.errors import Diverged
from prune_ready.pruning import masks

if TYPE_CHECKING:
    from prune_ready.pruning.callback import Pruner

log = logging.getLogger(__name__)


class Recorder(pl.Callback):
    """Default: ignore every round event."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)

    def on_run_start(self, core: "Pruner", trainer: pl.Trainer, net: nn.Module) -> None: ...

    def on_evaluation(
        self, core: "Pruner", trainer: pl.Trainer, net: nn.Module, round_: int, step: int
    ) -> None: ...

    def on_rewind_point(
        self, core: "Pruner", trainer: pl.Trainer, state: dict[str, Tensor]
    ) -> None: ...

    def on_round_end(
        self, core: "Pruner", trainer: pl.Trainer, net: nn.Module, round_: int
    ) -> None: ...

    def on_round_start(
        self, core: "Pruner", trainer: pl.Trainer, net: nn.Module, round_: int
    ) -> None: ...

    def on_resume(self, core: "Pruner", trainer: pl.Trainer, round_: int) -> None: ...


class RoundsLog(Recorder):
    """metrics.csv (a row per evaluation, with `lr`: the learning rate of the last step before
    it), rounds.csv (a row per round, with the early-stop point: the evaluation of minimum
    validation loss within the round), TensorBoard's weights remaining and learning rate
    (train/lr), and the table of rounds printed at the end."""

    def __init__(self, run_dir: str | Path) -> None:
        super().__init__(run_dir)
        self.epoch_rows: list[dict[str, Any]] = []
        self.round_rows: list[dict[str, Any]] = []
        self.elapsed = 0.0  # seconds trained before a resume
        self.started = time.perf_counter()

    def state_dict(self) -> dict[str, Any]:
        return {
            "epoch_rows": self.epoch_rows,
            "round_rows": self.round_rows,
            "elapsed": time.perf_counter() - self.started,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch_rows, self.round_rows = state["epoch_rows"], state["round_rows"]
        self.elapsed = state["elapsed"]

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.started = time.perf_counter() - self.elapsed

    def on_evaluation(
        self, core: "Pruner", trainer: pl.Trainer, net: nn.Module, round_: int, step: int
    ) -> None:
        total, _, alive = masks.remaining(net)
        lr = float(f"{trainer.optimizers[0].param_groups[0]['lr']:.6g}")
        metrics = {k: round(float(v), 6) for k, v in trainer.callback_metrics.items()}
        for key in ("train/loss", "val/loss"):
            if key in metrics and not math.isfinite(metrics[key]):
                raise Diverged(
                    f"{key} is {metrics[key]} at iteration {step} (round {round_}); the run "
                    "stopped: try a lower learning rate (optimizer.lr: model.lr under adam and "
                    "adamw) or another init"
                )
        values = {
            "epoch": core.epochs(step),
            "iteration": step,
            "round": round_,
            "weights_remaining": alive,
            "weights_remaining_pct": round(100 * total, 4),
            "train_loss": metrics.get("train/loss"),
            "val_loss": metrics["val/loss"],
            "val_acc": metrics["val/acc"],
            "test_acc": metrics["test/acc"],
            "lr": lr,
            "seconds": round(time.perf_counter() - self.started, 3),
        }
        self.epoch_rows.append(run_format.row(run_format.EPOCH_COLUMNS, values))
        if trainer.is_global_zero:
            results.write_csv_atomic(self.run_dir / results.EPOCHS, self.epoch_rows)
        for logger in trainer.loggers:
            logger.log_metrics(
                {"weights_remaining_pct": 100 * total, "round": round_, "train/lr": lr}, step
            )

    def on_round_end(
        self, core: "Pruner", trainer: pl.Trainer, net: nn.Module, round_: int
    ) -> None:
        _, per_layer, _ = masks.remaining(net)
        in_round = [row for row in self.epoch_rows if row["round"] == round_]
        last = in_round[-1]
        best = min(in_round, key=lambda row: row["val_loss"])  # first minimum on ties
        best_step = (in_round.index(best) + 1) * core.eval_steps
        values = {
            "round": round_,
            "control": core.control,
            "epoch": last["epoch"],
            "iteration": last["iteration"],
            "weights_remaining": last["weights_remaining"],
            "weights_remaining_pct": last["weights_remaining_pct"],
            "val_loss": last["val_loss"],
            "val_acc": last["val_acc"],
            "test_acc": last["test_acc"],
            "early_stop_epoch": core.epochs(best_step),
            "early_stop_iteration": best_step,
            "test_acc_at_early_stop": best["test_acc"],
            **{run_format.REMAINING + n: round(100 * f, 4) for n, f in per_layer.items()},
        }
        columns = (*run_format.ROUND_COLUMNS, *(run_format.REMAINING + n for n in per_layer))
        self.round_rows.append(run_format.row(columns, values))
        if trainer.is_global_zero:
            results.write_csv_atomic(self.run_dir / results.ROUNDS, self.round_rows)
        learning.check_learned(self.round_rows[-1], trainer.datamodule.num_classes)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.is_global_zero:
            print(format_rounds(self.round_rows))


class Archive(Recorder):
    """The weights and masks: θ0 (init.pt), θk (rewind.pt), every round's masks (bit-packed)
    and trained survivors, and the final masks (mask.pt)."""

    def __init__(self, run_dir: str | Path) -> None:
        super().__init__(run_dir)
        self.round_masks: dict[int, dict[str, Tensor]] = {}
        self.round_weights: dict[int, dict[str, Tensor]] = {}

    def state_dict(self) -> dict[str, Any]:
        return {"round_masks": self.round_masks, "round_weights": self.round_weights}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.round_masks, self.round_weights = state["round_masks"], state["round_weights"]

    def on_run_start(self, core: "Pruner", trainer: pl.Trainer, net: nn.Module) -> None:
        if trainer.is_global_zero:
            theta0 = {name: p.detach().clone() for name, p in net.named_parameters()}
            results.save_atomic(theta0, self.run_dir / results.INIT)

    def on_rewind_point(
        self, core: "Pruner", trainer: pl.Trainer, state: dict[str, Tensor]
    ) -> None:
        if trainer.is_global_zero:
            results.save_atomic(state, self.run_dir / results.REWIND)

    def on_round_end(
        self, core: "Pruner", trainer: pl.Trainer, net: nn.Module, round_: int
    ) -> None:
        layer_masks = masks.get_masks(net)
        self.round_masks[round_] = {n: results.pack_mask(m.cpu()) for n, m in layer_masks.items()}
        params = dict(net.named_parameters())
        self.round_weights[round_] = results.survivor_values(params, layer_masks)
        if trainer.is_global_zero:
            shapes = {name: tuple(m.shape) for name, m in layer_masks.items()}
            results.save_atomic(
                {"shapes": shapes, "rounds": self.round_masks}, self.run_dir / results.ROUND_MASKS
            )
            results.save_atomic(self.round_weights, self.run_dir / results.ROUND_WEIGHTS)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.is_global_zero:
            results.save_atomic(masks.get_masks(pl_module.net), self.run_dir / results.MASK)


class Diagnostics(Recorder):
    """diagnostics.csv: the network every round starts from, measured (prune_ready.diagnostics)."""

    def __init__(self, run_dir: str | Path) -> None:
        super().__init__(run_dir)
        self.rows: list[dict[str, Any]] = []

    def state_dict(self) -> dict[str, Any]:
        return {"diagnostic_rows": self.rows}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rows = state["diagnostic_rows"]

    def on_round_start(
        self, core: "Pruner", trainer: pl.Trainer, net: nn.Module, round_: int
    ) -> None:
        fixed_batch = getattr(trainer.datamodule, "fixed_batch", None)
        if core.init is None or fixed_batch is None:
            return
        device = next(net.parameters()).device
        x, y = (t.to(device) for t in fixed_batch())
        self.rows += diagnostics.round_diagnostics(
            net, (x, y), core.init.formula, core.init.gain, round_
        )
        if trainer.is_global_zero:
            results.write_csv_atomic(self.run_dir / results.DIAGNOSTICS, self.rows)


class Predictors(Recorder):
    """predictors.csv: prune-readiness statistics of the dense θ0 (prune_ready.predictors)."""

    def on_run_start(self, core: "Pruner", trainer: pl.Trainer, net: nn.Module) -> None:
        fixed_batch = getattr(trainer.datamodule, "fixed_batch", None)
        if fixed_batch is None or not trainer.is_global_zero:
            return
        device = next(net.parameters()).device
        row = predictors.statistics(net, tuple(t.to(device) for t in fixed_batch()))
        results.write_csv_atomic(self.run_dir / results.PREDICTORS, [row])


class Checkpoint(Recorder):
    """checkpoint.ckpt: the whole training state once a round is ready to train (so a killed run
    resumes from its last completed round), deleted when the run finishes."""

    def on_round_start(
        self, core: "Pruner", trainer: pl.Trainer, net: nn.Module, round_: int
    ) -> None:
        if round_ > 0:
            save_checkpoint(trainer, self.run_dir / results.CHECKPOINT)

    def on_resume(self, core: "Pruner", trainer: pl.Trainer, round_: int) -> None:
        """Say which round the run resumes at: the checkpoint's, not the last row of rounds.csv
        (a kill between a round's row and the next checkpoint trains that round again)."""
        if trainer.is_global_zero:
            log.info(
                "resuming %s after round %d: round %d of %d starts again at step %d",
                self.run_dir,
                round_ - 1,
                round_,
                core.rounds,
                trainer.global_step,
            )

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.is_global_zero:
            (self.run_dir / results.CHECKPOINT).unlink(missing_ok=True)


def save_checkpoint(trainer: pl.Trainer, path: Path) -> None:
    """trainer.save_checkpoint, atomically: a kill mid-write leaves the previous checkpoint.
    Every process takes part (Lightning gathers the state); the global-zero one writes."""
    tmp = path.with_name(f".{path.name}{results.TEMP}")
    try:
        trainer.save_checkpoint(tmp, weights_only=False)
        if trainer.is_global_zero:
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            checkpoints.seal(tmp, path)  # its checksum, verified before a resume
            os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk leaves no half-written checkpoint behind
        raise


def format_rounds(rows: list[dict[str, Any]]) -> str:
    """The rounds as a small text table for the end of a run."""
    header = (
        f"{'round':>5} {'weights %':>9} {'val acc':>8} {'test acc':>8} "
        f"{'early stop (it)':>15} {'test@es':>8}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['round']:>5} {r['weights_remaining_pct']:>9.2f} {r['val_acc']:>8.4f} "
            f"{r['test_acc']:>8.4f} {r['early_stop_iteration']:>15} "
            f"{r['test_acc_at_early_stop']:>8.4f}"
        )
    return "\n".join(lines)
