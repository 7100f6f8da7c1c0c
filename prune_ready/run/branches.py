"""The paper's mask controls as branches of a finished ticket run (as in open_lth).

A control run trains every level of its ticket run from the ticket's saved masks instead of
pruning its own trajectory: at the end of round r it installs the ticket's round-(r+1) mask
(``reinit``: with fresh weights from the init scheme; ``random_prune``: a random mask with exactly
as many survivors in every layer as the ticket's, rewound like the ticket). So a control keeps
the ticket's per-layer sparsity under every scope, global pruning included.

The ticket is the run of the same config without ``pruning.control`` (found by its directory:
the control run's path without the ``pruning.control=...`` level), or ``pruning.ticket=<dir>``.
``pruning.control=stability`` finds its ticket run the same way (`ticket_run`) and measures it
(prune_ready.stability) instead of training a run of its own.
"""

import fcntl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from omegaconf import DictConfig, OmegaConf
from torch import Tensor, nn

from prune_ready import manifest, results
from prune_ready.errors import UserError
from prune_ready.pruning import masks
from prune_ready.pruning.methods import Context
from prune_ready.pruning.resets import Reinit, Reset
from prune_ready.pruning.schedules import Event
from prune_ready.rundir import LOCK, config_differences
from prune_ready.status import State, run_status

if TYPE_CHECKING:
    from prune_ready.pruning.callback import Pruning


@dataclass
class FromTicket:
    """Install the ticket's mask of the next round (or a random one with its per-layer counts)."""

    round_masks: dict[int, dict[str, Tensor]]
    shuffle: bool

    def __call__(self, net: nn.Module, event: Event, context: Context) -> None:
        ticket = self.round_masks[context.round + 1]
        if self.shuffle:
            ticket = {name: random_like(m, context.generator) for name, m in ticket.items()}
        masks.set_masks(net, ticket)


def random_like(mask: Tensor, gen: torch.Generator) -> Tensor:
    """A random mask of `mask`'s shape with exactly as many survivors."""
    flat = torch.zeros(mask.numel(), dtype=torch.bool)
    flat[torch.randperm(mask.numel(), generator=gen)[: int(mask.sum())]] = True
    return flat.view(mask.shape)


def ticket_dir(run_dir: Path) -> Path:
    """The ticket run's directory: `run_dir` with its pruning.control=... path level saying
    ``none`` (as a grid over pruning.control=none,reinit names it), or without it."""
    variant = run_dir.parent
    parts = variant.name.split(",")
    kept = [p for p in parts if not p.startswith("pruning.control=")]
    if len(kept) == len(parts):
        raise UserError(
            f"cannot tell the ticket run of {run_dir} (pruning.control was not set on the command "
            "line): set pruning.ticket=<the ticket run's directory>"
        )
    named = [p if p in kept else "pruning.control=none" for p in parts]
    candidates = [variant.parent / ",".join(named), variant.parent / ",".join(kept)]
    candidates = [c / run_dir.name for c in candidates]  # an empty level: Path ignores it
    return next((c for c in candidates if (c / results.CONFIG).is_file()), candidates[0])


def wait_for(run_dir: Path) -> None:
    """Block while another process trains `run_dir` (it holds the run's lock)."""
    lock = run_dir / LOCK
    if lock.exists():
        with open(lock) as handle:
            fcntl.flock(handle, fcntl.LOCK_SH)
            fcntl.flock(handle, fcntl.LOCK_UN)


def train_first(control: str) -> str:
    return f"train the ticket first (the same command without pruning.control={control})"


def ticket_run(control: str, ticket: str | None, run_dir: Path, config: DictConfig | None) -> Path:
    """The ticket run a branch `run_dir` of pruning.control=`control` branches from (`ticket`,
    or found by path), once no other process trains it: its config there and undamaged, and
    (`config`: the branch's) the same as the branch's but for pruning.control."""
    found = Path(ticket) if ticket else ticket_dir(run_dir)
    if not (found / results.CONFIG).is_file():
        raise UserError(
            f"pruning.control={control} needs its ticket run at {found}: {train_first(control)}"
        )
    wait_for(found)
    manifest.verify(found, [results.CONFIG])  # a damaged ticket is one line naming its file
    if config is not None:
        ticket_config = OmegaConf.load(found / results.CONFIG)
        changes = [
            change
            for change in config_differences(ticket_config, config)
            if not change.startswith("pruning.control:")
        ]
        if changes:
            raise UserError(
                f"the ticket run {found} has another config ({'; '.join(changes[:3])}): "
                "set pruning.ticket to a ticket of this config"
            )
    return found


def branch(spec: "Pruning", run_dir: Path, config: DictConfig | None) -> tuple[FromTicket, Reset]:
    """The mask update and reset of a control run branching from its finished ticket run."""
    ticket = ticket_run(spec.control, spec.ticket, run_dir, config)
    status = run_status(ticket, spec.rounds, hashed=(results.CONFIG, results.ROUND_MASKS))
    if status.state is not State.FINISHED:
        raise UserError(
            f"the ticket run {ticket} is {status.describe()}: {train_first(spec.control)}"
        )
    update = FromTicket(results.load_round_masks(ticket), shuffle=spec.control == "random_prune")
    return update, Reinit() if spec.control == "reinit" else spec.reset
