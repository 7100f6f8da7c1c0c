"""What a reader takes in at a glance (issue 27): a finding whose range is one value says it once,
the mask-overlap figure's lines stay apart where their values coincide, and the report opens
with the answer chart and the short findings: in its structure, and on the first screen of
headless Chromium (tests/first_screen.py; skipped where Chromium is not installed). Real runs: the fixture sweep of
tests/test_analyze_unchanged.py and the committed studies' tables."""

import dataclasses
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.lines import Line2D
from PIL import Image

from prune_ready.analyze import Part, analyse, collect
from prune_ready.analyze.pipeline import analyze as analyze_sweep
from prune_ready.analyze.write.findings import findings
from prune_ready.analyze.write.overlap_figure import CHANCE, mask_overlap
from tests.first_screen import HEIGHT, WIDTH, chromium, first_screen
from tests.helpers import REPO
from tests.test_analyze_unchanged import FIXTURE

XAVIER = "xavier_normal"


def xavier_runs(tmp_path: Path, seeds: list[int]) -> Path:
    """The fixture's xavier_normal runs of `seeds` (LeNet-300-100, 2 rounds of 1 epoch on 300
    MNIST images, 500 test images), copied alone under tmp_path/runs."""
    root = tmp_path / "runs"
    for run in (FIXTURE / "runs").rglob("seed=*"):
        if XAVIER in str(run) and int(run.name.split("=")[1]) in seeds:
            shutil.copytree(run, root / run.relative_to(FIXTURE / "runs"))
    return root


def cost_finding(sweep) -> tuple[str, str]:
    (part,) = analyse(sweep).parts()
    found = [f for f in findings(part) if f.table == "dense"]
    assert len(found) == 1
    return found[0].title, found[0].text


def test_one_run_says_its_change_from_dense_once(tmp_path):
    # xavier_normal seed 0: 66.0% dense, 77.2% at 64.1% (round 2): +11.2 pp, one pair
    title, text = cost_finding(collect([xavier_runs(tmp_path, [0])]))
    assert title == "At 64.1% xavier_normal changes from dense by +11.2 pp (not testable)"
    assert text == (
        "None of the 2 changes from each line's own dense round 0 is testable (fewer than 3 "
        "pairs); at 64.1% xavier_normal changes by +11.2 pp (one run)."
    )


def test_one_line_of_three_seeds_says_its_change_and_ci_once(tmp_path):
    # seeds 0-2: 61.4% dense on average, 72.0% at 64.1%: +10.6 pp [2.3, 18.9] paired by seed
    title, text = cost_finding(collect([xavier_runs(tmp_path, [0, 1, 2])]))
    assert title == (  # the one pruned level is the sparsest: named once
        "No significant loss to dense at any level; at 64.1% xavier_normal changes by +10.6 pp"
    )
    assert text.endswith("; at 64.1% xavier_normal changes by +10.6 pp [95% CI 2.3, 18.9].")
    assert text.count("+10.6 pp") == 1


def test_the_one_other_line_at_the_sparsest_level_is_said_once(tmp_path):
    # the fixture's xavier_normal and kaiming_normal (init.scale 1), seeds 0-2: at 64.1%
    # kaiming_normal - xavier_normal = (0.691333 - 0.720) = -2.9 pp, paired, Holm p = 0.00054
    root = tmp_path / "runs"
    for run in (FIXTURE / "runs").rglob("seed=*"):
        if "init.scale" not in str(run):
            shutil.copytree(run, root / run.relative_to(FIXTURE / "runs"))
    (part,) = analyse(collect([root])).parts()
    (sparsest,) = [f for f in findings(part) if "(the sparsest)" in f.text]
    assert sparsest.text == (
        "At 64.1% weights remaining (the sparsest), xavier_normal reaches 72.0%; 0 of 1 other "
        "line is within 1.0 pp of it and 1 falls significantly behind; the other line, "
        "kaiming_normal, is -2.9 pp [95% CI -3.2, -2.6], with an MDD of 0.38 pp (paired by seed, "
        "3 seeds, Holm)."
    )


def test_lines_that_change_alike_are_said_once(tmp_path):
    # the same three runs twice, the copy under another init's name: both lines change alike
    table = collect([xavier_runs(tmp_path, [0, 1, 2])]).table()
    copy = table.assign(init="xavier_uniform", run=table["run"].str.replace(XAVIER, "copy"))
    (tmp_path / "csv").mkdir()
    pd.concat([table, copy]).to_csv(tmp_path / "csv" / "runs.csv", index=False)
    title, text = cost_finding(collect(tmp_path / "csv" / "runs.csv"))
    assert title.endswith("; at 64.1% both lines change by +10.6 pp")
    assert text.endswith("; at 64.1% both lines change by +10.6 pp (CIs in the table).")


