"""Run directories: readable paths that tell runs apart, and config comparison for re-launches."""

import fcntl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf

# Config keys that say where or how a run executes, not what it computes: a run resumed with a
# different data path, thread count or progress bar is still the same run.
NOT_RESULT_CHANGING = (
    "paths",
    "progress_bar",
    "threads",
    "logger",
    "data.root",
    "data.cache_dir",
    "data.download",
    "data.steps_per_call",
    "model.compile",
)
# Overrides the run path names already (groups, seed, study name), and those it leaves out: the
# above, and how training executes (trainer.*, launchers), so that a run keeps its directory.
NAMED_BY_PATH = ("name", "seed", "model", "data", "init", "pruning", "experiment", "setup")
NOT_IN_PATH = (*NOT_RESULT_CHANGING, "trainer", "hydra")
# Overrides that restate a default: `init.scale=1.0` is the run without the override, so it keeps
# that run's directory (a sweep init.scale=0.5,1.0,2.0 then reuses the default runs).
DEFAULTS = {"init.scale": 1.0}


def under(key: str, roots: Iterable[str]) -> bool:
    """Whether `key` is one of `roots` or lies below one ('data.root' is under 'data.root')."""
    return any(key == root or key.startswith(f"{root}.") for root in roots)


def run_variant(overrides: Iterable[str]) -> str:
    """The command-line overrides that set this run apart, as a path segment ending in '/'.

    E.g. ``pruning.rounds=3 data.train_subset=500`` -> ``data.train_subset=500,pruning.rounds=3/``;
    no such overrides -> ``""``. Values are written as Hydra's sweeper writes them
    (``model.lr=1.2e-3`` -> ``model.lr=0.0012``), so a run gets the same directory with or
    without ``-m``.
    """
    kept = []
    for override in OverridesParser.create().parse_overrides(list(overrides)):
        key, value = override.key_or_group, override.get_value_element_as_str()
        if key in NAMED_BY_PATH or under(key, NOT_IN_PATH) or key.startswith("hydra/"):
            continue
        if key in DEFAULTS and is_number(value) and float(value) == DEFAULTS[key]:
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
def exclusive(run_dir: Path) -> Iterator[bool]:
    """Hold `run_dir`'s lock while training in it: yields False if another process holds it.

    An flock, so the kernel releases it when its holder dies, even by SIGKILL."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / LOCK, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
