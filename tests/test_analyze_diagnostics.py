"""The diagnostics and mask-overlap statistics against hand-computed values on constructed input.

Masks of three runs, layers fc (2×3) and out (1×2):
  A fc [[1,1,0],[0,1,0]] out [1,0]    B fc [[1,0,0],[0,1,1]] out [0,1]    C fc [[0,0,1],[1,0,1]] out [0,1]
A,B: fc ∩ 2, ∪ 4 -> 0.5; out ∩ 0, ∪ 2 -> 0; all ∩ 2, ∪ 6 -> 1/3 (not the mean of the layers, 0.25)
A,C: fc ∩ 0, ∪ 6; out ∩ 0, ∪ 2; all 0/8 -> 0
B,C: fc ∩ 1, ∪ 5 -> 0.2; out ∩ 1, ∪ 1 -> 1; all 2/6 -> 1/3
chance (every pair: 3 of 6 fc weights, 1 of 2 out weights each): E∩ fc 3·3/6 = 1.5, out 1·1/2 = 0.5;
fc 1.5/(6-1.5) = 1/3, out 0.5/(2-0.5) = 1/3, all 2/(8-2) = 1/3.
"""

import pandas as pd
import pytest
import torch

from prune_ready.analyze import (
    mean_ci,
    network_health,
    pair_table,
    summarize_diagnostics,
    summarize_overlap,
)
from prune_ready.analyze.compute.overlap import pool

FACTORS = ["model", "data", "init", "pruning"]
SETTING = {"model": "lenet_300_100", "data": "mnist", "pruning": "imp"}
T_975_1 = 12.706205  # t(0.975, 1 df)


def mask(*rows: list[int]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.bool)


def test_pair_table_jaccard_per_layer_and_over_all_weights():
    runs = [
        {"fc": mask([1, 1, 0], [0, 1, 0]), "out": mask([1, 0])},
        {"fc": mask([1, 0, 0], [0, 1, 1]), "out": mask([0, 1])},
        {"fc": mask([0, 0, 1], [1, 0, 1]), "out": mask([0, 1])},
    ]
    table = pair_table(runs).set_index(["a", "b", "layer"])
    assert len(table) == 3 * 3  # 3 pairs × (all, fc, out)
    expected = {
        (0, 1): {"all": (2, 6, 1 / 3), "fc": (2, 4, 0.5), "out": (0, 2, 0.0)},
        (0, 2): {"all": (0, 8, 0.0), "fc": (0, 6, 0.0), "out": (0, 2, 0.0)},
        (1, 2): {"all": (2, 6, 1 / 3), "fc": (1, 5, 0.2), "out": (1, 1, 1.0)},
    }
    for (a, b), layers in expected.items():
        for layer, (inter, union, jaccard) in layers.items():
            row = table.loc[(a, b, layer)]
            assert (row["intersection"], row["union"]) == (inter, union)
            assert row["jaccard"] == pytest.approx(jaccard, abs=1e-12)
            assert row["chance"] == pytest.approx(1 / 3, abs=1e-12)


def diagnostics_rows() -> pd.DataFrame:
    """Two seeds of one init, one round, layers input -> hidden -> head (not alphabetical)."""
    rows = []
    per_seed = {  # layer: (units, fan_in_mean, dead_in, dead, weight_rms, intended_rms)
        0: {
            "input": (4, 10.0, 1, 1, 0.5, 1.0),
            "hidden": (6, 2.0, 0, 3, 2.0, 1.0),
            "head": (2, 3.0, 0, 1, 1.0, 1.0),
        },
        1: {
            "input": (4, 12.0, 0, 2, 0.9, 0.5),
            "hidden": (6, 2.0, 0, 0, 1.0, 1.0),
            "head": (2, 3.0, 0, 0, 1.0, 2.0),
        },
    }
    for seed, layers in per_seed.items():
        for i, (layer, (units, fan_in, dead_in, dead, rms, intended)) in enumerate(layers.items()):
            rows.append(
                {
                    "run": f"kaiming_normal/seed={seed}",
                    **SETTING,
                    "init": "kaiming_normal",
                    "seed": seed,
                    "round": 1,
                    "layer": layer,
                    "units": units,
                    "fan_in_mean": fan_in,
                    "fan_in_min": fan_in,
                    "dead_in": dead_in,
                    "dead_out": dead - dead_in,
                    "dead": dead,
                    "weight_rms": rms,
                    "intended_rms": intended,
                    "act_rms": 7.0 + seed if layer == "head" else 1.0,
                    "grad_norm": 0.25 * (seed + 1) if i == 0 else 1.0,
                    "weights_remaining_pct": 80.0376,
                }
            )
    return pd.DataFrame(rows)


def test_summarize_diagnostics_means_over_seeds_of_each_measure_and_ratio():
    summary = summarize_diagnostics(diagnostics_rows(), FACTORS)
    assert summary["layer"].tolist() == ["input", "hidden", "head"]  # feed-forward order kept
    row = summary.set_index("layer").loc["input"]
    assert (row["n"], row["weights_remaining_pct"]) == (2, 80.0376)
    assert row["dead"] == 1.5 and row["weight_rms"] == pytest.approx(0.7)
    # dead_pct: 25% and 50%; rms_ratio: 0.5 and 1.8, mean 1.15 (not 0.7 / 0.75 = 0.933)
    assert row["dead_pct"] == pytest.approx(37.5)
    assert row["rms_ratio"] == pytest.approx(1.15)
    assert summary.set_index("layer").loc["head", "rms_ratio"] == pytest.approx(0.75)


