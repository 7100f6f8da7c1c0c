"""Figures 5-8 of each model and data set: what pruning leaves of the network at each rewind point.

5: dead hidden units; 6: the survivors' RMS against the RMS their init intends for their
surviving fan-in (first layer, whole network); 7: signal propagation on a fixed batch (the output
layer's activation RMS, the first layer's gradient norm); 8: how much the masks of two runs
overlap. A figure whose data the runs lack (runs from before diagnostics.csv, or fewer than two
runs with round_masks.pt) is left out. Lines, colours and the weights axis are those of 1-4.
"""

import itertools
from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure

from prune_ready.analyze import labels
from prune_ready.analyze.diagnostics import HEALTH
from prune_ready.analyze.figures import Lines, finish, new_figure, plot_mean, titles, weights_axis
from prune_ready.analyze.overlap import ALL, NEITHER, SAME_INIT, SAME_SEED
from prune_ready.analyze.stats import LEVEL, describe

PAIR_BAND = "band: 95% t CI over pairs of runs (pairs share runs, so descriptive only)"
PAIRS = {  # kind of pair -> colour, legend
    SAME_INIT: ("C0", "same init, different seeds"),
    SAME_SEED: ("C3", "different inits, same seed"),
    NEITHER: ("C1", "different init and seed"),
}
STYLES = ("-", "--", "-.", ":")  # one per setting of the other varying factors (e.g. a control)


def diagnostic_figure_set(
    rounds: pd.DataFrame,
    health: pd.DataFrame,
    overlap: pd.DataFrame,
    factors: Sequence[str],
    first: int = 5,
) -> dict[str, Figure]:
    """slug -> figure, numbered from `first`, for one model and data set: its finished rounds,
    network health (Analysis.health) and mask overlap (Analysis.overlap)."""
    lines = Lines.of(rounds, factors)
    where = labels.set_name(rounds["model"].iloc[0], rounds["data"].iloc[0])
    figures: dict[str, Figure] = {}
    if len(health):
        by_round = describe(health, [*lines.keys, "round"], [*HEALTH, LEVEL])
        first_layer, output_layer = health["first_layer"].iloc[0], health["output_layer"].iloc[0]
        figures["dead-units"] = dead_units(first, where, lines, by_round, rounds)
        figures["weight-scale"] = weight_scale(
            first + 1, where, lines, by_round, rounds, first_layer
        )
        figures["signal"] = signal(
            first + 2, where, lines, by_round, rounds, first_layer, output_layer
        )
    pooled = overlap[(overlap["layer"] == ALL) & (overlap["init_a"] == ALL)]
    if len(pooled):
        varying = labels.varying_keys(pooled, lines.keys)
        others = [k for k in varying if k not in labels.LEVEL_KEYS]
        figures["mask-overlap"] = mask_overlap(first + len(figures), where, pooled, others, rounds)
    return figures


def dead_units(
    number: int, where: str, lines: Lines, by_round: pd.DataFrame, rounds: pd.DataFrame
) -> Figure:
    panels = lines.through_levels().panels()
    fig, axes = new_figure(number, "dead hidden units vs weights remaining", where, titles(panels))
    for ax, panel in zip(axes, panels, strict=True):
        for line, colour, label in panel.each(by_round):
            plot_mean(ax, line, f"{LEVEL}_mean", "dead_hidden_pct", colour, label, marker="o")
        weights_axis(ax, rounds[LEVEL])
        ax.set(ylabel="dead units (% of hidden units)")
        ax.set_ylim(bottom=0)
    return finish(fig, axes)


def weight_scale(
    number: int,
    where: str,
    lines: Lines,
    by_round: pd.DataFrame,
    rounds: pd.DataFrame,
    first_layer: str,
) -> Figure:
    metrics = {
        "rms_ratio_first": f"first layer ({first_layer})",
        "rms_ratio": "whole network (layers weighted by surviving weights)",
    }
    panels = lines.through_levels().panels()
    title = "survivors' RMS ÷ the RMS intended for their fan-in"
    fig, axes = new_figure(number, title, where, titles(panels), list(metrics.values()))
    for ax, (panel, metric) in zip(axes, itertools.product(panels, metrics), strict=True):
        for line, colour, label in panel.each(by_round):
            plot_mean(ax, line, f"{LEVEL}_mean", metric, colour, label, marker="o")
        ax.axhline(1, color="0.3", ls="--", lw=0.9, label="1: as the init intends")
        weights_axis(ax, rounds[LEVEL])
        ax.set(ylabel="weight RMS ÷ intended RMS (×)")
    return finish(fig, axes)


def signal(
    number: int,
    where: str,
    lines: Lines,
    by_round: pd.DataFrame,
    rounds: pd.DataFrame,
    first_layer: str,
    output_layer: str,
) -> Figure:
    metrics = {
        "act_rms_out": (
            f"output layer ({output_layer}): forward",
            "RMS of the logits (pre-softmax)",
        ),
        "grad_norm_first": (
            f"first layer ({first_layer}): backward",
            "L2 norm of the masked weight gradient",
        ),
    }
    panels = lines.through_levels().panels()
    title = "signal at the rewind point (fixed batch) vs weights remaining"
    fig, axes = new_figure(number, title, where, titles(panels), [t for t, _ in metrics.values()])
    for ax, (panel, metric) in zip(axes, itertools.product(panels, metrics), strict=True):
        for line, colour, label in panel.each(by_round):
            plot_mean(ax, line, f"{LEVEL}_mean", metric, colour, label, marker="o")
        ax.set_yscale("log", nonpositive="clip")
        weights_axis(ax, rounds[LEVEL])
        ax.set(ylabel=f"{metrics[metric][1]} (log scale)")
    return finish(fig, axes)


def mask_overlap(
    number: int, where: str, pooled: pd.DataFrame, others: Sequence[str], rounds: pd.DataFrame
) -> Figure:
    """One line style per setting of the `others` factors, or one panel each past len(STYLES)
    (then without the pair counts, which differ between panels)."""
    parts = list(pooled.groupby(list(others), dropna=False, sort=True)) if others else []
    parts = parts or [((), pooled)]
    settings = [labels.setting_label(dict(zip(others, c, strict=True)), others) for c, _ in parts]
    split = len(parts) > len(STYLES)
    title = "mask overlap vs weights remaining"
    fig, axes = new_figure(number, title, where, settings if split else [], band=PAIR_BAND)
    for i, ((_, rows), setting) in enumerate(zip(parts, settings, strict=True)):
        ax, style = (axes[i], "-") if split else (axes[0], STYLES[i])
        suffix = f", {setting}" if setting and not split else ""
        for kind, (colour, name) in PAIRS.items():
            line = rows[rows["comparison"] == kind].sort_values(LEVEL)
            if len(line):
                pairs = "" if split else f" ({line['n_pairs'].max()} pairs)"
                label = f"{name}{suffix}{pairs}"
                plot_mean(ax, line, LEVEL, "jaccard", colour, label, marker="o", ls=style)
        chance = rows.groupby(LEVEL)["chance_mean"].mean()
        label = f"chance: random masks of the same per-layer sparsity{suffix}"
        ax.plot(chance.index, chance, color="0.5", ls=":", lw=1.2, label=label)
    for ax in axes:
        weights_axis(ax, rounds[LEVEL])
        ax.set(ylabel="Jaccard index |A∩B| / |A∪B| of the masks", ylim=(0, 1.02))
    return finish(fig, axes)
