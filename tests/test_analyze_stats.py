"""The statistics against hand-computed values on small constructed tables.

a = (0.90, 0.92, 0.94): mean 0.92, std 0.02, CI half-width t(0.975, 2) · 0.02/√3 with
t(0.975, 2) = 4.302653 (tables). b = (0.86, 0.87, 0.88, 0.89): mean 0.875, var 0.0005/3.
Welch a - b: se² = 0.0004/3 + (0.0005/3)/4 = 0.000175, t = 0.045/√0.000175 = 3.401680,
df = se⁴ / ((0.0004/3)²/2 + ((0.0005/3)/4)²/3) = 3.234719, two-sided p = 0.037815,
CI 0.045 ± t(0.975, 3.234719) · √0.000175 = 0.045 ± 3.055713 · 0.0132288.
"""

import math

import numpy as np
import pandas as pd
import pytest

from prune_ready.analyze import (
    compare_inits,
    holm,
    mean_ci,
    paired,
    rank_agreement,
    summarize,
    versus_dense,
    welch,
)
from prune_ready.analyze.findings import findings

A = [0.90, 0.92, 0.94]
B = [0.86, 0.87, 0.88, 0.89]
C = [0.80, 0.82, 0.84]
T_975_2 = 4.302653
FACTORS = ["model", "data", "init", "pruning"]


def test_mean_ci_is_mean_std_and_student_t_half_width():
    e = mean_ci(A)
    assert e.n == 3
    assert e.mean == pytest.approx(0.92, abs=1e-12)
    assert e.std == pytest.approx(0.02, abs=1e-12)
    half = T_975_2 * 0.02 / math.sqrt(3)  # 0.0496828
    assert half == pytest.approx(0.0496828, abs=1e-7)
    assert (e.low, e.high) == (
        pytest.approx(0.92 - half, abs=1e-7),
        pytest.approx(0.92 + half, abs=1e-7),
    )


def test_mean_ci_of_one_seed_has_no_spread_and_nans_are_dropped():
    e = mean_ci([0.5, float("nan")])
    assert (e.n, e.mean) == (1, 0.5)
    assert math.isnan(e.std) and math.isnan(e.low) and math.isnan(e.high)
    assert mean_ci([]).n == 0


def test_welch_t_test_and_confidence_interval():
    d = welch(A, B)
    assert d.diff == pytest.approx(0.045, abs=1e-12)
    assert d.p == pytest.approx(0.037815, abs=1e-6)
    half = 3.055713 * math.sqrt(0.000175)  # 0.0404233
    assert d.low == pytest.approx(0.045 - half, abs=1e-6)
    assert d.high == pytest.approx(0.045 + half, abs=1e-6)
    assert math.isnan(welch([0.9], B).p)


def test_paired_difference_is_a_one_sample_t_on_the_differences():
    # differences 0.01, 0.03, 0.02: mean 0.02, std 0.01, t = 0.02/(0.01/√3) = 3.464102, df 2
    d = paired([0.90, 0.92, 0.94], [0.89, 0.89, 0.92])
    assert d.diff == pytest.approx(0.02, abs=1e-12)
    half = T_975_2 * 0.01 / math.sqrt(3)  # 0.0248414
    assert (d.low, d.high) == (
        pytest.approx(0.02 - half, abs=1e-6),
        pytest.approx(0.02 + half, abs=1e-6),
    )
    assert d.p == pytest.approx(0.074180, abs=1e-6)  # 2 · P(T₂ > 3.464102)


def test_holm_adjustment():
    # sorted 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 -> kept monotone: 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02], abs=1e-12)
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])  # capped at 1
    adjusted = holm([0.02, float("nan"), 0.04])  # NaN (untestable) is not counted: m = 2
    assert adjusted[0] == pytest.approx(0.04) and adjusted[2] == pytest.approx(0.04)
    assert math.isnan(adjusted[1])


def sweep_table() -> pd.DataFrame:
    """Three inits at round 1 (A best); round 0 of init A such that A - dense = (0.01, 0.03, 0.02)."""
    rows = []
    dense = {
        "kaiming_uniform": [0.89, 0.89, 0.92],
        "xavier_normal": [0.85, 0.87, 0.87, 0.90],
        "kaiming_normal": [0.79, 0.80, 0.84],
    }
    pruned = {"kaiming_uniform": A, "xavier_normal": B, "kaiming_normal": C}
    for init in pruned:
        for seed, (acc0, acc1) in enumerate(zip(dense[init], pruned[init], strict=True)):
            for round_, (acc, pct, stop) in enumerate(
                [(acc0, 100.0, 4), (acc1, 80.0376, 2 + seed)]
            ):
                rows.append(
                    {
                        "run": f"{init}/seed={seed}",
                        "model": "lenet_300_100",
                        "data": "mnist",
                        "init": init,
                        "pruning": "imp",
                        "seed": seed,
                        "round": round_,
                        "weights_remaining_pct": pct,
                        "test_acc": acc,
                        "early_stop_epoch": stop,
                    }
                )
    return pd.DataFrame(rows)


