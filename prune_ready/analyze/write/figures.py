"""Every figure of a model and data set, and FIGURES: the registry that numbers, captions, draws
and tests them. A new figure is one function here and one entry in FIGURES.

An entry's `needs` names the table it draws from (a Part's): where that table is empty (runs from
before diagnostics.csv, no numeric factor, no predictors.csv ...) the figure is left out and the
numbers close up; so is a figure whose `nothing` says it would show nothing (a flat early stop,
no dead unit anywhere). `left_out` says which and why, for the report's appendix. Titles and
captions may name {early_stop}, {accuracy_at}, {reference} and {dose}.
"""

import itertools
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps, colors
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator

from prune_ready.analyze import labels
from prune_ready.analyze.compute.analysis import Part
from prune_ready.analyze.compute.diagnostics import HEALTH
from prune_ready.analyze.compute.prediction import setting_keys
from prune_ready.analyze.compute.stats import ALPHA, LEVEL, describe, variant_keys
from prune_ready.analyze.write.overlap_figure import mask_overlap
from prune_ready.analyze.write.plots import (
    BAND,
    FEW,
    FEW_BAND,
    FigureFiles,
    Lines,
    curves,
    finish,
    new_figure,
    number,
    plot_mean,
    save,
)
from prune_ready.analyze.write.stability_figures import barrier_vs_rewind, barrier_vs_weights

CLIP_PP = 5  # accuracy axes span at most this far below the best line's lowest point
HEAT = colormaps["RdBu"]  # the differences heatmap: red behind the reference, blue ahead
PALE = 0.3  # a non-significant difference's colour, as a fraction of its full strength
PAIR_BAND = "band: 95% t CI over pairs of runs (pairs share runs, so descriptive only)"


def cell_style(mark: str) -> dict:
    """The text style of a heatmap cell: bold where `mark`ed."""
    return {"ha": "center", "va": "center", "fontsize": 6.5, "weight": "bold" if mark else "normal"}


def differences(part: Part) -> Figure:
    """A heatmap per setting: lines × levels, coloured by the line's difference from the
    reference (pp, symmetric log colour scale so that 0.5 pp shows beside a collapse), written
    as 'diff ± CI half-width', '*' and bold where significant after Holm. The colour says the
    test too: a difference not significant is drawn at PALE of its colour's strength (a -0.5 ±
    1.3 must not look like a significant -0.75), one not testable also hatched."""
    table = part.table("differences")
    names = sorted(set(labels.line_labels(part.rounds, variant_keys(part.factors))))
    parts = part.settings(table)
    largest = max(1.0, min(10.0, 100 * table["diff"].abs().max()))
    norm = colors.SymLogNorm(linthresh=0.25, vmin=-largest, vmax=largest, base=10)
    # a column per level and round, densest first: rounds that train on at one level (pruning
    # at initialisation with several rounds) get a column each, their round named; each
    # column's reference line and its mean
    columns = [
        rows.groupby([LEVEL, "round"])[["reference", "reference_mean"]]
        .first()
        .sort_index(ascending=[False, True])
        for _, rows in parts
    ]
    width = max(len(c) for c in columns)
    size = (max(9.0, 3.6 + 0.62 * width), 1.1 + len(parts) * (0.55 + 0.36 * len(names)))
    fig, axes = new_figure([t for t, _ in parts], 1, False, size)
    for ax, (_, rows), references in zip(axes, parts, columns, strict=True):
        points = list(references.index)
        cells = rows.set_index(["line", LEVEL, "round"])
        image = np.full((len(names), len(points)), np.nan)
        significant = np.zeros(image.shape, dtype=bool)
        untestable = np.zeros(image.shape, dtype=bool)
        for (i, name), (j, point) in itertools.product(enumerate(names), enumerate(points)):
            reference = references.loc[point]
            if (name, *point) in cells.index:
                row = cells.loc[(name, *point)]
                image[i, j] = 100 * row["diff"]
                mark = "*" if row["p_holm"] < ALPHA else ""
                significant[i, j], untestable[i, j] = bool(mark), bool(row["note"])
                half = (row["ci_high"] - row["ci_low"]) / 2
                spread = "not testable" if row["note"] else f"±{labels.points(half)}"
                text = f"{mark}{labels.points(row['diff'], True)}\n{spread}"
                dark = bool(mark) and abs(norm(image[i, j]) - 0.5) > 0.35
                ax.text(j, i, text, color="white" if dark else "black", **cell_style(mark))
            elif reference["reference"] == name:
                ax.text(j, i, f"ref\n{100 * reference['reference_mean']:.1f}%", **cell_style("*"))
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=1.2, ec="black"))
        mesh = ax.imshow(image, cmap=HEAT, norm=norm, aspect="auto")
        for i, j in zip(*np.nonzero(~significant & ~np.isnan(image)), strict=True):
            veil(ax, i, j, untestable[i, j])
        levels = [level for level, _ in points]
        ticks = [
            labels.level(level) + (f"\nround {round_}" if levels.count(level) > 1 else "")
            for level, round_ in points
        ]
        ax.set_xticks(range(len(points)), ticks, fontsize=7)
        ax.set_yticks(range(len(names)), names, fontsize=7.5)
        ax.set_xlabel("weights remaining (round's mean over runs)")
        ax.grid(False)
    bar = fig.colorbar(mesh, ax=axes, shrink=0.8, extend="both")
    ticks = [t for t in (0.3, 1, 3, 10) if t <= largest]
    bar.set_ticks([-t for t in reversed(ticks)] + [0] + ticks, labels=None)
    bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:+g}" if v else "0"))
    bar.ax.yaxis.set_minor_locator(NullLocator())
    bar.ax.tick_params(labelsize=8)
    bar.set_label("line − reference (percentage points)", fontsize=9)
    return fig


