"""Gradual magnitude pruning (Zhu & Gupta 2017) as a plug-in: a density schedule.

Composed with the core's Periodic schedule, magnitude scores and no reset (conf/pruning/gmp.yaml):
at t = t0 + kΔt, k = 1..n, the smallest weights are pruned until the density is
    d_t = d_f + (1 − d_f) · (1 − (t − t0) / (nΔt))³,
so pruning is fast early and slow late, and the last step (k = n) lands on d_f exactly.
"""

from dataclasses import dataclass

from torch import Tensor, nn

from prune_ready.pruning import masks
from prune_ready.pruning.schedules import Event
from prune_ready.pruning.targets import Density


@dataclass
class CubicDensity(Density):
    """Density d_f reached along Zhu & Gupta's cubic schedule; `event.progress` = (t − t0)/(nΔt)."""

    def at(self, progress: float) -> float:
        return self.density + (1 - self.density) * (1 - progress) ** 3

    def apply(self, net: nn.Module, scores: dict[str, Tensor], event: Event) -> None:
        masks.prune_to_density(net, scores, self.at(event.progress), self.scope)
