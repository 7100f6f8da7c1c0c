"""What `python -m prune_ready.train` checks before Hydra writes anything (a Hydra callback).

Hydra makes a run's directory, or a sweep's directory and its multirun.yaml, before the job
starts, and a multirun runs its jobs one after another: a bad value in the third job of a sweep
(`-m model.lr=0.0012,-1`) was refused only after the first jobs had trained and written their
runs, and a read-only output folder or one under a file was Hydra's own traceback. Here every
job of a sweep is composed as the launcher will compose it and checked as `train` checks a run
(prune_ready.train.check_job), and every directory it will make is checked to be makeable, so a
bad sweep is one line, a non-zero exit and nothing written.
"""

import copy
import sys
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, open_dict, read_write

from prune_ready import faults
from prune_ready.errors import UserError

BASIC_SWEEPER = f"{BasicSweeper.__module__}.{BasicSweeper.__name__}"


class CheckFirst(Callback):
    """Refuse a run or a sweep in one line (exit 1) before Hydra makes its directories."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        HydraConfig.instance().set_config(config)  # hydra.run.dir reads ${hydra:overrides.task}
        refuse_on_error(lambda: check_writable(Path(config.hydra.run.dir)))

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        refuse_on_error(lambda: check_sweep(config))


def refuse_on_error(check: Any) -> None:
    """Run `check`; a UserError behind what it raises ends the command with its line."""
    from prune_ready.train import user_error

    try:
        check()
    except Exception as e:
        error = user_error(e)
        if error is None:
            raise
        sys.exit(f"error: {error}")


def check_writable(run_dir: Path) -> None:
    """Refuse a directory that cannot be made: a file on its path, or the deepest existing
    folder on it not writable."""
    path = run_dir.absolute()
    if (found := faults.blocker(path)) is not None:
        existing, why = found
        fix = (
            "set paths.output_root (or hydra.run.dir) to a folder"
            if why == faults.NOT_A_FOLDER
            else "set paths.output_root to a writable folder"
        )
        raise UserError(f"cannot make {path}: {existing} {why}: {fix}")


def sweep_jobs(config: DictConfig) -> list[list[str]]:
    """The overrides of every job of the multirun `config`, as Hydra's basic sweeper splits
    them: the sweeper's params (a preset's hydra.sweeper.params), then the command line's."""
    params = config.hydra.sweeper.get("params") or {}
    lines = [f"{key}={value}" for key, value in params.items()]
    lines += list(config.hydra.overrides.task)
    parsed = OverridesParser.create().parse_overrides(lines)
    return [list(job) for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]


def check_sweep(config: DictConfig) -> None:
    """Compose each job of the sweep as the launcher will, check its config and its directory;
    the first refusal raises. Hydra's own config stays that of the sweep."""
    from prune_ready.train import check_job

    check_writable(Path(config.hydra.sweep.dir))
    if config.hydra.sweeper.get("_target_") != BASIC_SWEEPER:
        return  # another sweeper chooses its jobs as it goes
    loader = GlobalHydra.instance().config_loader()
    master = HydraConfig.instance().cfg
    try:
        for job in sweep_jobs(config):
            job_config = loader.load_sweep_config(config, job)
            HydraConfig.instance().set_config(job_config)
            sweep = job_config.hydra.sweep
            check_writable(Path(sweep.dir) / str(sweep.subdir))
            task = copy.deepcopy(job_config)
            with read_write(task), open_dict(task):
                del task["hydra"]
            check_job(task)
    finally:
        HydraConfig.instance().cfg = master
