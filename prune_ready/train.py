"""Train one run: python -m prune_ready.train [overrides]; add -m for a multirun grid.

This module only wires the configured parts together: data, network and init (built by
`prune_ready.build`), optimizer and learning-rate schedule, the prune-and-rewind callback and the
Trainer. Everything else lives in the parts themselves.
"""

from __future__ import annotations  # pl and torch types in signatures, imported when used

import json
import logging
import os
import shutil
import signal
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import hydra
from hydra._internal.utils import get_args_parser
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import InstantiationException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from prune_ready.errors import Diverged, UserError
from prune_ready.rundir import (
    canonical_precision,
    config_differences,
    exclusive,
    remove_new_dirs,
    run_variant,
)
from prune_ready.schema import check_group_options, validate

# torch and Lightning take seconds to import (8-18 s on a busy machine): the command line
# imports them only once a run is about to be built, so that --help, --shell-completion and
# one-line refusals (init=nope) answer at once. The functions below import what they use.
if TYPE_CHECKING:
    import pytorch_lightning as pl

    from prune_ready.module import Classifier
    from prune_ready.pruning.callback import Pruning
    from prune_ready.status import RunStatus, State

CONF_DIR = str(Path(__file__).resolve().parents[1] / "conf")
log = logging.getLogger(__name__)
# Lightning knows these accelerators but prune_ready does not train on them (a TPU request was a
# 5-line ImportError after Hydra made the run's directories); unknown names Lightning refuses.
UNSUPPORTED_ACCELERATORS = ("tpu", "mps", "hpu")

OmegaConf.register_new_resolver("run_variant", run_variant, replace=True)
# paths.root: where this run's directory goes (debug=true: paths.debug_root)
OmegaConf.register_new_resolver(
    "output_root", lambda debug, root, debug_root: debug_root if debug else root, replace=True
)
# Trainer arguments the pruning schedule sets (Pruning.trainer_limits) or that would cut a run
# short: refused, so that no run is silently ignored or left unfinished where a real one goes.
RUN_LENGTH = (
    "fast_dev_run",
    "max_epochs",
    "min_epochs",
    "max_steps",
    "min_steps",
    "max_time",
    "limit_train_batches",
    "limit_val_batches",
    "limit_test_batches",
    "overfit_batches",
    "val_check_interval",
    "check_val_every_n_epoch",
)
# debug=true: the configured run on slices of the data, with at most DEBUG_ROUNDS pruning steps
DEBUG_DATA = {"train_subset": 600, "val_size": 500, "test_subset": 500}
DEBUG_ROUNDS = 2
# Batches come from in-memory tensors: worker processes would only add overhead.
warnings.filterwarnings("ignore", ".*does not have many workers.*")
warnings.filterwarnings("ignore", ".*isinstance.treespec, LeafSpec.*")
warnings.filterwarnings("ignore", ".*smaller than the logging interval.*")  # we log per evaluation
# Under DDP the evaluation metrics are torchmetrics, synchronised across processes on compute().
warnings.filterwarnings("ignore", ".*when logging on epoch level in distributed setting.*")
# check_precision refuses, in its own line, the precision Lightning's warning says it replaces.
warnings.filterwarnings("ignore", ".*AMP with fp16 is not supported on CPU.*")
# Lightning's start-up banner (accelerator list, tips) says nothing a run's config does not.
logging.getLogger("pytorch_lightning.utilities.rank_zero").setLevel(logging.WARNING)


