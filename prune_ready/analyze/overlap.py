"""Do different inits find the same ticket? The Jaccard index |A∩B| / |A∪B| of two runs' masks.

Runs are paired within one model, data and pruning config (every factor but the init) at each
round: the same schedule, so the same sparsity. Per pair and round the index is taken per layer
and over all prunable weights (layer "all"), with `chance`: the index two random masks with the
same per-layer counts would have (expected intersection Σ cₐ·c_b / N over layers).
One matrix product per group, round and layer gives every pair's intersection at once (M·Mᵀ of
the runs' 0/1 masks); each run's round_masks.pt is read once and kept bit-packed, and one round
is unpacked at a time, so a sweep of Conv-6 runs fits in memory.

The summary pools the pairs of each kind: same init and other seed (per init and pooled), other
inits and same seed (per pair of inits and pooled), other init and other seed (pooled). Pairs
share runs, so they are not independent samples; their Student-t CIs are descriptive only.
"""

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from prune_ready import results
from prune_ready.analyze.collect import Sweep
from prune_ready.analyze.stats import LEVEL, describe
from prune_ready.status import State

ALL = "all"  # layer of the whole-network rows; init_a and init_b of pooled rows
SAME_INIT = "same_init_diff_seed"
SAME_SEED = "diff_init_same_seed"
NEITHER = "diff_init_diff_seed"
KINDS = (SAME_INIT, SAME_SEED, NEITHER)
EXACT = 2**24  # float32 counts 0/1 products exactly below this many weights per layer


def pair_table(masks: Sequence[Mapping[str, Tensor]]) -> pd.DataFrame:
    """Every pair a < b of the runs' masks (one round, the same layers): per layer and over all
    layers, a, b, layer, intersection, union, jaccard and chance."""
    a, b = np.triu_indices(len(masks), 1)
    per_layer, totals = {}, np.zeros((3, len(a)))
    for layer in masks[0]:
        size = masks[0][layer].numel()
        dtype = torch.float32 if size < EXACT else torch.float64
        m = torch.stack([run[layer].reshape(-1) for run in masks]).to(dtype)
        both = (m @ m.T).double().numpy()[a, b]
        count = m.sum(1).double().numpy()
        counts = np.stack([both, count[a] + count[b] - both, count[a] * count[b] / size])
        per_layer[layer], totals = counts, totals + counts
    frames = [
        pd.DataFrame(
            {
                "a": a,
                "b": b,
                "layer": layer,
                "intersection": inter.astype(np.int64),
                "union": union.astype(np.int64),
                "jaccard": inter / np.where(union > 0, union, np.nan),
                "chance": expected / (union + inter - expected),  # |A| + |B| - E|A∩B|
            }
        )
        for layer, (inter, union, expected) in [(ALL, totals), *per_layer.items()]
    ]
    return pd.concat(frames, ignore_index=True)


def mask_pairs(sweep: Sweep) -> pd.DataFrame:
    """Every pair of finished runs with round_masks.pt that differ only by init and seed, at
    every round both have: the pair's factors, round, run/init/seed of a and b, and the overlap."""
    runs = sweep.runs[sweep.runs["status"] == State.FINISHED]
    has_masks = runs["run"].map(lambda run: (sweep.base / run / results.ROUND_MASKS).is_file())
    runs = runs[has_masks.astype(bool)]
    others = [f for f in sweep.factors if f != "init"]
    frames = []
    for key, group in runs.groupby(others, dropna=False, sort=True):
        if len(group) < 2:
            continue
        group = group.sort_values(["init", "seed"])
        saved = [torch.load(sweep.base / run / results.ROUND_MASKS) for run in group["run"]]
        common = set.intersection(*(set(s["rounds"]) for s in saved))
        for round_ in sorted(common):
            masks = [
                {
                    name: results.unpack_mask(bits, s["shapes"][name])
                    for name, bits in s["rounds"][round_].items()
                }
                for s in saved
            ]
            pairs = pair_table(masks)
            ids = {
                f"{column}_{side}": group[column].to_numpy()[pairs[side]]
                for side in ("a", "b")
                for column in ("run", "init", "seed")
            }
            setting = dict(zip(others, key, strict=True))
            frames.append(pairs.drop(columns=["a", "b"]).assign(**setting, round=round_, **ids))
    columns = [
        *others,
        "round",
        "layer",
        *(f"{c}_{s}" for s in "ab" for c in ("run", "init", "seed")),
    ]
    columns += ["intersection", "union", "jaccard", "chance"]
    return (
        pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
    )


def summarize_overlap(
    pairs: pd.DataFrame, rounds: pd.DataFrame, factors: Sequence[str]
) -> pd.DataFrame:
    """Per setting, round and layer, for each kind of pair (per init or pair of inits, and pooled
    as init ALL): the level, n pairs, the mean Jaccard index with its t CI, and the chance mean."""
    others = [f for f in factors if f != "init"]
    same_init, same_seed = pairs["init_a"] == pairs["init_b"], pairs["seed_a"] == pairs["seed_b"]
    kind = np.select(
        [same_init & ~same_seed, ~same_init & same_seed, ~same_init & ~same_seed],
        KINDS,
        default="",
    )
    pairs = pairs.assign(comparison=kind)[kind != ""]
    tables = [
        pairs[pairs["comparison"] != NEITHER],
        pairs.assign(init_a=ALL, init_b=ALL),
    ]
    by = [*others, "round", "layer", "comparison", "init_a", "init_b"]
    summary = describe(pd.concat(tables, ignore_index=True), by, ["jaccard", "chance"])
    summary = summary.rename(columns={"n": "n_pairs"})
    levels = rounds.groupby([*others, "round"], dropna=False)[LEVEL].mean().reset_index()
    summary = summary.merge(levels, on=[*others, "round"], how="left")
    summary["rank"] = summary["comparison"].map(KINDS.index)
    summary = summary.sort_values([*others, "round", "layer", "rank"], kind="stable")
    stats = ["jaccard_mean", "jaccard_std", "jaccard_ci_low", "jaccard_ci_high", "chance_mean"]
    return summary[[*by[:-3], LEVEL, *by[-3:], "n_pairs", *stats]].reset_index(drop=True)
