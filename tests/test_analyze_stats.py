"""The statistics against hand-computed values on small constructed tables.

a = (0.90, 0.92, 0.94): mean 0.92, std 0.02, CI half-width t(0.975, 2) · 0.02/√3 with
t(0.975, 2) = 4.302653 (tables). b = (0.86, 0.87, 0.88, 0.89): mean 0.875, var 0.0005/3.
Welch a - b: se² = 0.0004/3 + (0.0005/3)/4 = 0.000175, t = 0.045/√0.000175 = 3.401680,
df = se⁴ / ((0.0004/3)²/2 + ((0.0005/3)/4)²/3) = 3.234719, two-sided p = 0.037815,
CI 0.045 ± t(0.975, 3.234719) · √0.000175 = 0.045 ± 3.055713 · 0.0132288.
Minimum detectable difference (80% power, α=0.05): λ · SE, λ the noncentrality at which the
two-sided t-test has 80% power (statsmodels' TTestPower/TTestIndPower solve the same);
t(0.8, 2) = 1.060660 for the approximation it replaces.
"""

import itertools
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.power import TTestIndPower, TTestPower

from prune_ready.analyze import (
    Options,
    analyse,
    compare_inits,
    correlations,
    differences,
    dose_response,
    holm,
    labels,
    mdd,
    mean_ci,
    paired,
    rank_agreement,
    spearman,
    summarize,
    versus_dense,
    welch,
)
from prune_ready.analyze.compute.stats import LEVEL, nearest_points, smallest_tau_p
from prune_ready.analyze.write.findings import (
    Best,
    Finding,
    Omitted,
    assess,
    findings,
    limits,
    sparsest_title,
    what_it_buys,
)
from prune_ready.errors import UserError
from tests.constructed import sweep_of

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
    assert list(got["min_p"]) == pytest.approx([2 / 24] * 2)  # 4 inits reach no further


def test_tau_over_four_inits_cannot_reach_p_below_0_05():
    # the exact null distribution of tau over k items has 2 of k! orders at |tau| = 1
    assert smallest_tau_p(4) == pytest.approx(2 / 24) and smallest_tau_p(4) > 0.05
    assert smallest_tau_p(3) == pytest.approx(2 / 6)
    assert smallest_tau_p(5) == pytest.approx(2 / 120) and smallest_tau_p(5) < 0.05


def test_dense_table_labels_lines_whose_factor_some_runs_lack():
    """Sweeps analysed together (IMP without pruning.density, PaI with it) leave NaN factors."""
    from prune_ready.analyze.write.report import dense_table

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


def test_mdd_is_the_exact_noncentral_t_answer_as_statsmodels_solves_it():
    # paired differences 0.01, 0.03, 0.02: s_d = 0.01, n = 3; statsmodels' effect size d (in
    # units of s_d) at 80% power is the MDD / s_d
    d = TTestPower().solve_power(nobs=3, alpha=0.05, power=0.8, alternative="two-sided")
    got = paired([0.90, 0.92, 0.94], [0.89, 0.89, 0.92]).mdd
    assert got == pytest.approx(d * 0.01, rel=1e-6)
    # the t-quantile approximation (4.302653 + 1.060660) · 0.01/√3 is 5.1% smaller
    assert 1 - (T_975_2 + 1.060660) * 0.01 / math.sqrt(3) / got == pytest.approx(0.0513, abs=1e-4)
    # Welch with equal n and equal spread has df = 2n - 2, the pooled test's: statsmodels'
    # two-sample d at n = 3 a line, times s = 0.02, for a = A and A - 0.05
    d = TTestIndPower().solve_power(nobs1=3, ratio=1.0, alpha=0.05, power=0.8)
    assert welch(A, np.subtract(A, 0.05)).mdd == pytest.approx(d * 0.02, rel=1e-6)
    # unequal Welch (df 3.234719, se √0.000175): a test of that MDD has 80% power, by nct
    se, df, crit = math.sqrt(0.000175), 3.234719, 3.055713
    nc = welch(A, B).mdd / se
    power = stats.nct.sf(crit, df, nc) + stats.nct.sf(crit, df, -nc)
    assert power == pytest.approx(0.8, abs=1e-5)
    assert mdd(1.0, 1e6) == pytest.approx(1.959964 + 0.841621, abs=1e-5)  # the normal limit
    assert math.isnan(paired([0.9], [0.8]).mdd)


