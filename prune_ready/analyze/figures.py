"""The seed document's four figures per model and data set, and what every figure shares.

Each line is one init (or init + other varying factor): the mean over seeds, with a band for
the 95% Student-t CI of that mean. Where one plot would hold more than MAX_LINES lines (a grid
of pruning methods, say), a figure has one panel per setting of the other factors instead, its
lines the inits, coloured alike in every panel. Figures are drawn on matplotlib Figure objects
(Agg for PNG), never through pyplot, so drawing them changes no global state (a notebook's
backend included).
"""

import io
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator

from prune_ready.analyze import labels
from prune_ready.analyze.stats import LEVEL, describe, select
from prune_ready.results import write_atomic

BAND = "band: 95% CI of the mean over seeds (Student t)"
MAX_TICKS = 11
MAX_LINES = 10
SLUGS = ("test-acc-vs-epoch", "test-acc-per-round", "test-acc-vs-weights", "early-stop")


@dataclass(frozen=True)
class FigureFiles:
    number: int
    set_name: str  # "lenet_300_100 on mnist"
    caption: str  # "Figure 3: test accuracy vs weights remaining (lenet_300_100 on mnist)"
    png: Path
    svg: Path
    slug: str  # what it shows, as in its file name: "test-acc-vs-weights"


def figure_set(
    rounds: pd.DataFrame,
    epochs: pd.DataFrame,
    factors: Sequence[str],
    first: int = 1,
    early_stop: str = "early_stop_epoch",
) -> list[Figure]:
    """The four figures of one model and data set (their SLUGS), numbered from `first`;
    `early_stop` is the rounds.csv column of figure 4 (Sweep.early_stop)."""
    lines = Lines.of(rounds, factors)
    by_round = describe(rounds, [*lines.keys, "round"], ["test_acc", early_stop, "epoch", LEVEL])
    where = labels.set_name(rounds["model"].iloc[0], rounds["data"].iloc[0])
    return [
        accuracy_vs_epoch(
            first, where, lines, describe(epochs, [*lines.keys, "epoch"], ["test_acc"]), rounds
        ),
        accuracy_per_round(first + 1, where, lines, by_round, rounds),
        accuracy_vs_weights(first + 2, where, lines, by_round, rounds),
        early_stop_vs_weights(first + 3, where, lines, by_round, rounds, early_stop),
    ]


@dataclass(frozen=True)
class Lines:
    """The lines of one plot: one per combination of `keys` (values as in the runs' configs),
    each with a label and a colour. In a panel, `setting` holds the values of the keys after
    the init that its lines share, and `title` names them."""

    keys: list[str]
    labels: dict[tuple, str]
    colours: dict[tuple, str]
    setting: dict[str, object] = field(default_factory=dict)
    title: str = ""

    @classmethod
    def of(cls, rounds: pd.DataFrame, factors: Sequence[str]) -> "Lines":
        keys = labels.series_keys(factors)
        return cls.named(keys, distinct(rounds[keys].itertuples(index=False, name=None)))

    @classmethod
    def named(cls, keys: list[str], combos: list[tuple]) -> "Lines":
        """A line per combo: labelled by its init and the keys that vary, in label order."""
        names = labels.combo_labels(keys, combos)
        return cls(keys, names, {combo: f"C{i % 10}" for i, combo in enumerate(names)})

    def through_levels(self) -> "Lines":
        """One line through all values of a key that sets the weights remaining (LEVEL_KEYS),
        for figures whose x axis is the weights remaining."""
        keep = [i for i, k in enumerate(self.keys) if k not in labels.LEVEL_KEYS]
        if len(keep) == len(self.keys):
            return self
        combos = distinct(tuple(combo[i] for i in keep) for combo in self.labels)
        return Lines.named([self.keys[i] for i in keep], combos)

    def panels(self) -> list["Lines"]:
        """[self] if its lines fit one plot (MAX_LINES), else one Lines per setting of the keys
        after the init, each line labelled by its init and coloured by it in every panel."""
        if len(self.labels) <= MAX_LINES:
            return [self]
        colour: dict[object, str] = {}
        for combo in self.labels:
            colour.setdefault(combo[0], f"C{len(colour) % 10}")
        settings = distinct(combo[1:] for combo in self.labels)
        varying = labels.varying_among(self.keys, list(self.labels))
        panels = []
        for setting in settings:
            combos = [c for c in self.labels if key(c[1:]) == key(setting)]
            where = dict(zip(self.keys[1:], setting, strict=True))
            panels.append(
                Lines(
                    self.keys,
                    {combo: str(combo[0]) for combo in combos},
                    {combo: colour[combo[0]] for combo in combos},
                    where,
                    labels.setting_label(where, varying),
                )
            )
        return sorted(panels, key=lambda panel: panel.title)

    def each(self, table: pd.DataFrame) -> Iterator[tuple[pd.DataFrame, str, str]]:
        """(the line's rows of `table`, its colour, its label), in legend order."""
        for combo, label in self.labels.items():
            rows = select(table, dict(zip(self.keys, combo, strict=True)))
            yield rows, self.colours[combo], label

    def rows(self, table: pd.DataFrame) -> pd.DataFrame:
        """The rows of `table` in this panel's setting (all of them outside panels)."""
        return select(table, self.setting)


