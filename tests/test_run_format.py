"""The run directory's names, in one module: what the writers write is what it names, and the
analysis can read it without loading Lightning."""

import csv
import subprocess
import sys

import pytest

from prune_ready import run_format
from tests.helpers import REPO

PRESETS = REPO / "tests" / "fixtures" / "presets"


def header(path) -> list[str]:
    with open(path, newline="") as f:
        return next(csv.reader(f))


def test_the_fixture_runs_tables_have_the_named_columns():
    """The preset fixtures were written before the names moved here."""
    layers = ("fc1", "fc2", "out")
    for preset in sorted(PRESETS.iterdir()):
        assert header(preset / run_format.ROUNDS) == [
            *run_format.ROUND_COLUMNS,
            *(run_format.REMAINING + layer for layer in layers),
        ], preset.name
        assert header(preset / run_format.DIAGNOSTICS) == list(run_format.DIAGNOSTIC_COLUMNS)


def test_a_row_follows_the_columns_or_raises():
    assert list(run_format.row(("a", "b"), {"b": 2, "a": 1}).items()) == [("a", 1), ("b", 2)]
    with pytest.raises(ValueError, match=r"a row's keys \['a'\] are not the columns"):
        run_format.row(("a", "b"), {"a": 1})
    with pytest.raises(ValueError, match="are not the columns"):
        run_format.row(("a",), {"a": 1, "c": 3})


def test_the_names_and_the_analysis_load_without_lightning():
    probe = (
        "import sys; import prune_ready.run_format; assert 'torch' not in sys.modules; "
        "import prune_ready.analyze; assert 'pytorch_lightning' not in sys.modules"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