def paired_table() -> pd.DataFrame:
    """Round 1 of three inits: a = (0.90, 0.92, 0.94) seeds 0-2 (best), b = (0.86, 0.87, 0.88,
    0.89) seeds 0-3, c = (0.80, 0.83, 0.84) seeds 0-2. Paired by seed, b - a = (-0.04, -0.05,
    -0.06) over seeds 0-2 (b's seed 3 has no partner): mean -0.05, sd 0.01, t = -8.660254 with
    2 df, p = 1 - t/√(t²+2) = 0.013072; c - a = (-0.10, -0.09, -0.10): mean -0.096667, sd
    0.0057735, t = -29, p = 1 - 29/√843 = 0.0011869. Holm over the two: c 0.0023739, b 0.013072."""
    values = {"a": A, "b": B, "c": [0.80, 0.83, 0.84]}
    rows = [
        {"run": f"{init}/{seed}", "model": "m", "data": "d", "init": init, "pruning": "imp"}
        | {"seed": seed, "round": 1, "weights_remaining_pct": 10.0, "test_acc": acc}
        for init, accs in values.items()
        for seed, acc in enumerate(accs)
    ]
    return pd.DataFrame(rows)


def test_differences_are_paired_by_seed_and_holm_adjusted_per_level():
    table = differences(paired_table(), FACTORS).set_index("line")
    assert set(table["reference"]) == {"a"} and list(table.index) == ["b", "c"]
    b, c = table.loc["b"], table.loc["c"]
    assert (b["test"], b["n_pairs"], b["n_line"], b["n_reference"]) == ("paired", 3, 4, 3)
    assert b["diff"] == pytest.approx(-0.05)
    half = T_975_2 * 0.01 / math.sqrt(3)
    assert (b["ci_low"], b["ci_high"]) == (pytest.approx(-0.05 - half), pytest.approx(-0.05 + half))
    assert b["p"] == pytest.approx(0.013072, abs=1e-6)
    assert c["p"] == pytest.approx(0.0011869, abs=1e-7)
    assert c["p_holm"] == pytest.approx(2 * 0.0011869, abs=1e-6)
    assert b["p_holm"] == pytest.approx(0.013072, abs=1e-6)
    assert b["mdd"] == pytest.approx(mdd(0.01 / math.sqrt(3), 2))
    # beside it, Welch's over all of each line's seeds: b - a = -(a - b) of the module docstring
    assert b["welch_diff"] == pytest.approx(-0.045) and b["welch_p"] == pytest.approx(
        0.037815, abs=1e-6
    )
    assert b["welch_ci_high"] == pytest.approx(-0.045 + 3.055713 * math.sqrt(0.000175), abs=1e-6)


def test_runs_of_one_seed_from_two_kinds_of_machine_are_no_pair():
    """Line b's seeds 0 and 1 ran on another machine than a's: only seed 2 pairs, too few for a
    paired test, so b is compared by Welch's over all seeds; c, on a's machine, stays paired."""
    table = paired_table()
    table["machine"] = "m1"
    table.loc[(table["init"] == "b") & table["seed"].isin([0, 1]), "machine"] = "m2"
    moved = differences(table, FACTORS).set_index("line")
    same = differences(paired_table(), FACTORS).set_index("line")
    assert (moved.loc["b", "test"], moved.loc["b", "n_pairs"]) == ("welch", 1)
    assert moved.loc["b", "diff"] == pytest.approx(same.loc["b", "welch_diff"])
    assert (moved.loc["c", "test"], moved.loc["c", "n_pairs"]) == (
        "paired",
        same.loc["c", "n_pairs"],
    )
    assert moved.loc["c", "diff"] == pytest.approx(same.loc["c", "diff"])


def test_a_tickets_controls_are_lines_compared_with_it_paired_by_seed():
    # paired_table's a, b, c as one init's ticket and its reinit and random_prune branches
    table = paired_table()
    control = table.pop("init").map({"a": "none", "b": "reinit", "c": "random_prune"})
    table = table.assign(init="xavier_normal", **{"pruning.control": control})
    rows = differences(table, [*FACTORS, "pruning.control"]).set_index("line")
    ticket, reinit = "xavier_normal, pruning.control=none", "xavier_normal, pruning.control=reinit"
    assert set(rows["reference"]) == {ticket}
    assert (rows.loc[reinit, "test"], rows.loc[reinit, "n_pairs"]) == ("paired", 3)
    assert rows.loc[reinit, "diff"] == pytest.approx(-0.05)
    assert rows.loc[reinit, "p_holm"] == pytest.approx(0.013072, abs=1e-6)
    random = rows.loc["xavier_normal, pruning.control=random_prune"]
    assert random["p_holm"] == pytest.approx(2 * 0.0011869, abs=1e-6)


