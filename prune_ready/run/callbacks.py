"""The callbacks of one run: the pruning core (prune_ready.pruning.callback.Pruner), driving the
configured method or, for a control, a branch of its ticket run, and the recorders it sends
round events to: the classes the `recorders` config group lists (conf/recorders/), in its order."""

from collections.abc import Mapping
from pathlib import Path

import pytorch_lightning as pl
from hydra.utils import get_class
from omegaconf import DictConfig

from prune_ready.errors import UserError
from prune_ready.inits import Init
from prune_ready.pruning.callback import Pruner, Pruning
from prune_ready.recipe import LRSchedule
from prune_ready.run import branches
from prune_ready.run.recorders import Recorder, RoundsLog


def recorder_classes(listed: Mapping[str, str]) -> list[type[Recorder]]:
    """The classes `recorders` names (name: import path), in order; a path that names no
    Recorder, or a list that does not start with the one writing rounds.csv (the core's `latest`
    row, for the progress bar, is its), is refused in one line."""
    classes = []
    for name, path in listed.items():
        try:
            cls = get_class(str(path))
        except Exception as e:  # Hydra wraps the import error in several lines
            raise UserError(f"recorders.{name}={path}: no such class") from e
        if not issubclass(cls, Recorder):
            raise UserError(f"recorders.{name}={path}: not a prune_ready.run.recorders.Recorder")
        classes.append(cls)
    if not classes or not issubclass(classes[0], RoundsLog):
        raise UserError(
            "recorders: the first must be rounds_log (prune_ready.run.recorders.RoundsLog): "
            "its rounds.csv tells how far a run got"
        )
    return classes


def callbacks(
    spec: Pruning,
    run_dir: str | Path,
    seed: int,
    init: Init | None,
    config: DictConfig,
    lr_schedule: LRSchedule | None = None,
) -> list[pl.Callback]:
    """The core and its recorders, for a run in `run_dir` of `config` (a control becomes a branch
    of its ticket run: the config finds the ticket and is checked against it), training at
    `lr_schedule` (None: the optimizer's constant rate)."""
    recorders = recorder_classes(config.recorders)  # before the ticket: bad input first
    update, reset = spec.mask_update, spec.reset
    if spec.control in ("reinit", "random_prune"):
        update, reset = branches.branch(spec, Path(run_dir), config)
    run = [recorder(run_dir) for recorder in recorders]
    return [Pruner(spec, update, reset, seed, init, run, lr_schedule), *run]