def test_network_health_pools_hidden_layers_and_weights_by_survivors():
    ids = ["run", "status", *FACTORS, "seed"]
    health = network_health(diagnostics_rows().assign(status="finished"), ids)
    seed0 = health.set_index("seed").loc[0]
    # dead: (1 + 3) of the 4 + 6 hidden units (the head's dead unit does not count)
    assert seed0["dead_hidden_pct"] == pytest.approx(40.0)
    # surviving weights 10·(4-1) = 30, 2·6 = 12, 3·2 = 6: (30·0.5 + 12·2 + 6·1) / 48
    assert seed0["rms_ratio"] == pytest.approx(45 / 48)
    assert (seed0["rms_ratio_first"], seed0["act_rms_out"], seed0["grad_norm_first"]) == (
        0.5,
        7.0,
        0.25,
    )
    assert (seed0["first_layer"], seed0["output_layer"]) == ("input", "head")
    seed1 = health.set_index("seed").loc[1]
    # 2 of 10 hidden units; weights 48, 12, 6: (48·1.8 + 12·1 + 6·0.5) / 66
    assert seed1["dead_hidden_pct"] == pytest.approx(20.0)
    assert seed1["rms_ratio"] == pytest.approx((48 * 1.8 + 12 + 3) / 66)


def test_summarize_overlap_pools_each_kind_of_pair():
    pairs = pd.DataFrame(
        [
            {**SETTING, "round": 2, "layer": "all", "jaccard": j, "chance": 0.1}
            | {"run_a": "", "init_a": ia, "seed_a": sa, "run_b": "", "init_b": ib, "seed_b": sb}
            for ia, sa, ib, sb, j in [
                ("p", 0, "p", 1, 0.6),
                ("q", 0, "q", 1, 0.8),
                ("p", 0, "q", 0, 0.3),
                ("p", 1, "q", 1, 0.5),
                ("p", 0, "q", 1, 0.1),
                ("p", 1, "q", 0, 0.2),
            ]
        ]
    )
    rounds = pd.DataFrame([{**SETTING, "round": 2, "weights_remaining_pct": 64.0639}] * 4)
    summary = summarize_overlap(pairs, rounds, FACTORS)
    assert summary[["comparison", "init_a", "init_b", "n_pairs"]].values.tolist() == [
        ["same_init_diff_seed", "all", "all", 2],
        ["same_init_diff_seed", "p", "p", 1],
        ["same_init_diff_seed", "q", "q", 1],
        ["diff_init_same_seed", "all", "all", 2],
        ["diff_init_same_seed", "p", "q", 2],
        ["diff_init_diff_seed", "all", "all", 2],
    ]
    assert summary["jaccard_mean"].tolist() == pytest.approx([0.7, 0.6, 0.8, 0.4, 0.4, 0.15])
    assert set(summary["weights_remaining_pct"]) == {64.0639}
    # same init, pooled: 0.6 and 0.8, std 0.141421, half-width t(0.975, 1)·std/√2 = t·0.1
    pooled = summary.iloc[0]
    assert pooled["jaccard_std"] == pytest.approx(0.141421, abs=1e-6)
    assert pooled["jaccard_ci_high"] - 0.7 == pytest.approx(T_975_1 * 0.1, abs=1e-6)
    assert summary["jaccard_ci_low"].isna().tolist() == [False, True, True, False, False, False]
    assert summary["chance_mean"].tolist() == pytest.approx([0.1] * 6)


def test_windows_of_pairs_pool_to_the_statistics_of_all_their_pairs():
    """A setting with more seeds than a window is summarised window by window; pooling the
    windows' n, means and stds gives the mean, std and t CI of all the pairs at once."""
    jaccard = [0.61, 0.64, 0.58, 0.70, 0.66, 0.59, 0.62]
    windows = [jaccard[:3], jaccard[3:]]
    rows = pd.DataFrame(
        [
            {"layer": "all", "weights_remaining_pct": 64.0, "n_pairs": len(w)}
            | {"jaccard_mean": mean_ci(w).mean, "jaccard_std": mean_ci(w).std}
            | {"chance_mean": 0.1 * (i + 1)}
            for i, w in enumerate(windows)
        ]
    )
    (pooled,) = pool(rows, ["layer"]).to_dict("records")
    everything = mean_ci(jaccard)
    assert pooled["n_pairs"] == 7
    assert pooled["jaccard_mean"] == pytest.approx(everything.mean, rel=1e-12)
    assert pooled["jaccard_std"] == pytest.approx(everything.std, rel=1e-12)
    assert pooled["jaccard_ci_low"] == pytest.approx(everything.low, rel=1e-12)
    assert pooled["chance_mean"] == pytest.approx((3 * 0.1 + 4 * 0.2) / 7)