def train(cfg: DictConfig, run_dir: Path, callbacks: Sequence[pl.Callback] = ()) -> State | None:
    """Train, prune and rewind as `cfg` says, writing results into `run_dir`.

    A finished or failed run of the same config in `run_dir` is skipped (returns None), and so
    is a run another process is training (each run directory has a lock); an unfinished one
    resumes from its last completed round. Returns the run's new state. Launching the same grid
    twice thus splits its runs between the two processes.
    `callbacks` are added to the configured ones (benchmarks use this to time the steps).
    """
    import pytorch_lightning as pl
    import torch
    from hydra.utils import instantiate
    from pytorch_lightning.utilities import rank_zero_only

    from prune_ready import checkpoints, manifest, results
    from prune_ready.build import build
    from prune_ready.loggers import fresh_dirs
    from prune_ready.module import Classifier
    from prune_ready.recipe import check_optimizer, optimizer_factory
    from prune_ready.run.callbacks import callbacks as run_callbacks

    validate(cfg)  # a wrong key or type: one line, before anything is built
    check_settings(cfg)
    check_device(cfg)
    if cfg.debug:
        debug_run(cfg, run_dir)
    # an alias (32, bf16) is recorded as the run directory names it: Lightning's own form
    cfg.trainer.precision = canonical_precision(cfg.trainer.precision)
    torch.set_num_threads(cfg.threads or default_threads(cpu_processes(cfg)))
    log.info("run %s with %d torch threads", run_dir, torch.get_num_threads())
    if cfg.trainer.accelerator == "cpu":
        # Lightning asks torch to count GPUs through NVML (fork-safe), which makes every Adam step
        # re-open the NVML library on a CUDA build of torch (~40 µs a step). CPU runs need neither.
        os.environ.pop("PYTORCH_NVML_BASED_CUDA_CHECK", None)
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    if cfg.pruning.get("control") == "stability":  # a branch that measures its ticket, no run
        from prune_ready.stability import measure_ticket

        return measure_ticket(cfg, run_dir)
    pruning = instantiate(cfg.pruning)
    lr_schedule = instantiate(cfg.lr_schedule)
    lr_schedule.check(pruning.round_length)
    # bad data fails here, before anything is written
    built = build(cfg, steps_per_epoch=pruning.steps_per_evaluation)
    init, datamodule, net = built.init, built.datamodule, built.net
    make_optimizer = optimizer_factory(cfg.optimizer)
    check_optimizer(make_optimizer, net)
    module = Classifier(
        net,
        make_optimizer,
        num_classes=datamodule.num_classes,
        channels_last=cfg.model.channels_last,
        compile=cfg.model.compile,
    )
    pruning.check(net)
    if (per_epoch := getattr(datamodule, "batches_per_data_epoch", None)) is not None:
        pruning.check_epoch(per_epoch)  # else the core checks it when training starts
    if done(earlier_run(cfg, run_dir), run_dir):
        return None
    # a control finds its ticket here
    pruner = run_callbacks(pruning, run_dir, cfg.seed, init, cfg, lr_schedule)
    trainer = make_trainer(cfg, run_dir, pruning, [*pruner, *callbacks])
    check_precision(str(cfg.trainer.precision), str(trainer.precision))
    parts = (trainer, module, datamodule)
    if rank_zero_only.rank > 0:  # a DDP worker: rank 0 holds the run directory and writes it
        return fit(run_dir, *parts)
    with exclusive(run_dir) as mine:
        if not mine:
            log.info("skipped %s: another process is running it", run_dir)
            return None
        status = earlier_run(cfg, run_dir)  # again: it may have finished while we waited
        if done(status, run_dir):
            return None
        if stale := results.remove_stale_temps(run_dir):
            log.info("removed what killed writes left in %s: %s", run_dir, ", ".join(stale))
        # without a checkpoint (new, killed in round 0, or a damaged one set aside) the run
        # starts afresh; with one, the Checkpoint recorder says which round it resumes at
        if not checkpoints.verified(run_dir):
            for folder in fresh_dirs(trainer.loggers, run_dir):
                shutil.rmtree(folder, ignore_errors=True)
        manifest.begin(run_dir)  # until the manifest is written, the run reads as unfinished
        results.write_text_atomic(run_dir / results.CONFIG, OmegaConf.to_yaml(cfg, resolve=True))
        record_machine(run_dir, str(cfg.trainer.accelerator), status.rounds_done if status else 0)
        return fit(run_dir, *parts)


def record_machine(run_dir: Path, accelerator: str, from_round: int) -> None:
    """Add where this start of the run trains to its machine.json (see prune_ready.machine)."""
    import torch

    from prune_ready import machine, results

    path = run_dir / results.MACHINE
    record = machine.describe(torch.get_num_threads(), accelerator)
    records = machine.append(path, record, from_round)
    if len({r["key"] for r in records}) > 1:
        log.warning(
            "%s resumes on another kind of machine (%s) than it started on: its rounds from "
            "round %d on sum in another order, and the analysis pairs it with no other run",
            run_dir,
            record["cpu_id"],
            from_round,
        )
    results.write_text_atomic(path, json.dumps(records, indent=1) + "\n")


