"""The figures of stability to SGD noise (compute/stability.py's tables): the error barrier
between two copies against the weights remaining, and, where the rewind point is a factor, the
barrier and the ticket's accuracy against the rewind point."""

from matplotlib.figure import Figure

from prune_ready.analyze import labels
from prune_ready.analyze.compute.stability import REWIND
from prune_ready.analyze.compute.stats import LEVEL
from prune_ready.analyze.write.plots import curves, finish, new_figure, plot_mean


def barrier_vs_weights(part) -> Figure:  # part: analysis.Part (imported there: no cycle)
    """The test error barrier (pp) per line against the weights remaining; beside it the end
    points' test error, the base the barrier rises from."""
    table = part.table("stability")
    metrics = {
        "test_barrier": ("error barrier on the linear path (test)", "barrier (percentage points)"),
        "end_test_error": ("the two copies' test error", "test error (%)"),
    }
    fig, drawn = curves(part.lines, table, metrics, table[f"{LEVEL}_mean"], 100)
    for ax, _, metric in drawn:
        if metric == "test_barrier":
            ax.axhline(0, color="0.3", lw=0.8, ls="--")
    return finish(fig, [ax for ax, _, _ in drawn])


def barrier_vs_rewind(part) -> Figure:  # part: analysis.Part
    """Columns: the measured levels; rows: the test barrier and the ticket's test accuracy;
    x: the rewind point (in order, evenly spaced); one line per setting of the other factors."""
    table = part.table("stability_rewind")
    lines = part.lines.through_levels().without(REWIND)
    points = table.groupby("round")[f"{LEVEL}_mean"].mean().sort_values(ascending=False)
    values = sorted(table[REWIND].dropna().unique(), key=labels.order)
    position = {value: i for i, value in enumerate(values)}
    metrics = {"test_barrier": "test error barrier (pp)", "test_acc": "ticket's test accuracy (%)"}
    titles = [f"{labels.level(v)} weights remaining" for v in points] * 2
    fig, axes = new_figure(titles, len(points), False, (2.6 * len(points) + 2.2, 6.2))
    for i, ax in enumerate(axes):
        metric, round_ = list(metrics)[i // len(points)], points.index[i % len(points)]
        for line, colour, label in lines.each(table[table["round"] == round_]):
            at = line.assign(rewind_position=line[REWIND].map(position))
            plot_mean(ax, at, "rewind_position", metric, colour, label, 100)
        if metric == "test_barrier":
            ax.axhline(0, color="0.3", lw=0.8, ls="--")
        ax.set_xticks(range(len(values)), [labels.rewind_point(v) for v in values], fontsize=8)
        first = i % len(points) == 0
        ax.set(xlabel=f"rewind point ({REWIND})", ylabel=metrics[metric] if first else "")
    return finish(fig, axes)
