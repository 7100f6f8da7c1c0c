"""What the surviving weights start the next round from: θ0/θk (rewind), fresh draws, or their
trained values. The init's own transform at rewind (e.g. signed_constant) is applied by the core
after a Rewind or a Reinit, never after Keep."""

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from prune_ready.errors import UserError
from prune_ready.inits import Init, initialize
from prune_ready.pruning.steps import Step


class Reset:
    transforms = True  # whether the init's transform at rewind follows this reset

    def reset(self, net: nn.Module, round_: int, init: Init, seed: int) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Nothing to restore by default."""


@dataclass
class Keep(Reset):
    """Survivors keep their trained values (pruning without resetting, Han et al. 2015)."""

    transforms = False

    def reset(self, net: nn.Module, round_: int, init: Init, seed: int) -> None:
        """Nothing: pruning already zeroed the removed weights."""


@dataclass
class Rewind(Reset):
    """Every weight and bias back to θ0 (`to=0`) or to θk, the weights after `to` epochs or
    iterations of round 0 (late rewinding, Frankle et al. 2019); the core takes the snapshot."""

    to: Step = 0  # given as text: 0, 3ep, 500it
    target: dict[str, Tensor] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.to = Step.parse(self.to)

    def check(self, round_length: Step, eval_every: Step) -> None:
        """θk is taken at an evaluation of round 0, so k must be one of them."""
        length, between = round_length.count, eval_every.count
        k = self.to.count
        if k and (self.to.unit != round_length.unit or not k < length or k % between):
            raise UserError(
                f"pruning.reset.to={self.to} must be in [0, {round_length}) into round 0 and a "
                f"multiple of the {eval_every} between evaluations (θk is taken at one)"
            )

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