def check_settings(cfg: DictConfig) -> None:
    """Refuse, in one line, settings that would fail only once the run has begun."""
    for key in RUN_LENGTH:
        if key in cfg.trainer:
            raise UserError(run_length_refusal(key))
    if cfg.effective_batch_size != cfg.data.batch_size:
        raise UserError(
            f"effective_batch_size={cfg.effective_batch_size} only records data.batch_size "
            f"({cfg.data.batch_size}): set data.batch_size instead"
        )
    if cfg.threads is not None and not cfg.threads >= 1:
        raise UserError(f"threads={cfg.threads} must be at least 1 (or null: cores ÷ jobs)")
    if str(cfg.trainer.accelerator) in UNSUPPORTED_ACCELERATORS:
        raise UserError(
            f"trainer.accelerator={cfg.trainer.accelerator} is not one prune_ready trains on: "
            "use cpu or gpu"
        )
    for key in ("model.lr", "optimizer.lr"):
        value = OmegaConf.select(cfg, key)
        if not value > 0:
            raise UserError(f"{key}={value} must be a positive number")
    for key in ("batch_size", "eval_batch_size"):
        if cfg.data[key] < 1:
            raise UserError(f"data.{key}={cfg.data[key]} must be at least 1")


def check_device(cfg: DictConfig) -> None:
    """Refuse, in one line, a device this machine lacks. Apart from check_settings: a Slurm grid
    is checked on the machine that submits it (prune_ready.precheck), which need not have one."""
    import torch

    if str(cfg.trainer.accelerator) in ("gpu", "cuda") and not torch.cuda.is_available():
        ddp = str(cfg.trainer.get("strategy")).startswith("ddp")
        fix = "trainer.accelerator=cpu (DDP over CPU processes)" if ddp else "trainer=cpu"
        raise UserError(f"no CUDA device found: use {fix}")


def run_length_refusal(key: str) -> str:
    """Why trainer.`key` is refused, and what to set instead (one line)."""
    return (
        f"trainer.{key} cannot be set: a run is pruning.rounds + 1 rounds of "
        "pruning.round_length, evaluated every pruning.eval_every (set those); for a quick "
        "check run add debug=true"
    )


def check_run_length_overrides(overrides: Sequence[str]) -> None:
    """Refuse trainer.max_epochs=1, +trainer.fast_dev_run=true and the like in one line, before
    Hydra (which refuses a key the trainer yaml lacks in several lines, and lets `+` add it)."""
    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except Exception:
        return  # Hydra reports the syntax error
    for override in parsed:
        group, _, key = override.key_or_group.partition(".")
        if group == "trainer" and key in RUN_LENGTH:
            raise UserError(run_length_refusal(key))


def debug_run(cfg: DictConfig, run_dir: Path) -> None:
    """Make `cfg` a quick check of itself: DEBUG_DATA slices of the data and at most DEBUG_ROUNDS
    pruning steps (the round length stays), in a run directory under paths.debug_root, emptied
    first so that every debug run trains afresh. Refused when the directory lies elsewhere
    (hydra.run.dir set by hand): a debug run never writes where a real result lives."""
    root = Path(cfg.paths.debug_root).resolve()
    if not run_dir.resolve().is_relative_to(root):
        raise UserError(f"debug=true writes only under paths.debug_root ({root}), not in {run_dir}")
    debug_config(cfg)
    shutil.rmtree(run_dir, ignore_errors=True)
    log.info(
        "debug run in %s: data %s, %d pruning steps", run_dir, dict(DEBUG_DATA), cfg.pruning.rounds
    )


def debug_config(cfg: DictConfig) -> None:
    """Cut `cfg` down to a debug run's: DEBUG_DATA slices, at most DEBUG_ROUNDS pruning steps."""
    for key, n in DEBUG_DATA.items():
        current = cfg.data[key]
        cfg.data[key] = n if current is None else min(current, n)
    cfg.pruning.rounds = min(cfg.pruning.rounds, DEBUG_ROUNDS)


