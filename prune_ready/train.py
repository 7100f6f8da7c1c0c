"""Train one run: python -m prune_ready.train [overrides]; add -m for a multirun grid.

This module only wires the configured parts together: data, network, init, the
prune-and-rewind callback and the Trainer. Everything else lives in the parts themselves.
"""

import logging
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import hydra
import pytorch_lightning as pl
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from prune_ready import results
from prune_ready.errors import UserError
from prune_ready.inits import initialize
from prune_ready.module import Classifier
from prune_ready.rundir import run_variant

CONF_DIR = str(Path(__file__).resolve().parents[1] / "conf")
log = logging.getLogger(__name__)

OmegaConf.register_new_resolver("run_variant", run_variant, replace=True)
# Batches come from in-memory tensors: worker processes would only add overhead.
warnings.filterwarnings("ignore", ".*does not have many workers.*")
warnings.filterwarnings("ignore", ".*isinstance.treespec, LeafSpec.*")
warnings.filterwarnings("ignore", ".*smaller than the logging interval.*")  # we log per evaluation
# Lightning's start-up banner (accelerator list, tips) says nothing a run's config does not.
logging.getLogger("pytorch_lightning.utilities.rank_zero").setLevel(logging.WARNING)


def train(cfg: DictConfig, run_dir: Path, callbacks: Sequence[pl.Callback] = ()) -> None:
    """Train, prune and rewind as `cfg` says, writing results into `run_dir`.

    `callbacks` are added to the configured ones (benchmarks use this to time the steps).
    """
    torch.set_num_threads(cfg.threads or len(os.sched_getaffinity(0)))
    if cfg.trainer.accelerator == "cpu":
        # Lightning asks torch to count GPUs through NVML (fork-safe), which makes every Adam step
        # re-open the NVML library on a CUDA build of torch (~40 µs a step). CPU runs need neither.
        os.environ.pop("PYTORCH_NVML_BASED_CUDA_CHECK", None)
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    datamodule = instantiate(cfg.data)
    datamodule.check_root()
    net = instantiate(
        cfg.model.net, in_shape=datamodule.in_shape, num_classes=datamodule.num_classes
    )
    scheme = instantiate(cfg.init.scheme)
    initialize(net, scheme, cfg.seed)
    module = Classifier(
        net,
        lr=cfg.model.lr,
        num_classes=datamodule.num_classes,
        channels_last=cfg.model.channels_last,
    )
    pruner = instantiate(cfg.pruning, run_dir=run_dir, seed=cfg.seed, init_scheme=scheme)
    pruner.check(net)
    results.write_text_atomic(run_dir / results.CONFIG, OmegaConf.to_yaml(cfg, resolve=True))
    progress = [instantiate(cfg.progress_bar)] if cfg.progress_bar else []
    trainer = instantiate(
        cfg.trainer,
        **pruner.trainer_limits,
        callbacks=[pruner, *progress, *instantiate(cfg.trainer.callbacks), *callbacks],
        enable_progress_bar=bool(progress),
        logger=instantiate(cfg.logger, save_dir=str(run_dir)),
    )
    trainer.fit(module, datamodule=datamodule)


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="train")
def main(cfg: DictConfig) -> None:
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        train(cfg, run_dir)
    except Exception as e:
        error = user_error(e)
        if error is None:
            raise
        log.error("%s", error)
        sys.exit(f"error: {error}")


def user_error(e: BaseException | None) -> UserError | None:
    """The UserError behind `e`, if any (Hydra's instantiate wraps what a constructor raises)."""
    while e is not None and not isinstance(e, UserError):
        e = e.__cause__
    return e


if __name__ == "__main__":
    main()
