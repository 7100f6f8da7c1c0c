"""Figure layout and content on small constructed sweeps (given as runs.csv): panels past
MAX_LINES lines, the summary figure against the differences table, the clipped accuracy axis,
the dose response. Every registered figure on a real sweep: test_analyze.py."""

import dataclasses
import itertools
import shutil

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib import colors
from matplotlib.container import ErrorbarContainer

from prune_ready.analyze import FIGURES, Part, analyse, draw
from prune_ready.analyze.compute.analysis import Options
from prune_ready.analyze.compute.lines import MAX_LINES, Lines
from prune_ready.analyze.compute.stats import LEVEL
from prune_ready.analyze.pipeline import analyze as analyze_sweep
from prune_ready.analyze.write.figures import CLIP_PP, HEAT, MISSING, PALE, left_out
from prune_ready.analyze.write.findings import omitted
from prune_ready.analyze.write.plots import finish, plot_mean, save, spread
from prune_ready.analyze.write.report import panels_note
from tests.constructed import sweep_of
from tests.test_analyze_unchanged import FIXTURE

INITS = ["kaiming_normal", "kaiming_uniform", "xavier_normal", "xavier_uniform"]
IMP_LEVELS = [100.0, 50.0, 25.0]  # rounds 0, 1, 2 of IMP
DENSITIES = [0.5, 0.25]  # pruning at initialisation: one round at each density
FACTORS = ["model", "data", "init", "pruning", "pruning.density"]


def rounds_table() -> pd.DataFrame:
    """4 inits × 2 seeds × (IMP, 3 rounds | SNIP and GraSP, one round at each of 2 densities)."""
    rows = []
    for (i, init), seed in itertools.product(enumerate(INITS), [0, 1]):
        run = {"model": "lenet_300_100", "data": "mnist", "init": init, "seed": seed}
        run["early_stop_epoch"] = 1 + seed  # not flat: the early-stop figure is drawn
        for r, level in enumerate(IMP_LEVELS):
            rows.append(
                run
                | {"pruning": "imp", "pruning.density": np.nan, "round": r}
                | {LEVEL: level, "test_acc": 0.9 + 0.01 * i + 0.001 * seed - 0.002 * r}
            )
        for method, density in itertools.product(["snip", "grasp"], DENSITIES):
            rows.append(
                run
                | {"pruning": method, "pruning.density": density, "round": 0}
                | {LEVEL: 100 * density, "test_acc": 0.8 + 0.01 * i + 0.001 * seed}
            )
    table = pd.DataFrame(rows)
    ids = zip(table["init"], table["seed"], table["pruning"], table["pruning.density"], strict=True)
    table["run"] = ["/".join(map(str, values)) for values in ids]
    return table


def part_of(table: pd.DataFrame, factors: list[str], tmp_path) -> Part:
    (part,) = analyse(sweep_of(table, factors, tmp_path)).parts()
    return part


def figure(part: Part, slug: str):
    return next(fig for spec, fig, _ in draw(part) if spec.slug == slug)


def test_settings_beyond_max_lines_get_one_panel_each_with_the_inits_as_lines(tmp_path):
    part = part_of(rounds_table(), FACTORS, tmp_path)
    assert len(part.lines.labels) == 4 * 5 > MAX_LINES  # init × (imp, 2 methods × 2 densities)
    fig = figure(part, "test-acc-vs-weights")
    assert fig.get_suptitle().startswith("Figure 1: test accuracy vs weights remaining")
    # the densities are the x axis, so one row of panels per method, a column per measure
    titles = [ax.get_title(loc="left").split("\n")[0] for ax in fig.axes]
    assert titles == [
        f"pruning={method}: {measure}"
        for method in ("grasp", "imp", "snip")
        for measure in ("test accuracy", "change from the run's own dense round 0")
    ]
    colours = None
    for ax, method in zip(fig.axes[::2], ["grasp", "imp", "snip"], strict=True):
        drawn = [line for line in ax.get_lines() if line.get_label() in INITS]
        assert [line.get_label() for line in drawn] == INITS
        colours = colours or [line.get_color() for line in drawn]
        assert [line.get_color() for line in drawn] == colours  # an init's colour in every panel
        expected = IMP_LEVELS if method == "imp" else [100 * d for d in DENSITIES]
        for i, line in enumerate(drawn):
            assert list(line.get_xdata()) == sorted(expected)
            if method != "imp":
                assert np.allclose(line.get_ydata(), 100 * (0.8 + 0.01 * i) + 0.05)
    assert len(set(colours)) == len(INITS)
    assert fig.axes[0].get_shared_y_axes().joined(fig.axes[0], fig.axes[2])  # per column
    legend = fig.axes[0].get_legend()  # every panel draws the same lines: one legend
    assert [text.get_text() for text in legend.get_texts()] == INITS
    # pruning at initialisation has no dense round of its own: no change is drawn
    for line in fig.axes[1].get_lines():
        assert line.get_label() not in INITS or np.isnan(line.get_ydata()).all()