def test_a_named_reference_replaces_the_best_and_an_unknown_one_is_refused(tmp_path):
    table = differences(paired_table(), FACTORS, reference="b").set_index("line")
    assert set(table["reference"]) == {"b"} and table.loc["a", "diff"] == pytest.approx(0.05)
    sweep = sweep_of(paired_table(), FACTORS, tmp_path)
    with pytest.raises(UserError, match=r"--reference z: no such line; give one of: a; b; c"):
        analyse(sweep, Options(reference="z"))


def test_without_shared_seeds_the_comparison_is_welch():
    table = paired_table()
    table.loc[table["init"] == "c", "seed"] += 10  # c ran other seeds
    row = differences(table, FACTORS).set_index("line").loc["c"]
    assert (row["test"], row["n_pairs"]) == ("welch", 0)
    assert row["diff"] == row["welch_diff"] and row["p"] == row["welch_p"]


def dose_table() -> pd.DataFrame:
    """kaiming_normal at init.scale 0.5, 1, 2 × seeds 0-1, rounds at 100%, 10% and 1%: accuracy
    0.9 + 0.01·seed at round 0, then minus 0.01·round·scale."""
    rows = []
    for scale, seed, (r, level) in itertools.product(
        [0.5, 1.0, 2.0], [0, 1], enumerate([100.0, 10.0, 1.0])
    ):
        rows.append(
            {"run": f"{scale}/{seed}", "model": "m", "data": "d", "init": "kaiming_normal"}
            | {"pruning": "imp", "init.scale": scale, "seed": seed, "round": r}
            | {"weights_remaining_pct": level, "test_acc": 0.9 + 0.01 * seed - 0.01 * r * scale}
        )
    return pd.DataFrame(rows)


def test_dose_response_at_the_rounds_nearest_the_wanted_levels():
    table = dose_table()
    # 2.9% is nearer 1% than 10% on a log scale; 1.2% then has no round of its own
    chosen = nearest_points(table, [*FACTORS, "init.scale"], (100, 2.9, 1.2))
    assert {k: set(v["round"]) for k, v in chosen.items()} == {100: {0}, 2.9: {2}}
    dose = dose_response(table, [*FACTORS, "init.scale"], "init.scale", (100, 2.9, 1.2))
    dose = dose.set_index(["init.scale", "round"])
    assert len(dose) == 6 and set(dose["n"]) == {2}
    at = dose.loc[(2.0, 2)]  # 0.90 and 0.91 minus 0.04: mean 0.865; change -0.04 in both seeds
    assert at["test_acc_mean"] == pytest.approx(0.865)
    assert at["change_mean"] == pytest.approx(-0.04) and at["change_std"] == pytest.approx(0)
    assert dose.loc[(0.5, 0), "change_mean"] == 0
    assert at["weights_remaining_pct"] == 1.0


def test_spearman_rho_p_and_a_bootstrap_ci_over_pairs():
    # ranks differ by -1, 1, -1, 1, 0: rho = 1 - 6·4/(5·24) = 0.8; t = 0.8·√3/0.6, df 3: p 0.104088
    x, y = [1, 2, 3, 4, 5], [2, 1, 4, 3, 5]
    rho, p, low, high = spearman(x, y)
    assert rho == pytest.approx(0.8) and p == pytest.approx(0.104088, abs=1e-6)
    picks = np.random.default_rng(0).integers(0, 5, (2000, 5))  # the same resamples, one by one
    rhos = [
        stats.spearmanr(np.take(x, i), np.take(y, i)).statistic
        for i in picks
        if len(set(np.take(x, i))) > 1 and len(set(np.take(y, i))) > 1
    ]
    assert (low, high) == pytest.approx(tuple(np.nanpercentile(rhos, [2.5, 97.5])))
    assert math.isnan(spearman([1, 2], [2, 1])[0]) and math.isnan(spearman([1, 1, 1], [1, 2, 3])[0])