def test_summarize_per_init_and_level():
    summary = summarize(sweep_table(), FACTORS).set_index(["init", "round"])
    row = summary.loc[("kaiming_uniform", 1)]
    assert (row["n"], row["weights_remaining_pct"]) == (3, 80.0376)
    assert row["test_acc_mean"] == pytest.approx(0.92)
    assert row["test_acc_ci_high"] - row["test_acc_mean"] == pytest.approx(0.0496828, abs=1e-7)
    # early stop 2, 3, 4: mean 3, std 1, half-width 4.302653/√3 = 2.484138
    assert row["early_stop_epoch_mean"] == 3 and row["early_stop_epoch_std"] == 1
    assert row["early_stop_epoch_ci_low"] == pytest.approx(3 - 2.484138, abs=1e-6)
    assert summary.loc[("xavier_normal", 1), "n"] == 4
    assert len(summary) == 6


def test_compare_inits_best_vs_each_other_with_holm():
    table = compare_inits(sweep_table(), FACTORS)
    level = table[table["round"] == 1].set_index("other")
    assert set(level["best"]) == {"kaiming_uniform"}
    assert sorted(level.index) == ["kaiming_normal", "xavier_normal"]
    vs_b, vs_c = level.loc["xavier_normal"], level.loc["kaiming_normal"]
    assert vs_b["diff"] == pytest.approx(0.045) and vs_b["p"] == pytest.approx(0.037815, abs=1e-6)
    # A vs C: equal n and variance, t = 0.10/√(2·0.0004/3) = 6.123724, df = 4: p = 0.003602
    assert vs_c["diff"] == pytest.approx(0.10) and vs_c["p"] == pytest.approx(0.003602, abs=1e-6)
    # Holm over the two: smaller p doubled (0.007204), larger kept (0.037815 > 0.007204)
    assert vs_c["p_holm"] == pytest.approx(2 * vs_c["p"])
    assert vs_b["p_holm"] == pytest.approx(vs_b["p"])
    assert (vs_b["n_best"], vs_b["n_other"]) == (3, 4)


def test_versus_dense_pairs_each_run_with_its_own_round_zero():
    table = versus_dense(sweep_table(), FACTORS).set_index("init")
    assert len(table) == 3  # round 1 of each init; round 0 is the baseline itself
    row = table.loc["kaiming_uniform"]
    assert (row["n"], row["round"]) == (3, 1)
    assert row["diff"] == pytest.approx(0.02)
    assert row["ci_low"] == pytest.approx(0.02 - 0.0248414, abs=1e-6)
    assert row["p"] == pytest.approx(0.074180, abs=1e-6)
    assert table.loc["xavier_normal", "diff"] == pytest.approx(0.875 - 0.8725)


