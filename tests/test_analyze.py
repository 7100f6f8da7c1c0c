"""The analysis end to end on a real sweep: 2 inits × 2 seeds of LeNet-300-100 on a real MNIST
slice and kaiming_uniform at init.scale=0.5 (the same 2 seeds), plus (copied next to them) one
unfinished and one failed run. Every figure of the registry is drawn for it."""

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
import torch
from hydra.utils import instantiate
from nbclient import NotebookClient
from omegaconf import OmegaConf
from PIL import Image
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from prune_ready import machine, manifest, stability
from prune_ready.analyze import FIGURES, analyse, analyze, collect, run_status
from prune_ready.analyze.__main__ import main
from prune_ready.analyze.compute.analysis import Options
from prune_ready.analyze.compute.sizes import network
from prune_ready.analyze.read.collect import factor_fields
from prune_ready.analyze.write.figures import Spec
from prune_ready.compact import compact_sizes
from prune_ready.errors import UserError
from prune_ready.models import LeNet300100
from prune_ready.models.description import describe
from prune_ready.pruning.masks import prunable_layers
from prune_ready.results import load_round_masks
from prune_ready.status import State
from prune_ready.train import train
from tests.conftest import REPO, built_once
from tests.helpers import in_process

# The figures this sweep has the data for: all but the one against a pruning.reset.to factor,
# drawn from a constructed rewind sweep in tests/test_stability.py.
VARIANT = "data.test_subset=500,data.train_subset=300,pruning.round_length=1ep,pruning.rounds=2"
SCALED = VARIANT.replace("pruning.round_length", "init.scale=0.5,pruning.round_length")
INITS = ("kaiming_uniform", "xavier_normal")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LENET = {"fc1": 235_200, "fc2": 30_000, "out": 1_000}
TINY = [
    "data.train_subset=300",
    "data.test_subset=500",
    "pruning.round_length=1ep",
    "pruning.rounds=2",
    "progress_bar=null",
]


def run_dir(sweep: Path, init: str, seed: int, variant: str = VARIANT) -> Path:
    return sweep / "lenet_300_100-mnist" / init / "imp" / variant / f"seed={seed}"


def csv_columns(sweep: Path, name: str) -> int:
    """How many columns the core writes to a run's rounds.csv / metrics.csv."""
    return len(pd.read_csv(run_dir(sweep, "xavier_normal", 0) / name, nrows=0).columns)


@pytest.fixture(scope="session")
def sweep(data_root, tmp_path_factory) -> Path:
    """The real multiruns (≈1 min): outputs/default with 6 finished runs, built once for all
    workers (read, never written: `damaged` works on a copy)."""
    with built_once(tmp_path_factory, "analyze-sweep") as (root, done):
        if not done:
            output = f"paths.output_root={root / 'outputs'}"
            for grid in ([f"init={','.join(INITS)}"], ["init=kaiming_uniform", "init.scale=0.5"]):
                result = in_process(
                    "-m", *grid, "seed=0,1", *TINY, output, data_root=data_root, cwd=root
                )
                assert result.returncode == 0, result.stderr[-3000:]
    return root / "outputs" / "default"


def copy_run(source: Path, seed: int) -> Path:
    """A copy of a run under another seed (config.yaml's seed and data.seed rewritten)."""
    target = source.parent / f"seed={seed}"
    shutil.copytree(source, target)
    config = target / "config.yaml"
    config.write_text(re.sub(r"(?m)^(\s*)seed: \d+$", rf"\g<1>seed: {seed}", config.read_text()))
    manifest.finish(target)  # a run of its own now: its manifest lists the rewritten config
    return target


