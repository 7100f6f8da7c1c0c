"""Run directories: readable paths that tell runs apart, config comparison for re-launches, and
removing the directories a refused run made."""

import fcntl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

# Config keys that say where or how a run executes, not what it computes: a run resumed with a
# different data path, thread count or progress bar is still the same run.
NOT_RESULT_CHANGING = (
    "paths",
    "progress_bar",
    "threads",
    "logger",
    "recorders",  # what a run writes besides rounds.csv, not what it trains
    "data.root",
    "data.cache_dir",
    "data.download",
    "data.steps_per_call",
    "model.compile",
    "pruning.ticket",  # where a control's ticket run lies, not what it is (configs are compared)
    "effective_batch_size",  # a record of data.batch_size
    "stability",  # what a pruning.control=stability branch measures of its ticket run
)
# Overrides the run path names already (groups, seed, study name), and those it leaves out: the
# above, and how training executes (trainer.*, launchers), so that a run keeps its directory.
# (debug=true: the root, paths.debug_root)
NAMED_BY_PATH = ("name", "seed", "model", "data", "init", "pruning", "experiment", "setup", "debug")
NOT_IN_PATH = (*NOT_RESULT_CHANGING, "trainer", "hydra")
# Trainer settings that change what is computed, not where or how fast: an override of one is a
# directory level like any result-changing override (trainer.precision=bf16-mixed/).
RESULT_CHANGING_TRAINER = (
    "trainer.precision",
    "trainer.gradient_clip_val",
    "trainer.gradient_clip_algorithm",
    "trainer.accumulate_grad_batches",
)
# Overrides that restate a default: `init.scale=1.0` is the run without the override, so it keeps
# that run's directory (a sweep init.scale=0.5,1.0,2.0 then reuses the default runs; a rewind
# sweep pruning.reset.to=0,1ep the θ0 runs); so do the default recipe's group options
# (optimizer=adam, lr_schedule=constant). Any other optimizer or schedule is a directory level
# like any result-changing override (optimizer.lr=0.05,optimizer=sgd/).
DEFAULTS: dict[str, float | str] = {
    "init.scale": 1.0,
    "trainer.precision": "32-true",
    "pruning.reset.to": "0",
    "optimizer": "adam",
    "lr_schedule": "constant",
}
# Lightning's short precision names and the full ones it turns them into (lightning_fabric's
# _PRECISION_INPUT_STR_ALIAS_CONVERSION): an alias names the same run as its full form.
PRECISION_ALIASES = {"64": "64-true", "32": "32-true", "16": "16-mixed", "bf16": "bf16-mixed"}


def canonical_precision(value: int | str | None) -> int | str | None:
    """Lightning's full name of a precision alias (32 -> '32-true'); other values as they are."""
    return PRECISION_ALIASES.get(str(value), value)


def under(key: str, roots: Iterable[str]) -> bool:
    """Whether `key` is one of `roots` or lies below one ('data.root' is under 'data.root')."""
    return any(key == root or key.startswith(f"{root}.") for root in roots)


def left_out_of_path(key: str) -> bool:
    """Whether `key` says where or how a run executes (so neither its path nor the analysis's
    factors name it)."""
    return under(key, NOT_IN_PATH) and not under(key, RESULT_CHANGING_TRAINER)


def restates_default(key: str, value: str) -> bool:
    default = DEFAULTS.get(key)
    if isinstance(default, float):
        return is_number(value) and float(value) == default
    return value == default