def veil(ax: Axes, i: int, j: int, hatched: bool) -> None:
    """Cell (row i, column j) of a heatmap pale: white at 1 - PALE opacity over its colour leaves
    PALE of the colour's strength; hatched as well where the difference was not testable."""
    cell = (j - 0.5, i - 0.5)
    ax.add_patch(Rectangle(cell, 1, 1, fc="white", alpha=1 - PALE, lw=0))
    if hatched:
        ax.add_patch(Rectangle(cell, 1, 1, fill=False, hatch="///", ec="0.75", lw=0))


def cut(
    panel: Lines, table: pd.DataFrame, metric: str, scale: float
) -> tuple[float, dict[str, float]]:
    """(the floor, {label: its lowest mean} of the lines below it): the floor is CLIP_PP below
    the lowest point of the line whose lowest point is highest."""
    means = {label: scale * line[f"{metric}_mean"].dropna() for line, _, label in panel.each(table)}
    lows = {label: m.min() for label, m in means.items() if len(m)}
    if not lows:
        return np.nan, {}
    floor = max(lows.values()) - CLIP_PP
    return floor, {label: low for label, low in lows.items() if low < floor}


def clip(ax: Axes, panel: Lines, table: pd.DataFrame, metric: str, scale: float) -> None:
    """y spans the data; where some line falls below the floor (`cut`), the axis stops there and
    says which lines it cut."""
    floor, below = cut(panel, table, metric, scale)
    if below:
        top = max(scale * line[f"{metric}_mean"].max() for line, _, _ in panel.each(table))
        ax.set_ylim(floor, top + 0.05 * (top - floor))
        text = ", ".join(f"{label} ({low:.1f})" for label, low in sorted(below.items()))
        note = textwrap.fill(f"axis cut at {floor:.1f}; falling below: {text}", 80)
        ax.set_title(f"{ax.get_title(loc='left')}\n{note}", fontsize=8, loc="left")


