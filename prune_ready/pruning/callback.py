"""The prune-and-rewind callback: iterative magnitude pruning with resetting (IMP)."""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor, nn

from prune_ready import results
from prune_ready.errors import UserError
from prune_ready.pruning import masks

ScoreFn = Callable[[nn.Module], dict[str, Tensor]]


class PruneRewind(pl.Callback):
    """Every `every_n_epochs` epochs: record the round, prune, rewind the survivors, reset Adam.

    With ``score=None`` nothing is pruned: every round retrains the dense network from the rewind
    point (the dense baseline, same training length as the pruned runs).

    Round 0 trains the dense network. At the end of round r < `rounds` the callback
      1. appends one row to ``rounds.csv`` (accuracies of the last epoch, the early-stop epoch =
         the epoch of minimum validation loss within the round, and weights remaining),
      2. removes the lowest-scoring surviving weights: `rates[kind]` of each layer's survivors
         (``scope="layerwise"``), or `global_rate` of all survivors (``scope="global"``),
      3. resets every surviving weight (and bias) to its value at the rewind point: θ0, or the
         weights after `rewind_epoch` epochs of round 0 (late rewinding),
      4. clears the optimizer state (Adam moments), so each round trains like a fresh run.
    Pruned weights stay exactly zero: every optimizer step is followed by a re-masking.
    """

    def __init__(
        self,
        run_dir: str | Path,
        score: ScoreFn | None,
        rates: dict[str, float],
        scope: str = "layerwise",
        global_rate: float = 0.2,
        every_n_epochs: int = 5,
        rounds: int = 20,
        rewind_epoch: int = 0,
        name: str = "imp",
    ) -> None:
        if every_n_epochs < 1:
            raise UserError(f"pruning.every_n_epochs={every_n_epochs} must be at least 1")
        if rounds < 0:
            raise UserError(f"pruning.rounds={rounds} must be 0 (dense) or more")
        if scope not in ("layerwise", "global"):
            raise UserError(f"pruning.scope={scope!r} must be 'layerwise' or 'global'")
        used = {"global_rate": global_rate} if scope == "global" else dict(rates)
        for key, rate in used.items():
            if rounds and score is not None and not 0 < rate < 1:
                raise UserError(f"pruning rate {key}={rate} must be in (0, 1)")
        if not 0 <= rewind_epoch < every_n_epochs:
            raise UserError(
                f"pruning.rewind_epoch={rewind_epoch} must be in [0, every_n_epochs={every_n_epochs})"
            )
        self.name, self.run_dir = name, Path(run_dir)
        self.score, self.rates, self.scope, self.global_rate = (
            score,
            dict(rates),
            scope,
            global_rate,
        )
        self.every_n_epochs, self.rounds, self.rewind_epoch = every_n_epochs, rounds, rewind_epoch
        self.round_rows: list[dict[str, Any]] = []
        self.epoch_rows: list[dict[str, Any]] = []
        self.rewind_state: dict[str, Tensor] = {}

    @property
    def max_epochs(self) -> int:
        return (self.rounds + 1) * self.every_n_epochs

    def layer_rates(self, net: nn.Module) -> dict[str, float]:
        kinds = masks.layer_kinds(net)
        missing = sorted(set(kinds.values()) - set(self.rates))
        if missing and self.rounds and self.score is not None and self.scope == "layerwise":
            raise UserError(
                f"pruning rates give no rate for layer kind(s) {missing}: set pruning.rates"
            )
        return {name: self.rates.get(kind, 0.0) for name, kind in kinds.items()}

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        net = pl_module.net
        masks.add_masks(net)
        self.masked = masks.MaskedWeights(net)
        self.layer_rates(net)
        self.started = time.perf_counter()
        if not self.rewind_state:
            self.rewind_state = snapshot(net)
            results.save_atomic(self.rewind_state, self.run_dir / results.INIT)

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        self.masked.apply_()

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        net = pl_module.net
        epoch = trainer.current_epoch + 1  # epochs completed, validation runs at an epoch's end
        round_ = (epoch - 1) // self.every_n_epochs
        total, per_layer, alive = masks.remaining(net)
        metrics = {k: round(float(v), 6) for k, v in trainer.callback_metrics.items()}
        self.epoch_rows.append(
            {
                "epoch": epoch,
                "iteration": trainer.global_step,
                "round": round_,
                "weights_remaining": alive,
                "weights_remaining_pct": round(100 * total, 4),
                "train_loss": metrics.get("train/loss"),
                "val_loss": metrics["val/loss"],
                "val_acc": metrics["val/acc"],
                "test_acc": metrics["test/acc"],
                "seconds": round(time.perf_counter() - self.started, 3),
            }
        )
        results.write_csv_atomic(self.run_dir / results.EPOCHS, self.epoch_rows)
        for logger in trainer.loggers:
            logger.log_metrics(
                {"weights_remaining_pct": 100 * total, "round": round_}, trainer.global_step
            )
        if self.rewind_epoch and epoch == self.rewind_epoch:
            self.rewind_state = snapshot(net)
            results.save_atomic(self.rewind_state, self.run_dir / "rewind.pt")
        if epoch % self.every_n_epochs:
            return
        self.end_round(round_, per_layer)
        if round_ < self.rounds:
            self.prune_and_rewind(trainer, net)

    def end_round(self, round_: int, per_layer: dict[str, float]) -> None:
        """Append this round's row to rounds.csv."""
        in_round = [row for row in self.epoch_rows if row["round"] == round_]
        last = in_round[-1]
        best = min(in_round, key=lambda row: row["val_loss"])  # first minimum on ties
        self.round_rows.append(
            {
                "round": round_,
                "epoch": last["epoch"],
                "iteration": last["iteration"],
                "weights_remaining": last["weights_remaining"],
                "weights_remaining_pct": last["weights_remaining_pct"],
                "val_loss": last["val_loss"],
                "val_acc": last["val_acc"],
                "test_acc": last["test_acc"],
                "early_stop_epoch": in_round.index(best) + 1,
                "test_acc_at_early_stop": best["test_acc"],
                **{f"remaining_pct/{name}": round(100 * f, 4) for name, f in per_layer.items()},
            }
        )
        results.write_csv_atomic(self.run_dir / results.ROUNDS, self.round_rows)

    @torch.no_grad()
    def prune_and_rewind(self, trainer: pl.Trainer, net: nn.Module) -> None:
        if self.score is not None:  # None: the dense control, rewound but never pruned
            scores = self.score(net)
            if self.scope == "global":
                masks.prune_global(net, scores, self.global_rate)
            else:
                masks.prune_layerwise(net, scores, self.layer_rates(net))
        for name, param in net.named_parameters():
            param.copy_(self.rewind_state[name])
        self.masked.apply_()
        for optimizer in trainer.optimizers:
            optimizer.state.clear()

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        results.save_atomic(masks.get_masks(pl_module.net), self.run_dir / results.MASK)
        print(format_rounds(self.round_rows))


def snapshot(net: nn.Module) -> dict[str, Tensor]:
    """A detached copy of every parameter (the rewind target)."""
    return {name: p.detach().clone() for name, p in net.named_parameters()}


def format_rounds(rows: list[dict[str, Any]]) -> str:
    """The rounds as a small text table for the end of a run."""
    header = f"{'round':>5} {'weights %':>9} {'val acc':>8} {'test acc':>8} {'early stop':>10} {'test@es':>8}"
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['round']:>5} {r['weights_remaining_pct']:>9.2f} {r['val_acc']:>8.4f} "
            f"{r['test_acc']:>8.4f} {r['early_stop_epoch']:>10} {r['test_acc_at_early_stop']:>8.4f}"
        )
    return "\n".join(lines)