def test_the_bootstrap_resamples_seeds_and_takes_all_runs_of_each():
    # two inits x four seeds with ties: each resample draws 4 seeds and keeps both their runs;
    # the same resamples written out, one by one, through scipy's spearmanr
    x = [1.0, 2.0, 2.0, 4.0, 5.0, 1.0, 7.0, 8.0]
    y = [0.3, 0.1, 0.4, 0.4, 0.6, 0.2, 0.9, 0.7]
    seeds = [0, 1, 2, 3, 0, 1, 2, 3]
    rho, _, low, high = spearman(x, y, seeds)
    assert rho == pytest.approx(stats.spearmanr(x, y).statistic)
    picks = np.random.default_rng(0).integers(0, 4, (2000, 4))
    rhos = []
    for drawn in picks:
        rows = [i for seed in drawn for i in range(8) if seeds[i] == seed]
        xs, ys = np.take(x, rows), np.take(y, rows)
        if np.ptp(xs) > 0 and np.ptp(ys) > 0:
            rhos.append(stats.spearmanr(xs, ys).statistic)
    assert (low, high) == pytest.approx(tuple(np.percentile(rhos, [2.5, 97.5])), abs=1e-12)
    # two seeds make three distinct resamples: no CI, ρ and p as before
    two = spearman(x, y, [0, 1] * 4)
    assert two[0] == pytest.approx(rho) and math.isnan(two[2]) and math.isnan(two[3])
    # resampling runs as if independent gives another (here narrower) interval
    _, _, run_low, run_high = spearman(x, y)
    assert run_high - run_low < high - low


def test_the_predictor_is_chosen_on_some_seeds_and_tested_on_the_others():
    """8 seeds of one init at 100% and 0.33%; `good` orders seeds 0-3 by accuracy exactly (and
    seeds 4-7 backwards), `flat` barely; the choice must come from seeds 0-3 alone."""
    rows, stats_rows = [], []
    accuracy = [0.90, 0.92, 0.91, 0.93, 0.95, 0.94, 0.97, 0.96]
    for seed, acc in enumerate(accuracy):
        run = f"r{seed}"
        for r, level in enumerate([100.0, 0.33]):
            rows.append(
                {"run": run, "model": "m", "data": "d", "init": "i", "pruning": "imp", "seed": seed}
                | {"round": r, "weights_remaining_pct": level, "test_acc": 0.99 if r == 0 else acc}
            )
        good = acc if seed < 4 else -acc
        stats_rows.append({"run": run, "good": good, "flat": [1, 2, 1, 2, 1, 2, 1, 2][seed]})
    table = correlations(pd.DataFrame(rows), pd.DataFrame(stats_rows), FACTORS, levels=(0.33,))
    table = table.set_index(["target", "statistic", "split"])
    accuracy_rows = table.loc["test_acc"]
    assert accuracy_rows.loc[("good", "choose"), "rho"] == pytest.approx(1.0)
    assert accuracy_rows.loc[("good", "confirm"), "rho"] == pytest.approx(-1.0)
    assert accuracy_rows.loc[("good", "choose"), "chosen"]
    assert accuracy_rows.loc[("good", "confirm"), "chosen"]  # marked in both splits
    assert not accuracy_rows.loc[("flat", "choose"), "chosen"]
    assert accuracy_rows.loc[("good", "confirm"), "seeds"] == "4-7"
    assert accuracy_rows.loc[("good", "confirm"), "n_runs"] == 4
    # the change from dense round 0 is the accuracy minus 0.99: the same ranks
    assert table.loc[("change", "good", "choose"), "rho"] == pytest.approx(1.0)


def three_level_findings(dense_acc: list[float], path: Path) -> list[Finding]:
    """The findings of paired_table() (round 2, 10% weights remaining) after a dense round 0 of
    the same runs with accuracies `dense_acc` (paired_table()'s row order) and a round 1 at 50%
    with the same accuracies as dense."""
    table = paired_table().assign(round=2)
    dense = table.assign(round=0, weights_remaining_pct=100.0, test_acc=dense_acc)
    half = dense.assign(round=1, weights_remaining_pct=50.0)
    (part,) = analyse(sweep_of(pd.concat([dense, half, table]), FACTORS, path)).parts()
    return findings(part)