def run_variant(overrides: Iterable[str]) -> str:
    """The command-line overrides that set this run apart, as a path segment ending in '/'.

    E.g. ``pruning.rounds=3 data.train_subset=500`` -> ``data.train_subset=500,pruning.rounds=3/``,
    ``optimizer=sgd optimizer.lr=0.05`` -> ``optimizer.lr=0.05,optimizer=sgd/``; no such
    overrides -> ``""``. Values are written as Hydra's sweeper writes them
    (``model.lr=1.2e-3`` -> ``model.lr=0.0012``), so a run gets the same directory with or
    without ``-m``.
    """
    kept = []
    for override in OverridesParser.create().parse_overrides(list(overrides)):
        key, value = override.key_or_group, override.get_value_element_as_str()
        if key == "trainer.precision":
            value = canonical_precision(value)
        if key in NAMED_BY_PATH or left_out_of_path(key) or key.startswith("hydra/"):
            continue
        if restates_default(key, value):
            continue
        kept.append(f"{key}={value}".replace("/", "_"))
    return ",".join(sorted(kept)) + "/" if kept else ""


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def result_keys(config: DictConfig) -> dict[str, Any]:
    """The resolved config's leaves ('a.b.c': value) that can change a run's results."""
    flat = flatten(OmegaConf.to_container(config, resolve=True))
    return {
        key: value for key, value in sorted(flat.items()) if not under(key, NOT_RESULT_CHANGING)
    }


def config_differences(old: DictConfig, new: DictConfig) -> list[str]:
    """'key: old -> new' for every result-changing leaf the two configs both have and disagree on.

    Keys only one side has are options added to (or dropped from) the tool since the older run
    was made; that run is taken to have used their defaults.
    """
    a, b = result_keys(old), result_keys(new)
    return [f"{k}: {a[k]} -> {b[k]}" for k in sorted(a.keys() & b.keys()) if a[k] != b[k]]


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as one dict keyed by dotted paths (lists stay leaves)."""
    if isinstance(tree, dict) and tree:
        return {
            k: v for key, sub in tree.items() for k, v in flatten(sub, f"{prefix}{key}.").items()
        }
    return {prefix[:-1]: tree}


LOCK = ".lock"


@contextmanager
def exclusive(run_dir: Path, lock: str = LOCK) -> Iterator[bool]:
    """Hold `run_dir`'s lock while training in it: yields False if another process holds it.
    `lock` names the lock file: work on a finished run (e.g. prune_ready.stability) has its own.

    An flock, so the kernel releases it when its holder dies, even by SIGKILL."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / lock, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class NewDirs(Callback):
    """A Hydra callback: notes, before Hydra makes the run's (or the sweep's) directory, the
    outermost directory it will create, so that a refused run can remove exactly what was made
    for it (`remove_new_dirs`) and never a directory that was there before."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        HydraConfig.instance().set_config(config)  # hydra.run.dir reads ${hydra:overrides.task}
        note_new_dirs(Path(config.hydra.run.dir))

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        note_new_dirs(Path(config.hydra.sweep.dir))


SWEEP_RECORD = "multirun.yaml"  # what Hydra writes into a sweep directory before any job
NEW_DIRS: list[Path] = []  # the outermost directories Hydra was about to make in this process


def note_new_dirs(path: Path) -> None:
    path = path.absolute()
    missing = [p for p in (path, *path.parents) if not p.exists()]
    if missing:
        NEW_DIRS.append(missing[-1])


def remove_new_dirs(run_dir: Path, sweep_dir: Path | None) -> None:
    """Remove `run_dir` and its parents while they are empty and this process made them (a sweep
    directory that holds only Hydra's multirun.yaml counts as empty).

    Without a note (a multirun job in a process of its own) only the levels below `sweep_dir`
    count as made for the job; the launcher made the sweep directory for every job.
    """
    run_dir = run_dir.absolute()
    sweep = sweep_dir.absolute() if sweep_dir is not None else None
    outermost = next((d for d in NEW_DIRS if run_dir.is_relative_to(d)), None)
    if outermost is None and sweep is not None:
        outermost = sweep / run_dir.relative_to(sweep).parts[0]
    if outermost is None:
        return
    for level in (run_dir, *run_dir.parents):
        if level == sweep and [p.name for p in level.iterdir()] == [SWEEP_RECORD]:
            (level / SWEEP_RECORD).unlink()  # the record of a sweep that ran nothing
        if not level.is_dir() or any(level.iterdir()):
            return
        level.rmdir()
        if level == outermost:
            return
