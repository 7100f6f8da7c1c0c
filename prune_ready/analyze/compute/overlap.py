"""Do different inits find the same ticket? The Jaccard index |A∩B| / |A∪B| of two runs' masks.

Runs are paired within one model, data and pruning config (every factor but the init) at each
round: the same schedule, so the same sparsity. Per pair and round the index is taken per layer
and over all prunable weights (layer "all"), with `chance`: the index two random masks with the
same per-layer counts would have (expected intersection Σ cₐ·c_b / N over layers).
Runs are paired with the runs of up to WINDOW nearby seeds (all pairs up to WINDOW seeds), read
WINDOW seeds at a time, so time and memory grow with the runs, not with their square. Masks stay
bit-packed as round_masks.pt holds them: an intersection is the popcount of two runs' words
ANDed, so a sweep of Conv-6 runs fits in memory.

The summary pools the pairs of each kind: same init and other seed (per init and pooled), other
inits and same seed (per pair of inits and pooled), other init and other seed (pooled). Pairs
share runs, so they are not independent samples; their Student-t CIs are descriptive only.
"""

import math
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from numpy.typing import ArrayLike
from scipy import stats

from prune_ready import results
from prune_ready.analyze.compute.stats import CONFIDENCE, LEVEL, describe
from prune_ready.analyze.read.collect import Sweep
from prune_ready.status import State

ALL = "all"  # layer of the whole-network rows; init_a and init_b of pooled rows
SAME_INIT = "same_init_diff_seed"
SAME_SEED = "diff_init_same_seed"
NEITHER = "diff_init_diff_seed"
KINDS = (SAME_INIT, SAME_SEED, NEITHER)
WINDOW = 8  # runs WINDOW or more seeds apart (in the order of the seeds) are not paired


def pair_table(masks: Sequence[Mapping[str, ArrayLike]]) -> pd.DataFrame:
    """Every pair a < b of the runs' 0/1 masks (one round, the same layers): per layer and over
    all layers, a, b, layer, intersection, union, jaccard and chance."""
    sizes = {layer: np.asarray(mask).size for layer, mask in masks[0].items()}
    packed = [
        {
            layer: np.packbits(np.asarray(mask, dtype=bool).reshape(-1))
            for layer, mask in run.items()
        }
        for run in masks
    ]
    return packed_pair_table(packed, sizes)


def packed_pair_table(
    runs: Sequence[Mapping[str, np.ndarray]], sizes: Mapping[str, int]
) -> pd.DataFrame:
    """pair_table of bit-packed masks (uint8, 8 weights a byte, zero padding, one bit order):
    each intersection is the popcount of two runs' 64-bit words ANDed, exact, never unpacked."""
    a, b = np.triu_indices(len(runs), 1)
    per_layer, totals = {}, np.zeros((3, len(a)))
    for layer, size in sizes.items():
        words = np.stack([np.pad(r[layer], (0, -len(r[layer]) % 8)).view(np.uint64) for r in runs])
        count = np.bitwise_count(words).sum(1, dtype=np.int64).astype(float)
        both = [np.bitwise_count(words[i] & words[i + 1 :]).sum(1) for i in range(len(runs) - 1)]
        both = np.concatenate(both).astype(float)  # in the order of (a, b)
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
    """Pairs of finished runs with round_masks.pt that differ only by init and seed, at every round
    both have: the pair's factors, round, run/init/seed of a and b, and the overlap."""
    frames = list(windows(sweep))
    return pd.concat(frames, ignore_index=True) if frames else no_pairs(sweep.factors)


def no_pairs(factors: Sequence[str]) -> pd.DataFrame:
    others = [f for f in factors if f != "init"]
    ids = [f"{c}_{s}" for s in "ab" for c in ("run", "init", "seed")]
    columns = [*others, "round", "layer", *ids, "intersection", "union", "jaccard", "chance"]
    return pd.DataFrame(columns=columns)


def windows(sweep: Sweep) -> Iterator[pd.DataFrame]:
    """mask_pairs' rows, one window of WINDOW new seeds of one setting at a time: runs are paired
    with the runs less than WINDOW seeds from theirs (in the order of the seeds), so pairs, time
    and memory grow with the runs, not with their square; each file is read once."""
    runs = sweep.runs[sweep.runs["status"] == State.FINISHED]
    has_masks = runs["run"].map(lambda run: (sweep.base / run / results.ROUND_MASKS).is_file())
    runs = runs[has_masks.astype(bool)]
    others = [f for f in sweep.factors if f != "init"]
    columns = list(no_pairs(sweep.factors).columns)
    for key, group in runs.groupby(others, dropna=False, sort=True):
        setting = dict(zip(others, key, strict=True))
        group = group.sort_values(["init", "seed"]).assign(
            rank=group["seed"].rank(method="dense").astype(int) - 1
        )
        loaded: dict[str, dict] = {}
        for start in range(0, group["rank"].max() + 1, WINDOW):
            members = group[group["rank"].between(start - WINDOW + 1, start + WINDOW - 1)]
            for run in members["run"]:
                if run not in loaded:
                    loaded[run] = torch.load(sweep.base / run / results.ROUND_MASKS)
            frames = window_pairs(members, [loaded[run] for run in members["run"]], start)
            if frames:
                yield pd.concat(frames, ignore_index=True).assign(**setting)[columns]
            for run in members.loc[members["rank"] <= start, "run"]:
                del loaded[run]