def test_agreement_names_a_line_already_apart_at_the_densest_level_as_the_exception(tmp_path):
    """paired_table() after dense and 50% rounds where b trails a by 0.4-0.6 pp and c by 2.9-3 pp:
    c is left out of "how far down the lines agree", and the title names it as the exception
    (in brackets after "the best" it read as the best line)."""
    first = three_level_findings(
        [0.90, 0.92, 0.94, 0.896, 0.915, 0.934, 0.93, 0.87, 0.89, 0.911], tmp_path
    )[0]
    assert (
        first.title
        == "Down to 50.0% of the weights, all lines but c stay within 0.50 pp of the best"
    )
    assert "every other line stays within 0.50 pp" in first.text
    assert "; c (-3.0 pp [95% CI" in first.text and first.text.endswith(
        "is further off from the densest level on."
    )


def test_findings_say_the_numbers_their_test_and_where_they_are_shown(tmp_path):
    """paired_table() (10% weights remaining, round 2) after a dense round 0 of the same runs and
    a round 1 at 50% with the same accuracies, where a is best and b - a = (-0.004, -0.005,
    -0.006) (mean -0.50 pp), c - a = (-0.002, -0.003, -0.001)."""
    found = three_level_findings(
        [0.90, 0.92, 0.94, 0.896, 0.915, 0.934, 0.93, 0.898, 0.917, 0.939], tmp_path
    )
    first, second, cost = found[:3]
    assert first.text.startswith(
        "Down to 50.0% weights remaining every line stays within 0.50 pp of the best line at "
        "each level: the largest gap is b at 100.0%, -0.50 pp"
    )
    assert "(paired by seed, 3 seeds, Holm over each level's comparisons)" in first.text
    assert first.text.endswith("; at 10.0% the gap grows to 9.7 pp.")
    assert (first.figure, first.table) == ("differences", "differences")
    assert second.text.startswith(
        "At 10.0% weights remaining (the sparsest), a reaches 92.0%; 0 of 2 other lines are "
        "within 1.0 pp of it and 2 fall significantly behind (the furthest c, -9.7 pp"
    )
    # MDD: λ(2 df) = 5.653489 times 1 pp / √3
    assert "the nearest, b, is -5.0 pp [95% CI -7.5, -2.5], with an MDD of 3.3 pp" in second.text
    assert cost.figure == "test-acc-vs-weights" and cost.table == "dense"
    # from each run's own round 0: a 0, b (-0.036, -0.045, -0.054, -0.04), c (-0.098, -0.087, -0.099)
    assert (
        "at 10.0% the change ranges from a +0.00 pp [not testable: no spread] to c -9.5 pp"
        in cost.text
    )


def test_the_sparsest_finding_of_several_settings_has_a_short_title(tmp_path):
    """paired_table() under two pruning methods, the second with c 20 pp lower: one short part
    of the title per setting (which init is best, how many testable lines fall behind), the
    level said once where the settings share it;
    the sentences with their numbers stay in the finding's text."""
    one = paired_table()
    two = one.assign(pruning="snip", run=one["run"] + "/snip")
    two.loc[two["init"] == "c", "test_acc"] -= 0.2
    (part,) = analyse(sweep_of(pd.concat([one, two]), FACTORS, tmp_path)).parts()
    (sparsest,) = [f for f in findings(part) if "(the sparsest)" in f.text]
    assert sparsest.title == (
        "Best at 10.0% in each setting (lines significantly behind): "
        "pruning=imp a, 2 of 2; pruning=snip a, 2 of 2"
    )
    # settings whose sparsest levels differ say each one's level
    bests = [Best("pruning=imp", "0.33%", "a", 1, 3), Best("pruning=snip", "2.9%", "b", 0, 0)]
    assert sparsest_title(bests) == (
        "Best at each setting's sparsest level (lines significantly behind): "
        "pruning=imp (0.33%) a, 1 of 3; pruning=snip (2.9%) b, not testable"
    )
    assert sparsest.text.startswith("Pruning=imp: at 10.0% weights remaining (the sparsest), a ")
    assert "; pruning=snip: at 10.0% weights remaining (the sparsest), a reaches 92.0%" in (
        sparsest.text
    )


def test_config_values_sort_numbers_by_size_and_training_points_by_time():
    values = ["2ep", "snip", 0, "100it", "1ep", 2.0, "0", "500it", float("nan"), 0.5, "imp"]
    assert sorted(values, key=labels.order) == [
        0, 0.5, 2.0, "0", "100it", "500it", "1ep", "2ep", "imp", "snip", values[8]
    ]  # fmt: skip
    assert sorted(np.array([10, 5, 20]), key=labels.order) == [5, 10, 20]  # numpy's, by size