def key(combo: tuple) -> tuple[str, ...]:
    """A combination of config values as text, so that unset (NaN) equals unset."""
    return tuple(labels.value(v) for v in combo)


def distinct(combos: Iterable[tuple]) -> list[tuple]:
    """`combos` without repeats (unset equal to unset), in first-seen order."""
    seen: dict[tuple[str, ...], tuple] = {}
    for combo in combos:
        seen.setdefault(key(combo), combo)
    return list(seen.values())


def accuracy_vs_epoch(
    number: int, where: str, lines: Lines, by_epoch: pd.DataFrame, rounds: pd.DataFrame
) -> Figure:
    panels = lines.panels()
    fig, axes = new_figure(number, "test accuracy vs epoch", where, titles(panels))
    for ax, panel in zip(axes, panels, strict=True):
        for line, colour, label in panel.each(by_epoch):
            plot_mean(ax, line, "epoch", "test_acc", colour, label, 100)
        for i, epoch in enumerate(pruning_epochs(panel.rows(rounds))):
            ax.axvline(
                epoch, color="0.6", lw=0.8, ls=":", zorder=0, label=None if i else "prune + rewind"
            )
        ax.set(xlabel="epoch (all rounds, one after another)", ylabel="test accuracy (%)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return finish(fig, axes)


def accuracy_per_round(
    number: int, where: str, lines: Lines, by_round: pd.DataFrame, rounds: pd.DataFrame
) -> Figure:
    panels = lines.panels()
    fig, axes = new_figure(number, "test accuracy at the end of each round", where, titles(panels))
    for ax, panel in zip(axes, panels, strict=True):
        for line, colour, label in panel.each(by_round):
            plot_mean(ax, line, "round", "test_acc", colour, label, 100, marker="o")
        ax.set(xlabel="round (pruning steps before it; sampled just before the next)")
        ax.set(ylabel="test accuracy (%)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        epoch_axis(ax, epochs_per_round(panel.rows(rounds)))
    return finish(fig, axes)


def epoch_axis(ax: Axes, per_round: float | None) -> None:
    """An epoch axis on top of a round axis, where every run's rounds last `per_round` epochs."""
    if per_round:
        top = ax.secondary_xaxis(
            "top", functions=(lambda r: (r + 1) * per_round, lambda e: e / per_round - 1)
        )
        top.set_xlabel("epoch")
        top.xaxis.set_major_locator(MaxNLocator(integer=True))


def accuracy_vs_weights(
    number: int, where: str, lines: Lines, by_round: pd.DataFrame, rounds: pd.DataFrame
) -> Figure:
    panels = lines.through_levels().panels()
    fig, axes = new_figure(number, "test accuracy vs weights remaining", where, titles(panels))
    for ax, panel in zip(axes, panels, strict=True):
        dense_lines = False
        for line, colour, label in panel.each(by_round):
            plot_mean(ax, line, f"{LEVEL}_mean", "test_acc", colour, label, 100, marker="o")
            dense = line.loc[line[f"{LEVEL}_mean"] == 100, "test_acc_mean"]
            if len(dense):
                ax.axhline(100 * dense.iloc[0], color=colour, ls="--", lw=0.9, alpha=0.8)
                dense_lines = True
        if dense_lines:
            label = "dense baseline (round 0) of each line"
            ax.plot([], [], color="0.4", ls="--", lw=0.9, label=label)
        weights_axis(ax, rounds[LEVEL])
        ax.set(ylabel="test accuracy (%)")
    return finish(fig, axes)


def early_stop_vs_weights(
    number: int,
    where: str,
    lines: Lines,
    by_round: pd.DataFrame,
    rounds: pd.DataFrame,
    early_stop: str,
) -> Figure:
    name = labels.early_stop(early_stop)
    panels = lines.through_levels().panels()
    fig, axes = new_figure(number, f"{name} vs weights remaining", where, titles(panels))
    for ax, panel in zip(axes, panels, strict=True):
        for line, colour, label in panel.each(by_round):
            plot_mean(ax, line, f"{LEVEL}_mean", early_stop, colour, label, marker="o")
        weights_axis(ax, rounds[LEVEL])
        ax.set(ylabel=f"{name} (of min. val. loss, in round)")
    return finish(fig, axes)


def new_figure(
    number: int,
    title: str,
    where: str,
    panels: Sequence[str] = (),
    metrics: Sequence[str] = (),
    band: str = BAND,
) -> tuple[Figure, list[Axes]]:
    """A numbered figure: one plot, or a grid of panels under one title, their y axes shared
    per metric. `panels` are the panels' titles (none or one empty: a single plot); with
    `metrics`, one row per panel and one column per metric, in row order; without, three
    panels to a row."""
    titles = list(panels) or [""]
    if metrics:
        titles = [": ".join(filter(None, (t, m))) for t in titles for m in metrics]
    if titles == [""]:
        fig = Figure(figsize=(7.5, 4.6), layout="constrained")
        ax = fig.add_subplot()
        ax.set_title(f"Figure {number}: {title} ({where})\n{band}", fontsize=10, loc="left")
        ax.grid(True, color="0.9", lw=0.6)
        return fig, [ax]
    columns = len(metrics) or min(3, len(titles))
    rows = -(-len(titles) // columns)
    size = (5.5 * columns, 4.6 if rows == 1 else 3.6 * rows + 0.8)
    fig = Figure(figsize=size, layout="constrained")
    grid = fig.subplots(rows, columns, squeeze=False, sharey="col" if metrics else True)
    fig.suptitle(f"Figure {number}: {title} ({where})\n{band}", fontsize=10, x=0.01, ha="left")
    axes = list(grid.ravel())
    for ax in axes[len(titles) :]:
        ax.remove()
    for ax, panel_title in zip(axes, titles, strict=False):
        ax.set_title(panel_title, fontsize=9, loc="left")
        ax.grid(True, color="0.9", lw=0.6)
    return fig, axes[: len(titles)]


def titles(panels: Sequence[Lines]) -> list[str]:
    return [panel.title for panel in panels]


def finish(fig: Figure, axes: Sequence[Axes]) -> Figure:
    """The legend: in the first plot where every plot draws the same lines, else one legend of
    every line in any panel, beside the panels."""
    entries: dict[str, Artist] = {}
    for ax in axes:
        handles, names = ax.get_legend_handles_labels()
        for handle, name in zip(handles, names, strict=True):
            entries.setdefault(name, handle)
    if all(ax.get_legend_handles_labels()[1] == list(entries) for ax in axes):
        axes[0].legend(fontsize=8, frameon=False)
        return fig
    # the lines (solid) in label order, which is their colour order; then the dashed references
    order = sorted(entries, key=lambda name: (entries[name].get_linestyle() != "-", name))
    fig.legend([entries[n] for n in order], order, loc="outside right upper", fontsize=8)
    return fig


def plot_mean(
    ax: Axes,
    line: pd.DataFrame,
    x: str,
    metric: str,
    colour: str,
    label: str,
    scale: float = 1.0,
    marker: str | None = None,
    ls: str = "-",
) -> None:
    """The mean as a line, its CI as a band (absent where a single seed gives no CI)."""
    line = line.sort_values(x)
    xs = line[x].to_numpy()
    ax.plot(
        xs, scale * line[f"{metric}_mean"], color=colour, label=label, marker=marker, ms=3, ls=ls
    )
    low, high = scale * line[f"{metric}_ci_low"], scale * line[f"{metric}_ci_high"]
    ax.fill_between(xs, low, high, color=colour, alpha=0.18, lw=0)


def weights_axis(ax: Axes, levels: pd.Series) -> None:
    """% weights remaining on a log axis, decreasing to the right, ticks at levels reached that
    are far enough apart not to overlap (fewer in a narrow panel)."""
    ax.set_xscale("log")
    ticks = sorted(levels.round(2).unique(), reverse=True)
    narrow = ax.get_subplotspec().get_gridspec().ncols > 1
    ax.xaxis.set_major_locator(FixedLocator(spread(ticks, MAX_TICKS // 2 if narrow else MAX_TICKS)))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: labels.level(v).rstrip("%")))
    ax.set_xlim(1.2 * ticks[0], ticks[-1] / 1.2)  # decreasing; the same range in every panel
    ax.set_xlabel("weights remaining (% of the dense network, log scale)")


def spread(ticks: Sequence[float], count: int) -> list[float]:
    """Of decreasing positive `ticks`, the first and each next at least 1/count of the log
    range below the last one kept."""
    gap = (math.log(ticks[0]) - math.log(ticks[-1])) / count
    kept = [ticks[0]]
    for tick in ticks[1:]:
        if math.log(kept[-1]) - math.log(tick) >= gap * (1 - 1e-9):  # rounding
            kept.append(tick)
    return kept


def pruning_epochs(rounds: pd.DataFrame) -> list[int]:
    """Epochs after which the runs pruned and rewound (the end of every round but the last)."""
    last = rounds.groupby("run")["epoch"].transform("max")
    return sorted(rounds.loc[rounds["epoch"] < last, "epoch"].unique())


def epochs_per_round(rounds: pd.DataFrame) -> float | None:
    """The epochs a round lasts when all runs share it, else None (then no epoch axis)."""
    per_round = (rounds["epoch"] / (rounds["round"] + 1)).to_numpy()
    return float(per_round[0]) if np.allclose(per_round, per_round[0], rtol=1e-3) else None


def save(
    figure: Figure, number: int, model: str, data: str, slug: str, out_dir: Path
) -> FigureFiles:
    """figure<number>-<model>-<data>-<slug> as PNG (150 dpi) and SVG, each written atomically;
    the SVG without a date, reproducible. The caption is the title's first line (the figure's
    own title where it has panels)."""
    title = figure.get_suptitle() or figure.axes[0].get_title(loc="left")
    stem = out_dir / f"figure{number}-{model}-{data}-{slug}"
    paths = stem.with_suffix(".png"), stem.with_suffix(".svg")
    for path, metadata in zip(paths, ({}, {"Date": None}), strict=True):
        buffer = io.BytesIO()
        with rc_context({"svg.hashsalt": stem.name}):  # SVG element ids from the name, not uuid4
            figure.savefig(buffer, format=path.suffix[1:], dpi=150, metadata=metadata)
        write_atomic(path, buffer.getvalue())
    return FigureFiles(number, labels.set_name(model, data), title.split("\n")[0], *paths, slug)
