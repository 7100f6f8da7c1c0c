"""The numbers do not move: summary.csv, comparisons.csv and dense.csv come out byte for byte as
before, for a small real sweep stored as a fixture and for every committed study's runs.csv.

tests/fixtures/analysis_sweep/runs/ holds 12 real LeNet-300-100/MNIST runs (kaiming_normal at
init.scale 0.5, 1 and 2, xavier_normal; seeds 0-2; 2 pruning rounds on 300 training images):
their config.yaml, rounds.csv, metrics.csv, diagnostics.csv and predictors.csv. expected/ holds
what the analysis wrote for them before its statistics were rewritten, with the `note` column
(why a difference is not testable; issue 27) added since: its numbers did not move.
"""

from pathlib import Path

import pytest

from prune_ready.analyze import analyse, collect, finished
from prune_ready.analyze.compute.analysis import statistics
from tests.helpers import REPO

FIXTURE = REPO / "tests" / "fixtures" / "analysis_sweep"
UNCHANGED = ("summary.csv", "comparisons.csv", "dense.csv")
STUDIES = sorted(p.parent for p in (REPO / "results").glob("*/summary.csv"))


def test_the_fixture_sweep_gives_the_same_bytes():
    analysis = analyse(collect([FIXTURE / "runs"]))
    tables = {
        "summary.csv": analysis.summary,
        "comparisons.csv": analysis.comparisons,
        "dense.csv": analysis.dense,
    }
    for name in UNCHANGED:
        assert tables[name].to_csv(index=False) == (FIXTURE / "expected" / name).read_text(), name


@pytest.mark.parametrize("study", STUDIES, ids=[p.name for p in STUDIES])
def test_each_committed_study_rederives_from_its_runs_csv(study: Path):
    sweep = collect(study / "runs.csv")
    tables = statistics(finished(sweep.rounds), sweep.factors, sweep.early_stop)
    for name, table in tables.items():
        assert table.to_csv(index=False) == (study / name).read_text(), f"{study.name}/{name}"