def check_job(cfg: DictConfig) -> None:
    """Everything `train` refuses in one line that the config alone decides (types, settings,
    the schedule against the network, the optimizer's values), without reading the data or
    writing anything: a multirun checks each of its jobs so before the first one runs
    (prune_ready.precheck). The network is built from the data class's image shape and classes."""
    from hydra.utils import instantiate

    from prune_ready.build import network
    from prune_ready.recipe import check_optimizer, optimizer_factory

    validate(cfg)
    check_settings(cfg)
    if cfg.debug:
        debug_config(cfg)
    pruning = instantiate(cfg.pruning)
    instantiate(cfg.lr_schedule).check(pruning.round_length)
    datamodule = instantiate(cfg.data)  # not set up: the job reads (and checks) the data
    net = network(cfg, datamodule.in_shape, datamodule.num_classes)
    check_optimizer(optimizer_factory(cfg.optimizer), net)
    pruning.check(net)


def check_precision(asked: str, used: str) -> None:
    """Refuse a precision Lightning replaces (16-mixed on CPU trains bf16-mixed, with a warning):
    the run's directory and config.yaml would name a precision it did not train in."""
    if used != asked:
        raise UserError(
            f"trainer.precision={asked} is not available here: Lightning would train {used} "
            f"instead; set trainer.precision={used} so the run is named by what it trains"
        )


def make_trainer(
    cfg: DictConfig, run_dir: Path, pruning: Pruning, callbacks: list[pl.Callback]
) -> pl.Trainer:
    """The configured Trainer, built before anything is written: what Lightning refuses (an
    unknown accelerator, a device count this machine lacks) is one line and leaves nothing.

    On Slurm, Lightning's own auto-requeue (a mid-round checkpoint in the working directory on
    SIGUSR1, then `scontrol requeue`) is off: submitit requeues the job, and the run resumes from
    its last completed round like any relaunched run.
    """
    from hydra.utils import instantiate
    from lightning_fabric.plugins.environments import SLURMEnvironment
    from pytorch_lightning.utilities.exceptions import MisconfigurationException

    from prune_ready.loggers import RunLogging, hyperparameters, make_loggers

    progress = [instantiate(cfg.progress_bar)] if cfg.progress_bar else []
    slurm = [SLURMEnvironment(auto_requeue=False)] if SLURMEnvironment.detect() else []
    loggers = make_loggers(cfg, run_dir)
    hparams = [RunLogging(hyperparameters(cfg))] if loggers else []
    try:
        return instantiate(
            cfg.trainer,
            **pruning.trainer_limits,
            **({"plugins": slurm} if slurm else {}),
            callbacks=[*callbacks, *progress, *hparams, *instantiate(cfg.trainer.callbacks)],
            enable_progress_bar=bool(progress),
            logger=loggers or False,  # False: none at all, not Lightning's lightning_logs/
            default_root_dir=str(run_dir),  # whatever else Lightning writes stays in the run
        )
    except InstantiationException as e:
        if isinstance(e.__cause__, MisconfigurationException | ValueError | TypeError):
            raise UserError(f"trainer: {' '.join(str(e.__cause__).split())}") from e
        raise


def fit(
    run_dir: Path, trainer: pl.Trainer, module: Classifier, datamodule: pl.LightningDataModule
) -> State:
    """Train (resuming from the run's checkpoint, if it has one); once every file of a finished
    run is written (and its checkpoint removed), write its manifest, the run's last write."""
    from pytorch_lightning.utilities.exceptions import SIGTERMException

    from prune_ready import checkpoints, manifest, results
    from prune_ready.status import State

    checkpoint = run_dir / results.CHECKPOINT
    try:
        trainer.fit(
            module, datamodule=datamodule, ckpt_path=checkpoint if checkpoint.exists() else None
        )
    except Diverged as e:
        if trainer.is_global_zero:
            results.write_text_atomic(run_dir / results.FAILED, f"{e}\n")
        log.error("failed %s: %s", run_dir, e)
        return State.FAILED
    except SIGTERMException:  # Lightning's is a SystemExit of status 0: a stopped grid looked done
        log.error("stopped %s by SIGTERM: run the same command again to resume it", run_dir)
        sys.exit(128 + signal.SIGTERM)
    if trainer.is_global_zero:
        checkpoints.discard(run_dir)
        manifest.finish(run_dir)
    return State.FINISHED


