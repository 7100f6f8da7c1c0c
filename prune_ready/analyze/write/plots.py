"""What every figure shares: its panels, the line-with-CI-band drawing, the weights axis, the
legend, and saving (the lines and their colours: compute/lines.py).

Each line is one init (or init + other varying factor): the mean over seeds, with a band for
the 95% Student-t CI of that mean. Where one plot would hold more than MAX_LINES lines (a grid
of pruning methods, say), a figure has one panel per setting of the other factors instead, its
lines the inits, coloured alike in every panel. Figures are drawn on matplotlib Figure objects
(Agg for PNG), never through pyplot, so drawing them changes no global state (a notebook's
backend included).
"""

import io
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from prune_ready.analyze import labels
from prune_ready.analyze.compute.lines import Lines
from prune_ready.analyze.compute.stats import LEVEL
from prune_ready.results import write_atomic

BAND = "band: 95% CI of the mean over seeds (Student t)"
FEW = 2  # seeds at or below which a point shows its seeds' range, not a t band (t(0.975, 1) = 12.7)
FEW_BAND = f"; at ≤ {FEW} seeds, a bar over the seeds' range instead"
MAX_TICKS = 11
X = f"{LEVEL}_mean"  # the weights remaining of a line's point: the mean over its runs


@dataclass(frozen=True)
class FigureFiles:
    number: int
    set_name: str  # "lenet_300_100 on mnist"
    caption: str  # "Figure 3: test accuracy vs weights remaining (lenet_300_100 on mnist)"
    png: Path
    svg: Path
    slug: str  # what it shows, as in its file name: "test-acc-vs-weights"