def test_few_lines_stay_in_one_plot(tmp_path):
    rounds = rounds_table()
    rounds = rounds[rounds["init"].isin(INITS[:2])]
    part = part_of(rounds, FACTORS, tmp_path)
    assert len(part.lines.labels) == 10 and part.lines.panels() == [part.lines]
    fig = figure(part, "early-stop")
    assert len(fig.axes) == 1
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == [
        f"{init}, pruning={method}" for init in INITS[:2] for method in ("grasp", "imp", "snip")
    ]
    note = panels_note(part_of(rounds_table(), FACTORS, tmp_path / "all"))
    assert "one panel per setting of `pruning`, `pruning.density`" in note
    assert "`pruning.density` runs along the weights axis" in note
    assert panels_note(part) == ""


def test_the_summary_figure_shows_the_differences_table(tmp_path):
    part = part_of(rounds_table(), FACTORS, tmp_path)
    fig = figure(part, "differences")
    table = part.table("differences")
    assert [ax.get_title(loc="left") for ax in fig.axes[:3]] == [
        "pruning=grasp",
        "pruning=imp",
        "pruning=snip",
    ]
    for ax, (method, rows) in zip(fig.axes[:3], table.groupby("pruning"), strict=True):
        image = ax.images[0].get_array()
        levels = sorted(rows[LEVEL].unique(), reverse=True)
        names = [t.get_text() for t in ax.get_yticklabels()]
        assert names == INITS
        expected = rows.pivot(index="line", columns=LEVEL, values="diff").reindex(
            index=INITS, columns=levels
        )
        assert np.allclose(image.filled(np.nan), 100 * expected.to_numpy(), equal_nan=True)
        # the reference (the best, xavier_uniform) is the empty cell, written 'ref'
        assert set(rows["reference"]) == {"xavier_uniform"}
        assert np.isnan(image.filled(np.nan)[3]).all()
        texts = [t.get_text() for t in ax.texts]
        assert sum(t.startswith("ref\n") for t in texts) == len(levels), method


def test_an_axis_stops_above_a_collapsing_line_and_says_so(tmp_path):
    rounds = rounds_table()
    rounds = rounds[(rounds["pruning"] == "imp") & (rounds["init"].isin(INITS[:2]))]
    collapse = (rounds["init"] == INITS[0]) & (rounds["round"] == 2)
    rounds.loc[collapse, "test_acc"] = 0.1
    part = part_of(rounds, FACTORS, tmp_path)
    ax = figure(part, "test-acc-vs-weights").axes[0]
    floor = 100 * (0.9 + 0.01 + 0.0005 - 0.004) - CLIP_PP  # the lowest point of kaiming_uniform
    assert ax.get_ylim()[0] == pytest.approx(floor)
    title = ax.get_title(loc="left")
    assert f"axis cut at {ax.get_ylim()[0]:.1f}; falling below: kaiming_normal (10.0)" in title


def test_three_panels_go_two_to_a_row_each_metric_on_one_y_axis(tmp_path):
    part = part_of(rounds_table(), FACTORS, tmp_path)  # GraSP, IMP, SNIP; no line cut
    fig = figure(part, "test-acc-vs-weights")
    panels = {ax.get_title(loc="left"): ax for ax in fig.axes}
    assert fig.axes[0].get_subplotspec().get_gridspec().ncols == 4  # 2 panels × 2 metrics
    accuracy = [ax for title, ax in panels.items() if title.endswith(": test accuracy")]
    assert len(accuracy) == 3 and len({ax.get_ylim() for ax in accuracy}) == 1
    low, high = accuracy[0].get_ylim()
    assert low < 80 and high > 93  # SNIP/GraSP's 80.0-83.1% and IMP's 89.6-93.1% on one axis