@pytest.fixture(scope="module")
def damaged(sweep, tmp_path_factory) -> Path:
    """The sweep, its runs' stability measured at rounds 0 and 2 (3 points), plus an unfinished
    run (2 of 3 rounds) and a failed one (no rounds.csv); built once for all workers (read,
    never written)."""
    with built_once(tmp_path_factory, "analyze-damaged") as (folder, done):
        root = folder / "default"
        if done:
            return root
        shutil.copytree(sweep, root)
        stability.main([str(root / "**" / "seed=*"), "--rounds", "0,2", "--points", "3"])
        unfinished = copy_run(run_dir(root, "kaiming_uniform", 1), 2)
        lines = (unfinished / "rounds.csv").read_text().splitlines(keepends=True)
        (unfinished / "rounds.csv").write_text("".join(lines[:3]))
        (unfinished / manifest.MANIFEST).unlink()  # as a killed run leaves it: marked unfinished
        (unfinished / manifest.UNFINISHED).write_text("")
        failed = copy_run(run_dir(root, "xavier_normal", 1), 3)
        (failed / "rounds.csv").unlink()
        (failed / manifest.MANIFEST).unlink()  # a failed run never writes one
        (failed / manifest.UNFINISHED).write_text("")
        (failed / "FAILED").write_text("RuntimeError: loss is NaN\n  at epoch 1\n")
    return root


@pytest.fixture(scope="module")
def drawn(damaged) -> list[Spec]:
    """The registry's figures the damaged sweep gets: not its flat early stop (every round of
    one epoch stops at epoch 1) nor its dead units (none), nor what it lacks the data for."""
    (part,) = analyse(collect([damaged])).parts()
    return [spec for spec in FIGURES if not spec.left_out(part)]


