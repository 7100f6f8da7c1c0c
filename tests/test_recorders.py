"""The recorders config group (conf/recorders/): a recorder left out or added on the command line
changes what a run writes, never what it trains; a list that names no recorder, or does not start
with the one writing rounds.csv, is refused in one line before anything is written."""

from pathlib import Path

import pytest
import pytorch_lightning as pl
from hydra.utils import get_class
from torch import nn

from prune_ready import results
from prune_ready.errors import UserError
from prune_ready.pruning.callback import Pruner
from prune_ready.run.recorders import Recorder, RoundsLog
from prune_ready.rundir import run_variant
from prune_ready.train import train
from tests.conftest import RUN, train_tiny
from tests.helpers import RUN_FILES

EVENTS = "events.txt"


class Events(Recorder):
    """Writes the round events it receives, one a line: a recorder from outside the package."""

    def __init__(self, run_dir: str | Path) -> None:
        super().__init__(run_dir)
        self.lines: list[str] = []

    def note(self, line: str) -> None:
        self.lines.append(line)
        results.write_text_atomic(self.run_dir / EVENTS, "".join(f"{x}\n" for x in self.lines))

    def on_run_start(self, core: Pruner, trainer: pl.Trainer, net: nn.Module) -> None:
        self.note("run_start")

    def on_evaluation(
        self, core: Pruner, trainer: pl.Trainer, net: nn.Module, round_: int, step: int
    ) -> None:
        self.note(f"evaluation {round_} {step}")

    def on_round_end(self, core: Pruner, trainer: pl.Trainer, net: nn.Module, round_: int) -> None:
        self.note(f"round_end {round_}")

    def on_round_start(
        self, core: Pruner, trainer: pl.Trainer, net: nn.Module, round_: int
    ) -> None:
        self.note(f"round_start {round_}")


def test_the_default_group_lists_every_recorder_rounds_log_first(make_cfg):
    listed = make_cfg().recorders
    assert list(listed) == ["rounds_log", "archive", "diagnostics", "predictors", "checkpoint"]
    classes = [get_class(path) for path in listed.values()]
    assert classes[0] is RoundsLog and all(issubclass(c, Recorder) for c in classes)


def test_one_left_out_and_one_added_change_the_files_not_the_results(data_root, tmp_path, tiny_run):
    changed = ("~recorders.predictors", f"+recorders.events={__name__}.Events")
    run_dir = train_tiny(tmp_path, data_root, "logger=none", *changed)
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES - {results.PREDICTORS} | {EVENTS}
    for name in (results.ROUNDS, results.DIAGNOSTICS):  # metrics.csv holds timings
        assert (run_dir / name).read_bytes() == (tiny_run / name).read_bytes()
    # TINY: rounds 0 and 1 of one epoch (5 steps) each, θ0 before anything
    assert (run_dir / EVENTS).read_text().splitlines() == [
        "run_start",
        "round_start 0",
        "evaluation 0 5",
        "round_end 0",
        "round_start 1",
        "evaluation 1 10",
        "round_end 1",
    ]
    assert run_dir.relative_to(tmp_path) == RUN  # the same directory as the default run's
    assert run_variant(changed) == ""


@pytest.mark.parametrize(
    "override,message",
    [
        (
            "recorders.archive=prune_ready.nope.Archive",
            "recorders.archive=prune_ready.nope.Archive: no such class",
        ),
        (
            "recorders.archive=prune_ready.models.LeNet300100",
            "recorders.archive=prune_ready.models.LeNet300100: "
            "not a prune_ready.run.recorders.Recorder",
        ),
        (
            "~recorders.rounds_log",
            "recorders: the first must be rounds_log (prune_ready.run.recorders.RoundsLog): "
            "its rounds.csv tells how far a run got",
        ),
    ],
    ids=["no_class", "not_a_recorder", "no_rounds_log"],
)
def test_a_bad_list_is_one_line_and_writes_nothing(make_cfg, tmp_path, override, message):
    cfg = make_cfg("data.train_subset=300", override)
    with pytest.raises(UserError) as refused:
        train(cfg, tmp_path / "run")
    assert str(refused.value) == message
    assert not (tmp_path / "run").exists()
