"""Run-directory naming: readable paths that tell runs of different configs apart."""

from collections.abc import Iterable

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
}
NOT_IN_PATH_PREFIXES = ("trainer.", "hydra", "paths.", "logger.", "progress_bar.")


def run_variant(overrides: Iterable[str]) -> str:
    """The command-line overrides that set this run apart, as a path segment ending in '/'.

    E.g. ``pruning.rounds=3 data.train_subset=500`` -> ``data.train_subset=500,pruning.rounds=3/``;
    no such overrides -> ``""``.
    """
    kept = []
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        if key in NOT_IN_PATH or key.startswith(NOT_IN_PATH_PREFIXES):
            continue
        kept.append(override.replace("/", "_"))
    return ",".join(sorted(kept)) + "/" if kept else ""