def accuracy_vs_weights(part: Part) -> Figure:
    """Test accuracy and its change from dense against the weights remaining, per panel (`curves`:
    a row each, two to a row from 3 panels). The panels share each metric's y axis unless one of
    them is cut (`clip`): a shared axis would take one panel's cut range to all of them and hide
    the others' lines."""
    metrics = {
        "test_acc": ("test accuracy", "test accuracy (%)"),
        "change": ("change from the run's own dense round 0", "change (percentage points)"),
    }
    panels = part.lines.through_levels().panels()
    shared = not any(cut(p, part.by_round, m, 100)[1] for p in panels for m in metrics)
    fig, drawn = curves(part.lines, part.by_round, metrics, part.rounds[LEVEL], 100, shared)
    for ax, panel, metric in drawn:
        clip(ax, panel, part.by_round, metric, 100)
        if metric == "change" and np.isnan(cut(panel, part.by_round, metric, 100)[0]):
            note = "no run here has a dense round 0\nto measure a change from"  # pruned at init
            ax.text(0.5, 0.5, note, color="0.4", transform=ax.transAxes, **cell_style(""))
            ax.set(yticks=[], ylabel="")
        elif metric == "change":
            ax.axhline(0, color="0.3", lw=0.8, ls="--")
    return finish(fig, [ax for ax, _, _ in drawn])


