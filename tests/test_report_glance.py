"""What a reader takes in at a glance (issue 27): a finding whose range is one value says it once,
the mask-overlap figure's lines stay apart where their values coincide, and the report's first
element after its title is the answer chart. Real runs: the fixture sweep of
tests/test_analyze_unchanged.py and the committed studies' tables."""

import shutil
from pathlib import Path

import pandas as pd

from prune_ready.analyze import analyse, collect
from prune_ready.analyze.findings import findings
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
    assert title == (
        "No significant loss to dense down to 64.1%; at 64.1% xavier_normal changes by +10.6 pp"
    )
    assert text.endswith("; at 64.1% xavier_normal changes by +10.6 pp [95% CI 2.3, 18.9].")
    assert text.count("+10.6 pp") == 1


def test_lines_that_change_alike_are_said_once(tmp_path):
    # the same three runs twice, the copy under another init's name: both lines change alike
    table = collect([xavier_runs(tmp_path, [0, 1, 2])]).table()
    copy = table.assign(init="xavier_uniform", run=table["run"].str.replace(XAVIER, "copy"))
    (tmp_path / "csv").mkdir()
    pd.concat([table, copy]).to_csv(tmp_path / "csv" / "runs.csv", index=False)
    title, text = cost_finding(collect(tmp_path / "csv" / "runs.csv"))
    assert title.endswith("; at 64.1% both lines change by +10.6 pp")
    assert text.endswith("; at 64.1% both lines change by +10.6 pp (CIs in the table).")
