"""The callbacks of one run: the pruning core (prune_ready.pruning.callback.Pruner), driving the
configured method or, for a control, a branch of its ticket run, and the recorders it sends
round events to."""

from pathlib import Path

import pytorch_lightning as pl
from omegaconf import DictConfig

from prune_ready.inits import Init
from prune_ready.pruning.callback import Pruner, Pruning
from prune_ready.recipe import LRSchedule
from prune_ready.run import branches, recorders

RECORDERS = (
    recorders.RoundsLog,  # first: the progress bar reads its latest row
    recorders.Archive,
    recorders.Diagnostics,
    recorders.Predictors,
    recorders.Checkpoint,
)


def callbacks(
    spec: Pruning,
    run_dir: str | Path,
    seed: int,
    init: Init | None,
    config: DictConfig | None = None,
    lr_schedule: LRSchedule | None = None,
) -> list[pl.Callback]:
    """The core and its recorders, for a run in `run_dir` (a control becomes a branch of its
    ticket run: `config` is the run's, to find the ticket and check it matches), training at
    `lr_schedule` (None: the optimizer's constant rate)."""
    update, reset = spec.mask_update, spec.reset
    if spec.control in ("reinit", "random_prune"):
        update, reset = branches.branch(spec, Path(run_dir), config)
    run = [recorder(run_dir) for recorder in RECORDERS]
    return [Pruner(spec, update, reset, seed, init, run, lr_schedule), *run]