def new_figure(
    titles: Sequence[str] = ("",),
    columns: int | None = None,
    sharey: bool | str = True,
    size: tuple[float, float] | None = None,
) -> tuple[Figure, list[Axes]]:
    """A figure of panels, `titles` in row order, `columns` to a row (default: up to three);
    one untitled panel is a single plot. Its title is set when it is numbered (`number`)."""
    columns = columns or min(3, len(titles))
    rows = -(-len(titles) // columns)
    if size is None:
        single = len(titles) == 1
        size = (7.5 if single else 5.5 * columns, 4.6 if rows == 1 else 3.6 * rows + 0.8)
    fig = Figure(figsize=size, layout="constrained")
    grid = fig.subplots(rows, columns, squeeze=False, sharey=sharey)
    axes = list(grid.ravel())
    for ax in axes[len(titles) :]:
        ax.remove()
    for ax, title in zip(axes, titles, strict=False):
        ax.set_title(title, fontsize=9, loc="left")
        ax.grid(True, color="0.9", lw=0.6)
    return fig, axes[: len(titles)]


def number(fig: Figure, number: int, title: str, where: str, band: str) -> str:
    """Title the figure 'Figure <number>: <title> (<where>)' over a line saying what its bands
    are; returns that first line, the caption."""
    caption = f"Figure {number}: {title} ({where})"
    fig.suptitle(f"{caption}\n{band}" if band else caption, fontsize=10, x=0.01, ha="left")
    return caption


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
    order = sorted(entries, key=lambda name: (linestyle(entries[name]) != "-", name))
    fig.legend([entries[n] for n in order], order, loc="outside right upper", fontsize=8)
    return fig


def linestyle(handle: Artist) -> str:
    """A legend handle's line style; an errorbar's is its data line's (solid where it has none)."""
    line = handle.lines[0] if isinstance(handle, ErrorbarContainer) else handle
    return line.get_linestyle() if hasattr(line, "get_linestyle") else "-"


def plot_mean(
    ax: Axes,
    line: pd.DataFrame,
    x: str,
    metric: str,
    colour: str,
    label: str,
    scale: float = 1.0,
    marker: str | None = "o",
    ls: str | tuple[int, tuple[int, ...]] = "-",
    **look: float | str,
) -> None:
    """The mean as a line, its CI as a band (absent where a single seed gives no CI). Where a
    point rests on FEW seeds or fewer (an `n` column), a band from t(0.975, 1) = 12.7 would swamp
    the lines: the point gets a bar over its seeds' range instead (two seeds lie at mean ±
    std/√2). `look`: more of the line's style (ms, lw, mfc ...), for lines that may coincide."""
    line = line.sort_values(x)
    xs, mean = line[x].to_numpy(), scale * line[f"{metric}_mean"].to_numpy()
    ax.plot(xs, mean, color=colour, label=label, **({"marker": marker, "ms": 3, "ls": ls} | look))
    low, high = scale * line[f"{metric}_ci_low"], scale * line[f"{metric}_ci_high"]
    few = (line["n"] <= FEW).to_numpy() if "n" in line else np.zeros(len(line), dtype=bool)
    ax.fill_between(xs, low.where(~few), high.where(~few), color=colour, alpha=0.18, lw=0)
    if few.any():
        half = np.nan_to_num(scale * line[f"{metric}_std"].to_numpy()[few] / np.sqrt(2))
        ax.errorbar(xs[few], mean[few], yerr=half, fmt="none", ecolor=colour, capsize=2, lw=1)


def curves(
    lines: Lines,
    table: pd.DataFrame,
    metrics: dict[str, tuple[str, str]],
    levels: pd.Series,
    scale: float = 1.0,
    shared: bool = True,
) -> tuple[Figure, list[tuple[Axes, Lines, str]]]:
    """The line-with-CI-band figure against the weights remaining: one column per metric of
    `table` (described: <metric>_mean, _ci_low, _ci_high; column -> (panel title, y label)), one
    row per panel of `lines`, y axes shared per column unless not `shared` (panels whose ranges
    differ too much to share one, e.g. pruning methods); returns the figure and its (axes,
    panel, metric) for what a figure adds. `levels`: the weights remaining the runs reached."""
    panels = lines.through_levels().panels()
    titles = [": ".join(filter(None, (p.title, t))) for p in panels for t, _ in metrics.values()]
    # 3 or more panels of several metrics: two panels to a row, as a stack of them would be
    # shrunk to illegible to fit a screen (the report's first figure is this one)
    per_row = 2 if len(metrics) > 1 and len(panels) >= 3 else 1
    fig, axes = new_figure(titles, len(metrics) * per_row, shared and per_row == 1 and "col")
    if shared and per_row > 1:  # each metric's axes share one y axis, in both columns
        for ax, first in zip(axes[len(metrics) :], itertools.cycle(axes[: len(metrics)])):
            ax.sharey(first)
    drawn = []
    for i, ax in enumerate(axes):
        panel, metric = panels[i // len(metrics)], list(metrics)[i % len(metrics)]
        for line, colour, label in panel.each(table):
            plot_mean(ax, line, X, metric, colour, label, scale)
        weights_axis(ax, levels)
        ax.set(ylabel=metrics[metric][1])
        drawn.append((ax, panel, metric))
    return fig, drawn


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


def save(
    figure: Figure, number: int, caption: str, where: tuple[str, str], slug: str, out_dir: Path
) -> FigureFiles:
    """figure<number, 2 digits>-<model>-<data>-<slug> as PNG (150 dpi) and SVG, each written atomically;
    the SVG without a date, reproducible."""
    model, data = where
    stem = out_dir / f"figure{number:02d}-{model}-{data}-{slug}"  # figure02 sorts before 10
    paths = stem.with_suffix(".png"), stem.with_suffix(".svg")
    for path, metadata in zip(paths, ({}, {"Date": None}), strict=True):
        buffer = io.BytesIO()
        with rc_context({"svg.hashsalt": stem.name}):  # SVG element ids from the name, not uuid4
            figure.savefig(buffer, format=path.suffix[1:], dpi=150, metadata=metadata)
        write_atomic(path, buffer.getvalue())
    return FigureFiles(number, labels.set_name(model, data), caption, *paths, slug)