@pytest.fixture(scope="module")
def analysed(damaged, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """python -m prune_ready.analyze on the damaged sweep, --out elsewhere; run once for all
    workers (its output and what it printed kept beside it)."""
    with built_once(tmp_path_factory, "analyze-analysed") as (folder, done):
        out, printed = folder / "out", folder / "printed.txt"
        if not done:
            result = subprocess.run(
                [sys.executable, "-m", "prune_ready.analyze", str(damaged), "--out", str(out)],
                env={**os.environ, "PYTHONPATH": str(REPO)},
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert result.returncode == 0, result.stderr[-3000:]
            printed.write_text(result.stdout)
    return out, subprocess.CompletedProcess([], 0, printed.read_text(), "")


def test_collect_reads_every_run_and_round(sweep):
    s = collect([sweep])
    assert s.factors == ["model", "data", "init", "pruning", "init.scale"]
    assert len(s.runs) == 6 and set(s.runs["status"]) == {"finished"}
    assert s.runs["run"].tolist() == [
        f"lenet_300_100-mnist/kaiming_uniform/imp/{SCALED}/seed={seed}" for seed in (0, 1)
    ] + [
        f"lenet_300_100-mnist/{init}/imp/{VARIANT}/seed={seed}" for init in INITS for seed in (0, 1)
    ]
    table = s.table()
    # run, status, rounds_done, rounds_expected, reason, 5 factors, seed, machine + rounds.csv's
    assert table.shape == (18, 12 + csv_columns(sweep, "rounds.csv"))
    # 3 epochs a run; run, status, 5 factors, seed, machine + metrics.csv's columns
    assert s.epochs.shape == (18, 9 + csv_columns(sweep, "metrics.csv"))
    # all trained here: one machine key, this machine's with the runs' thread count
    (key,) = set(s.runs["machine"])
    (record,) = machine.read(run_dir(sweep, "xavier_normal", 1) / "machine.json")
    assert key == machine.describe(threads=record["threads"])["key"]
    on_disk = pd.read_csv(run_dir(sweep, "xavier_normal", 1) / "rounds.csv")
    mine = table[(table["init"] == "xavier_normal") & (table["seed"] == 1)]
    assert mine["test_acc"].tolist() == on_disk["test_acc"].tolist()
    assert mine["weights_remaining"].tolist() == [266_200, 213_060, 170_538]
    assert s.early_stop == "early_stop_epoch"  # an epoch schedule
    # 3 rounds × 3 layers a run; ids (run, status, 5 factors, seed, machine) + diagnostics + level
    assert s.diagnostics.shape == (54, 9 + 12 + 1)
    diagnostics = s.diagnostics[
        (s.diagnostics["init"] == "xavier_normal") & (s.diagnostics["seed"] == 1)
    ]
    on_disk = pd.read_csv(run_dir(sweep, "xavier_normal", 1) / "diagnostics.csv")
    assert diagnostics["layer"].tolist() == ["fc1", "fc2", "out"] * 3
    assert diagnostics["weight_rms"].tolist() == on_disk["weight_rms"].tolist()
    assert diagnostics["weights_remaining_pct"].tolist() == [
        pct for pct in mine["weights_remaining_pct"] for _ in range(3)
    ]
    # one row of θ0 statistics per run, as the run wrote it
    assert len(s.predictors) == 6 and "jacobian_gain" in s.predictors.columns
    own = pd.read_csv(run_dir(sweep, "xavier_normal", 1) / "predictors.csv")
    row = s.predictors.set_index("run").loc[mine["run"].iloc[0]]
    assert row[own.columns].tolist() == own.iloc[0].tolist()


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


def test_a_copy_of_another_factor_is_not_a_factor():
    configs = pd.DataFrame(
        {
            "name": ["s"] * 4,
            "seed": [0] * 4,
            "model.name": ["lenet_300_100"] * 4,
            "data.name": ["mnist"] * 4,
            "pruning.name": ["imp"] * 4,
            "init.name": ["kaiming_normal"] * 2 + ["signed_constant"] * 2,
            "init.scale": [0.5, 1.0, 0.5, 1.0],
            "init.at_rewind.scale": [None, None, 0.5, 1.0],  # init.scale, where it is set
        }
    )
    assert factor_fields(configs)[-1] == "init.scale"
    assert "init.at_rewind.scale" not in factor_fields(configs)


def test_cli_lists_unfinished_and_failed_runs_then_the_findings(analysed, damaged):
    _, result = analysed
    lines = result.stdout.splitlines()
    assert lines[0] == f"8 runs under {damaged}: 6 finished, 1 unfinished, 1 failed"
    assert (
        lines[1]
        == f"  lenet_300_100-mnist/kaiming_uniform/imp/{VARIANT}/seed=2: unfinished: 2 of 3 rounds"
    )
    assert lines[2] == (
        f"  lenet_300_100-mnist/xavier_normal/imp/{VARIANT}/seed=3: "
        "failed with 0 of 3 rounds: RuntimeError: loss is NaN at epoch 1"
    )
    assert lines[4] == "lenet_300_100 on mnist:"
    assert lines[5].startswith("1. ") and lines[6].startswith("   ")
    assert "(paired by seed, 2 seeds, Holm over each level's comparisons)" in lines[6]


def test_tables_keep_every_run_and_use_only_finished_ones(analysed, sweep):
    out, _ = analysed
    runs = pd.read_csv(out / "runs.csv")
    # the failed run, without rounds.csv, keeps one row; columns as in collect's table
    assert runs.shape == (18 + 2 + 1, 12 + csv_columns(sweep, "rounds.csv"))
    assert list(runs.columns[10:12]) == ["seed", "machine"]
    assert runs["status"].value_counts().to_dict() == {"finished": 18, "unfinished": 2, "failed": 1}
    failed = runs[runs["status"] == "failed"].iloc[0]
    assert pd.isna(failed["round"]) and failed["reason"] == "RuntimeError: loss is NaN at epoch 1"

    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 9 and set(summary["n"]) == {2}  # 3 lines × 3 rounds, finished seeds
    done = runs[runs["status"] == "finished"]
    expected = done.groupby(["init", "init.scale", "round"])["test_acc"].agg(["mean", "std"])
    got = summary.set_index(["init", "init.scale", "round"]).loc[expected.index]
    assert got["test_acc_mean"].to_numpy() == pytest.approx(expected["mean"].to_numpy(), abs=1e-12)
    assert got["test_acc_std"].to_numpy() == pytest.approx(expected["std"].to_numpy(), abs=1e-12)
    half = got["test_acc_ci_high"] - got["test_acc_mean"]
    assert half.to_numpy() == pytest.approx(12.706205 * expected["std"].to_numpy() / 2**0.5)

    comparisons = pd.read_csv(out / "comparisons.csv")
    assert len(comparisons) == 3  # the two inits at init.scale=1 at each of 3 levels
    # two seeds a line: reported, not tested (no p, nothing for Holm to adjust)
    assert comparisons["p"].isna().all() and comparisons["p_holm"].isna().all()
    assert set(comparisons["note"]) == {"not testable: fewer than 3 seeds in a line (2 and 2)"}
    dense = pd.read_csv(out / "dense.csv")
    assert len(dense) == 6 and set(dense["note"]) == {"not testable: fewer than 3 pairs (2)"}

    # every line against the best at each level, paired by seed (seeds 0 and 1 each)
    differences = pd.read_csv(out / "differences.csv")
    assert len(differences) == 3 * 2 and set(differences["test"]) == {"paired"}
    assert set(differences["n_pairs"]) == {2}
    at = done[done["round"] == 2].assign(
        line=lambda t: t["init"] + ", init.scale=" + t["init.scale"].astype(str)
    )
    accuracy = at.pivot(index="seed", columns="line", values="test_acc")
    for row in differences[differences["round"] == 2].itertuples():
        assert row.reference == accuracy.mean().idxmax()
        assert row.diff == pytest.approx((accuracy[row.line] - accuracy[row.reference]).mean())
    assert pd.read_csv(out / "rank_agreement.csv").empty  # one setting: nothing to agree with

    # dose response: the one numeric factor, kaiming_uniform at 0.5 and 1.0
    dose = pd.read_csv(out / "dose_response.csv")
    assert set(dose["init.scale"]) == {0.5, 1.0} and set(dose["round"]) == {0, 2}
    assert set(dose["n"]) == {2}


def test_predictors_are_scored_on_the_choosing_seeds(analysed):
    out, _ = analysed
    table = pd.read_csv(out / "predictors.csv")
    # seeds 0-1 all choose (below 4): nothing is left to confirm yet, and the report says so
    assert set(table["split"]) == {"choose", "confirm"}
    assert set(table.loc[table["split"] == "confirm", "n_runs"]) == {0}
    assert set(table.loc[table["split"] == "choose", "n_runs"]) == {6}
    assert table.loc[table["split"] == "choose", "chosen"].sum() == 2  # one per target
    md = (out / "report.md").read_text()
    assert re.search(
        r"- The finding on the θ0 predictor of robustness at [\d.]+%: no seed at or above 4 to "
        "test the statistic chosen on the others: untested.",
        md,
    )


def finished_diagnostics(sweep: Path) -> pd.DataFrame:
    """The finished runs' own diagnostics.csv, stacked, with the ratios derived by hand."""
    table = pd.concat(
        pd.read_csv(run_dir(sweep, init, seed) / "diagnostics.csv").assign(init=init, seed=seed)
        for init in INITS
        for seed in (0, 1)
    )
    return table.assign(
        rms_ratio=table["weight_rms"] / table["intended_rms"],
        dead_pct=100 * table["dead"] / table["units"],
    )


def test_diagnostics_table_is_the_mean_over_finished_seeds(analysed, sweep):
    out, _ = analysed
    got = pd.read_csv(out / "diagnostics.csv")
    assert len(got) == 3 * 3 * 3 and set(got["n"]) == {2}  # lines × rounds × layers; no copies
    assert got["layer"].tolist() == ["fc1", "fc2", "out"] * 9
    columns = ["rms_ratio", "dead_pct", "weight_rms", "act_rms", "grad_norm", "fan_in_mean"]
    expected = finished_diagnostics(sweep).groupby(["init", "round", "layer"])[columns].mean()
    got = got[got["init.scale"] == 1.0].set_index(["init", "round", "layer"])
    got = got.loc[expected.index, columns]
    assert got.to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-12)
    fc1 = got.xs("fc1", level="layer")["fan_in_mean"]
    assert fc1.tolist() == pytest.approx([784, 627.2, 501.76] * 2, rel=1e-6)


def test_mask_overlap_pairs_finished_runs_at_equal_sparsity(analysed, sweep):
    out, _ = analysed
    everything = pd.read_csv(out / "mask_overlap.csv")
    # init.scale=0.5 (one init): per round and layer, its same-init pair and the pooled row
    scaled = everything[everything["init.scale"] == 0.5]
    assert len(scaled) == 3 * 4 * 2 and set(scaled["comparison"]) == {"same_init_diff_seed"}
    # init.scale=1, per round and layer (all, fc1, fc2, out): same init per init + pooled, the
    # init pair + pooled, different init and seed pooled
    overlap = everything[everything["init.scale"] == 1.0]
    assert len(overlap) == 3 * 4 * (3 + 2 + 1)
    assert (overlap.loc[overlap["round"] == 0, "jaccard_mean"] == 1).all()  # dense masks
    pooled = overlap[(overlap["layer"] == "all") & (overlap["init_a"] == "all")]
    assert pooled["n_pairs"].tolist() == [2] * 9  # the unfinished copy of a run is not paired
    assert pooled["weights_remaining_pct"].tolist() == [100.0] * 3 + [80.0376] * 3 + [64.0639] * 3
    a = load_round_masks(run_dir(sweep, "kaiming_uniform", 0))[2]
    b = load_round_masks(run_dir(sweep, "kaiming_uniform", 1))[2]
    both = {layer: int((a[layer] & b[layer]).sum()) for layer in a}
    either = {layer: int((a[layer] | b[layer]).sum()) for layer in a}
    mine = overlap[
        (overlap["round"] == 2)
        & (overlap["comparison"] == "same_init_diff_seed")
        & (overlap["init_a"] == "kaiming_uniform")
    ].set_index("layer")
    assert mine["n_pairs"].tolist() == [1] * 4
    assert mine.loc["all", "jaccard_mean"] == pytest.approx(
        sum(both.values()) / sum(either.values()), abs=1e-12
    )
    for layer in LENET:
        assert mine.loc[layer, "jaccard_mean"] == pytest.approx(
            both[layer] / either[layer], abs=1e-12
        )
    # chance: independent masks keeping 64%, 64% and 81% of the layers
    kept = {"fc1": 0.64, "fc2": 0.64, "out": 0.81}
    expected = sum(n * kept[k] ** 2 for k, n in LENET.items())
    chance = expected / (2 * sum(n * kept[k] for k, n in LENET.items()) - expected)
    assert mine.loc["all", "chance_mean"] == pytest.approx(chance, abs=1e-4)


def test_sizes_are_the_compacted_networks_of_the_finished_runs_masks(analysed, sweep):
    out, _ = analysed
    sizes = pd.read_csv(out / "sizes.csv")
    assert len(sizes) == 3 * 3 and set(sizes["n"]) == {2}  # lines × rounds; no copies
    line = sizes[(sizes["init"] == "xavier_normal") & (sizes["init.scale"] == 1.0)]
    dense = line[line["round"] == 0].iloc[0]
    assert dense[["inputs", "hidden_units", "params_compact"]].tolist() == [784, 400, 266_610]
    for round_ in (1, 2):
        runs = [
            compact_sizes(
                load_round_masks(run_dir(sweep, "xavier_normal", s))[round_],
                describe(LeNet300100()),
            )
            for s in (0, 1)
        ]
        got = line[line["round"] == round_].iloc[0]
        for key in ("inputs", "hidden_units", "weights", "params_sparse", "bytes_sparse"):
            assert got[key] == pytest.approx((runs[0][key] + runs[1][key]) / 2, abs=1e-9)
    assert (line["weights"] / line["weights_total"] * 100).tolist() == pytest.approx(
        line["weights_remaining_pct"].tolist(), abs=1e-3
    )


def test_every_registered_figure_is_drawn_numbered_and_valid(analysed, drawn):
    out, _ = analysed
    assert {"differences", "test-acc-vs-weights", "weight-scale", "mask-overlap"} <= {
        spec.slug for spec in drawn
    }
    pngs = sorted((out / "figures").glob("*.png"))  # zero-padded numbers sort by name
    assert [p.name for p in pngs] == [
        f"figure{k:02d}-lenet_300_100-mnist-{spec.slug}.png" for k, spec in enumerate(drawn, 1)
    ]
    for png in pngs:
        assert png.read_bytes()[:8] == PNG_SIGNATURE
        with Image.open(png) as image:
            image.load()
            width, height = image.size
            assert 900 <= width <= 2400 and 300 <= height <= 1500, png.name  # 150 dpi
            darkest, lightest = image.convert("L").getextrema()
            assert lightest == 255 and darkest < 64  # white page with dark text and lines
        svg = ET.parse(png.with_suffix(".svg")).getroot()
        assert svg.tag == "{http://www.w3.org/2000/svg}svg"


def test_report_opens_with_the_findings_and_refers_to_every_figure_and_table(analysed, drawn):
    out, _ = analysed
    md = (out / "report.md").read_text()
    section = md[md.index("## lenet_300_100 on mnist") :]
    # the first screen: the answer chart, then one short line per finding, then their numbers
    chart = section.index("![Figure")
    assert "-test-acc-vs-weights.png)" in section[chart : section.index("\n", chart)]
    assert chart < section.index("1. **") < section.index("**Table 1: the findings' numbers")
    top = section[: section.index("**Table 1:")]
    findings = [line for line in top.splitlines() if re.match(r"\d\. \*\*", line)]
    assert 3 <= len(findings) <= 5 and all(
        re.fullmatch(r"\d\. \*\*[^*]{10,150}\*\* \(Figure \d+; Table \d+\)", f) for f in findings
    )
    for k, spec in enumerate(drawn, 1):
        assert md.count(f"Figure {k}: ") == 2  # image alt text + caption
        assert re.search(rf"Figure {k}\b[^:]", md), f"Figure {k} is not referred to"
        caption = spec.caption.split("{")[0][:30]
        assert caption in md, spec.slug  # what the registry says it shows
    assert f"Figure {len(drawn) + 1}" not in md
    tables = re.findall(r"\*\*Table (\d+):", md)
    assert tables == [str(k) for k in range(1, len(tables) + 1)] and len(tables) >= 9
    for k in tables:
        assert re.search(rf"Table {k}\b[^:]", md), f"Table {k} is not referred to"
    assert md.index("## What these results do not cover") < md.index("## Appendix")
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
    assert tags.tables == len(tables) and len(tags.images) == len(drawn)
    assert all((out / src).is_file() for src in tags.images)


def test_slides_show_each_figure_once_with_the_findings_in_titles_and_notes(analysed, drawn):
    out, result = analysed
    deck = Presentation(str(out / "slides.pptx"))
    slides = list(deck.slides)
    takeaways = re.findall(r"(?m)^\d\. (.*)\.$", result.stdout)
    sentences = re.findall(r"(?m)^   (.*)$", result.stdout)
    # title, a slide per figure (with the findings it shows, or its caption), what is not covered
    assert len(slides) == 1 + len(drawn) + 1
    assert "6 finished, 1 unfinished, 1 failed" in slides[0].placeholders[1].text
    shown = [" ".join(sh.text_frame.text for sh in s.shapes if sh.has_text_frame) for s in slides]
    notes = [s.notes_slide.notes_text_frame.text for s in slides[1:]]
    for takeaway, sentence in zip(takeaways, sentences, strict=True):
        assert any(takeaway in text for text in shown), takeaway  # a title or a short line
        assert any(sentence in note for note in notes), sentence  # the numbers: speaker notes
    assert slides[-1].shapes.title.text == "What these results do not cover"
    assert "Other models and data sets: only lenet_300_100 on mnist." in notes[-1]
    blobs = []
    for slide in slides[1:-1]:
        pictures = [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
        assert len(pictures) == 1
        assert pictures[0].left >= 0 and pictures[0].left + pictures[0].width <= deck.slide_width
        assert pictures[0].top + pictures[0].height <= deck.slide_height
        blobs.append(pictures[0].image.sha1)
    assert len(set(blobs)) == len(blobs) == len(drawn)  # no figure on two slides


def test_a_bad_reference_is_one_clear_line_and_writes_nothing(sweep, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        main([str(sweep), "--out", str(tmp_path / "out"), "--reference", "orthogonal"])
    assert exit_.value.code == (
        "error: --reference orthogonal: no such line; give one of: kaiming_uniform, "
        "init.scale=0.5; kaiming_uniform, init.scale=1.0; xavier_normal, init.scale=1.0"
    )
    with pytest.raises(SystemExit) as exit_:
        main([str(sweep), "--out", str(tmp_path / "out"), "--reference", "kaiming_uniform"])
    assert "kaiming_uniform: 2 lines start so; give one of" in exit_.value.code
    assert not (tmp_path / "out").exists()


def test_a_named_reference_is_compared_against_at_every_level(sweep, tmp_path):
    main([str(sweep), "--out", str(tmp_path), "--reference", "xavier_normal"])
    table = pd.read_csv(tmp_path / "differences.csv")
    assert set(table["reference"]) == {"xavier_normal, init.scale=1.0"} and len(table) == 6
    assert "each line minus xavier_normal" in (tmp_path / "report.md").read_text()


STUDY = REPO / "results" / "init_study_lenet" / "runs.csv"  # real runs whose early stops vary


def test_accuracy_at_the_early_stop_is_analysed_throughout_and_runs_csv_keeps_both(tmp_path):
    """--accuracy early_stop on a committed study: every table reads each round's
    test_acc_at_early_stop where the default reads test_acc (the round's end); runs.csv is the
    runs as run either way."""
    main([str(STUDY), "--out", str(tmp_path / "end")])
    main([str(STUDY), "--out", str(tmp_path / "early"), "--accuracy", "early_stop"])
    end, early = (pd.read_csv(tmp_path / d / "summary.csv") for d in ("end", "early"))
    assert (end["test_acc_mean"] != end["test_acc_at_early_stop_mean"]).sum() > 10
    assert early["test_acc_mean"].tolist() == end["test_acc_at_early_stop_mean"].tolist()
    runs = pd.read_csv(tmp_path / "end" / "runs.csv")
    assert runs.equals(pd.read_csv(tmp_path / "early" / "runs.csv"))
    differences = pd.read_csv(tmp_path / "early" / "differences.csv")
    row = differences.iloc[-1]  # the sparsest level's last line against the best there
    at = runs[runs["round"] == row["round"]].set_index(["init", "seed"])
    pairs = (
        at.loc[row["line"], "test_acc_at_early_stop"]
        - at.loc[row["reference"], "test_acc_at_early_stop"]
    )
    assert row["diff"] == pytest.approx(pairs.mean())
    report = {d: (tmp_path / d / "report.md").read_text() for d in ("end", "early")}
    assert "`--accuracy early_stop`" in report["early"]
    caption = "Figure 1 plots test accuracy {} against the weights remaining"  # and says which
    assert caption.format("at the end of each round") in report["end"]
    assert (
        caption.format("at each round's early stop (its lowest validation loss)")
        in (report["early"])
    )


def test_early_stop_accuracy_missing_from_a_finished_round_is_one_clear_line(tmp_path):
    runs = pd.read_csv(STUDY)
    runs.loc[runs.index[1], "test_acc_at_early_stop"] = None
    runs.to_csv(tmp_path / "runs.csv", index=False)
    with pytest.raises(SystemExit) as exit_:
        main(
            [str(tmp_path / "runs.csv"), "--out", str(tmp_path / "out"), "--accuracy", "early_stop"]
        )
    assert exit_.value.code == (
        "error: --accuracy early_stop: 1 finished round has no test_acc_at_early_stop (e.g. "
        f"{runs.loc[runs.index[1], 'run']} round {runs.loc[runs.index[1], 'round']}); analyse "
        "them with --accuracy round_end"
    )
    assert not (tmp_path / "out").exists()
    with pytest.raises(UserError, match="accuracy 'best': give one of round_end, early_stop"):
        analyse(collect(STUDY), Options(accuracy="best"))  # the API checks what the CLI restricts


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
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path / "other.csv"), "--out", str(tmp_path / "out")])
    assert exit_.value.code == (
        f"error: {tmp_path / 'other.csv'} is not an analysis's runs.csv (run, status, ..., seed, round)"
    )
    assert not (tmp_path / "out").exists()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.yaml").write_text("seed: 0\n")
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path)])
    assert exit_.value.code == (
        f"error: {tmp_path / 'run' / 'config.yaml'} is not a prune_ready run config: "
        "it lacks pruning.rounds, model.name, data.name, init.name, pruning.name"
    )