def test_findings_of_rewind_points_name_them_in_training_order(tmp_path):
    """g ∈ {1, 2} × five rewind points given out of order × 3 seeds, dense then 10% (where g = 2
    costs 3 pp): the settings and the dose finding's lines come in training order, each line
    named by its rewind point."""
    rewinds = ["2ep", "0", "500it", "100it", "1ep"]  # in text order 500it would come last
    rows = [
        {"run": f"{g}/{to}/{seed}", "model": "m", "data": "d", "init": "kaiming_normal"}
        | {"pruning": "imp", "init.scale": g, "pruning.reset.to": to, "seed": seed, "round": r}
        | {LEVEL: level, "test_acc": 0.95 - (0.03 * r * (g - 1)) + 0.001 * seed * (1 + r + g)}
        for g, to, seed, (r, level) in itertools.product(
            [1.0, 2.0], rewinds, range(3), enumerate([100.0, 10.0])
        )
    ]
    factors = [*FACTORS, "init.scale", "pruning.reset.to"]
    (part,) = analyse(sweep_of(pd.DataFrame(rows), factors, tmp_path)).parts()
    found = {f.figure: f for f in findings(part)}
    order = ["0", "100it", "500it", "1ep", "2ep"]
    assert [title for title, _ in part.settings(part.table("differences"))] == [
        f"pruning.reset.to={to}" for to in order
    ]
    dose = found["dose-response"].title.split("; ")
    assert [part.split(":")[0] for part in dose[::2]] == [
        f"kaiming_normal, pruning.reset.to={to}" for to in order
    ]


def test_lines_close_only_before_pruning_make_no_agreement_finding(tmp_path):
    # paired_table() at 10% after a dense round where all lines are within 0.5 pp: "down to
    # 100% of the weights" says nothing; the sparsest finding comes first, the appendix says why
    table = paired_table()
    dense = table.assign(round=0, weights_remaining_pct=100.0)
    dense["test_acc"] = [0.90, 0.92, 0.94, 0.896, 0.915, 0.934, 0.93, 0.898, 0.917, 0.939]
    (part,) = analyse(sweep_of(pd.concat([dense, table]), FACTORS, tmp_path)).parts()
    found, left = assess(part)
    assert found[0].text.startswith("At 10.0% weights remaining (the sparsest)")
    assert not any("Down to" in f.title for f in found)
    assert left == [
        Omitted(
            "how far down the lines stay within 1.0 pp of the best",
            "only at the densest level, 100.0%; from 10.0% on the gap is 9.7 pp",
        )
    ]


def test_the_size_saving_is_said_only_where_it_is_one():
    dense = {"params_compact": 266_610, "bytes_compact": 1_066_440, LEVEL: 100.0}
    same = {"params_compact": 266_610, "bytes_sparse": 1_040_000, LEVEL: 64.0, "n": 2}
    same |= {"inputs": 784, "inputs_total": 784, "hidden_units": 400, "hidden_units_total": 400}
    assert what_it_buys("a", dense, same) == ""  # 1.0x and 1.03x: nothing bought
    sparse = same | {"params_compact": 26_661, "bytes_sparse": 106_644}
    assert "26,661 parameters as dense layers (10.0x fewer than dense)" in what_it_buys(
        "a", dense, sparse
    )
    assert "106.6 kB with CSR linear layers (10.0x smaller than dense's 1,066 kB)" in (
        what_it_buys("a", dense, sparse)
    )
    # fewer parameters, but CSR's indices outweigh them: only the saving is said
    csr = sparse | {"bytes_sparse": 1_060_000}
    assert "CSR" not in what_it_buys("a", dense, csr) and "10.0x fewer" in what_it_buys(
        "a", dense, csr
    )


def test_fewer_than_three_pairs_or_seeds_is_not_a_test():
    # two pairs: scipy would give t = 0.03/(0.01/√2) with 1 df, p = 0.2048; two seeds a line:
    # Welch would test (0.90, 0.92) against B; both are reported, untested, with the reason
    d = paired([0.90, 0.94], [0.88, 0.89])
    assert d.diff == pytest.approx(0.035) and not d.testable
    assert d.note == "not testable: fewer than 3 pairs (2)"
    assert all(math.isnan(v) for v in (d.low, d.high, d.p, d.mdd))
    w = welch([0.90, 0.92], B)
    assert w.diff == pytest.approx(0.91 - 0.875) and math.isnan(w.p) and math.isnan(w.low)
    assert w.note == "not testable: fewer than 3 seeds in a line (2 and 4)"


