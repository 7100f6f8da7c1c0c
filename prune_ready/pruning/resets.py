"""What the surviving weights start the next round from: θ0/θk (rewind), fresh draws, or their
trained values, and where the learning-rate schedule starts with them (`lr_start`). The init's
own transform at rewind (e.g. signed_constant) is applied by the core after a Rewind or a Reinit,
never after Keep."""

from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import Tensor, nn

from prune_ready.errors import UserError
from prune_ready.inits import Init, initialize
from prune_ready.pruning.steps import Step


class Reset:
    transforms = True  # whether the init's transform at rewind follows this reset

    def reset(self, net: nn.Module, round_: int, init: Init, seed: int) -> None:
        raise NotImplementedError

    def lr_start(self, round_: int, rewind_step: int, round_steps: int) -> int:
        """The iteration of the learning-rate schedule round `round_` (> 0) starts at, given the
        rewind point θk (`rewind_step` iterations) and the iterations of a round. By default the
        schedule restarts with the weights."""
        return 0

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Nothing to restore by default."""


@dataclass
class Keep(Reset):
    """Survivors keep their trained values (pruning without resetting, Han et al. 2015). The
    learning-rate schedule then either continues (`lr: continue`: later rounds train at its
    final rate, "fine-tuning" in Renda et al. 2020) or is replayed from its start (`lr: replay`:
    learning-rate rewinding, Renda et al. 2020). Under a constant rate the two are the same."""

    transforms = False
    lr: Literal["continue", "replay"] = "continue"

    def reset(self, net: nn.Module, round_: int, init: Init, seed: int) -> None:
        """Nothing: pruning already zeroed the removed weights."""

    def lr_start(self, round_: int, rewind_step: int, round_steps: int) -> int:
        return 0 if self.lr == "replay" else round_ * round_steps


@dataclass
class Rewind(Reset):
    """Every weight and bias back to θ0 (`to=0`) or to θk, the weights after `to` epochs or
    iterations of round 0 (late rewinding, Frankle et al. 2019); the core takes the snapshot.
    The learning-rate schedule is rewound with them, to its iteration k (Frankle et al. 2020)."""

    to: Step = 0  # given as text: 0, 3ep, 500it
    target: dict[str, Tensor] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.to = Step.parse(self.to)

    def check(self, round_length: Step) -> None:
        """θk lies in round 0: k below the round's length. The core takes θk after the k-th
        optimizer step, so k need not fall on an evaluation; given in iterations for a round in
        epochs, k is checked once an epoch's iterations are known (`check_steps`)."""
        k = self.to
        if k.count and k.unit == "ep" and round_length.unit == "it":
            raise UserError(
                f"pruning.reset.to={k}: a round counted in iterations ({round_length}) rewinds "
                "to a point counted in iterations (e.g. 500it)"
            )
        if k.count and k.unit == round_length.unit and not k.count < round_length.count:
            raise UserError(f"pruning.reset.to={k} must be in [0, {round_length}) into round 0")

    def check_steps(self, rewind_step: int, round_steps: int, round_length: Step) -> None:
        if not rewind_step < round_steps:
            raise UserError(
                f"pruning.reset.to={self.to} must be in [0, {round_length}) into round 0 "
                f"({round_steps} iterations here)"
            )

    def lr_start(self, round_: int, rewind_step: int, round_steps: int) -> int:
        return rewind_step

    def snapshot(self, net: nn.Module) -> dict[str, Tensor]:
        self.target = {name: p.detach().clone() for name, p in net.named_parameters()}
        return self.target

    @torch.no_grad()
    def reset(self, net: nn.Module, round_: int, init: Init, seed: int) -> None:
        for name, param in net.named_parameters():
            param.copy_(self.target[name])

    def state_dict(self) -> dict:
        return {"rewind_state": self.target}

    def load_state_dict(self, state: dict) -> None:
        self.target = state["rewind_state"]


@dataclass
class Reinit(Reset):
    """Fresh weights from the run's init scheme, from a new random stream every round (the
    paper's random re-initialisation control)."""

    def reset(self, net: nn.Module, round_: int, init: Init, seed: int) -> None:
        initialize(net, init.scheme, seed, stream=f"reinit-{round_}", scale=init.scale)