def test_a_cut_panel_does_not_take_its_range_to_the_other_methods_panels(tmp_path):
    # IMP (90-94%) with a collapsing line and SNIP/GraSP (80-83%, no dense round 0): a y axis
    # shared per column would stop every panel at IMP's cut and hide the one-shot methods' lines
    rounds = rounds_table()
    rounds.loc[(rounds["init"] == INITS[0]) & (rounds["round"] == 2), "test_acc"] = 0.1
    part = part_of(rounds, FACTORS, tmp_path)
    fig = figure(part, "test-acc-vs-weights")
    panels = {ax.get_title(loc="left").split("\n")[0]: ax for ax in fig.axes}
    imp, snip = panels["pruning=imp: test accuracy"], panels["pruning=snip: test accuracy"]
    highest_low = 0.9 + 0.01 * (len(INITS) - 1) + 0.0005 - 0.004  # the last init's, round 2
    assert imp.get_ylim()[0] == pytest.approx(100 * highest_low - CLIP_PP)
    low, high = snip.get_ylim()
    assert low < 80 and high > 80 + 3  # all of SNIP's lines, 80.0-83.1%
    change = panels["pruning=snip: change from the run's own dense round 0"]
    assert [t.get_text() for t in change.texts] == [
        "no run here has a dense round 0\nto measure a change from"
    ]
    assert list(change.get_yticks()) == []


def test_the_dose_response_figure_draws_accuracy_against_the_factor(tmp_path):
    rows = [
        {"run": f"{scale}/{seed}", "model": "m", "data": "d", "init": "kaiming_normal"}
        | {"pruning": "imp", "init.scale": scale, "seed": seed, "round": r, LEVEL: level}
        | {"test_acc": 0.9 + 0.01 * seed - 0.01 * r * scale}
        for scale, seed, (r, level) in itertools.product(
            [0.5, 1.0, 2.0], [0, 1], enumerate([100.0, 10.0, 1.0])
        )
    ]
    part = part_of(pd.DataFrame(rows), [*FACTORS[:4], "init.scale"], tmp_path)
    fig = figure(part, "dose-response")
    # of the default levels (100, 2.9, 1.2, 0.5, 0.33%), 2.9% and below are nearest to 1%
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles == [f"{level} weights remaining" for level in ("100.0%", "1.0%")] * 2
    (line,) = [line for line in fig.axes[1].get_lines() if line.get_label() == "kaiming_normal"]
    assert list(line.get_xdata()) == [0.5, 1.0, 2.0]
    assert np.allclose(line.get_ydata(), [100 * (0.905 - 0.02 * s) for s in (0.5, 1, 2)])
    (change,) = [line for line in fig.axes[3].get_lines() if line.get_label() == "kaiming_normal"]
    assert np.allclose(change.get_ydata(), [-2 * s for s in (0.5, 1, 2)])
    assert not fig.axes[2].axison  # the dense level has no change to draw


def test_without_a_numeric_factor_the_dose_figure_is_left_out_in_words(tmp_path):
    part = part_of(rounds_table(), FACTORS, tmp_path)
    why = {spec.slug: (spec.title.format(**spec.words(part)), r) for spec, r in left_out(part)}
    assert why["dose-response"] == ("test accuracy against a numeric factor", MISSING["dose"])


def test_weight_ticks_keep_levels_a_fraction_of_the_log_range_apart():
    assert spread([100, 80, 64, 10, 1, 0.9], 4) == [100, 10, 1]
    assert spread([100, 50, 25, 12.5], 3) == [100, 50, 25, 12.5]
    assert spread([5.2], 11) == [5.2]


