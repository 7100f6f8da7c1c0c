"""When a pruning method changes the mask: at round ends, at initialisation, or every N steps.

A schedule only says *when*; how much is pruned is the sparsity target's business, which reads
the event's `progress` (the fraction of the schedule done once this event is applied, in (0, 1]).
Training is a sequence of rounds (``pruning.rounds`` + 1 of them); round 0 starts at θ0.
"""

from dataclasses import dataclass

from prune_ready.errors import UserError
from prune_ready.pruning.steps import Step

INIT, STEP, ROUND_END = "init", "step", "round_end"


@dataclass(frozen=True)
class Event:
    kind: str  # INIT, STEP or ROUND_END
    progress: float  # fraction of the schedule's events done with this one, in (0, 1]
    step: int = 0  # training iterations done when it happens


class Schedule:
    """No events at all (a dense run); subclasses add the ones they have."""

    def init_events(self) -> list[Event]:
        """Events before the first training step, applied in order."""
        return []

    def at_round_end(self, round_: int, rounds: int) -> Event | None:
        """The event at the end of `round_` (never after the last round), if any."""
        return None

    def bind(self, steps_per_epoch: int, total_steps: int) -> None:
        """Convert Steps to iterations once the epoch length is known; check they fit."""

    def at_step(self, step: int) -> Event | None:
        """The event after training iteration `step` (1-based), if any."""
        return None

    @property
    def has_step_events(self) -> bool:
        return False


@dataclass
class AtRoundEnds(Schedule):
    """Iterative pruning (IMP): once after every round but the last."""

    def at_round_end(self, round_: int, rounds: int) -> Event | None:
        return Event(ROUND_END, (round_ + 1) / rounds) if round_ < rounds else None


@dataclass
class AtInit(Schedule):
    """Pruning at initialisation, in `iterations` re-scoring steps (SynFlow: 100)."""

    iterations: int = 1

    def __post_init__(self) -> None:
        if self.iterations < 1:
            raise UserError(f"pruning.schedule.iterations={self.iterations} must be at least 1")

    def init_events(self) -> list[Event]:
        n = self.iterations
        return [Event(INIT, k / n) for k in range(1, n + 1)]


@dataclass
class Periodic(Schedule):
    """During training: after iteration start + k·every for k = 1..n, n = (stop − start) ÷ every,
    so the last event falls at `stop` (Zhu & Gupta 2017's t0 + nΔt); optionally once at init."""

    every: Step = "100it"  # Steps given as text: 100it, 1ep, 0
    start: Step = 0
    stop: Step | None = None  # None: the end of training
    at_init: bool = False  # also one event before training (e.g. RigL's starting mask)

    def __post_init__(self) -> None:
        self.every, self.start = Step.parse(self.every), Step.parse(self.start)
        self.stop = None if self.stop is None else Step.parse(self.stop)
        self.first = self.period = self.count = 0

    def bind(self, steps_per_epoch: int, total_steps: int) -> None:
        self.first = self.start.iterations(steps_per_epoch)
        self.period = self.every.iterations(steps_per_epoch)
        stop = total_steps if self.stop is None else self.stop.iterations(steps_per_epoch)
        if self.period < 1 or not self.first < stop <= total_steps:
            raise UserError(
                f"pruning.schedule: every={self.every} must be at least 1 iteration and "
                f"start={self.start} < stop={self.stop or 'end'} <= the {total_steps} iterations "
                "of training"
            )
        self.count = (stop - self.first) // self.period

    def init_events(self) -> list[Event]:
        return [Event(INIT, 1.0)] if self.at_init else []

    def at_step(self, step: int) -> Event | None:
        k, rest = divmod(step - self.first, self.period)
        if rest or not 1 <= k <= self.count:
            return None
        return Event(STEP, k / self.count, step)

    @property
    def has_step_events(self) -> bool:
        return True