def dose_response(part: Part) -> Figure:
    """Columns: the levels; rows: test accuracy and its change from dense; x: the dose factor."""
    dose, table = part.analysis.dose_factor, part.table("dose")
    lines = part.lines.through_levels().without(dose)
    points = table.groupby("round")[LEVEL].mean().sort_values(ascending=False)
    metrics = {"test_acc": "test accuracy (%)", "change": "change from dense round 0 (pp)"}
    titles = [f"{labels.level(v)} weights remaining" for v in points] * 2
    fig, axes = new_figure(titles, len(points), False, (2.6 * len(points) + 2.2, 6.2))
    values = sorted(table[dose].dropna().unique())
    drawn = []
    for i, ax in enumerate(axes):
        metric, round_ = list(metrics)[i // len(points)], points.index[i % len(points)]
        if metric == "change" and points[round_] == 100:
            ax.axis("off")
            note = "the dense round is the baseline:\nno change by definition"
            ax.text(0.5, 0.5, note, color="0.4", transform=ax.transAxes, **cell_style(""))
            continue
        drawn.append(ax)
        first = i % len(points) == 0 or not axes[i - 1].axison  # the row's first drawn panel
        for line, colour, label in lines.each(table[table["round"] == round_]):
            if line[dose].nunique() >= 2:
                plot_mean(ax, line, dose, metric, colour, label, 100)
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_locator(FixedLocator(values))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set(xlabel=f"{dose} (log scale)", ylabel=metrics[metric] if first else "")
    return finish(fig, drawn)


def predictors(part: Part) -> Figure:
    """Per level and target: each statistic's Spearman ρ with its bootstrap CI, on the seeds that
    chose (hollow) and on those that confirm (filled); the chosen statistic in bold."""
    table = part.table("correlations")
    statistics = list(dict.fromkeys(table["statistic"]))
    settings = [  # those that vary, e.g. the pruning method
        k
        for k in setting_keys(part.factors)
        if k not in labels.SET_KEYS and table[k].nunique(dropna=False) > 1
    ]
    groups = list(table.groupby([*settings, LEVEL, "target"], sort=False, dropna=False))
    titles = [
        (
            f"{labels.setting_label(dict(zip(settings, key[:-2], strict=True)), settings)}: "
            if settings
            else ""
        )
        + f"{'test accuracy' if key[-1] == 'test_acc' else 'change from dense'} at "
        + labels.level(key[-2])
        for key, _ in groups
    ]
    fig, axes = new_figure(
        titles, min(2, len(titles)), True, (11, 1.2 + 0.32 * len(statistics) * -(-len(titles) // 2))
    )
    for ax, (_, rows) in zip(axes, groups, strict=True):
        for offset, (split, fill) in zip(
            (-0.15, 0.15), (("choose", "none"), ("confirm", "C0")), strict=True
        ):
            at = rows[rows["split"] == split].set_index("statistic").reindex(statistics)
            y = np.arange(len(statistics)) + offset
            runs = int(at["n_runs"].max())
            seeds = at["seeds"].iloc[0] if runs else f"≥ {part.analysis.options.choose_below}"
            ax.errorbar(
                at["rho"],
                y,
                # a percentile interval need not hold the estimate: its bar then ends at ρ
                xerr=np.clip([at["rho"] - at["ci_low"], at["ci_high"] - at["rho"]], 0, None),
                fmt="o",
                mfc=fill,
                color="C0",
                ms=4,
                lw=1,
                label=f"seeds {seeds}: {'choose' if split == 'choose' else 'confirm'} ({runs} runs)",
            )
        ax.axvline(0, color="0.3", lw=0.8)
        ax.set_yticks(range(len(statistics)), statistics, fontsize=8)
        chosen = set(rows.loc[rows["chosen"], "statistic"])
        for tick in ax.get_yticklabels():
            tick.set_weight("bold" if tick.get_text() in chosen else "normal")
        ax.set(xlim=(-1.05, 1.05), xlabel="Spearman ρ over runs (95% bootstrap CI)")
        ax.invert_yaxis()
    return finish(fig, axes)


def accuracy_vs_epoch(part: Part) -> Figure:
    lines, rounds = part.lines, part.rounds
    by_epoch = describe(part.table("epochs"), [*lines.keys, "epoch"], ["test_acc"])
    panels = lines.panels()
    fig, axes = new_figure([p.title for p in panels])
    for ax, panel in zip(axes, panels, strict=True):
        for line, colour, label in panel.each(by_epoch):
            plot_mean(ax, line, "epoch", "test_acc", colour, label, 100, marker=None)
        rows = panel.rows(rounds)
        last = rows.groupby("run")["epoch"].transform("max")
        for i, epoch in enumerate(sorted(rows.loc[rows["epoch"] < last, "epoch"].unique())):
            ax.axvline(
                epoch, color="0.6", lw=0.8, ls=":", zorder=0, label=None if i else "prune + rewind"
            )
        ax.set(xlabel="epoch (all rounds, one after another)", ylabel="test accuracy (%)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return finish(fig, axes)


def early_stop(part: Part) -> Figure:
    name = labels.early_stop(part.early_stop)
    metrics = {part.early_stop: ("", f"{name} (of min. val. loss, in round)")}
    fig, drawn = curves(part.lines, part.by_round, metrics, part.rounds[LEVEL])
    return finish(fig, [ax for ax, _, _ in drawn])


def health_curves(part: Part, metrics: dict[str, tuple[str, str]]) -> tuple[Figure, list[Axes]]:
    health = part.table("health")
    by_round = describe(health, [*part.lines.keys, "round"], [*HEALTH, LEVEL])
    fig, drawn = curves(part.lines, by_round, metrics, part.rounds[LEVEL])
    return fig, [ax for ax, _, _ in drawn]


def dead_units(part: Part) -> Figure:
    fig, axes = health_curves(part, {"dead_hidden_pct": ("", "dead units (% of hidden units)")})
    for ax in axes:
        ax.set_ylim(bottom=0)
    return finish(fig, axes)


def weight_scale(part: Part) -> Figure:
    first = part.table("health")["first_layer"].iloc[0]
    ylabel = "weight RMS ÷ intended RMS (×)"
    metrics = {
        "rms_ratio_first": (f"first layer ({first})", ylabel),
        "rms_ratio": ("whole network (layers weighted by surviving weights)", ylabel),
    }
    fig, axes = health_curves(part, metrics)
    for ax in axes:
        ax.axhline(1, color="0.3", ls="--", lw=0.9, label="1: as the init intends")
    return finish(fig, axes)


def signal(part: Part) -> Figure:
    health = part.table("health")
    first, output = health["first_layer"].iloc[0], health["output_layer"].iloc[0]
    metrics = {
        "act_rms_out": (f"output layer ({output}): forward", "RMS of the logits (log scale)"),
        "grad_norm_first": (
            f"first layer ({first}): backward",
            "L2 norm of the masked weight gradient (log scale)",
        ),
    }
    fig, axes = health_curves(part, metrics)
    for ax in axes:
        ax.set_yscale("log", nonpositive="clip")
    return finish(fig, axes)


def something(part: Part) -> str:
    """A figure that always has something to show once its table has rows: no reason to leave
    it out."""
    return ""


def flat_early_stop(part: Part) -> str:
    """Why the early-stop figure would be flat lines ('' where it is not)."""
    values = part.rounds[part.early_stop].dropna().unique()
    if len(values) > 1:
        return ""
    name = labels.early_stop(part.early_stop)
    return f"every run's {name} is {values[0]:g} in every round" if len(values) else f"no {name}"


def no_dead_units(part: Part) -> str:
    """Why the dead-units figure would be empty ('' where some run has a dead unit)."""
    dead = part.table("health")["dead_hidden_pct"]
    return "no run has a dead hidden unit at any level" if (dead.fillna(0) == 0).all() else ""


MISSING = {  # a Spec's `needs` -> why a part's table can be empty
    "rounds": "no finished round",
    "differences": "one line only: nothing to compare",
    "dose": "no numeric factor (e.g. init.scale) with 2 or more values",
    "correlations": "no predictors.csv, or too few runs to score a statistic",
    "epochs": "no training curves (metrics.csv; an analysis of a runs.csv has none)",
    "health": "no diagnostics.csv (runs from before it, or an analysis of a runs.csv)",
    "pooled_overlap": "no round_masks.pt to compare (or fewer than two runs to pair)",
    "stability": "no stability.csv (python -m prune_ready.stability measures it)",
    "stability_rewind": "no stability.csv, or no pruning.reset.to factor to plot it against",
}


@dataclass(frozen=True)
class Spec:
    """One figure: its file name's slug, title, drawing, the Part table it needs and what the
    report says it shows (after 'Figure n')."""

    slug: str
    title: str
    draw: Callable[[Part], Figure]
    caption: str
    needs: str = "rounds"
    band: str = BAND
    nothing: Callable[[Part], str] = something  # why it would show nothing; '' if it would not

    def left_out(self, part: Part) -> str:
        """Why `part` gets no such figure ('' where it gets one)."""
        return self.nothing(part) if part.has(self.needs) else MISSING[self.needs]

    def words(self, part: Part) -> dict[str, str]:
        options = part.analysis.options
        reference = options.reference
        return {
            "early_stop": labels.early_stop(part.early_stop),
            "accuracy_at": "at the end of each round"  # which accuracy --accuracy analyses
            if options.accuracy == "round_end"
            else "at each round's early stop (its lowest validation loss)",
            "reference": reference or "the best line at that level",
            "dose": part.analysis.dose_factor or "a numeric factor",  # none: left out
        }


FIGURES = (  # the answer chart (report.ANSWER) first, so the report's first figure is Figure 1
    Spec(
        "test-acc-vs-weights",
        "test accuracy vs weights remaining",
        accuracy_vs_weights,
        "plots test accuracy {accuracy_at} against the weights remaining, and beside "
        "it each line's change from its runs' own dense round 0 (paired by seed); an axis that "
        f"would have to reach more than {CLIP_PP} points below the others to show a collapsing "
        "line stops there and names the lines it cuts",
    ),
    Spec(
        "differences",
        "test accuracy: each line minus {reference}",
        differences,
        "shows, per level, how far each init's mean test accuracy is from {reference} (percentage "
        "points ± the half-width of the 95% CI of the difference; paired by seed where the two "
        "ran the same seeds, else Welch); * and bold: significant after Holm's correction over the "
        "comparisons at that level (α=0.05); 'ref' marks the reference and its accuracy",
        "differences",
        "cells: difference ± CI half-width (pp); * and full colour: significant (Holm, α=0.05); "
        "pale: not; hatched: not testable",
    ),
    Spec(
        "dose-response",
        "test accuracy against {dose}",
        dose_response,
        "plots test accuracy and its change from the dense round 0 against {dose} (log scale), "
        "at the rounds nearest the chosen weights-remaining levels",
        "dose",
    ),
    Spec(
        "predictors",
        "θ0 statistics as predictors of robustness",
        predictors,
        "gives, for each statistic of the network at θ0 (predictors.csv), Spearman's ρ over runs "
        "with the test accuracy at the sparse levels and with its change from dense, on the "
        "seeds that chose the best statistic (hollow) and on the seeds kept to confirm it "
        "(filled); the chosen statistic is in bold",
        "correlations",
        "bars: 95% percentile bootstrap CI over seeds (all runs of each seed drawn)",
    ),
    Spec(
        "test-acc-vs-epoch",
        "test accuracy vs epoch",
        accuracy_vs_epoch,
        "follows test accuracy through training, every round one after another (dotted: the "
        "pruning steps)",
        "epochs",
    ),
    Spec(
        "early-stop",
        "{early_stop} vs weights remaining",
        early_stop,
        "shows the {early_stop}: when, within each round, validation loss was lowest",
        nothing=flat_early_stop,
    ),
    Spec(
        "dead-units",
        "dead hidden units vs weights remaining",
        dead_units,
        "counts the hidden units left dead: no surviving incoming weight, or no surviving "
        "weight of the next layer reading them (all layers but the output layer)",
        "health",
        nothing=no_dead_units,
    ),
    Spec(
        "weight-scale",
        "survivors' RMS ÷ the RMS intended for their fan-in",
        weight_scale,
        "divides the survivors' RMS by the RMS the init's formula intends for their surviving "
        "fan-in (1: as intended; below 1: too small for the inputs a unit has left)",
        "health",
    ),
    Spec(
        "signal",
        "signal at the rewind point (fixed batch) vs weights remaining",
        signal,
        "follows a fixed batch through the rewound network: the RMS of the logits, and the "
        "norm of the first layer's masked loss gradient",
        "health",
    ),
    Spec(
        "mask-overlap",
        "mask overlap vs weights remaining",
        mask_overlap,
        "compares the masks of two runs at the same sparsity by their Jaccard index "
        "|A∩B| / |A∪B| over all prunable weights, pooled over pairs of each kind; pairs share "
        "runs, so they are not independent and their CIs are descriptive only",
        "pooled_overlap",
        PAIR_BAND,
    ),
    Spec(
        "barrier-vs-weights",
        "error barrier between two copies vs weights remaining",
        barrier_vs_weights,
        "shows stability to SGD noise (Frankle et al. 2020): from each measured round's start "
        "(its rewind point times its mask) two copies trained on two other data orders, and the "
        "largest test error on the straight line between them minus the mean of their own "
        "errors (python -m prune_ready.stability); beside it the copies' own test error",
        "stability",
    ),
    Spec(
        "barrier-vs-rewind",
        "error barrier and ticket accuracy vs rewind point",
        barrier_vs_rewind,
        "sets, at each measured level, the test error barrier between two copies against the "
        "rewind point (pruning.reset.to: θ0 or an early iterate θk) beside the ticket's own test "
        "accuracy at that round: does rewinding later make the network stable, and the ticket "
        "better (Frankle et al. 2020)?",
        "stability_rewind",
    ),
)


def draw(part: Part, first: int = 1) -> list[tuple[Spec, Figure, str]]:
    """Every figure of FIGURES that `part` has the data for, numbered from `first`:
    (entry, figure, caption)."""
    drawn = []
    for spec in FIGURES:
        if not spec.left_out(part):
            words = spec.words(part)
            figure = spec.draw(part)
            band = spec.band
            if band == BAND and part.table("summary")["n"].min() <= FEW:
                band += FEW_BAND
            caption = number(
                figure, first + len(drawn), spec.title.format(**words), part.name, band
            )
            drawn.append((spec, figure, caption))
    return drawn


def left_out(part: Part) -> list[tuple[Spec, str]]:
    """The figures of FIGURES that `part` does not get, and why."""
    return [(spec, why) for spec in FIGURES if (why := spec.left_out(part))]


def save_all(part: Part, first: int, out_dir: Path) -> list[FigureFiles]:
    """draw() and save each figure; the figures' files in number order."""
    return [
        save(figure, first + i, caption, (part.model, part.data), spec.slug, out_dir)
        for i, (spec, figure, caption) in enumerate(draw(part, first))
    ]
