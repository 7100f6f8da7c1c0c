"""The training recipe beside the network: the optimizer and the learning-rate schedule.

optimizer    conf/optimizer/*.yaml: a `torch.optim` class as a partial (`_partial_: true`), its
             keyword arguments as keys, plus the option's `name` (for run paths and the
             analysis; no argument of the class). Any torch optimizer is one such file.
lr_schedule  conf/lr_schedule/*.yaml: the learning rate at each iteration as a factor of the
             optimizer's `lr`: `Constant`, `StepDecay`, `Cosine`, each with an optional linear
             warmup. A schedule spans one round and is stepped per iteration.

Where a round's schedule starts is the reset's choice (prune_ready.pruning.resets,
`Reset.lr_start`): rewinding to θ0 or a fresh init restarts it, rewinding to θk (Frankle et al.
2020) restarts it at iteration k, and keeping the trained weights either continues it (fine-tuning
at its final rate) or replays it (learning-rate rewinding, Renda et al. 2020). The pruning core
sets the rate before every optimizer step from the global step alone
(prune_ready.pruning.callback), so a resumed run takes the same rates as an uninterrupted one.

Runs made before these two groups existed have neither node in their config.yaml: they trained
with `old_recipe` (fused Adam at model.lr, constant), which `run_recipe` supplies for them, for
the analysis (prune_ready.analyze.read.collect) and for branches that train such a run again
(prune_ready.stability).
"""

from __future__ import annotations  # torch only in annotations: the analysis imports this

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from prune_ready.errors import UserError
from prune_ready.pruning.steps import Step

if TYPE_CHECKING:
    import torch
    from torch import nn

OptimizerFactory = Callable[[Iterable["nn.Parameter"]], "torch.optim.Optimizer"]


def old_recipe(lr: float) -> dict[str, dict[str, Any]]:
    """The recipe every run trained with before conf/optimizer/ and conf/lr_schedule/: fused Adam
    at `lr` (the run's model.lr) with torch's defaults, at a constant rate (prune_ready/module.py
    before them), as the nodes conf/optimizer/adam.yaml and conf/lr_schedule/constant.yaml give."""
    return {
        "optimizer": {
            "_target_": "torch.optim.Adam",
            "_partial_": True,
            "_convert_": "all",
            "name": "adam",
            "lr": lr,
            "betas": [0.9, 0.999],
            "eps": 1e-8,
            "weight_decay": 0.0,
            "fused": True,
        },
        "lr_schedule": {"_target_": "prune_ready.recipe.Constant", "name": "constant", "warmup": 0},
    }


def run_recipe(cfg: DictConfig) -> tuple[DictConfig, DictConfig]:
    """The optimizer and lr_schedule nodes a run's config says it trained with: its own, or for
    a run made before those groups (one commit added both), `old_recipe` at its model.lr."""
    if "optimizer" in cfg:
        return cfg.optimizer, cfg.lr_schedule
    old = OmegaConf.create(old_recipe(cfg.model.lr))
    return old.optimizer, old.lr_schedule


def optimizer_factory(node: DictConfig) -> OptimizerFactory:
    """The configured optimizer class with its settings, called later with the parameters.
    `name` only names the option, so it is not passed on."""
    settings = OmegaConf.to_container(node, resolve=True)  # lr: ${model.lr} needs the root
    settings.pop("name", None)
    return instantiate(settings)


def check_optimizer(factory: OptimizerFactory, net: nn.Module) -> None:
    """Build the optimizer once, so that a value torch refuses (a negative momentum, Nesterov
    without momentum) is one line before anything is written, not an error mid-run."""
    try:
        factory(net.parameters())
    except (ValueError, TypeError, RuntimeError) as e:
        raise UserError(f"optimizer: {' '.join(str(e).split())}") from e


def set_rate(optimizer: torch.optim.Optimizer, factor: float) -> None:
    """Every parameter group at `factor` times its configured rate (`initial_lr`, torch's name
    for it, which prune_ready.module records when the optimizer is built)."""
    for group in optimizer.param_groups:
        group["lr"] = group["initial_lr"] * factor


@dataclass
class LRSchedule:
    """A learning-rate schedule over a round: `factor(t)` scales the optimizer's lr at
    iteration t of the schedule (counted from 0). `warmup` W > 0 multiplies it by (t + 1) / W
    for t < W: linear from lr / W at the first step to the full rate at step W - 1."""

    name: str
    warmup: Step = 0  # given as text: 0, 500it, 1ep
    warmup_steps: int = field(default=0, init=False)
    round_steps: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.warmup = Step.parse(self.warmup)

    def check(self, round_length: Step) -> None:
        """Refuse what cannot fit a round of `round_length` (checked where the units agree)."""
        w = self.warmup
        if w.count and w.unit == round_length.unit and w.count > round_length.count:
            raise UserError(
                f"lr_schedule.warmup={w} is longer than a round (pruning.round_length="
                f"{round_length})"
            )

    def bind(self, steps_per_epoch: int, round_steps: int) -> None:
        """Count every length in iterations, once the batches in an epoch are known."""
        self.warmup_steps = self.warmup.iterations(steps_per_epoch)
        self.round_steps = round_steps

    @property
    def constant(self) -> bool:
        """Whether the rate never changes (then nothing needs setting at any step)."""
        return False

    def factor(self, t: int) -> float:
        warm = (t + 1) / self.warmup_steps if t < self.warmup_steps else 1.0
        return warm * self.decay(t)

    def decay(self, t: int) -> float:
        return 1.0


@dataclass
class Constant(LRSchedule):
    """The optimizer's lr throughout, after the warmup if there is one."""

    name: str = "constant"

    @property
    def constant(self) -> bool:
        return self.warmup.count == 0


@dataclass
class StepDecay(LRSchedule):
    """lr · gamma^m at iteration t, m the number of `milestones` ≤ t (counted from the round's
    start)."""

    name: str = "step"
    milestones: list[Step] = field(default_factory=list)
    gamma: float = 0.1
    milestone_steps: list[int] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.milestones = [Step.parse(m) for m in self.milestones]
        if not self.gamma > 0:
            raise UserError(f"lr_schedule.gamma={self.gamma} must be a positive number")
        if any(m.count < 1 for m in self.milestones):
            raise UserError(
                f"lr_schedule.milestones={[str(m) for m in self.milestones]} must each be at "
                "least 1 iteration into the round"
            )

    def check(self, round_length: Step) -> None:
        super().check(round_length)
        for m in self.milestones:
            if m.unit == round_length.unit and m.count >= round_length.count:
                raise UserError(
                    f"lr_schedule.milestones: {m} is not within a round "
                    f"(pruning.round_length={round_length})"
                )

    def bind(self, steps_per_epoch: int, round_steps: int) -> None:
        super().bind(steps_per_epoch, round_steps)
        self.milestone_steps = [m.iterations(steps_per_epoch) for m in self.milestones]

    def decay(self, t: int) -> float:
        return self.gamma ** sum(t >= m for m in self.milestone_steps)


@dataclass
class Cosine(LRSchedule):
    """lr · (final + (1 - final) · (1 + cos(π t / T)) / 2), T the iterations of a round; past
    T (after rewinding to θk, or when fine-tuning continues it) it stays at lr · final."""

    name: str = "cosine"
    final: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.final <= 1:
            raise UserError(f"lr_schedule.final={self.final} must be in [0, 1]")

    def decay(self, t: int) -> float:
        progress = min(t, self.round_steps) / self.round_steps
        return self.final + (1 - self.final) * (1 + math.cos(math.pi * progress)) / 2
