"""The pruning core: a method composed of parts, and the Lightning callback that drives it.

A method (`conf/pruning/*.yaml`, instantiated as a `Pruning`) is
  schedule   when the mask changes: at round ends (IMP), at initialisation (PaI), every N steps
             (gradual pruning, RigL)                               prune_ready.pruning.schedules
  target     how much and where: per-layer rates, a global rate, an exact density, a density
             schedule                                              prune_ready.pruning.targets
  score      which weights: magnitude, SNIP, GraSP, SynFlow, random   prune_ready.pruning.methods
  update     (optional) a mask update other than "prune the lowest scores", e.g. RigL's
             drop-and-regrow; by default Prune(score, target)
  reset      what the survivors start the next round from: θ0/θk, fresh draws, their trained
             values                                                prune_ready.pruning.resets
Training runs in `rounds` + 1 rounds of `round_length` (a Step: "5ep" or "50000it"), evaluated
every `eval_every`. At the end of a round r < rounds the schedule's round-end event (if any) is
applied, then the reset, the init's transform at rewind (if it has one), and the optimizer's
state (Adam's moments, SGD's momentum) is cleared, so each round trains like a fresh run. Pruned
weights stay exactly zero: every optimizer step is followed by a re-masking (one fused multiply
in a step post-hook). A learning-rate schedule (prune_ready.recipe) sets the rate before every
step (a step pre-hook), at the schedule iteration the global step maps to: a round's iteration i
is the schedule's `reset.lr_start(...) + i` (round 0 starts at 0), so the schedule restarts with
each reset, at k after rewinding to θk, and a resumed run takes the same rates.
What is written to the run directory is the job of the run's recorders (prune_ready.run), which
the core sends round events to; this package knows nothing of run directories.

`control` swaps one ingredient, to tell what matters (Frankle & Carbin 2019); the controls that
need a mask are branches of the finished ticket run of the same config (prune_ready.run.branches):
  ``dense``        never prune; every round retrains the dense network from the rewind point,
  ``reinit``       round r trains the ticket's round-r mask with fresh weights from the init,
  ``random_prune`` round r trains a random mask with exactly the ticket's per-layer counts,
                   rewound to θ0,
  ``stability``    no run of its own: the ticket's stability to SGD noise, measured into its
                   stability.csv by prune_ready.train (prune_ready.stability).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import pytorch_lightning as pl
import torch
from torch import Tensor, nn

from prune_ready.errors import UserError
from prune_ready.inits import Init
from prune_ready.pruning import masks, methods
from prune_ready.pruning.resets import Keep, Reset, Rewind
from prune_ready.pruning.schedules import Event, Schedule
from prune_ready.pruning.steps import Step
from prune_ready.pruning.targets import Target
from prune_ready.recipe import LRSchedule, set_rate
from prune_ready.seeding import generator

ScoreFn = Callable[[nn.Module, methods.Context], dict[str, Tensor]]
CONTROLS = ("none", "dense", "reinit", "random_prune", "stability")


class MaskUpdate(Protocol):
    """Changes the masks (and maybe weights) of `net` at `event`."""

    def __call__(self, net: nn.Module, event: Event, context: methods.Context) -> None: ...


@dataclass
class Prune:
    """The usual mask update: score the weights, the target removes the lowest-scoring ones."""

    score: ScoreFn
    target: Target

    @torch.no_grad()
    def __call__(self, net: nn.Module, event: Event, context: methods.Context) -> None:
        self.target.apply(net, self.score(net, context), event)


@dataclass
class Pruning:
    """A pruning method as configured (see the module docstring); `callbacks` builds the run's
    Lightning callbacks from it."""

    name: str
    schedule: Schedule = field(default_factory=Schedule)
    target: Target | None = None
    score: ScoreFn | None = None
    update: MaskUpdate | None = None  # None: Prune(score, target)
    reset: Reset = field(default_factory=Keep)
    rounds: int = 0
    round_length: Step = "5ep"  # Steps given as text: 5ep, 50000it
    eval_every: Step = "1ep"
    control: Literal["none", "dense", "reinit", "random_prune", "stability"] = "none"
    ticket: str | None = None  # the ticket run a control branches from; None: found by path
    score_batch: int = 256  # training images a data-driven score sees

    def __post_init__(self) -> None:
        self.round_length, self.eval_every = (
            Step.parse(self.round_length),
            Step.parse(self.eval_every),
        )
        length, between = self.round_length, self.eval_every
        if self.rounds < 0:
            raise UserError(f"pruning.rounds={self.rounds} must be 0 (dense) or more")
        if self.control not in CONTROLS:
            raise UserError(
                f"pruning.control={self.control!r} must be one of {', '.join(CONTROLS)}"
            )
        if length.count < 1:
            raise UserError(f"pruning.round_length={length} must be at least 1 iteration")
        if length.unit == "ep" and str(between) != "1ep":
            raise UserError(
                f"pruning.eval_every={between}: rounds counted in epochs are evaluated every "
                "epoch (1ep); for other intervals count the round in iterations"
            )
        if between.unit != length.unit or between.count < 1 or length.count % between.count:
            raise UserError(
                f"pruning.eval_every={between} must be at least 1 and divide "
                f"round_length={length}, in the same unit"
            )
        if isinstance(self.reset, Rewind):
            self.reset.check(length)
        if self.update is None and self.prunes and (self.score is None or self.target is None):
            raise UserError(
                f"pruning method {self.name!r} needs a score and a target (or an update)"
            )

    @property
    def prunes(self) -> bool:
        """Whether the schedule changes masks at all (the dense control never does)."""
        if self.control == "dense":
            return False
        s = self.schedule
        return bool(s.init_events() or s.has_step_events or (self.rounds and s.at_round_end(0, 1)))

    @property
    def mask_update(self) -> MaskUpdate | None:
        if not self.prunes:
            return None
        return self.update or Prune(self.score, self.target)

    def check_epoch(self, batches_per_epoch: int) -> None:
        """What needs an epoch's iterations (known once the data is read): a rewind point given
        in iterations lies within a round given in epochs."""
        if isinstance(self.reset, Rewind) and self.reset.to.count:
            length = self.round_length
            self.reset.check_steps(
                self.reset.to.iterations(batches_per_epoch),
                length.iterations(batches_per_epoch),
                length,
            )

    @property
    def steps_per_evaluation(self) -> int | None:
        """Training steps between evaluations; None: one data epoch. Lightning's epochs are cut
        to this length (see data.StepBatches), so every evaluation ends a Lightning epoch."""
        return None if self.round_length.unit == "ep" else self.eval_every.count

    @property
    def trainer_limits(self) -> dict[str, Any]:
        """The Trainer arguments that make it train and evaluate on this schedule."""
        evaluations = (self.rounds + 1) * self.round_length.count // self.eval_every.count
        return {"max_epochs": evaluations, "max_steps": -1, "check_val_every_n_epoch": 1}

    def check(self, net: nn.Module) -> None:
        """Fail before training when the schedule cannot run on `net` (e.g. prunes everything)."""
        at_round_ends = self.schedule.at_round_end(0, self.rounds) is not None
        if self.rounds and at_round_ends and self.mask_update is not None and self.target:
            self.target.check(net, self.rounds)


class Pruner(pl.Callback):
    """Drives a `Pruning` through training: the schedule's events, the resets between rounds,
    the re-masking after every optimizer step, and the round events the recorders act on (`run`:
    callbacks with the methods of prune_ready.run.recorders.Recorder, the first one keeping the
    evaluation rows, for `latest`)."""

    def __init__(
        self,
        spec: Pruning,
        update: MaskUpdate | None,
        reset: Reset,
        seed: int,
        init: Init | None,
        run: list[pl.Callback],
        lr_schedule: LRSchedule | None = None,
    ) -> None:
        self.spec, self.update, self.reset, self.seed, self.init = spec, update, reset, seed, init
        self.lr_schedule = None if lr_schedule is None or lr_schedule.constant else lr_schedule
        self.recorders, self.rounds, self.control = run, spec.rounds, spec.control
        self.fresh = True  # False once a checkpoint is restored
        self.hooks: list[Any] = []

    def state_dict(self) -> dict[str, Any]:
        update_state = getattr(self.update, "state_dict", None)
        return {"reset": self.reset.state_dict(), "update": update_state() if update_state else {}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.reset.load_state_dict(state["reset"])
        if hasattr(self.update, "load_state_dict"):
            self.update.load_state_dict(state["update"])
        self.fresh = False

    def emit(self, hook: str, *args: Any) -> None:
        for recorder in self.recorders:
            getattr(recorder, hook)(self, *args)

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        masks.add_masks(pl_module.net)  # before a checkpoint's weights and masks are restored

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        net = self.net = pl_module.net
        self.masked = masks.MaskedWeights(net)
        late = isinstance(self.reset, Rewind) and self.reset.to.count > 0
        counted = self.spec.schedule.has_step_events or late
        after_step = self.after_step if counted else None
        self.hooks = [
            optimizer.register_step_post_hook(after_step or (lambda *_: self.masked.apply_()))
            for optimizer in trainer.optimizers
        ]
        if self.lr_schedule is not None:
            self.hooks += [o.register_step_pre_hook(self.set_lr) for o in trainer.optimizers]
        if self.fresh:
            if isinstance(self.reset, Rewind):
                self.reset.snapshot(net)
            self.emit("on_run_start", trainer, net)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.trainer_ref = trainer
        self.steps_per_epoch = getattr(
            trainer.datamodule, "batches_per_data_epoch", trainer.num_training_batches
        )
        self.steps_per_round = self.spec.round_length.iterations(self.steps_per_epoch)
        self.eval_steps = self.spec.eval_every.iterations(self.steps_per_epoch)
        self.rewind_step = getattr(self.reset, "to", Step(0, "it")).iterations(self.steps_per_epoch)
        if self.rewind_step:
            self.reset.check_steps(self.rewind_step, self.steps_per_round, self.spec.round_length)
        self.step = self.lr_step = trainer.global_step
        if self.lr_schedule is not None:
            self.lr_schedule.bind(self.steps_per_epoch, self.steps_per_round)
        self.spec.schedule.bind(self.steps_per_epoch, (self.rounds + 1) * self.steps_per_round)
        if not self.fresh:
            self.emit("on_resume", trainer, self.current_round(trainer.global_step))
            return
        net = pl_module.net
        events = self.spec.schedule.init_events() if self.update is not None else []
        if events:
            context = self.context(trainer, net, -1)
            for event in events:
                self.update(net, event, context)
            self.transform_survivors(net)  # pruning zeroed the removed weights already
        self.emit("on_round_start", trainer, net, 0)

    def current_round(self, step: int) -> int:
        """The round global step `step` trains in (a checkpoint's step starts its round)."""
        return min(step // self.steps_per_round, self.rounds)

    def after_step(self, *_: Any) -> None:
        """After every optimizer step: re-mask, take θk after the k-th step of round 0 (late
        rewinding: any iteration, not only an evaluation), and apply the schedule's step event,
        if any."""
        self.masked.apply_()
        self.step += 1
        if self.step == self.rewind_step:
            self.emit("on_rewind_point", self.trainer_ref, self.reset.snapshot(self.net))
        event = self.spec.schedule.at_step(self.step)
        if event is not None and self.update is not None:
            self.update(self.net, event, self.context(self.trainer_ref, self.net, f"s{self.step}"))

    def set_lr(self, optimizer: torch.optim.Optimizer, *_: Any) -> None:
        """Before every optimizer step: the scheduled rate (see the module docstring)."""
        set_rate(optimizer, self.lr_schedule.factor(self.lr_position(self.lr_step)))
        self.lr_step += 1

    def lr_position(self, step: int) -> int:
        """The schedule iteration of global step `step` (counted from 0)."""
        round_, into = divmod(step, self.steps_per_round)
        if round_ == 0:
            return into
        return self.reset.lr_start(round_, self.rewind_step, self.steps_per_round) + into

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        net = pl_module.net
        step = trainer.global_step
        round_ = (step - 1) // self.steps_per_round
        self.emit("on_evaluation", trainer, net, round_, step)
        if step % self.steps_per_round:
            return
        self.emit("on_round_end", trainer, net, round_)
        if round_ >= self.rounds:
            return
        event = self.spec.schedule.at_round_end(round_, self.rounds)
        if event is not None and self.update is not None:
            self.update(net, event, self.context(trainer, net, round_))
        self.reset.reset(net, round_ + 1, self.init, self.seed)
        if self.reset.transforms:
            self.masked.apply_()
            self.transform_survivors(net)
        for optimizer in trainer.optimizers:
            optimizer.state.clear()
        self.emit("on_round_start", trainer, net, round_ + 1)

    def epochs(self, step: int) -> int | float:
        """Epochs trained after `step` iterations: whole, or to 4 decimals mid-epoch."""
        epochs = step / self.steps_per_epoch
        return int(epochs) if epochs.is_integer() else round(epochs, 4)

    def context(self, trainer: pl.Trainer, net: nn.Module, key: int | str) -> methods.Context:
        """The random stream and the batch a pruning event may use (`key`: the round that just
        ended, -1 at initialisation, "s<step>" during training)."""
        round_ = key if isinstance(key, int) else -1
        context = methods.Context(generator(self.seed, f"prune-{key}"), round_)
        context.optimizers = list(trainer.optimizers)
        sample = getattr(trainer.datamodule, "random_batch", None)
        if sample is not None:
            device = next(net.parameters()).device
            batch = sample(self.spec.score_batch, generator(self.seed, f"score-batch-{key}"))
            context.batch = tuple(t.to(device) for t in batch)
        return context

    def transform_survivors(self, net: nn.Module) -> None:
        """The init's own transform of the sparse starting weights (e.g. signed_constant), if it
        has one: at every rewind, and after pruning at initialisation."""
        if self.init is None or self.init.at_rewind is None:
            return
        for layer in masks.prunable_layers(net).values():
            self.init.at_rewind(layer.weight, layer.weight_mask)
        self.masked.apply_()

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        for hook in self.hooks:
            hook.remove()

    @property
    def latest(self) -> dict[str, Any] | None:
        """The last evaluation's row (for progress bars)."""
        rows = self.recorders[0].epoch_rows
        return rows[-1] if rows else None