def cpu_processes(cfg: DictConfig) -> int:
    """The processes one run trains in on this machine's CPU (DDP on CPU: trainer.devices)."""
    devices = cfg.trainer.devices
    return devices if cfg.trainer.accelerator == "cpu" and isinstance(devices, int) else 1


def default_threads(processes: int = 1) -> int:
    """The cores this process may use, shared among the jobs a launcher runs side by side (and
    the DDP processes of each), at most a launcher's cpus_per_task.

    Two jobs each using every core oversubscribe them, and torch's threads then stall on each
    other (a LeNet step ran ~200x slower so); cores ÷ jobs keeps N jobs faster than one.
    submitit's local executor starts every job at once: its cpus_per_task keeps them apart.
    """
    cores = max(1, len(os.sched_getaffinity(0)) // processes)
    jobs, cap = 1, cores
    if HydraConfig.initialized():
        launcher = HydraConfig.get().launcher
        jobs = launcher.get("n_jobs", 1) or 1
        cap = launcher.get("cpus_per_task") or cores
    return max(1, min(cap, cores // (cores if jobs < 0 else jobs)))


def done(status: RunStatus | None, run_dir: Path) -> bool:
    """Whether the run in `run_dir` has ended (finished or failed): then it is skipped."""
    from prune_ready.status import State

    if status is None or status.state is State.UNFINISHED:
        return False
    log.info("skipped %s: %s (delete it to run again)", run_dir, status.describe())
    return True


def earlier_run(cfg: DictConfig, run_dir: Path) -> RunStatus | None:
    """The status of the run already in `run_dir` (None: none); an error if it had another config."""
    from prune_ready import results
    from prune_ready.status import run_status

    if not (run_dir / results.CONFIG).exists():
        return None
    changes = config_differences(OmegaConf.load(run_dir / results.CONFIG), cfg)
    if changes:
        raise UserError(
            f"{run_dir} holds a run of another config ({'; '.join(changes[:4])}"
            f"{'; ...' if len(changes) > 4 else ''}): set name=<study> to keep both, "
            "or delete the directory"
        )
    return run_status(run_dir, cfg.pruning.rounds)


def main() -> None:
    """The command line: group options are checked against conf/ before Hydra composes."""
    args, _ = get_args_parser().parse_known_args()
    # another config directory may hold other options; a completion query holds partial ones
    if args.config_dir is None and not args.shell_completion:
        try:
            check_group_options(args.overrides, Path(CONF_DIR))
        except UserError as e:
            sys.exit(f"error: {e}")
    try:
        check_run_length_overrides(args.overrides)
    except UserError as e:
        sys.exit(f"error: {e}")
    hydra_main()


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="train")
def hydra_main(cfg: DictConfig) -> None:
    from prune_ready import faults
    from prune_ready.status import State

    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    multirun = hydra_cfg.mode is RunMode.MULTIRUN
    try:
        state = train(cfg, run_dir)
    except Exception as e:
        if (fault := faults.write_error(e)) is not None:  # what resume needs is left in place
            sys.exit(f"error: {fault}")
        error = user_error(e)
        if error is None:
            raise
        # the directories Hydra made for this run (not those that were there): leave nothing
        remove_new_dirs(run_dir, Path(hydra_cfg.sweep.dir) if multirun else None)
        sys.exit(f"error: {error}")
    if cfg.pruning.get("control") == "stability":  # its rows went into the ticket run: none here
        remove_new_dirs(run_dir, Path(hydra_cfg.sweep.dir) if multirun else None)
    if state is State.FAILED and not multirun:
        sys.exit(1)  # in a multirun the other jobs go on; the analysis lists this one as failed


def user_error(e: BaseException | None) -> UserError | None:
    """The UserError behind `e`, if any (Hydra's instantiate wraps what a constructor raises)."""
    while e is not None and not isinstance(e, UserError):
        e = e.__cause__
    return e


if __name__ == "__main__":
    main()
