"""The logger config group (conf/logger/): each logger writes where it says, `none` writes
nothing, several combine, and none of them changes a run's results."""

import importlib.util
import time
from pathlib import Path

import pytest
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from prune_ready import results, tensorboard
from prune_ready.errors import UserError
from prune_ready.loggers import make_loggers
from prune_ready.schema import check_group_options
from prune_ready.train import CONF_DIR, train
from tests.conftest import RUN, train_tiny
from tests.helpers import RUN_FILES, TINY, cli, in_process, read_csv


def run(root: Path, logger: str, data_root: Path) -> Path:
    return train_tiny(root, data_root, f"logger={logger}")


@pytest.fixture(scope="module")
def combined(data_root, tmp_path_factory) -> Path:
    """A run with logger=[tensorboard,csv]."""
    return run(tmp_path_factory.mktemp("combined"), "[tensorboard,csv]", data_root)


def test_none_writes_only_the_results(tiny_run):
    root = tiny_run.parents[len(RUN.parts) - 1]
    assert {p.name for p in tiny_run.iterdir()} == RUN_FILES
    assert [p.relative_to(root) for p in root.rglob("*") if p.is_dir()] == [
        *reversed(RUN.parents[:-1]),
        RUN,
    ]


def test_tensorboard_and_csv_combine_each_in_its_folder(combined):
    run_dir = combined
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES | {"tb", "csv"}
    assert not list(run_dir.parents[len(RUN.parts) - 1].rglob("lightning_logs"))
    events = EventAccumulator(str(run_dir / "tb"))
    events.Reload()
    assert [p.parent for p in run_dir.rglob("events.out.tfevents.*")] == [run_dir / "tb"]
    assert len(events.Scalars("val/acc")) == 2  # one evaluation per 1-epoch round
    # the HParams tab: the run's settings, with the metrics as its columns
    hparams = yaml.safe_load((run_dir / "tb" / "hparams.yaml").read_text())
    assert hparams["init.name"] == "xavier_normal" and hparams["data.train_subset"] == 300
    assert hparams["pruning.rounds"] == 1 and "paths.output_root" not in hparams
    plugin = events.PluginTagToContent("hparams")
    assert {"_hparams_/experiment", "_hparams_/session_start_info"} <= set(plugin)
    assert b"val/acc" in plugin["_hparams_/experiment"]
    assert b"xavier_normal" in plugin["_hparams_/session_start_info"]
    rows = read_csv(run_dir / "csv" / "metrics.csv")
    accs = [float(r["val/acc"]) for r in rows if r.get("val/acc")]
    rounds = read_csv(run_dir / results.ROUNDS)
    assert accs == pytest.approx([float(r["val_acc"]) for r in rounds], abs=1e-6)
    assert yaml.safe_load((run_dir / "csv" / "hparams.yaml").read_text()) == hparams


def test_loggers_leave_the_results_unchanged(combined, tiny_run):
    assert (combined / results.ROUNDS).read_bytes() == (tiny_run / results.ROUNDS).read_bytes()


@pytest.mark.skipif(importlib.util.find_spec("wandb") is None, reason="wandb is not installed")
def test_wandb_logs_offline_into_the_run(make_cfg, tmp_path, monkeypatch):
    """Two runs in one process (as a multirun's jobs): each ends its wandb run, so the second
    gets a run of its own, not the first one's."""
    monkeypatch.setenv("WANDB_SILENT", "true")
    for seed in (0, 1):
        run_dir = tmp_path / RUN.parent / f"seed={seed}"
        train(make_cfg(*TINY, "logger=wandb", f"seed={seed}"), run_dir)
        (offline,) = (run_dir / "wandb").glob("offline-run-*")
        (record,) = offline.glob("*.wandb")  # wandb's protobuf record: the name, config, history
        label = f"lenet_300_100-mnist/xavier_normal/imp/seed={seed}".encode()
        data = written(record, label)
        assert label in data and b"init.name" in data and b"xavier_normal" in data
        assert b"val/acc" in data and data.count(b"seed=") == data.count(label)


@pytest.mark.skipif(importlib.util.find_spec("mlflow") is None, reason="mlflow is not installed")
def test_mlflow_logs_into_the_studys_file_store(data_root, tmp_path):
    run_dir = run(tmp_path, "mlflow", data_root)
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES  # the store is the study's
    store = tmp_path / "default" / "mlruns"
    (run_meta,) = [p for p in store.glob("*/*/meta.yaml") if p.parent.name != "models"]
    meta = yaml.safe_load(run_meta.read_text())
    assert meta["run_name"] == str(RUN.relative_to("default"))
    assert (run_meta.parent / "params" / "init.name").read_text() == "xavier_normal"
    val_acc = (run_meta.parent / "metrics" / "val" / "acc").read_text().split("\n")
    rounds = read_csv(run_dir / results.ROUNDS)
    assert [float(line.split()[1]) for line in val_acc if line] == pytest.approx(
        [float(r["val_acc"]) for r in rounds], abs=1e-6
    )


def written(path: Path, text: bytes, seconds: float = 60) -> bytes:
    """`path`'s bytes once they hold `text`: wandb's service process writes the record after the
    run has ended (seen: the bare 7-byte header right after a finished run on a busy machine)."""
    deadline = time.monotonic() + seconds
    while text not in (data := path.read_bytes()) and time.monotonic() < deadline:
        time.sleep(0.5)
    return data