def mask_overlap(sweep: Sweep, rounds: pd.DataFrame, factors: Sequence[str]) -> pd.DataFrame:
    """summarize_overlap(mask_pairs(sweep)), one window at a time: where a setting has more
    seeds than one window holds, its windows' means and stds are pooled (n-weighted mean, pooled
    sum of squares); with up to WINDOW seeds the numbers are those of summarize_overlap."""
    parts = [summarize_overlap(pairs, rounds, factors) for pairs in windows(sweep)]
    if not parts:
        return summarize_overlap(no_pairs(factors), rounds, factors)
    table = pd.concat(parts, ignore_index=True)
    others = [f for f in factors if f != "init"]
    keys = [*others, "round", "layer", "comparison", "init_a", "init_b"]
    repeated = table.duplicated(keys, keep=False)
    if repeated.any():
        pooled = pool(table[repeated], keys)
        table = pd.concat([table[~repeated], pooled], ignore_index=True)[parts[0].columns]
    rank = table["comparison"].map(KINDS.index)
    order = table.assign(rank=rank).sort_values([*others, "round", "layer", "rank", *keys[-2:]])
    return table.loc[order.index].reset_index(drop=True)


def pool(rows: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """One summary row per `keys` from the rows of several windows (their n, mean and std):
    the n-weighted mean, the std from the pooled sums of squares, the t CI."""
    n, mean = rows["n_pairs"], rows["jaccard_mean"]
    sums = rows[list(keys)].assign(
        n_pairs=n,
        sum=n * mean,
        squares=(n - 1) * rows["jaccard_std"].fillna(0) ** 2 + n * mean**2,
        chance=n * rows["chance_mean"],
        level=rows[LEVEL],
    )
    pooled = sums.groupby(list(keys), dropna=False, sort=False).agg(
        n_pairs=("n_pairs", "sum"),
        sum=("sum", "sum"),
        squares=("squares", "sum"),
        chance=("chance", "sum"),
        level=("level", "first"),
    )
    n = pooled["n_pairs"]
    mean = pooled["sum"] / n
    std = np.sqrt((pooled["squares"] - n * mean**2) / (n - 1))
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * std / np.sqrt(n)
    return pd.DataFrame(
        {
            LEVEL: pooled["level"],
            "n_pairs": n,
            "jaccard_mean": mean,
            "jaccard_std": std,
            "jaccard_ci_low": mean - half,
            "jaccard_ci_high": mean + half,
            "chance_mean": pooled["chance"] / n,
        }
    ).reset_index()


def window_pairs(members: pd.DataFrame, saved: Sequence[dict], start: int) -> list[pd.DataFrame]:
    """Per round the `members` share, their pairs less than WINDOW seeds apart with at least one
    run from seed rank `start` on (pairs of earlier runs came from the window before)."""
    ranks = members["rank"].to_numpy()
    frames: list[pd.DataFrame] = []
    if len(members) < 2:
        return frames
    for round_ in sorted(set.intersection(*(set(s["rounds"]) for s in saved))):
        runs = [{name: bits.numpy() for name, bits in s["rounds"][round_].items()} for s in saved]
        sizes = {name: math.prod(saved[0]["shapes"][name]) for name in runs[0]}
        pairs = packed_pair_table(runs, sizes)
        a, b = ranks[pairs["a"]], ranks[pairs["b"]]
        pairs = pairs[(np.maximum(a, b) >= start) & (np.abs(a - b) < WINDOW)]
        ids = {
            f"{column}_{side}": members[column].to_numpy()[pairs[side]]
            for side in ("a", "b")
            for column in ("run", "init", "seed")
        }
        frames.append(pairs.drop(columns=["a", "b"]).assign(round=round_, **ids))
    return frames


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
    by = [*others, "round", "layer", "comparison", "init_a", "init_b"]
    per_init = describe(pairs[pairs["comparison"] != NEITHER], by, ["jaccard", "chance"])
    pooled = describe(pairs.assign(init_a=ALL, init_b=ALL), by, ["jaccard", "chance"])
    summary = pd.concat([per_init, pooled], ignore_index=True).sort_values(by, kind="stable")
    summary = summary.rename(columns={"n": "n_pairs"})
    levels = rounds.groupby([*others, "round"], dropna=False)[LEVEL].mean().reset_index()
    summary = summary.merge(levels, on=[*others, "round"], how="left")
    summary["rank"] = summary["comparison"].map(KINDS.index)
    summary = summary.sort_values([*others, "round", "layer", "rank"], kind="stable")
    means = ["jaccard_mean", "jaccard_std", "jaccard_ci_low", "jaccard_ci_high", "chance_mean"]
    return summary[[*by[:-3], LEVEL, *by[-3:], "n_pairs", *means]].reset_index(drop=True)
