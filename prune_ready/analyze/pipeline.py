"""One call from sweep directories to every output: tables, figures, report, slides."""

from collections.abc import Sequence
from pathlib import Path

from prune_ready.analyze import document, labels
from prune_ready.analyze.analysis import Analysis, analyse, finished
from prune_ready.analyze.collect import Paths, collect, expand
from prune_ready.analyze.diagnostic_figures import diagnostic_figure_set
from prune_ready.analyze.figures import SLUGS, FigureFiles, figure_set, save
from prune_ready.analyze.report import report_blocks
from prune_ready.analyze.slides import write_slides
from prune_ready.analyze.stats import select
from prune_ready.errors import UserError
from prune_ready.results import write_text_atomic
from prune_ready.status import State

OUT_DIR = "analysis"  # default output folder, inside the one sweep directory given
TITLE = "Initialisation and pruning"


def default_out(paths: Paths) -> Path:
    roots = expand(paths)
    if len(roots) != 1:
        raise UserError(
            f"{len(roots)} sweep directories given: say where results go with --out DIR"
        )
    return roots[0] / OUT_DIR


def analyze(paths: Paths, out: str | Path | None = None) -> tuple[Analysis, list[Path]]:
    """Collect the runs under `paths`, analyse them and write every output to `out`.

    `out` defaults to <the sweep directory>/analysis. Returns the analysis and the files written.
    """
    out = Path(out) if out is not None else default_out(paths)
    sweep = collect(paths)
    analysis = analyse(sweep)
    files = write_tables(analysis, out)
    figures = draw_figures(analysis, out / "figures")
    files += [path for f in figures for path in (f.png, f.svg)]
    files += write_documents(analysis, [str(p) for p in expand(paths)], figures, out)
    return analysis, files


def write_tables(analysis: Analysis, out: Path) -> list[Path]:
    tables = {
        "runs.csv": analysis.sweep.table(),
        "summary.csv": analysis.summary,
        "comparisons.csv": analysis.comparisons,
        "dense.csv": analysis.dense,
        "rank_agreement.csv": analysis.agreement,
        "diagnostics.csv": analysis.diagnostics,
        "mask_overlap.csv": analysis.overlap,
    }
    for name, table in tables.items():
        write_text_atomic(out / name, table.to_csv(index=False))
    return [out / name for name in tables]


def draw_figures(analysis: Analysis, out_dir: str | Path) -> list[FigureFiles]:
    """Figures 1-8 for each model and data set (9-16 for the next, ...), written to out_dir; a
    diagnostic figure without data in the runs is left out and the numbers close up."""
    sweep = analysis.sweep
    rounds, epochs = finished(sweep.rounds), finished(sweep.epochs)
    files: list[FigureFiles] = []
    for (model, data), part in rounds.groupby(labels.SET_KEYS, sort=True):
        where = {"model": model, "data": data}
        first = len(files) + 1
        accuracy = figure_set(part, select(epochs, where), sweep.factors, first, sweep.early_stop)
        figures = dict(zip(SLUGS, accuracy, strict=True))
        figures |= diagnostic_figure_set(
            part,
            select(analysis.health, where),
            select(analysis.overlap, where),
            sweep.factors,
            first + len(figures),
        )
        for slug, figure in figures.items():
            files.append(save(figure, len(files) + 1, model, data, slug, Path(out_dir)))
    return files


def write_documents(
    analysis: Analysis, sources: Sequence[str], figures: Sequence[FigureFiles], out: Path
) -> list[Path]:
    """report.md, report.html and slides.pptx."""
    sweep = analysis.sweep
    blocks = report_blocks(analysis, sources, figures, out)
    write_text_atomic(out / "report.md", document.to_markdown(blocks))
    write_text_atomic(
        out / "report.html", document.to_html(blocks, f"{TITLE}: {', '.join(sources)}")
    )
    subtitle = (
        f"{', '.join(sources)}\n{len(sweep.runs)} runs: {sweep.count(State.FINISHED)} finished, "
        f"{sweep.count(State.UNFINISHED)} unfinished, {sweep.count(State.FAILED)} failed"
    )
    write_slides(out / "slides.pptx", TITLE, subtitle, figures, analysis.findings)
    return [out / "report.md", out / "report.html", out / "slides.pptx"]
