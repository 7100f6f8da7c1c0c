"""One call from sweep directories to every output: tables, figures, report, slides."""

from collections.abc import Sequence
from pathlib import Path

from prune_ready.analyze.compute.analysis import TABLES, Analysis, Options, analyse
from prune_ready.analyze.defaults import OUT_DIR
from prune_ready.analyze.read.collect import Paths, Sweep, collect, expand, runs_csv
from prune_ready.analyze.write import document
from prune_ready.analyze.write.figures import save_all
from prune_ready.analyze.write.findings import Finding, findings, limits
from prune_ready.analyze.write.plots import FigureFiles
from prune_ready.analyze.write.report import report_blocks
from prune_ready.analyze.write.slides import write_slides
from prune_ready.errors import UserError
from prune_ready.results import write_text_atomic
from prune_ready.status import State

TITLE = "Initialisation and pruning"


def default_out(paths: Paths) -> Path:
    table = runs_csv(paths)
    if table:
        return table.parent / OUT_DIR
    roots = expand(paths)
    if len(roots) != 1:
        raise UserError(
            f"{len(roots)} sweep directories given: say where results go with --out DIR"
        )
    return roots[0] / OUT_DIR


def analyze(
    paths: Paths, out: str | Path | None = None, options: Options | None = None
) -> tuple[Analysis, dict[str, list[Finding]], list[Path]]:
    """Collect the runs under `paths`, analyse them and write every output to `out`.

    `out` defaults to <the sweep directory>/analysis. Returns the analysis, its findings per
    model and data set, and the files written.
    """
    out = Path(out) if out is not None else default_out(paths)
    sweep = collect(paths)
    analysis = analyse(sweep, options)
    found = {part.name: findings(part) for part in analysis.parts()}
    files = write_tables(analysis, sweep, out)
    figures = draw_figures(analysis, out / "figures")
    files += [path for f in figures for path in (f.png, f.svg)]
    sources = [str(p) for p in ([paths] if isinstance(paths, str | Path) else paths)]
    files += write_documents(analysis, sources, figures, found, out)
    return analysis, found, files


def write_tables(analysis: Analysis, sweep: Sweep, out: Path) -> list[Path]:
    """runs.csv (the runs as collected, whichever accuracy was analysed) and each table of the
    registry (analysis.TABLES) that has a CSV file."""
    written = [table for table in TABLES if table.csv]
    write_text_atomic(out / "runs.csv", sweep.table().to_csv(index=False))
    for table in written:
        write_text_atomic(out / table.csv, getattr(analysis, table.name).to_csv(index=False))
    return [out / "runs.csv", *(out / table.csv for table in written)]


def draw_figures(analysis: Analysis, out_dir: str | Path) -> list[FigureFiles]:
    """The registry's figures for each model and data set, numbered on from the last set's."""
    files: list[FigureFiles] = []
    for part in analysis.parts():
        files += save_all(part, len(files) + 1, Path(out_dir))
    return files


def write_documents(
    analysis: Analysis,
    sources: Sequence[str],
    figures: Sequence[FigureFiles],
    found: dict[str, list[Finding]],
    out: Path,
) -> list[Path]:
    """report.md, report.html and slides.pptx."""
    sweep = analysis.sweep
    blocks = report_blocks(analysis, sources, figures, found, out)
    write_text_atomic(out / "report.md", document.to_markdown(blocks))
    write_text_atomic(
        out / "report.html", document.to_html(blocks, f"{TITLE}: {', '.join(sources)}")
    )
    subtitle = (
        f"{', '.join(sources)}\n{len(sweep.runs)} runs: {sweep.count(State.FINISHED)} finished, "
        f"{sweep.count(State.UNFINISHED)} unfinished, {sweep.count(State.FAILED)} failed"
    )
    write_slides(out / "slides.pptx", TITLE, subtitle, figures, found, limits(analysis))
    return [out / "report.md", out / "report.html", out / "slides.pptx"]
