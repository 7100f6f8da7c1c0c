"""Figure layout: a grid of many settings gets one panel per setting, its lines the inits.

Pure plotting logic on a small hand-made rounds table (the end-to-end figures are checked on a
real sweep in test_analyze.py)."""

import itertools

import numpy as np
import pandas as pd

from prune_ready.analyze.figures import MAX_LINES, Lines, figure_set, save, spread
from prune_ready.analyze.report import panels_note

INITS = ["kaiming_normal", "kaiming_uniform", "xavier_normal", "xavier_uniform"]
IMP_LEVELS = [100.0, 50.0, 25.0]  # rounds 0, 1, 2 of IMP
DENSITIES = [0.5, 0.25]  # pruning at initialisation: one round at each density


def rounds_table() -> pd.DataFrame:
    """4 inits × 2 seeds × (IMP, 3 rounds | SNIP and GraSP, one round at each of 2 densities)."""
    rows = []
    for (i, init), seed in itertools.product(enumerate(INITS), [0, 1]):
        run = {"model": "lenet_300_100", "data": "mnist", "init": init, "seed": seed}
        for r, level in enumerate(IMP_LEVELS):
            rows.append(
                run
                | {"pruning": "imp", "pruning.density": np.nan, "round": r}
                | {"weights_remaining_pct": level, "epoch": r + 1, "test_acc": 0.9 + 0.01 * i}
            )
        for method, density in itertools.product(["snip", "grasp"], DENSITIES):
            rows.append(
                run
                | {"pruning": method, "pruning.density": density, "round": 0}
                | {"weights_remaining_pct": 100 * density, "epoch": 1, "test_acc": 0.8 + 0.01 * i}
            )
    table = pd.DataFrame(rows)
    table["early_stop_epoch"] = table["epoch"]
    ids = zip(table["init"], table["seed"], table["pruning"], table["pruning.density"], strict=True)
    table["run"] = ["/".join(map(str, values)) for values in ids]
    return table


def test_settings_beyond_max_lines_get_one_panel_each_with_the_inits_as_lines():
    rounds = rounds_table()
    factors = ["model", "data", "init", "pruning", "pruning.density"]
    lines = Lines.of(rounds, factors)
    assert len(lines.labels) == 4 * 5 > MAX_LINES  # init × (imp, 2 methods × 2 densities)
    epochs = rounds.drop(columns="round")
    vs_epoch, _, vs_weights, _ = figure_set(rounds, epochs, factors)

    titles = [ax.get_title(loc="left") for ax in vs_epoch.axes]
    assert titles == [
        "pruning=grasp, pruning.density=0.25",
        "pruning=grasp, pruning.density=0.5",
        "pruning=imp, pruning.density=unset",
        "pruning=snip, pruning.density=0.25",
        "pruning=snip, pruning.density=0.5",
    ]
    assert vs_epoch.get_suptitle().startswith("Figure 1: test accuracy vs epoch")

    # accuracy vs weights: the densities are the x axis, so one panel per method
    assert [ax.get_title(loc="left") for ax in vs_weights.axes] == [
        "pruning=grasp",
        "pruning=imp",
        "pruning=snip",
    ]
    colours = None
    for ax, method in zip(vs_weights.axes, ["grasp", "imp", "snip"], strict=True):
        drawn = [line for line in ax.get_lines() if line.get_label() in INITS]
        assert [line.get_label() for line in drawn] == INITS
        if colours is None:
            colours = [line.get_color() for line in drawn]
        assert [line.get_color() for line in drawn] == colours  # an init's colour in every panel
        expected = IMP_LEVELS if method == "imp" else [100 * d for d in DENSITIES]
        for i, line in enumerate(drawn):
            assert list(line.get_xdata()) == sorted(expected)
            assert np.allclose(line.get_ydata(), 100 * (0.9 if method == "imp" else 0.8) + i)
        # a dense baseline is drawn where round 0 is dense (IMP), never at a PaI run's round 0
        dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
        assert len(dashed) == (len(INITS) + 1 if method == "imp" else 0)
    assert len(set(colours)) == len(INITS)
    assert vs_weights.axes[0].get_shared_y_axes().joined(*vs_weights.axes[:2])
    (legend,) = vs_weights.legends  # one for the figure: the panels draw different lines
    dense = "dense baseline (round 0) of each line"
    assert [text.get_text() for text in legend.get_texts()] == [*INITS, dense]


def test_few_lines_stay_in_one_plot():
    rounds = rounds_table()
    rounds = rounds[rounds["init"].isin(INITS[:2])]
    lines = Lines.of(rounds, ["init", "pruning", "pruning.density"])
    assert len(lines.labels) == 10 and lines.panels() == [lines]
    figures = figure_set(
        rounds, rounds.drop(columns="round"), ["init", "pruning", "pruning.density"]
    )
    assert [len(f.axes) for f in figures] == [1, 1, 1, 1]
    legend = [t.get_text() for t in figures[2].axes[0].get_legend().get_texts()]
    assert "kaiming_normal, pruning=snip" in legend and len(legend) == 2 * 3 + 1


def test_weight_ticks_keep_levels_a_fraction_of_the_log_range_apart():
    assert spread([100, 80, 64, 10, 1, 0.9], 4) == [100, 10, 1]
    assert spread([100, 50, 25, 12.5], 3) == [100, 50, 25, 12.5]
    assert spread([5.2], 11) == [5.2]


def test_the_report_says_when_and_how_figures_are_split_into_panels():
    rounds = rounds_table()
    keys, varying = ["init", "pruning", "pruning.density"], ["pruning", "pruning.density"]
    note = panels_note(rounds, keys, varying)
    assert "one panel per setting of `pruning`, `pruning.density`" in note
    assert "`pruning.density` runs along it" in note
    assert panels_note(rounds[rounds["init"].isin(INITS[:2])], keys, varying) == ""


def test_saved_svgs_are_byte_identical_between_runs(tmp_path):
    rounds = rounds_table()
    first, second = (
        save(
            figure_set(rounds, rounds.drop(columns="round"), ["init", "pruning"])[2],
            3,
            "lenet_300_100",
            "mnist",
            "test-acc-vs-weights",
            tmp_path / name,
        )
        for name in ("a", "b")
    )
    assert first.svg.read_bytes() == second.svg.read_bytes()
    assert first.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
