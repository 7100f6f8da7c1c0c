"""How much a pruning event removes, and where: per-layer-kind rates, one global rate, a density.

A target turns one score tensor per layer into a new mask through the one mask mechanism
(prune_ready.pruning.masks): the lowest-scoring survivors go. It may read the event's progress
(see prune_ready.pruning.schedules) to follow a density schedule.
"""

from dataclasses import dataclass

from torch import Tensor, nn

from prune_ready.errors import UserError
from prune_ready.models.description import describe
from prune_ready.pruning import masks
from prune_ready.pruning.schedules import Event

SCOPES = ("layerwise", "global")


class Target:
    def apply(self, net: nn.Module, scores: dict[str, Tensor], event: Event) -> None:
        raise NotImplementedError

    def check(self, net: nn.Module, rounds: int) -> None:
        """Fail before training when the target cannot be met on `net` in `rounds` events."""


def compounded(rate: float, steps: int) -> float:
    """What `steps` prunes at `rate` each remove together (one-shot pruning to their level)."""
    return 1 - (1 - rate) ** steps


def check_rate(key: str, rate: float) -> None:
    if not 0 < rate < 1:
        raise UserError(f"pruning rate {key}={rate} must be in (0, 1)")


def check_steps(steps: int) -> None:
    if steps < 1:
        raise UserError(f"pruning.target.steps={steps} must be at least 1")


def check_survives(sizes: dict[str, int], rates: dict[str, float], rounds: int) -> None:
    """Refuse a schedule that would prune every weight of a layer (or of all layers)."""
    for name, alive in sizes.items():
        for round_ in range(1, rounds + 1):
            alive -= masks.count_to_prune(rates[name], alive)
            if alive == 0:
                raise UserError(
                    f"pruning.rounds={rounds} would prune every weight of {name} by "
                    f"round {round_}: use fewer rounds or lower rates"
                )


@dataclass
class LayerRates(Target):
    """Each layer loses `rates[kind]` of its survivors per event (kind: conv, fc, output), the
    rate compounded `steps` times (Frankle & Carbin's per-layer rates; `steps` > 1: one event
    removes what that many of them would)."""

    rates: dict[str, float]
    steps: int = 1

    def __post_init__(self) -> None:
        check_steps(self.steps)

    def layer_rates(self, net: nn.Module) -> dict[str, float]:
        kinds = describe(net).kinds
        missing = sorted(set(kinds.values()) - set(self.rates))
        if missing:
            raise UserError(f"pruning.target.rates gives no rate for layer kind(s) {missing}")
        return {name: compounded(self.rates[kind], self.steps) for name, kind in kinds.items()}

    def apply(self, net: nn.Module, scores: dict[str, Tensor], event: Event) -> None:
        masks.prune_layerwise(net, scores, self.layer_rates(net))

    def check(self, net: nn.Module, rounds: int) -> None:
        for kind, rate in self.rates.items():
            check_rate(kind, rate)
        sizes = {name: m.weight.numel() for name, m in masks.prunable_layers(net).items()}
        check_survives(sizes, self.layer_rates(net), rounds)


@dataclass
class GlobalRate(Target):
    """All layers together lose `rate` of their survivors per event: one threshold across
    layers, compounded `steps` times."""

    rate: float = 0.2
    steps: int = 1

    def __post_init__(self) -> None:
        check_steps(self.steps)

    def apply(self, net: nn.Module, scores: dict[str, Tensor], event: Event) -> None:
        masks.prune_global(net, scores, compounded(self.rate, self.steps))

    def check(self, net: nn.Module, rounds: int) -> None:
        check_rate("rate", self.rate)
        size = sum(m.weight.numel() for m in masks.prunable_layers(net).values())
        check_survives(
            {"all layers": size}, {"all layers": compounded(self.rate, self.steps)}, rounds
        )


@dataclass
class Density(Target):
    """Exactly `density` of the weights kept, of each layer (``layerwise``) or of all of them
    (``global``); reached along density^progress when a schedule has several events (SynFlow's
    exponential schedule), so the last event lands on `density` exactly."""

    density: float
    scope: str = "global"

    def __post_init__(self) -> None:
        if not 0 < self.density < 1:
            raise UserError(
                f"pruning.target.density={self.density} must be in (0, 1): the fraction kept"
            )
        if self.scope not in SCOPES:
            raise UserError(f"pruning.target.scope={self.scope!r} must be one of {SCOPES}")

    def at(self, progress: float) -> float:
        return self.density**progress

    def apply(self, net: nn.Module, scores: dict[str, Tensor], event: Event) -> None:
        masks.prune_to_density(net, scores, self.at(event.progress), self.scope)