def test_a_sweep_with_no_finished_run_is_one_clear_line(sweep, tmp_path):
    run = next(p.parent for p in sweep.rglob("config.yaml"))
    (tmp_path / "run").mkdir()
    shutil.copy(run / "config.yaml", tmp_path / "run" / "config.yaml")  # started, no round yet
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path)])
    assert exit_.value.code == (
        f"error: no finished run under {tmp_path} yet (1 runs: 1 unfinished): nothing to analyse"
    )


def test_notebook_runs_top_to_bottom(damaged, drawn, monkeypatch):
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
    assert re.search(r"finished\s+6", counts) and re.search(r"failed\s+1", counts)
    assert sum("image/png" in o.get("data", {}) for o in outputs) == len(drawn)
    tables = [o["data"]["text/plain"] for o in outputs if "text/plain" in o.get("data", {})]
    assert any("rms_ratio" in t and "dead_pct" in t for t in tables)
    assert any("welch_p_holm" in t and "mdd" in t for t in tables)
    assert any("jaccard_mean" in t and "diff_init_same_seed" in t for t in tables)


def test_iteration_schedule_reports_the_early_stop_iteration(make_cfg, tmp_path):
    """One real lth run (rounds of 10 iterations): the statistic, table and figure 3 count
    iterations; a single run has nothing to compare or pair, so no differences, predictors or
    mask overlap."""
    cfg = make_cfg(
        "pruning=lth",
        "pruning.round_length=10it",
        "pruning.eval_every=5it",
        "pruning.rounds=1",
        "data.train_subset=300",
        "data.test_subset=500",
    )
    run = tmp_path / "sweep" / "run"
    train(cfg, run)
    analysis, found, files = analyze([tmp_path / "sweep"], tmp_path / "analysis")
    assert analysis.sweep.early_stop == "early_stop_iteration"
    summary = pd.read_csv(tmp_path / "analysis" / "summary.csv")
    rounds = pd.read_csv(run / "rounds.csv")
    assert summary["early_stop_iteration_mean"].tolist() == rounds["early_stop_iteration"].tolist()
    assert set(rounds["early_stop_iteration"]) <= {5, 10}
    assert not any(c.startswith("early_stop_epoch") for c in summary.columns)
    md = (tmp_path / "analysis" / "report.md").read_text()
    (part,) = analysis.parts()
    if rounds["early_stop_iteration"].nunique() > 1:
        assert (
            "**Figure 3: early-stop iteration vs weights remaining (lenet_300_100 on mnist)**" in md
        )
    else:  # a flat line is left out, and the appendix says so in iterations
        stop = rounds["early_stop_iteration"].iloc[0]
        assert (
            f"early-stop iteration vs weights remaining: every run's early-stop iteration is {stop}"
            in md
        )
    assert re.search(r"\*\*Table \d+: early-stop iteration by weights remaining", md)
    assert "compacted network (dead units and unread inputs removed)" in md  # sizes.csv's table
    assert "the early-stop iteration is the iteration of minimum validation loss" in md
    slugs = [f.name.split("-mnist-")[1].removesuffix(".png") for f in files if f.suffix == ".png"]
    assert slugs == [spec.slug for spec in FIGURES if not spec.left_out(part)]
    assert {"test-acc-vs-weights", "test-acc-vs-epoch", "weight-scale", "signal"} <= set(slugs)
    first = found["lenet_300_100 on mnist"][0]
    assert first.text.startswith("Only xavier_normal was run, so nothing is compared; at 80.0%")
    assert pd.read_csv(tmp_path / "analysis" / "mask_overlap.csv").empty


def test_the_analysis_describes_a_runs_network_from_its_config_alone():
    """sizes.network builds model.net on the meta device at its declared input shape; masks of
    another shape (LeNet built for CIFAR-10) or a network it cannot describe give None."""
    for name in ("lenet_300_100", "conv6"):
        net_config = OmegaConf.to_container(OmegaConf.load(REPO / "conf/model" / f"{name}.yaml"))
        net = instantiate(net_config["net"])
        masks = {n: torch.ones_like(m.weight) for n, m in prunable_layers(net).items()}
        assert network(net_config["net"], masks) == describe(net)
    lenet = {"_target_": "prune_ready.models.LeNet300100"}
    cifar = {
        n: torch.ones_like(m.weight) for n, m in prunable_layers(LeNet300100((3, 32, 32))).items()
    }
    assert network(lenet, cifar) is None
    assert network({"_target_": "torch.nn.Linear", "in_features": 2, "out_features": 1}, {}) is None
