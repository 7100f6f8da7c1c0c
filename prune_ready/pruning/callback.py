"""The prune-and-rewind callback: iterative magnitude pruning with resetting (IMP), and controls."""

import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor, nn

from prune_ready import diagnostics, results
from prune_ready.errors import Diverged, UserError
from prune_ready.inits import Init, initialize
from prune_ready.pruning import masks, methods
from prune_ready.seeding import generator

ScoreFn = Callable[[nn.Module, methods.Context], dict[str, Tensor]]
CONTROLS = ("none", "dense", "reinit", "random_prune")


class PruneRewind(pl.Callback):
    """Train in rounds; between rounds prune, rewind the survivors, and reset Adam.

    A round lasts `every_n_epochs` epochs or `every_n_iterations` iterations (one of them set).
    Round 0 trains the dense network. At the end of round r < `rounds` the callback
      1. appends one row to ``rounds.csv``: accuracies at the round's end, the early-stop point
         (the evaluation of minimum validation loss within the round) and weights remaining;
      2. removes the lowest-scoring surviving weights: `rates[kind]` of each layer's survivors
         (``scope="layerwise"``) or `global_rate` of all survivors (``scope="global"``), each
         rate compounded `prune_steps` times (one-shot pruning to what that many steps reach);
      3. resets every surviving weight and bias to the rewind point: θ0, or the weights after
         `rewind` epochs/iterations of round 0 (late rewinding, Frankle et al. 2019);
      4. clears the optimizer state (Adam moments), so each round trains like a fresh run.
    Pruned weights stay exactly zero: every optimizer step is followed by a re-masking (a
    step post-hook on the optimizer: one fused multiply, however the steps are batched).
    After every round but the last the whole training state is checkpointed (atomically), so a
    killed run resumes from its last completed round and ends with the same results.

    With `density` set, the network is first pruned at initialisation to exactly that fraction of
    its weights (SNIP, GraSP, SynFlow, random...), in `prune_iterations` steps of an exponential
    density schedule (SynFlow uses 100), the init's transform at rewind (if any) is applied to the
    survivors, and the network is trained; such runs usually have rounds=0 and so never rewind.
    With `finetune`, pruned networks keep their trained weights instead of being rewound
    (magnitude pruning *without* resetting, Han et al. 2015).

    `control` replaces one ingredient, to tell what matters (Frankle & Carbin 2019):
      ``dense``        never prune; every round retrains the dense network from the rewind point,
      ``reinit``       prune by magnitude, but draw fresh weights from the init scheme each round
                       (a new random stream per round) instead of rewinding,
      ``random_prune`` prune a random pattern at exactly the same per-layer rates.
    """

    def __init__(
        self,
        run_dir: str | Path,
        score: ScoreFn,
        rates: dict[str, float],
        scope: str = "layerwise",
        global_rate: float = 0.2,
        every_n_epochs: int | None = 5,
        every_n_iterations: int | None = None,
        eval_every_n_iterations: int = 1000,
        rounds: int = 20,
        rewind: int = 0,
        prune_steps: int = 1,
        control: str = "none",
        density: float | None = None,
        prune_iterations: int = 1,
        score_batch: int = 256,
        finetune: bool = False,
        name: str = "imp",
        seed: int = 0,
        init: Init | None = None,
    ) -> None:
        if (every_n_epochs is None) == (every_n_iterations is None):
            raise UserError(
                "set exactly one of pruning.every_n_epochs and pruning.every_n_iterations "
                f"(got {every_n_epochs} and {every_n_iterations}); set the other to null"
            )
        self.unit = "epoch" if every_n_epochs is not None else "iteration"
        self.length = every_n_epochs if every_n_epochs is not None else every_n_iterations
        self.eval_every = 1 if self.unit == "epoch" else eval_every_n_iterations
        if self.length < 1:
            raise UserError(f"pruning.every_n_{self.unit}s={self.length} must be at least 1")
        if self.eval_every < 1 or self.length % self.eval_every:
            raise UserError(
                f"pruning.eval_every_n_iterations={eval_every_n_iterations} must be at least 1 "
                f"and divide every_n_iterations={self.length}"
            )
        if rounds < 0:
            raise UserError(f"pruning.rounds={rounds} must be 0 (dense) or more")
        if scope not in ("layerwise", "global"):
            raise UserError(f"pruning.scope={scope!r} must be 'layerwise' or 'global'")
        if control not in CONTROLS:
            raise UserError(f"pruning.control={control!r} must be one of {', '.join(CONTROLS)}")
        if control == "reinit" and init is None:
            raise UserError("pruning.control=reinit needs the run's init scheme")
        if density is not None and not 0 < density < 1:
            raise UserError(f"pruning.density={density} must be in (0, 1): the fraction kept")
        if prune_iterations < 1:
            raise UserError(f"pruning.prune_iterations={prune_iterations} must be at least 1")
        if prune_steps < 1:
            raise UserError(f"pruning.prune_steps={prune_steps} must be at least 1")
        if rounds and control != "dense":
            used = {"global_rate": global_rate} if scope == "global" else dict(rates)
            for key, rate in used.items():
                if not 0 < rate < 1:
                    raise UserError(f"pruning rate {key}={rate} must be in (0, 1)")
        if not 0 <= rewind < self.length or rewind % self.eval_every:
            raise UserError(
                f"pruning.rewind={rewind} must be in [0, {self.length}) {self.unit}s into round 0 "
                f"and a multiple of the {self.eval_every} between evaluations (θk is taken at one)"
            )
        self.name, self.run_dir, self.seed, self.init = name, Path(run_dir), seed, init
        self.score, self.rates, self.scope = score, dict(rates), scope
        self.global_rate, self.prune_steps, self.control = global_rate, prune_steps, control
        self.rounds, self.rewind, self.finetune = rounds, rewind, finetune
        self.density, self.prune_iterations = density, prune_iterations
        self.score_batch = score_batch
        self.round_rows: list[dict[str, Any]] = []
        self.epoch_rows: list[dict[str, Any]] = []
        self.rewind_state: dict[str, Tensor] = {}
        self.round_masks: dict[int, dict[str, Tensor]] = {}
        self.round_weights: dict[int, dict[str, Tensor]] = {}
        self.diagnostic_rows: list[dict[str, Any]] = []
        self.elapsed = 0.0  # seconds trained before a resume

    @property
    def steps_per_evaluation(self) -> int | None:
        """Training steps between evaluations; None: one data epoch. Lightning's epochs are cut
        to this length (see data.StepBatches), so every evaluation ends a Lightning epoch."""
        return None if self.unit == "epoch" else self.eval_every

    @property
    def trainer_limits(self) -> dict[str, Any]:
        """The Trainer arguments that make it train and evaluate on this schedule."""
        evaluations = (self.rounds + 1) * self.length // self.eval_every
        return {"max_epochs": evaluations, "max_steps": -1, "check_val_every_n_epoch": 1}

    def compounded(self, rate: float) -> float:
        return 1 - (1 - rate) ** self.prune_steps

    def layer_rates(self, net: nn.Module) -> dict[str, float]:
        """Each layer's rate per pruning step, from the rates per layer kind."""
        kinds = masks.layer_kinds(net)
        missing = sorted(set(kinds.values()) - set(self.rates))
        if missing and self.rounds and self.control != "dense" and self.scope == "layerwise":
            raise UserError(f"pruning.rates gives no rate for layer kind(s) {missing}")
        return {name: self.compounded(self.rates.get(kind, 0.0)) for name, kind in kinds.items()}

    def check(self, net: nn.Module) -> None:
        """Fail before training when the schedule cannot run on `net` (e.g. prunes everything)."""
        if not self.rounds or self.control == "dense":
            return
        sizes = {name: m.weight.numel() for name, m in masks.prunable_layers(net).items()}
        if self.scope == "global":
            sizes = {"all layers": sum(sizes.values())}
            rates = {"all layers": self.compounded(self.global_rate)}
        else:
            rates = self.layer_rates(net)
        for name, alive in sizes.items():
            for round_ in range(1, self.rounds + 1):
                alive -= masks.count_to_prune(rates[name], alive)
                if alive == 0:
                    raise UserError(
                        f"pruning.rounds={self.rounds} would prune every weight of {name} by "
                        f"round {round_}: use fewer rounds or lower rates"
                    )

    def state_dict(self) -> dict[str, Any]:
        return {
            "round_rows": self.round_rows,
            "epoch_rows": self.epoch_rows,
            "rewind_state": self.rewind_state,
            "round_masks": self.round_masks,
            "round_weights": self.round_weights,
            "diagnostic_rows": self.diagnostic_rows,
            "elapsed": time.perf_counter() - self.started,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.round_rows, self.epoch_rows = state["round_rows"], state["epoch_rows"]
        self.rewind_state, self.round_masks = state["rewind_state"], state["round_masks"]
        self.round_weights = state.get("round_weights", {})  # none in older checkpoints
        self.diagnostic_rows = state["diagnostic_rows"]
        self.elapsed = state["elapsed"]

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        masks.add_masks(pl_module.net)  # before a checkpoint's weights and masks are restored

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        net = pl_module.net
        self.masked = masks.MaskedWeights(net)
        self.hooks = [  # pruned weights back to zero after every optimizer step
            optimizer.register_step_post_hook(lambda *_: self.masked.apply_())
            for optimizer in trainer.optimizers
        ]
        self.started = time.perf_counter() - self.elapsed
        if not self.rewind_state:
            self.rewind_state = snapshot(net)
            results.save_atomic(self.rewind_state, self.run_dir / results.INIT)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.steps_per_epoch = getattr(
            trainer.datamodule, "batches_per_data_epoch", trainer.num_training_batches
        )
        self.steps_per_round = self.length * (self.steps_per_epoch if self.unit == "epoch" else 1)
        self.eval_steps = self.eval_every * (self.steps_per_epoch if self.unit == "epoch" else 1)
        self.rewind_step = self.rewind * (self.steps_per_epoch if self.unit == "epoch" else 1)
        if not self.diagnostic_rows:  # a fresh run: prune at init if asked, measure round 0
            if self.density is not None:
                self.prune_at_init(trainer, pl_module.net)
            self.diagnose(trainer, pl_module.net, 0)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        net = pl_module.net
        step = trainer.global_step
        round_ = (step - 1) // self.steps_per_round
        total, per_layer, alive = masks.remaining(net)
        metrics = {k: round(float(v), 6) for k, v in trainer.callback_metrics.items()}
        for key in ("train/loss", "val/loss"):
            if key in metrics and not math.isfinite(metrics[key]):
                raise Diverged(
                    f"{key} is {metrics[key]} at iteration {step} (round {round_}); the run "
                    "stopped: try a lower learning rate (model.lr) or another init"
                )
        self.epoch_rows.append(
            {
                "epoch": self.epochs(step),
                "iteration": step,
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
            logger.log_metrics({"weights_remaining_pct": 100 * total, "round": round_}, step)
        if self.rewind and step == self.rewind_step:  # θk, for late rewinding
            self.rewind_state = snapshot(net)
            results.save_atomic(self.rewind_state, self.run_dir / results.REWIND)
        if step % self.steps_per_round:
            return
        self.end_round(round_, per_layer)
        self.save_round_masks(net, round_)
        self.save_round_weights(net, round_)
        if round_ < self.rounds:
            self.prune(trainer, net, round_)
            self.reset(net, round_ + 1)
            for optimizer in trainer.optimizers:
                optimizer.state.clear()
            self.diagnose(trainer, net, round_ + 1)
            save_checkpoint(trainer, self.run_dir / results.CHECKPOINT)

    def epochs(self, step: int) -> int | float:
        """Epochs trained after `step` iterations: whole, or to 4 decimals mid-epoch."""
        epochs = step / self.steps_per_epoch
        return int(epochs) if epochs.is_integer() else round(epochs, 4)

    def end_round(self, round_: int, per_layer: dict[str, float]) -> None:
        """Append this round's row to rounds.csv."""
        in_round = [row for row in self.epoch_rows if row["round"] == round_]
        last = in_round[-1]
        best = min(in_round, key=lambda row: row["val_loss"])  # first minimum on ties
        best_step = (in_round.index(best) + 1) * self.eval_steps
        self.round_rows.append(
            {
                "round": round_,
                "control": self.control,
                "epoch": last["epoch"],
                "iteration": last["iteration"],
                "weights_remaining": last["weights_remaining"],
                "weights_remaining_pct": last["weights_remaining_pct"],
                "val_loss": last["val_loss"],
                "val_acc": last["val_acc"],
                "test_acc": last["test_acc"],
                "early_stop_epoch": self.epochs(best_step),
                "early_stop_iteration": best_step,
                "test_acc_at_early_stop": best["test_acc"],
                **{f"remaining_pct/{name}": round(100 * f, 4) for name, f in per_layer.items()},
            }
        )
        results.write_csv_atomic(self.run_dir / results.ROUNDS, self.round_rows)

    def save_round_masks(self, net: nn.Module, round_: int) -> None:
        """Keep the masks this round trained with (for mask-overlap diagnostics)."""
        layer_masks = masks.get_masks(net)
        self.round_masks[round_] = {n: results.pack_mask(m.cpu()) for n, m in layer_masks.items()}
        shapes = {name: tuple(m.shape) for name, m in layer_masks.items()}
        results.save_atomic(
            {"shapes": shapes, "rounds": self.round_masks}, self.run_dir / results.ROUND_MASKS
        )

    def save_round_weights(self, net: nn.Module, round_: int) -> None:
        """Keep the weights this round trained to (what `prune_ready.export` compacts)."""
        params = dict(net.named_parameters())
        self.round_weights[round_] = results.survivor_values(params, masks.get_masks(net))
        results.save_atomic(self.round_weights, self.run_dir / results.ROUND_WEIGHTS)

    def context(self, trainer: pl.Trainer, net: nn.Module, round_: int) -> methods.Context:
        """The random stream and the batch a pruning step at the end of `round_` may use."""
        context = methods.Context(generator(self.seed, f"prune-{round_}"), round_)
        sample = getattr(trainer.datamodule, "random_batch", None)
        if sample is not None:
            device = next(net.parameters()).device
            batch = sample(self.score_batch, generator(self.seed, f"score-batch-{round_}"))
            context.batch = tuple(t.to(device) for t in batch)
        return context

    @torch.no_grad()
    def prune_at_init(self, trainer: pl.Trainer, net: nn.Module) -> None:
        """Prune θ0 to exactly `density`, re-scoring after each step of an exponential schedule."""
        context = self.context(trainer, net, -1)
        for step in range(1, self.prune_iterations + 1):
            target = self.density ** (step / self.prune_iterations)
            masks.prune_to_density(net, self.score(net, context), target, self.scope)
        self.transform_survivors(net)  # pruning zeroed the removed weights already

    @torch.no_grad()
    def prune(self, trainer: pl.Trainer, net: nn.Module, round_: int) -> None:
        """Prune at the end of `round_` (nothing for the dense control)."""
        if self.control == "dense":
            return
        score = methods.random if self.control == "random_prune" else self.score
        scores = score(net, self.context(trainer, net, round_))
        if self.scope == "global":
            masks.prune_global(net, scores, self.compounded(self.global_rate))
        else:
            masks.prune_layerwise(net, scores, self.layer_rates(net))

    @torch.no_grad()
    def reset(self, net: nn.Module, round_: int) -> None:
        """Set the survivors' values for `round_`: the rewind point, fresh ones (reinit), or the
        trained ones (finetune); then the init's own transform at rewind, if it has one."""
        if self.finetune:
            return  # keep the trained survivors (pruning already zeroed the rest)
        if self.control == "reinit":
            initialize(
                net, self.init.scheme, self.seed, stream=f"reinit-{round_}", scale=self.init.scale
            )
        else:
            for name, param in net.named_parameters():
                param.copy_(self.rewind_state[name])
        self.masked.apply_()
        self.transform_survivors(net)

    def transform_survivors(self, net: nn.Module) -> None:
        """The init's own transform of the sparse starting weights (e.g. signed_constant), if it
        has one: at every rewind, and after pruning at initialisation."""
        if self.init is None or self.init.at_rewind is None:
            return
        for layer in masks.prunable_layers(net).values():
            self.init.at_rewind(layer.weight, layer.weight_mask)
        self.masked.apply_()

    def diagnose(self, trainer: pl.Trainer, net: nn.Module, round_: int) -> None:
        """Measure the network at the start of `round_` (see prune_ready.diagnostics)."""
        fixed_batch = getattr(trainer.datamodule, "fixed_batch", None)
        if self.init is None or fixed_batch is None:
            return
        device = next(net.parameters()).device
        x, y = (t.to(device) for t in fixed_batch())
        self.diagnostic_rows += diagnostics.round_diagnostics(
            net, (x, y), self.init.formula, self.init.gain, round_
        )
        results.write_csv_atomic(self.run_dir / results.DIAGNOSTICS, self.diagnostic_rows)

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        for hook in getattr(self, "hooks", []):
            hook.remove()

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        results.save_atomic(masks.get_masks(pl_module.net), self.run_dir / results.MASK)
        (self.run_dir / results.CHECKPOINT).unlink(missing_ok=True)  # finished: nothing to resume
        print(format_rounds(self.round_rows))


def save_checkpoint(trainer: pl.Trainer, path: Path) -> None:
    """trainer.save_checkpoint, atomically: a kill mid-write leaves the previous checkpoint."""
    tmp = path.with_name(f".{path.name}.tmp")
    trainer.save_checkpoint(tmp, weights_only=False)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def snapshot(net: nn.Module) -> dict[str, Tensor]:
    """A detached copy of every parameter (the rewind target)."""
    return {name: p.detach().clone() for name, p in net.named_parameters()}


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