def evidence_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Diagnostics at round 1 of sweep_table(): per init (health summary) and pooled mask overlap."""
    where = {"model": "lenet_300_100", "data": "mnist", "pruning": "imp", "round": 1}
    level = {"weights_remaining_pct": 80.0376}
    health = pd.DataFrame(
        [
            {**where, "init": init, **level, "dead_hidden_pct_mean": dead, "rms_ratio_mean": ratio}
            for init, dead, ratio in [
                ("kaiming_uniform", 3.125, 1.0),
                ("xavier_normal", 5.0, 0.8),
                ("kaiming_normal", 12.0, 0.6249),
            ]
        ]
    )
    overlap = pd.DataFrame(
        [
            {**where, **level, "layer": layer, "comparison": kind, "init_a": init, "init_b": init}
            | {"jaccard_mean": j, "chance_mean": 0.002}
            for layer, kind, init, j in [
                ("all", "same_init_diff_seed", "all", 0.45),
                ("all", "diff_init_same_seed", "all", 0.31),
                ("all", "diff_init_diff_seed", "all", 0.30),
                ("all", "same_init_diff_seed", "xavier_normal", 0.9),  # per init: not quoted
                ("fc1", "diff_init_same_seed", "all", 0.7),  # one layer: not quoted
            ]
        ]
    )
    return health, overlap


def test_findings_paragraph_reports_lead_ci_holm_p_and_diagnostics():
    table = sweep_table()
    health, overlap = evidence_tables()
    statistics = (
        summarize(table, FACTORS),
        compare_inits(table, FACTORS),
        versus_dense(table, FACTORS),
        FACTORS,
    )
    text = findings(*statistics, health, overlap)["lenet_300_100 on mnist"]
    assert text.startswith(
        "At 80.0% weights remaining (round 1, the sparsest level compared, 3-4 seeds per init), "
        "kaiming_uniform is best with 92.0% test accuracy, ahead of xavier_normal by 4.5 pp "
        "[95% CI 0.5, 8.5]; "
    )
    assert "significant vs xavier_normal (p=0.038, Holm)" in text
    assert "significant vs kaiming_normal (p=0.0072, Holm)" in text
    assert "kaiming_uniform +2.0 pp [95% CI -0.5, 4.5]" in text
    # the best init against the least accurate one (kaiming_normal, 82.0%)
    evidence = (
        " At 80.0% weights remaining (means over seeds), kaiming_uniform leaves 3.1% of hidden "
        "units dead vs 12.0% for kaiming_normal; its survivors' RMS is 1.00× the RMS its init "
        "intends for their fan-in vs 0.62× for kaiming_normal; masks of different inits (same "
        "seed) overlap by J=0.31 vs 0.45 between seeds of one init (random masks of the same "
        "sparsity: J=0.002)."
    )
    assert evidence + " Over the 2 levels" in text
    assert text.endswith("significant (Holm, α=0.05) at 1 of the 2.")
    bare = findings(*statistics, health.iloc[:0], overlap.iloc[:0])["lenet_300_100 on mnist"]
    assert bare == text.replace(evidence, "")


def test_describe_keeps_unset_factor_values_as_their_own_group():
    table = sweep_table().assign(control=[np.nan] * 10 + ["random"] * 10)
    summary = summarize(table, [*FACTORS, "control"])
    # kaiming_uniform: unset; xavier_normal: seeds 0-1 unset, 2-3 random; kaiming_normal: random
    assert len(summary) == 8
    assert summary["control"].isna().sum() == 4
    assert summary["n"].sum() == 20


def test_rank_agreement_is_kendall_tau_between_settings_at_matching_levels():
    # (pruning, round, level, means of inits a, b, c, d)
    points = [
        ("imp", 6, 6.95, (0.98, 0.97, 0.96, 0.95)),
        ("imp", 8, 2.87, (0.97, 0.96, 0.95, 0.94)),
        ("snip", 0, 6.95, (0.90, 0.91, 0.89, 0.88)),  # a, b swapped: 5 of 6 pairs concordant
        ("grasp", 0, 2.87, (0.80, 0.81, 0.82, 0.83)),  # reversed
        ("synflow", 0, 4.00, (0.90, 0.80, 0.70, 0.60)),  # no other setting at 4%
    ]
    rows = [
        {"model": "m", "data": "d", "init": init, "pruning": pruning, "round": round_}
        | {"weights_remaining_pct": level, "test_acc_mean": mean}
        for pruning, round_, level, means in points
        for init, mean in zip("abcd", means, strict=True)
    ]
    got = rank_agreement(pd.DataFrame(rows), ["model", "data", "init", "pruning"])
    got = got.set_index(["setting_a", "setting_b"])
    assert sorted(got.index) == [("pruning=grasp", "pruning=imp"), ("pruning=imp", "pruning=snip")]
    snip = got.loc[("pruning=imp", "pruning=snip")]
    assert snip["tau"] == pytest.approx((5 - 1) / 6) and snip["n_inits"] == 4
    assert (snip["order_a"], snip["order_b"]) == ("a > b > c > d", "b > a > c > d")
    grasp = got.loc[("pruning=grasp", "pruning=imp")]
    assert grasp["tau"] == pytest.approx(-1.0) and grasp["round_b"] == 8
    assert grasp["p"] == pytest.approx(2 / 24)  # exact: 1 of 24 orders, two-sided


def test_dense_table_labels_lines_whose_factor_some_runs_lack():
    """Sweeps analysed together (IMP without pruning.density, PaI with it) leave NaN factors."""
    from prune_ready.analyze.report import dense_table

    table = sweep_table()
    table["pruning.density"] = 0.1
    table.loc[table["init"] == "kaiming_uniform", "pruning.density"] = float("nan")
    factors = [*FACTORS, "pruning.density"]
    lines = dense_table(versus_dense(table, factors), ["init", "pruning", "pruning.density"])
    assert sorted(lines["line"]) == [
        "kaiming_normal, pruning.density=0.1",
        "kaiming_uniform, pruning.density=unset",
        "xavier_normal, pruning.density=0.1",
    ]
