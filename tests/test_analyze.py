"""The analysis end to end on a real sweep: 2 inits × 2 seeds of LeNet-300-100 on a real MNIST
slice, plus (copied next to them) one unfinished and one failed run."""

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient
from PIL import Image
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from prune_ready.analyze import collect, run_status
from prune_ready.analyze.__main__ import main
from prune_ready.analyze.collect import factor_fields
from prune_ready.status import State
from tests.conftest import REPO

VARIANT = "data.test_subset=500,data.train_subset=300,pruning.every_n_epochs=1,pruning.rounds=2"
INITS = ("kaiming_uniform", "xavier_normal")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_dir(sweep: Path, init: str, seed: int) -> Path:
    return sweep / "lenet_300_100-mnist" / init / "imp" / VARIANT / f"seed={seed}"


def csv_columns(sweep: Path, name: str) -> int:
    """How many columns the core writes to a run's rounds.csv / metrics.csv."""
    return len(pd.read_csv(run_dir(sweep, "xavier_normal", 0) / name, nrows=0).columns)


@pytest.fixture(scope="session")
def sweep(data_root, tmp_path_factory) -> Path:
    """The real multirun (≈10 s): outputs/default with 4 finished runs."""
    root = tmp_path_factory.mktemp("sweep")
    env = {**os.environ, "PRUNE_READY_DATA": str(data_root), "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "prune_ready.train",
            "-m",
            f"init={','.join(INITS)}",
            "seed=0,1",
            "data.train_subset=300",
            "data.test_subset=500",
            "pruning.every_n_epochs=1",
            "pruning.rounds=2",
            "progress_bar=null",
            f"paths.output_root={root / 'outputs'}",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return root / "outputs" / "default"


def copy_run(source: Path, seed: int) -> Path:
    """A copy of a run under another seed (config.yaml's seed and data.seed rewritten)."""
    target = source.parent / f"seed={seed}"
    shutil.copytree(source, target)
    config = target / "config.yaml"
    config.write_text(re.sub(r"(?m)^(\s*)seed: \d+$", rf"\g<1>seed: {seed}", config.read_text()))
    return target


@pytest.fixture(scope="module")
def damaged(sweep, tmp_path_factory) -> Path:
    """The sweep plus an unfinished run (2 of 3 rounds) and a failed one (no rounds.csv)."""
    root = tmp_path_factory.mktemp("damaged") / "default"
    shutil.copytree(sweep, root)
    unfinished = copy_run(run_dir(root, "kaiming_uniform", 1), 2)
    lines = (unfinished / "rounds.csv").read_text().splitlines(keepends=True)
    (unfinished / "rounds.csv").write_text("".join(lines[:3]))
    failed = copy_run(run_dir(root, "xavier_normal", 1), 3)
    (failed / "rounds.csv").unlink()
    (failed / "FAILED").write_text("RuntimeError: loss is NaN\n  at epoch 1\n")
    return root


@pytest.fixture(scope="module")
def analysed(damaged, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """python -m prune_ready.analyze on the damaged sweep, --out elsewhere."""
    out = tmp_path_factory.mktemp("analysis")
    result = subprocess.run(
        [sys.executable, "-m", "prune_ready.analyze", str(damaged), "--out", str(out)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result


def test_collect_reads_every_run_and_round(sweep):
    s = collect([sweep])
    assert s.factors == ["model", "data", "init", "pruning"]  # nothing else varies
    assert len(s.runs) == 4 and set(s.runs["status"]) == {"finished"}
    assert s.runs["run"].tolist() == [
        f"lenet_300_100-mnist/{init}/imp/{VARIANT}/seed={seed}" for init in INITS for seed in (0, 1)
    ]
    table = s.table()
    # run, status, rounds_done, rounds_expected, reason, 4 factors, seed + rounds.csv's columns
    assert table.shape == (12, 10 + csv_columns(sweep, "rounds.csv"))
    # 3 epochs a run; run, status, 4 factors, seed + metrics.csv's columns
    assert s.epochs.shape == (12, 7 + csv_columns(sweep, "metrics.csv"))
    on_disk = pd.read_csv(run_dir(sweep, "xavier_normal", 1) / "rounds.csv")
    mine = table[(table["init"] == "xavier_normal") & (table["seed"] == 1)]
    assert mine["test_acc"].tolist() == on_disk["test_acc"].tolist()
    assert mine["weights_remaining"].tolist() == [266_200, 213_060, 170_538]


def test_run_status_contract(sweep, damaged, tmp_path):
    assert run_status(run_dir(sweep, "xavier_normal", 0), rounds=2).state is State.FINISHED
    unfinished = run_status(run_dir(damaged, "kaiming_uniform", 2), rounds=2)
    assert (unfinished.state, unfinished.rounds_done, unfinished.rounds_expected) == (
        State.UNFINISHED,
        2,
        3,
    )
    failed = run_status(run_dir(damaged, "xavier_normal", 3), rounds=2)
    assert failed.state is State.FAILED and failed.rounds_done == 0
    assert failed.describe() == "failed with 0 of 3 rounds: RuntimeError: loss is NaN at epoch 1"
    # FAILED wins over complete rounds: the run said it failed
    complete = shutil.copytree(run_dir(sweep, "xavier_normal", 0), tmp_path / "run")
    (complete / "FAILED").write_text("")
    status = run_status(complete, rounds=2)
    assert (status.state, status.rounds_done, status.reason) == (
        State.FAILED,
        3,
        "(no reason given)",
    )


def test_factors_are_the_fields_that_vary_and_change_results():
    configs = pd.DataFrame(
        {
            "name": ["default"] * 4,
            "seed": [0, 1, 0, 1],
            "data.seed": [0, 1, 0, 1],  # a copy of the seed
            "data.root": ["/a", "/b", "/a", "/a"],  # does not change results
            "trainer.devices": [1, 1, 2, 2],  # neither
            "model.name": ["lenet_300_100"] * 4,
            "data.name": ["mnist"] * 4,
            "init.name": ["xavier_normal", "xavier_normal", "kaiming_uniform", "kaiming_uniform"],
            "init.scheme.mode": [None, None, "fan_in", "fan_in"],  # follows from init.name
            "pruning.name": ["imp"] * 4,
            "pruning.rounds": [2, 3, 2, 3],  # varies on its own: a factor
            "pruning.control": [None, None, None, "random"],  # a key old runs lack
        }
    )
    assert factor_fields(configs) == [
        "model.name",
        "data.name",
        "init.name",
        "pruning.name",
        "pruning.rounds",
        "pruning.control",
    ]


def test_cli_lists_unfinished_and_failed_runs(analysed, damaged):
    _, result = analysed
    lines = result.stdout.splitlines()
    assert lines[0] == f"6 runs under {damaged}: 4 finished, 1 unfinished, 1 failed"
    assert (
        lines[1]
        == f"  lenet_300_100-mnist/kaiming_uniform/imp/{VARIANT}/seed=2: unfinished: 2 of 3 rounds"
    )
    assert lines[2] == (
        f"  lenet_300_100-mnist/xavier_normal/imp/{VARIANT}/seed=3: "
        "failed with 0 of 3 rounds: RuntimeError: loss is NaN at epoch 1"
    )
    assert "lenet_300_100 on mnist: At 64.1% weights remaining (round 2" in result.stdout


def test_tables_keep_every_run_and_use_only_finished_ones(analysed, sweep):
    out, _ = analysed
    runs = pd.read_csv(out / "runs.csv")
    # the failed run, without rounds.csv, keeps one row
    assert runs.shape == (12 + 2 + 1, 10 + csv_columns(sweep, "rounds.csv"))
    assert runs["status"].value_counts().to_dict() == {"finished": 12, "unfinished": 2, "failed": 1}
    failed = runs[runs["status"] == "failed"].iloc[0]
    assert pd.isna(failed["round"]) and failed["reason"] == "RuntimeError: loss is NaN at epoch 1"

    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 6 and set(summary["n"]) == {2}  # 2 inits × 3 rounds, finished seeds
    done = runs[runs["status"] == "finished"]
    expected = done.groupby(["init", "round"])["test_acc"].agg(["mean", "std"])
    got = summary.set_index(["init", "round"])
    assert got["test_acc_mean"].to_numpy() == pytest.approx(expected["mean"].to_numpy(), abs=1e-12)
    assert got["test_acc_std"].to_numpy() == pytest.approx(expected["std"].to_numpy(), abs=1e-12)
    half = got["test_acc_ci_high"] - got["test_acc_mean"]
    assert half.to_numpy() == pytest.approx(12.706205 * expected["std"].to_numpy() / 2**0.5)

    comparisons = pd.read_csv(out / "comparisons.csv")
    assert len(comparisons) == 3  # one pair of inits at each of 3 levels
    assert (comparisons["p_holm"] == comparisons["p"]).all()  # one comparison: nothing to adjust
    assert len(pd.read_csv(out / "dense.csv")) == 4  # rounds 1-2 of each init


def test_figures_are_valid_pngs_and_svgs(analysed):
    out, _ = analysed
    pngs = sorted((out / "figures").glob("*.png"))
    assert [p.name.split("-")[0] for p in pngs] == ["figure1", "figure2", "figure3", "figure4"]
    for png in pngs:
        assert png.read_bytes()[:8] == PNG_SIGNATURE
        with Image.open(png) as image:
            image.load()
            assert image.size == (1125, 690)  # 7.5 × 4.6 in at 150 dpi
            darkest, lightest = image.convert("L").getextrema()
            assert lightest == 255 and darkest < 64  # white page with dark text and lines
        svg = ET.parse(png.with_suffix(".svg")).getroot()
        assert svg.tag == "{http://www.w3.org/2000/svg}svg"


def test_report_numbers_and_refers_to_every_figure_and_table(analysed):
    out, _ = analysed
    md = (out / "report.md").read_text()
    for k in range(1, 5):
        assert md.count(f"Figure {k}:") == 2  # image alt text + caption
        assert re.search(rf"Figure {k}\b[^:]", md), f"Figure {k} is not referred to"
    for k in range(1, 7):  # runs, runs left out, then 4 per model and data set
        assert md.count(f"**Table {k}:") == 1
        assert re.search(rf"Table {k}\b[^:]", md), f"Table {k} is not referred to"
    assert "Table 7" not in md
    assert "lenet_300_100 on mnist" in md and "CIFAR" not in md
    assert "| unfinished: 2 of 3 rounds |" in md
    assert "failed with 0 of 3 rounds: RuntimeError: loss is NaN at epoch 1" in md

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.images: list[str] = []
            self.tables = 0

        def handle_starttag(self, tag: str, attrs: list) -> None:
            self.images += [dict(attrs)["src"]] if tag == "img" else []
            self.tables += tag == "table"

    tags = Tags()
    tags.feed((out / "report.html").read_text())
    assert tags.tables == 6 and len(tags.images) == 4
    assert all((out / src).is_file() for src in tags.images)


def test_slides_have_title_figures_and_findings(analysed):
    out, _ = analysed
    deck = Presentation(str(out / "slides.pptx"))
    slides = list(deck.slides)
    assert len(slides) == 1 + 4 + 1
    assert "4 finished, 1 unfinished, 1 failed" in slides[0].placeholders[1].text
    titles = [s.shapes.title.text for s in slides[1:]]
    assert titles == [
        "Figure 1: test accuracy vs epoch (lenet_300_100 on mnist)",
        "Figure 2: test accuracy at the end of each round (lenet_300_100 on mnist)",
        "Figure 3: test accuracy vs weights remaining (lenet_300_100 on mnist)",
        "Figure 4: early-stop epoch vs weights remaining (lenet_300_100 on mnist)",
        "Findings",
    ]
    for slide in slides[1:5]:
        pictures = [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
        assert len(pictures) == 1
        assert pictures[0].left >= 0 and pictures[0].left + pictures[0].width <= deck.slide_width
        assert pictures[0].top + pictures[0].height <= deck.slide_height
    assert slides[5].placeholders[1].text.startswith("lenet_300_100 on mnist: At 64.1% weights")


def test_a_path_without_runs_is_one_clear_line(tmp_path):
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path)])
    assert exit_.value.code == f"error: no runs (directories holding config.yaml) under {tmp_path}"
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path / "nowhere")])
    assert exit_.value.code == f"error: no such directory: {tmp_path / 'nowhere'}"
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path), str(tmp_path)])
    assert (
        exit_.value.code == "error: 2 sweep directories given: say where results go with --out DIR"
    )
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.yaml").write_text("seed: 0\n")
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path)])
    assert exit_.value.code == (
        f"error: {tmp_path / 'run' / 'config.yaml'} is not a prune_ready run config: "
        "it lacks pruning.rounds, model.name, data.name, init.name, pruning.name"
    )


def test_notebook_runs_top_to_bottom(damaged, monkeypatch):
    monkeypatch.setenv("PRUNE_READY_SWEEP", str(damaged))
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    notebook = nbformat.read(REPO / "notebooks" / "analysis.ipynb", as_version=4)
    NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=120,
        resources={"metadata": {"path": str(REPO / "notebooks")}},
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    counts = outputs[0]["data"]["text/plain"]
    assert re.search(r"finished\s+4", counts) and re.search(r"failed\s+1", counts)
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 4
