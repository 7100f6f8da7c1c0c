"""What pruning buys in size, from the masks alone: per run and round, the compacted network of
`prune_ready.compact` (inputs and units kept, parameters, bytes dense and with CSR linear layers),
and its mean over seeds per line and level (sizes.csv). No weights or timing are needed: the
structure follows from the masks (speed is measured by benchmarks/inference.py)."""

from collections.abc import Sequence

import pandas as pd

from prune_ready import results
from prune_ready.analyze.collect import Sweep
from prune_ready.analyze.stats import LEVEL
from prune_ready.compact import compact_sizes
from prune_ready.status import State

# the data modules' in_shape (prune_ready.data, which loads Lightning: not imported here)
IN_SHAPES = {"mnist": (1, 28, 28), "cifar10": (3, 32, 32)}


def in_shape(data: str) -> tuple[int, int, int] | None:
    """One image's (C, H, W) for a data set's name (cifar10-jpeg is CIFAR-10's shape)."""
    return IN_SHAPES.get(data.split("-")[0])


def run_sizes(sweep: Sweep) -> pd.DataFrame:
    """One row per finished run with round_masks.pt × saved round: its ids, the round and
    compact_sizes' columns."""
    runs = sweep.runs[sweep.runs["status"] == State.FINISHED]
    rows = []
    for ids in runs[["run", *sweep.factors, "seed"]].to_dict("records"):
        path, shape = sweep.base / ids["run"] / results.ROUND_MASKS, in_shape(ids["data"])
        if shape is None or not path.is_file():
            continue
        for round_, masks in results.load_round_masks(path.parent).items():
            rows.append(ids | {"round": round_} | compact_sizes(masks, ids["model"], shape))
    return pd.DataFrame(rows)


def summarize_sizes(
    sizes: pd.DataFrame, rounds: pd.DataFrame, factors: Sequence[str]
) -> pd.DataFrame:
    """Per line and round: the level, n runs and each size's mean over the seeds."""
    if sizes.empty:
        return pd.DataFrame(columns=[*factors, "round", LEVEL, "n"])
    keys = [*factors, "round"]
    numbers = [c for c in sizes.columns if c not in ("run", *keys, "seed")]
    grouped = sizes.groupby(keys, dropna=False, sort=True)
    table = grouped[numbers].mean().join(grouped.size().rename("n")).reset_index()
    levels = rounds.groupby(keys, dropna=False)[LEVEL].mean().reset_index()
    table = table.merge(levels, on=keys, how="left")
    return table[[*keys, LEVEL, "n", *numbers]]


def compacted_sizes(sweep: Sweep, rounds: pd.DataFrame) -> pd.DataFrame:
    return summarize_sizes(run_sizes(sweep), rounds, sweep.factors)