def test_no_spread_is_not_a_test_though_scipy_finds_p_near_zero():
    # the case: 500 test images make accuracies steps of 0.002; three pairs that each
    # differ by 0.034 differ by float rounding only, and scipy calls that p ~ 1e-15
    before = np.array([0.966, 0.970, 0.958])
    after = before - 0.034
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy: "catastrophic cancellation"
        assert stats.ttest_1samp(after - before, 0.0).pvalue < 1e-10
    d = paired(after, before)
    assert d.diff == pytest.approx(-0.034) and math.isnan(d.p) and math.isnan(d.low)
    assert d.note == "not testable: no spread (every pair differs by the same amount)"
    w = welch([0.9, 0.9, 0.9], [0.8, 0.8, 0.8, 0.8])
    assert math.isnan(w.p) and w.note.startswith("not testable: no spread")
    # one constant line beside a spread one has a standard error: Welch tests it, as scipy does
    w = welch([0.9, 0.9, 0.9], B)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = stats.ttest_ind([0.9] * 3, B, equal_var=False).pvalue
    assert w.testable and w.p == pytest.approx(expected)


def test_holm_counts_only_the_testable_comparisons_and_tables_say_why():
    # paired_table() with c's seeds 1 and 2 renamed: c shares only seed 0 with a, and has 3
    # seeds, so Welch is used and tested; then b alone is paired: b - a over seeds 0-2 as before
    table = paired_table()
    table.loc[(table["init"] == "c") & (table["seed"] > 0), "seed"] += 10
    rows = differences(table, FACTORS).set_index("line")
    assert rows.loc["c", "test"] == "welch" and rows.loc["c", "note"] == ""
    # now c has two seeds shared with nobody and a third run dropped: fewer than 3 in a line
    table = table[~((table["init"] == "c") & (table["seed"] == 12))]
    rows = differences(table, FACTORS).set_index("line")
    c, b = rows.loc["c"], rows.loc["b"]
    assert c["note"] == "not testable: fewer than 3 seeds in a line (2 and 3)"
    assert math.isnan(c["p"]) and math.isnan(c["p_holm"]) and math.isnan(c["mdd"])
    assert b["note"] == "" and b["p_holm"] == pytest.approx(b["p"]) == pytest.approx(
        0.013072, abs=1e-6
    )
    two = paired_table()
    two = two[two["seed"] < 2]
    assert set(compare_inits(two, FACTORS)["note"]) == {
        "not testable: fewer than 3 seeds in a line (2 and 2)"
    }
    dense = pd.concat([two.assign(round=0, weights_remaining_pct=100.0), two])
    assert set(versus_dense(dense, FACTORS)["note"]) == {"not testable: fewer than 3 pairs (2)"}


def test_findings_of_two_seeds_call_nothing_significant(tmp_path):
    table = paired_table().assign(round=2)
    table = table[table["seed"] < 2]
    dense = table.assign(round=0, weights_remaining_pct=100.0)
    dense["test_acc"] = [0.900, 0.910, 0.898, 0.906, 0.899, 0.912]  # a, b, c × seeds 0, 1
    half = dense.assign(round=1, weights_remaining_pct=50.0)
    sweep = sweep_of(pd.concat([dense, half, table]), FACTORS, tmp_path)
    (part,) = analyse(sweep).parts()
    text = " ".join(f.text for f in findings(part))
    assert "none of the 4 comparisons there is testable (fewer than 3 pairs)" in text
    assert "significantly" not in text.replace("0 fall significantly", "")
    assert "p=" not in text and "[95% CI" not in text


def test_the_limits_say_where_tau_cannot_be_significant(tmp_path):
    table = paired_table()
    both = pd.concat([table, table.assign(pruning="snip", run=table["run"] + "/snip")])
    analysis = analyse(sweep_of(both, FACTORS, tmp_path))
    assert list(analysis.agreement["min_p"]) == pytest.approx([2 / 6])  # 3 inits
    assert (
        "Kendall's τ over 3 inits cannot reach p<0.05 (its smallest p, for identical orders, is "
        "0.333)" in " ".join(limits(analysis))
    )