def test_saved_svgs_are_byte_identical_between_runs(tmp_path):
    part = part_of(rounds_table(), FACTORS, tmp_path)
    first, second = (
        save(figure(part, "differences"), 1, "Figure 1: x", ("m", "d"), "s", tmp_path / name)
        for name in ("a", "b")
    )
    assert first.svg.read_bytes() == second.svg.read_bytes()
    assert first.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_each_registry_entry_is_complete():
    slugs = [spec.slug for spec in FIGURES]
    assert len(set(slugs)) == len(slugs)
    for spec in FIGURES:
        assert spec.title and spec.caption and callable(spec.draw)
        assert spec.needs in {"rounds", "differences", "dose", "correlations", "epochs"} | {
            "health",
            "pooled_overlap",
            "stability",
            "stability_rewind",
        }


def test_lines_without_a_factor_merge_its_values():
    lines = Lines.named(["init", "init.scale"], [("a", 0.5), ("a", 1.0), ("b", 1.0)])
    assert list(lines.without("init.scale").labels.values()) == ["a", "b"]


def test_one_legend_beside_panels_that_draw_different_lines_and_errorbars():
    """Panels with different lines get one legend of all of them, solid lines first, dashed
    references last; an errorbar's handle counts as the line it draws."""
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2)
    a.errorbar([0, 1], [0, 1], yerr=[0.1, 0.1], label="z bars")
    b.plot([0, 1], [1, 0], label="b line")
    b.plot([0, 1], [0.5, 0.5], ls="--", label="a reference")
    finish(fig, [a, b])
    names = [t.get_text() for t in fig.legends[0].get_texts()]
    plt.close(fig)
    assert names == ["b line", "z bars", "a reference"]


def test_predictors_figure_has_panels_per_setting(tmp_path):
    """Two pruning methods at one level: a panel per method and target, not one panel mixing
    both methods' ρ for the same statistic."""
    rows = [
        {
            "run": f"{pruning}/{init}/seed={seed}",
            **{"model": "lenet_300_100", "data": "mnist", "init": init, "pruning": pruning},
            **{"seed": seed, "round": round_, LEVEL: level, "test_acc": acc + 0.003 * seed},
        }
        for pruning in ("gmp", "rigl")
        for init in ("kaiming_normal", "xavier_normal")
        for seed in (0, 1, 4, 5)
        for round_, (level, acc) in enumerate([(100.0, 0.97), (1.19, 0.90)])
    ]
    sweep = sweep_of(pd.DataFrame(rows), ["model", "data", "init", "pruning"], tmp_path)
    runs = sweep.runs["run"]
    statistics = {"s1": np.arange(len(runs)), "s2": np.arange(len(runs)) % 3}
    sweep = dataclasses.replace(sweep, predictors=pd.DataFrame({"run": runs, **statistics}))
    part = analyse(sweep, Options(robustness_levels=(1.19,))).parts()[0]
    figure = next(spec for spec in FIGURES if spec.slug == "predictors").draw(part)
    titles = sorted(ax.get_title(loc="left") for ax in figure.axes)
    assert len(set(titles)) == len(titles)
    assert {t.split(":")[0] for t in titles} == {"pruning=gmp", "pruning=rigl"}


def small_sweep(tmp_path):
    """The fixture's 12 real runs with seed 2 removed: 4 lines × seeds 0-1, as a new user's first
    sweep (2 rounds of 1 epoch on 300 images, 500 test images)."""
    root = tmp_path / "runs"
    shutil.copytree(FIXTURE / "runs", root)
    for run in root.rglob("seed=2"):
        shutil.rmtree(run)
    return root


def test_a_small_sweep_leaves_out_what_has_nothing_to_say_and_says_why(tmp_path):
    out = tmp_path / "out"
    analysis, found, _ = analyze_sweep([small_sweep(tmp_path)], out)
    (part,) = analysis.parts()
    # every run stops at epoch 1 of its 1-epoch rounds; no hidden unit dies at 64% of the weights
    assert set(part.rounds["early_stop_epoch"]) == {1}
    assert part.table("health")["dead_hidden_pct"].max() == 0
    why = {spec.slug: reason for spec, reason in left_out(part)}
    assert why == {
        "early-stop": "every run's early-stop epoch is 1 in every round",
        "dead-units": "no run has a dead hidden unit at any level",
        "mask-overlap": MISSING["pooled_overlap"],
        "barrier-vs-weights": MISSING["stability"],
        "barrier-vs-rewind": MISSING["stability_rewind"],
    }
    drawn = {p.name.split("-", 1)[1] for p in (out / "figures").glob("*.png")}
    assert not any("early-stop" in name or "dead-units" in name for name in drawn)
    assert len(drawn) == len(FIGURES) - 5
    # the predictor has no seeds >= 4 to confirm it on; both lines leave 0.0% units dead
    titles = " ".join(f.title for f in found[part.name])
    assert "untested" not in titles and "dead units" not in titles
    assert [o.what for o in omitted(part)] == [
        "the θ0 predictor of robustness at 64.1%",
        "the dead units of the best and the least accurate line",
    ]
    md = (out / "report.md").read_text()
    appendix = md[md.index("Left out for lenet_300_100 on mnist, and why:") :]
    assert (
        "- The figure of early-stop epoch vs weights remaining: every run's early-stop" in appendix
    )
    assert "- The finding on the θ0 predictor of robustness at 64.1%: no seed at or above 4" in (
        appendix
    )


