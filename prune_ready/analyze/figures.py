"""The seed document's four figures per model and data set, and what every figure shares.

Each line is one init (or init + other varying factor): the mean over seeds, with a band for
the 95% Student-t CI of that mean. Figures are drawn on matplotlib Figure objects (Agg for PNG),
never through pyplot, so drawing them changes no global state (a notebook's backend included).
"""

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator

from prune_ready.analyze import labels
from prune_ready.analyze.stats import LEVEL, describe, select
from prune_ready.results import write_atomic

BAND = "band: 95% CI of the mean over seeds (Student t)"
MAX_TICKS = 11
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
    """The lines of a figure set: one per combination of `keys`, each with a label and colour."""

    keys: list[str]
    labels: dict[tuple, str]

    @classmethod
    def of(cls, rounds: pd.DataFrame, factors: Sequence[str]) -> "Lines":
        keys = labels.series_keys(factors)
        return cls(keys, labels.series_labels(rounds, keys))

    def each(self, table: pd.DataFrame) -> Iterator[tuple[pd.DataFrame, str, str]]:
        """(the line's rows of `table`, its colour, its label), in legend order."""
        for i, (combo, label) in enumerate(self.labels.items()):
            yield select(table, dict(zip(self.keys, combo, strict=True))), f"C{i % 10}", label


def accuracy_vs_epoch(
    number: int, where: str, lines: Lines, by_epoch: pd.DataFrame, rounds: pd.DataFrame
) -> Figure:
    fig, ax = new_figure(number, "test accuracy vs epoch", where)
    for line, colour, label in lines.each(by_epoch):
        plot_mean(ax, line, "epoch", "test_acc", colour, label, 100)
    for i, epoch in enumerate(pruning_epochs(rounds)):
        ax.axvline(
            epoch, color="0.6", lw=0.8, ls=":", zorder=0, label=None if i else "prune + rewind"
        )
    ax.set(xlabel="epoch (all rounds, one after another)", ylabel="test accuracy (%)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return finish(fig, ax)


def accuracy_per_round(
    number: int, where: str, lines: Lines, by_round: pd.DataFrame, rounds: pd.DataFrame
) -> Figure:
    fig, ax = new_figure(number, "test accuracy at the end of each round", where)
    for line, colour, label in lines.each(by_round):
        plot_mean(ax, line, "round", "test_acc", colour, label, 100, marker="o")
    ax.set(xlabel="round (pruning steps before it; sampled just before the next)")
    ax.set(ylabel="test accuracy (%)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    per_round = epochs_per_round(rounds)
    if per_round:
        top = ax.secondary_xaxis(
            "top", functions=(lambda r: (r + 1) * per_round, lambda e: e / per_round - 1)
        )
        top.set_xlabel("epoch")
        top.xaxis.set_major_locator(MaxNLocator(integer=True))
    return finish(fig, ax)


def accuracy_vs_weights(
    number: int, where: str, lines: Lines, by_round: pd.DataFrame, rounds: pd.DataFrame
) -> Figure:
    fig, ax = new_figure(number, "test accuracy vs weights remaining", where)
    for line, colour, label in lines.each(by_round):
        plot_mean(ax, line, f"{LEVEL}_mean", "test_acc", colour, label, 100, marker="o")
        dense = line.loc[line["round"] == 0, "test_acc_mean"]
        if len(dense):
            ax.axhline(100 * dense.iloc[0], color=colour, ls="--", lw=0.9, alpha=0.8)
    ax.plot([], [], color="0.4", ls="--", lw=0.9, label="dense baseline (round 0) of each line")
    weights_axis(ax, rounds[LEVEL])
    ax.set(ylabel="test accuracy (%)")
    return finish(fig, ax)


def early_stop_vs_weights(
    number: int,
    where: str,
    lines: Lines,
    by_round: pd.DataFrame,
    rounds: pd.DataFrame,
    early_stop: str,
) -> Figure:
    name = labels.early_stop(early_stop)
    fig, ax = new_figure(number, f"{name} vs weights remaining", where)
    for line, colour, label in lines.each(by_round):
        plot_mean(ax, line, f"{LEVEL}_mean", early_stop, colour, label, marker="o")
    weights_axis(ax, rounds[LEVEL])
    ax.set(ylabel=f"{name} (of min. val. loss, in round)")
    return finish(fig, ax)


def new_figure(number: int, title: str, where: str, band: str = BAND) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(7.5, 4.6), layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(f"Figure {number}: {title} ({where})\n{band}", fontsize=10, loc="left")
    ax.grid(True, color="0.9", lw=0.6)
    return fig, ax


def finish(fig: Figure, ax: Axes) -> Figure:
    ax.legend(fontsize=8, frameon=False)
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
    """% weights remaining on a log axis, decreasing to the right, ticks at the levels reached."""
    ax.set_xscale("log")
    ticks = sorted(levels.round(2).unique(), reverse=True)
    ax.xaxis.set_major_locator(FixedLocator(ticks[:: max(1, -(-len(ticks) // MAX_TICKS))]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: labels.level(v).rstrip("%")))
    ax.invert_xaxis()
    ax.set_xlabel("weights remaining (% of the dense network, log scale)")


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
        figure.savefig(buffer, format=path.suffix[1:], dpi=150, metadata=metadata)
        write_atomic(path, buffer.getvalue())
    return FigureFiles(number, labels.set_name(model, data), title.split("\n")[0], *paths, slug)