def test_a_missing_package_is_one_line(make_cfg, tmp_path, monkeypatch):
    import pytorch_lightning.loggers.wandb

    monkeypatch.setattr(pytorch_lightning.loggers.wandb, "_WANDB_AVAILABLE", False)
    with pytest.raises(UserError, match=r"logger=wandb needs its package: pip install -e"):
        make_loggers(make_cfg("logger=[tensorboard,wandb]"), tmp_path / "run")
    assert not list(tmp_path.iterdir())


def test_unknown_logger_lists_the_options():
    for override in ("logger=nope", "logger=[tensorboard,nope]"):
        with pytest.raises(UserError) as error:
            check_group_options([override], Path(CONF_DIR))
        assert str(error.value) == (
            "logger=nope: no such option; choose one of: csv, mlflow, none, tensorboard, wandb"
        )
    check_group_options(["logger=[tensorboard,csv]", "logger=none"], Path(CONF_DIR))


def test_unknown_logger_on_the_command_line_writes_nothing(data_root, tmp_path):
    result = cli("logger=[csv,nope]", *TINY, data_root=data_root, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: logger=nope: no such option; choose one of: csv, mlflow, none, tensorboard, wandb"
    ]
    assert not list(tmp_path.iterdir())


def test_tensorboard_names_a_sweeps_runs_by_their_paths_or_by_what_differs(
    data_root, tmp_path, capsys, monkeypatch
):
    """What TensorBoard lists (its own reader) over `--logdir outputs/<study>` is each run's
    path below the study, no version_0; over prune-ready-tensorboard's view, only what tells the
    runs apart (the init), each name a link to the run's own events."""
    from tensorboard.backend.event_processing.plugin_event_multiplexer import EventMultiplexer

    result = in_process(
        "-m", "init=xavier_normal,kaiming_normal", *TINY, data_root=data_root, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-2000:]
    study = tmp_path / "outputs" / "default"
    variant = "data.train_subset=300,pruning.round_length=1ep,pruning.rounds=1"
    runs = EventMultiplexer().AddRunsFromDirectory(str(study)).Runs()
    full = [f"lenet_300_100-mnist/{init}/imp/{variant}/seed=0" for init in INITS]
    assert sorted(runs) == [f"{path}/tb" for path in full]

    monkeypatch.setenv("PRUNE_READY_CACHE", str(tmp_path / "cache"))
    view = tensorboard.default_view(study)
    assert view.parent == tmp_path / "cache" / "tensorboard"
    for _ in range(2):  # a second call rebuilds the view, the same
        tensorboard.main([str(study), "--no-serve"])
        assert sorted(EventMultiplexer().AddRunsFromDirectory(str(view)).Runs()) == list(INITS)
    for init, path in zip(INITS, full, strict=True):
        assert (view / init).resolve() == study / path / "tb"
    assert capsys.readouterr().out.splitlines()[-1] == f"tensorboard --logdir {view}"
    assert [p.name for p in view.parent.iterdir()] == [view.name]  # no half-made view left
    assert EventMultiplexer().AddRunsFromDirectory(str(study)).Runs().keys() == runs.keys()


INITS = ("kaiming_normal", "xavier_normal")


@pytest.mark.parametrize(
    ("paths", "names"),
    [
        (  # a setting only some runs have counts as varying; shared ones drop out
            [
                "lenet/kaiming_normal/imp/optimizer=sgd/seed=0",
                "lenet/kaiming_normal/imp/init.scale=0.5,optimizer=sgd/seed=0",
                "lenet/kaiming_normal/imp/init.scale=0.5,optimizer=sgd,reset=1ep/seed=1",
            ],
            ["seed=0", "init.scale=0.5/seed=0", "init.scale=0.5,reset=1ep/seed=1"],
        ),
        (["lenet/xavier_normal/imp/seed=0"], ["lenet/xavier_normal/imp/seed=0"]),  # one run
        (["a/b=1/c", "a/b=1,c"], ["a/b=1/c", "a/b=1,c"]),  # short names would coincide
        (["a/t=1", "a/t=1/u", "a/t=2"], ["a/t=1", "a/t=1/u", "a/t=2"]),  # t=1 would hold t=1/u
    ],
)
def test_short_names_keep_what_differs(paths, names):
    assert tensorboard.short_names([Path(p) for p in paths]) == names


def test_tensorboard_view_of_a_study_without_events_is_one_line(tmp_path):
    view = tmp_path / "view"
    with pytest.raises(SystemExit) as refused:
        tensorboard.main([str(tmp_path), "--view", str(view), "--no-serve"])
    assert refused.value.code == (
        f"error: no TensorBoard events under {tmp_path}: train with logger=tensorboard"
    )
    assert list(tmp_path.iterdir()) == []


def test_tensorboard_view_never_empties_a_folder_of_ones_own(tmp_path):
    """--view pointed at a folder holding a file of its own: refused before anything else, the
    file kept."""
    study = tmp_path / "study"
    study.mkdir()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(SystemExit) as refused:
        tensorboard.main([str(study), "--view", str(mine), "--no-serve"])
    assert refused.value.code == (
        f"error: {mine} holds {mine / 'notes.txt'}, not only the links this command makes: "
        "choose another --view"
    )
    assert (mine / "notes.txt").read_text() == "keep"
