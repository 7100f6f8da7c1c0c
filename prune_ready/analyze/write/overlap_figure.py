"""The mask-overlap figure: the Jaccard index of two runs' masks against the weights remaining,
one line per kind of pair and setting of the factors besides the init (e.g. a ticket's controls).

Such lines often coincide (a re-init control keeps the ticket's masks, so its pairs overlap
exactly as the ticket's do; pairs of every kind sit at chance once the masks are sparse), and a
line drawn on top of another hides it. So no two lines share a look: colour and hollow marker
(shape and size) tell the kinds of pair apart, the stroke (style and width) the settings, and
where only one of the two varies all of them do; the widest stroke and the largest marker are
drawn lowest, so a line over them leaves their edges showing. The legend lists the lines from the
highest to the lowest at the sparsest level, as the eye meets them on the right. Chance is one
grey line where every setting's is the same (within CHANCE_TOL), else one per setting.
"""

from collections.abc import Sequence

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from prune_ready.analyze import labels
from prune_ready.analyze.compute.analysis import Part
from prune_ready.analyze.compute.overlap import KINDS, NEITHER, SAME_INIT, SAME_SEED
from prune_ready.analyze.compute.stats import LEVEL
from prune_ready.analyze.write.plots import finish, new_figure, plot_mean, weights_axis

PAIRS = {  # kind of pair -> colour, legend
    SAME_INIT: ("C0", "same init, different seeds"),
    SAME_SEED: ("C3", "different inits, same seed"),
    NEITHER: ("C1", "different init and seed"),
}
SETTING_COLOURS = ("C0", "C3", "C1", "C2")  # where one kind of pair is drawn
CHANCE_TOL = 0.005  # settings' chance curves closer than this are drawn as one line
CHANCE = "chance: random masks of the same per-layer sparsity"
MARKS = (("o", 7.0), ("s", 5.5), ("^", 4.5), ("D", 3.5))  # hollow marker, size
STROKES = (("-", 2.6), ("--", 1.9), ("-.", 1.3), ((0, (4, 1, 1, 1, 1, 1)), 0.9))  # style, width


def mask_overlap(part: Part) -> Figure:
    """One line per kind of pair and setting in one plot, or one panel per setting past
    len(STROKES) of them (then without the pair counts, which differ between panels)."""
    pooled = part.pooled_overlap
    varying = labels.varying_keys(pooled, part.lines.keys)
    others = [k for k in varying if k not in labels.LEVEL_KEYS]
    groups = list(pooled.groupby(others, dropna=False, sort=True)) if others else []
    groups = groups or [((), pooled)]
    names = [labels.setting_label(dict(zip(others, c, strict=True)), others) for c, _ in groups]
    split = len(groups) > len(STROKES)
    fig, axes = new_figure(names if split else [""])
    if split:
        for ax, (_, rows) in zip(axes, groups, strict=True):
            draw_lines(ax, [(rows, "")], False)
    else:
        draw_lines(axes[0], [(rows, name) for (_, rows), name in zip(groups, names, strict=True)])
    for ax in axes:
        weights_axis(ax, part.rounds[LEVEL])
        ax.set(ylabel="Jaccard index |A∩B| / |A∪B| of the masks", ylim=(0, 1.02))
    return finish(fig, axes)


def draw_lines(ax: Axes, settings: Sequence[tuple[pd.DataFrame, str]], counts: bool = True) -> None:
    """Each setting's (rows, name) lines of each kind of pair, the highest at the sparsest level
    first (so first in the legend), then chance; `counts`: name the pairs. Colour and marker
    tell the kinds of pair apart and the stroke the settings; where only one of them varies,
    all three do."""
    kinds = sorted({KINDS.index(k) for rows, _ in settings for k in rows["comparison"]})
    lines = []
    for i, (rows, setting) in enumerate(settings):
        for k in kinds:
            kind = KINDS[k]
            kind_colour, name = PAIRS[kind]
            line = rows[rows["comparison"] == kind].sort_values(LEVEL)
            if line.empty:
                continue
            several = len(kinds) > 1
            colour, mark = (kind_colour, MARKS[k]) if several else (SETTING_COLOURS[i], MARKS[i])
            ls, lw = STROKES[i] if len(settings) > 1 else STROKES[k]
            label = name + (f", {setting}" if setting else "")
            label += f" ({line['n_pairs'].max()} pairs)" if counts else ""
            look = {"marker": mark[0], "ms": mark[1], "ls": ls, "lw": lw, "mfc": "none"}
            order = (-line["jaccard_mean"].iloc[0], i, k)
            lines.append((order, line, colour, label, look | {"zorder": 2 + (i * 3 + k) / 100}))
    for _, line, colour, label, look in sorted(lines, key=lambda t: t[0]):
        plot_mean(ax, line, LEVEL, "jaccard", colour, label, **look)
    chances = [rows.groupby(LEVEL)["chance_mean"].mean() for rows, _ in settings]
    if all((c - chances[0]).abs().max() < CHANCE_TOL for c in chances):
        ax.plot(chances[0].index, chances[0], color="0.5", ls=":", lw=1.2, label=CHANCE)
        return
    for chance, (_, setting), (marker, ms) in zip(chances, settings, MARKS, strict=False):
        label = f"{CHANCE}, {setting}"
        ax.plot(
            chance.index,
            chance,
            color="0.5",
            ls=":",
            lw=1.2,
            marker=marker,
            ms=ms,
            mfc="none",
            label=label,
        )
