"""What pruning buys in size, from the masks alone: per run and round, the compacted network of
`prune_ready.compact` (inputs and units kept, parameters, bytes dense and with CSR linear layers),
and its mean over seeds per line and level (sizes.csv). No weights or timing are needed: the
structure follows from the masks and the network's description (speed is measured by
benchmarks/inference.py).

The description comes from the network itself: the run's `model.net` is built on the meta
device (its layers, no memory and no values) at the input shape the network declares. A run
whose masks do not fit that network (one built for another input, say LeNet on CIFAR-10) or
whose network prune_ready cannot describe or compact has no sizes rows; the rest of the
analysis goes on.
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import torch
from hydra.utils import instantiate
from torch import Tensor

from prune_ready import results
from prune_ready.analyze.compute.stats import LEVEL
from prune_ready.analyze.read.collect import Sweep, load_config
from prune_ready.compact import compact_sizes, compactable_plan
from prune_ready.errors import UserError
from prune_ready.models.description import Description, describe
from prune_ready.pruning.masks import prunable_layers
from prune_ready.status import State


def network(net_config: Mapping[str, Any], masks: Mapping[str, Tensor]) -> Description | None:
    """The description of the network `net_config` builds, if it can be compacted and its
    layers have the shapes of `masks` (else None)."""
    try:
        with torch.device("meta"):
            net = instantiate(dict(net_config))
        network = describe(net)
        compactable_plan(network)
    except UserError:
        return None
    shapes = {name: layer.weight.shape for name, layer in prunable_layers(net).items()}
    return network if shapes == {name: m.shape for name, m in masks.items()} else None


def run_sizes(sweep: Sweep) -> pd.DataFrame:
    """One row per finished run with round_masks.pt × saved round: its ids, the round and
    compact_sizes' columns."""
    runs = sweep.runs[sweep.runs["status"] == State.FINISHED]
    rows, described = [], {}
    for ids in runs[["run", *sweep.factors, "seed"]].to_dict("records"):
        run_dir = sweep.base / ids["run"]
        if not (run_dir / results.ROUND_MASKS).is_file():
            continue
        rounds = results.load_round_masks(run_dir)
        net_config = load_config(run_dir)["model"]["net"]
        first = next(iter(rounds.values()))
        key = json.dumps([net_config, {n: list(m.shape) for n, m in first.items()}])
        if key not in described:
            described[key] = network(net_config, first)
        if described[key] is None:
            continue
        for round_, masks in rounds.items():
            rows.append(ids | {"round": round_} | compact_sizes(masks, described[key]))
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
