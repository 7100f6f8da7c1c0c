"""Run directories: readable paths that tell runs apart, and fingerprints that tell configs apart."""

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf

# Overrides already named by the path (model, data, init, pruning, seed, study name) or that do
# not change results (where data lives, threads, progress bars, launchers): left out of the path.
NOT_IN_PATH = {
    "name",
    "seed",
    "model",
    "data",
    "init",
    "pruning",
    "trainer",
    "experiment",
    "threads",
    "progress_bar",
    "setup",
    "data.root",
    "data.cache_dir",
    "data.download",
    "data.steps_per_call",
}
NOT_IN_PATH_PREFIXES = ("trainer.", "hydra", "paths.", "logger.", "progress_bar.")


def run_variant(overrides: Iterable[str]) -> str:
    """The command-line overrides that set this run apart, as a path segment ending in '/'.

    E.g. ``pruning.rounds=3 data.train_subset=500`` -> ``data.train_subset=500,pruning.rounds=3/``;
    no such overrides -> ``""``. Values are written as Hydra's sweeper writes them
    (``model.lr=1.2e-3`` -> ``model.lr=0.0012``), so a run gets the same directory with or
    without ``-m``.
    """
    kept = []
    for override in OverridesParser.create().parse_overrides(list(overrides)):
        key = override.key_or_group
        if key in NOT_IN_PATH or key.startswith(NOT_IN_PATH_PREFIXES):
            continue
        kept.append(f"{key}={override.get_value_element_as_str()}".replace("/", "_"))
    return ",".join(sorted(kept)) + "/" if kept else ""


# Config keys that say where or how a run executes, not what it computes: a run resumed with a
# different data path, thread count or progress bar is still the same run.
NOT_IN_FINGERPRINT = (
    "paths",
    "progress_bar",
    "threads",
    "logger",
    "data.root",
    "data.cache_dir",
    "data.download",
    "data.steps_per_call",
)


def result_keys(config: DictConfig) -> dict[str, Any]:
    """The resolved config's leaves ('a.b.c': value) that can change a run's results."""
    flat = flatten(OmegaConf.to_container(config, resolve=True))
    return {
        key: value
        for key, value in sorted(flat.items())
        if not any(key == k or key.startswith(f"{k}.") for k in NOT_IN_FINGERPRINT)
    }


def fingerprint(config: DictConfig) -> str:
    """A short hash of everything in a config that can change a run's results."""
    text = json.dumps(result_keys(config), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def config_differences(old: DictConfig, new: DictConfig) -> list[str]:
    """'key: old -> new' for every result-changing leaf that differs."""
    a, b = result_keys(old), result_keys(new)
    return [
        f"{k}: {a.get(k)} -> {b.get(k)}"
        for k in sorted(a.keys() | b.keys())
        if a.get(k) != b.get(k)
    ]


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as one dict keyed by dotted paths (lists stay leaves)."""
    if isinstance(tree, dict) and tree:
        return {
            k: v for key, sub in tree.items() for k, v in flatten(sub, f"{prefix}{key}.").items()
        }
    return {prefix[:-1]: tree}