def with_committed_overlap(study: str) -> Part:
    """The committed study's one Part, from its runs.csv, with the mask_overlap.csv its first
    analysis made while the runs existed (`original/`: a runs.csv has no masks to compare)."""
    folder = REPO / "results" / study
    analysis = analyse(collect(folder / "runs.csv"))
    overlap = pd.read_csv(
        folder / "original" / "mask_overlap.csv", keep_default_na=False, na_values=[""]
    )
    (part,) = dataclasses.replace(analysis, overlap=overlap).parts()
    return part


def drawn_lines(fig) -> list[Line2D]:
    (ax,) = fig.axes
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


def look(line: Line2D) -> tuple:
    return (line.get_color(), line.get_marker(), str(line.get_linestyle()), line.get_lw())


def test_overlap_lines_that_coincide_stay_apart_and_the_legend_follows_their_order():
    # lth_lenet: the ticket's masks and its reinit control's are the same masks, so their
    # same-init pairs' Jaccard is the same at every level (0.0439 at 7.0%); random_prune 0.0367
    part = with_committed_overlap("lth_lenet")
    lines = drawn_lines(mask_overlap(part))
    assert len(lines) == 4  # 3 settings × one kind of pair, and one chance line
    *pairs, chance = lines
    assert chance.get_label() == CHANCE and chance.get_color() == "0.5"
    assert len({look(line) for line in pairs}) == 3  # each in colour, marker, style and width
    assert len({line.get_color() for line in pairs}) == 3
    none, reinit, random = pairs  # highest at the sparsest level first; ties in setting order
    assert list(none.get_ydata()) == list(reinit.get_ydata())
    assert none.get_lw() > reinit.get_lw() and none.get_markersize() > reinit.get_markersize()
    assert none.get_zorder() < random.get_zorder() < reinit.get_zorder()  # the widest below
    assert none.get_label() == "same init, different seeds, pruning.control=none (3 pairs)"
    assert reinit.get_label().endswith("pruning.control=reinit (3 pairs)")
    assert random.get_label().endswith("pruning.control=random_prune (3 pairs)")
    assert random.get_ydata()[0] == pytest.approx(0.036664, abs=1e-6)  # x ascends: 7.0% first
    legend = [t.get_text() for t in mask_overlap(part).axes[0].get_legend().get_texts()]
    assert legend == [line.get_label() for line in lines]


def test_overlap_kinds_of_pair_keep_their_colours_in_one_setting():
    # custom_init_lenet: one setting, three kinds of pair; at 0.33% same-init 0.0050, different
    # init and seed 0.0044, different inits with the same seed 0.0029
    lines = drawn_lines(mask_overlap(with_committed_overlap("custom_init_lenet")))
    assert [(line.get_label().split(" (")[0], line.get_color()) for line in lines] == [
        ("same init, different seeds", "C0"),
        ("different init and seed", "C1"),
        ("different inits, same seed", "C3"),
        (CHANCE, "0.5"),
    ]
    assert len({look(line) for line in lines[:3]}) == 3  # and each its own marker and stroke
    assert len({line.get_marker() for line in lines[:3]}) == 3


@pytest.fixture(scope="module")
def custom_init_report(tmp_path_factory) -> Path:
    """results/custom_init_lenet analysed again from its runs.csv (2 inits × 8 seeds, real)."""
    out = tmp_path_factory.mktemp("custom_init_lenet")
    analyze_sweep([REPO / "results" / "custom_init_lenet" / "runs.csv"], out)
    return out / "report.html"


def test_the_answer_chart_comes_right_after_the_part_heading_then_the_findings(
    custom_init_report,
):
    html = custom_init_report.read_text()
    body = html[html.index("<h2>lenet_300_100 on mnist</h2>") :]
    tags = re.findall(r"<(h2|figure|img|ol|p|table)\b[^>]*>", body)[:4]
    assert tags == ["h2", "figure", "img", "ol"]
    first = re.search(r'<img src="([^"]+)"', body).group(1)
    assert first == "figures/figure01-lenet_300_100-mnist-test-acc-vs-weights.svg"
    assert "h2 + figure img { max-height: 52vh; }" in html  # the answer leaves room below it


@pytest.mark.skipif(
    chromium() is None, reason="no headless Chromium (Debian: apt install chromium)"
)
def test_the_first_screen_shows_the_answer_chart_and_the_findings(custom_init_report, tmp_path):
    shot = tmp_path / "first.png"
    screen = first_screen(custom_init_report, shot)
    assert screen.first_image.endswith("-test-acc-vs-weights.svg") and screen.loaded
    assert screen.viewport == (WIDTH, HEIGHT) and screen.shows() == ["chart", "findings"]
    image = Image.open(shot).convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    top, bottom = (round(y) for y in screen.image)
    chart = image.crop((0, top, WIDTH, bottom))
    assert len(chart.getcolors(maxcolors=WIDTH * HEIGHT)) > 100  # drawn: lines, bands, text
    # the findings list's blue bar (#3a6ea5, document.STYLE) shows beside the first finding
    row = round(sum(screen.findings) / 2)
    assert (0x3A, 0x6E, 0xA5) in {image.getpixel((x, row)) for x in range(WIDTH)}