def test_heatmap_cells_are_pale_unless_significant_and_hatched_if_untestable(tmp_path):
    # IMP's 4 inits with a third seed and noise from round 1 on: 4 differences significant;
    # not testable: round 0's 3 (constant differences: no spread), kaiming_normal at round 1
    # (the same noise as the reference's) and at round 2 (its seed 2 dropped: 2 pairs)
    imp = rounds_table().query("pruning == 'imp'")
    third = imp[imp["seed"] == 0].assign(seed=2, run=lambda t: t["run"] + "/2")
    table = pd.concat([imp, third], ignore_index=True)
    init = table["init"].map(INITS.index)
    table["test_acc"] += 0.004 * ((init + 1) * (table["seed"] + 1) % 3) * (table["round"] > 0)
    table = table[~((table["init"] == INITS[0]) & (table["seed"] == 2) & (table["round"] == 2))]
    part = part_of(table, ["model", "data", "init", "pruning"], tmp_path)
    rows = part.table("differences")
    significant = int((rows["p_holm"] < 0.05).sum())
    untestable = int((rows["note"] != "").sum())
    assert (significant, untestable, len(rows)) == (4, 5, 9)
    ax = figure(part, "differences").axes[0]
    veils = [p for p in ax.patches if p.get_facecolor()[:3] == (1.0, 1.0, 1.0) and p.fill]
    hatched = [p for p in ax.patches if p.get_hatch() == "///"]
    assert len(veils) == len(rows) - significant and len(hatched) == untestable
    assert all(v.get_alpha() == pytest.approx(1 - PALE) for v in veils)
    # white at 1 - PALE over a colour c leaves 1 - PALE·(1 - c): PALE of its strength
    c = np.array(colors.to_rgb(HEAT(0.1)))
    over = (1 - PALE) * 1.0 + PALE * c
    assert 1 - over == pytest.approx(PALE * (1 - c))


def test_a_sweep_of_two_seeds_hatches_every_difference(tmp_path):
    imp = rounds_table().query("pruning == 'imp'")
    part = part_of(imp, ["model", "data", "init", "pruning"], tmp_path)
    fig = figure(part, "differences")
    hatched = [p for p in fig.axes[0].patches if p.get_hatch() == "///"]
    assert len(hatched) == len(part.table("differences")) == 3 * 3


def test_two_seeds_draw_their_range_not_a_t_band():
    # two seeds at 0.90 and 0.92: mean 0.91, std 0.01·√2; the bar runs from 90 to 92 (%)
    table = pd.DataFrame(
        {"x": [1.0, 2.0], "n": [2, 3], "m_mean": [0.91, 0.91], "m_std": [0.02 / 2**0.5, 0.01]}
        | {"m_ci_low": [0.91 - 0.1271, 0.885], "m_ci_high": [0.91 + 0.1271, 0.935]}
    )
    fig, ax = plt.subplots()
    plot_mean(ax, table, "x", "m", "C0", "line", 100)
    (bar,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    (segment,) = bar.lines[2][0].get_segments()
    assert segment[:, 0] == pytest.approx([1.0, 1.0]) and segment[:, 1] == pytest.approx([90, 92])
    (band,) = ax.collections[:1]
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.min() == pytest.approx(88.5) and ys.max() == pytest.approx(93.5)  # n = 3: t band
    plt.close(fig)
