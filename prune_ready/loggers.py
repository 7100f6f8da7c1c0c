"""The loggers of a run, from the `logger` config group (conf/logger/).

Each option of the group nests its node under its own name (``logger.tensorboard``,
``logger.csv``), so that several combine as a list, ``logger=[tensorboard,csv]``, and
``logger=none`` leaves the node empty: then the Trainer gets ``logger=False``, and Lightning
writes no ``lightning_logs/``. A run's result files (rounds.csv, metrics.csv, ...) do not depend
on the loggers; the loggers only mirror the numbers into the tools a researcher already uses.
"""

import math
import os
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.loggers import Logger, TensorBoardLogger, WandbLogger
from pytorch_lightning.utilities import rank_zero_only

from prune_ready.errors import UserError
from prune_ready.rundir import result_keys

# The metrics the HParams tab shows beside each run's settings (their last logged values).
HPARAM_METRICS = ("val/acc", "test/acc", "val/loss")


def make_loggers(cfg: DictConfig, run_dir: Path) -> list[Logger]:
    """The configured loggers, writing into `run_dir` unless a node names its own `save_dir`.

    A run-name key left null (wandb's `name`, MLflow's `run_name`) becomes the run's label, the
    part of its path that tells it apart from the study's other runs. Building a logger writes
    nothing (each creates its files when first used), so a refused run still leaves nothing.
    """
    loggers = []
    for option, node in (cfg.get("logger") or {}).items():
        names = {key: run_label(cfg, run_dir) for key in ("name", "run_name") if key in node}
        names = {key: label for key, label in names.items() if node[key] is None}
        save_dir = node.get("save_dir") or run_dir
        if str(node._target_).endswith("MLFlowLogger") and node.get("tracking_uri") is None:
            # MLflow 3 refuses its file store unless asked for it; a local store is the point
            # here (no server, no database package), and MLflow still reads it.
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        try:
            loggers.append(instantiate(node, save_dir=str(Path(save_dir).absolute()), **names))
        except InstantiationException as e:
            if isinstance(e.__cause__, ModuleNotFoundError):
                raise UserError(
                    f"logger={option} needs its package: pip install -e '.[{option}]' "
                    "(or choose another logger)"
                ) from e
            raise
    return loggers


def run_label(cfg: DictConfig, run_dir: Path) -> str:
    """`run_dir` below the study's directory (outputs/<name>/), e.g.
    ``lenet_300_100-mnist/xavier_normal/imp/seed=0``; the directory's name if it lies elsewhere."""
    study = (Path(cfg.paths.output_root) / cfg.name).absolute()
    run = run_dir.absolute()
    return str(run.relative_to(study)) if run.is_relative_to(study) else run.name


def fresh_dirs(loggers: list[Logger], run_dir: Path) -> list[Path]:
    """The folders of the run directory that only the loggers write (tb/, csv/): a run started
    afresh removes them, so that they hold one run's numbers, not those of a killed earlier one."""
    dirs = (getattr(logger, "log_dir", None) for logger in loggers)
    run = run_dir.absolute()
    return [
        Path(d)
        for d in dirs
        if d and Path(d).absolute().is_relative_to(run) and Path(d).absolute() != run
    ]


def hyperparameters(cfg: DictConfig) -> dict[str, Any]:
    """The run's result-changing settings as flat scalars ('model.lr': 0.0012), what a logger's
    hyperparameter table compares runs by (lists and nulls as text; `_target_` keys left out)."""
    flat = result_keys(OmegaConf.create(OmegaConf.to_container(cfg, resolve=True)))
    return {
        key: value if isinstance(value, bool | int | float | str) else str(value)
        for key, value in flat.items()
        if not key.split(".")[-1].startswith("_")
    }


class RunLogging(pl.Callback):
    """Hands the run's settings to every logger when training starts (TensorBoard: the HParams
    tab, with `HPARAM_METRICS` as its metric columns; CSV: hparams.yaml; wandb/MLflow: the run's
    config/params), at the start of fit, so that a skipped or refused run writes nothing; and
    ends a wandb run with its run: the jobs of a multirun share one process, and Lightning would
    otherwise log every job into the first job's wandb run."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params

    @rank_zero_only
    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for logger in trainer.loggers:
            if isinstance(logger, TensorBoardLogger):
                tensorboard_hparams(logger, self.params)
            else:
                logger.log_hyperparams(self.params)

    @rank_zero_only
    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                logger.experiment.finish()


def tensorboard_hparams(logger: TensorBoardLogger, params: dict[str, Any]) -> None:
    """Write the HParams summaries naming the metric columns without logging a value for them
    (Lightning's log_hyperparams(params, metrics) would add a dummy point at step 0 to each)."""
    from torch.utils.tensorboard.summary import hparams

    logger.hparams.update(params)  # also saved as tb/hparams.yaml
    writer = logger.experiment._get_file_writer()  # as Lightning's own log_hyperparams does
    for summary in hparams(params, dict.fromkeys(HPARAM_METRICS, math.nan)):
        writer.add_summary(summary)
