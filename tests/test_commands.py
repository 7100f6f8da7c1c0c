"""The commands on the PATH (pyproject's [project.scripts]): what they run, Hydra's completion,
and that --help and one-line refusals answer without importing torch (what made them take
8-18 s; benchmarks/startup.py times them)."""

import subprocess
import sys
import tomllib
from importlib import import_module
from pathlib import Path

import pytest

from prune_ready import cli, exporter
from tests.helpers import REPO, cli_env

SCRIPTS = {
    "prune-ready-train": "prune_ready.train:main",
    "prune-ready-analyze": "prune_ready.analyze.__main__:main",
    "prune-ready-export": "prune_ready.cli:export",
    "prune-ready-repair": "prune_ready.repair:main",
    "prune-ready-tensorboard": "prune_ready.tensorboard:main",
}
# Run a console script's target as pip's wrapper does, then say whether torch was imported.
PROBE = """
import atexit, importlib, sys
atexit.register(lambda: print("torch loaded:", "torch" in sys.modules, file=sys.stderr))
target = sys.argv[1]
sys.argv = [sys.argv[2], *sys.argv[3:]]
if ":" not in target:  # python -m target
    import runpy
    runpy.run_module(target, run_name="__main__", alter_sys=True)
    sys.exit(0)
module, function = target.split(":")
sys.exit(getattr(importlib.import_module(module), function)())
"""
CONF = REPO / "conf"


def command(script: str, *args: str, data_root: Path, env: dict | None = None):
    """Run a console script (prune-ready-train) or a `python -m` form (prune_ready.train)."""
    target = SCRIPTS.get(script, script)
    return subprocess.run(
        [sys.executable, "-c", PROBE, target, script, *args],
        env={**cli_env(data_root), **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_scripts_are_declared_and_importable():
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert declared == SCRIPTS
    for target in SCRIPTS.values():
        module, function = target.split(":")
        assert callable(getattr(import_module(module), function))


def test_export_parser_offers_exactly_the_exporters_choices():
    assert tuple(exporter.FORMATS) == cli.FORMATS and cli.KERNELS == exporter.KERNELS


@pytest.mark.parametrize(
    ("script", "args", "status", "says"),
    [
        ("prune-ready-train", ["init=nope"], 1, "error: init=nope: no such option"),
        ("prune-ready-analyze", ["--help"], 0, "usage: prune-ready-analyze"),
        ("prune-ready-export", ["--help"], 0, "usage: prune-ready-export"),
        ("prune-ready-export", ["RUN", "--round", "3"], 1, "error: round 3 is not in"),
    ],
)
def test_answers_without_torch(script, args, status, says, data_root, tmp_path):
    run = tmp_path / "run"  # a bad --round is refused from rounds.csv alone
    run.mkdir()
    (run / "config.yaml").write_text("name: x\n")
    (run / "rounds.csv").write_text("round,test_acc\n0,0.9\n1,0.9\n2,0.9\n")
    result = command(script, *[str(run) if a == "RUN" else a for a in args], data_root=data_root)
    assert result.returncode == status, result.stderr[-2000:]
    assert says in result.stdout + result.stderr
    assert "torch loaded: False" in result.stderr
    if status:  # one line, then the probe's
        error, probe = result.stderr.strip().splitlines()
        assert error.startswith(f"error: {says.removeprefix('error: ')}")
        assert probe == "torch loaded: False"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["config.yaml", "rounds.csv", "run"]


def config_groups() -> dict[str, list[str]]:
    """Every config group in conf/ (pruning/score and the like too; Hydra's own aside) and its
    options, read from the folder, so a group added there must show in --help."""
    return {
        str(folder.relative_to(CONF)): sorted(f.stem for f in folder.glob("*.yaml"))
        for folder in sorted(CONF.rglob("*"))
        if folder.is_dir() and folder.relative_to(CONF).parts[0] != "hydra"
    }


@pytest.mark.parametrize("form", ["prune-ready-train", "prune_ready.train"])
def test_train_help_lists_every_group_and_option_without_torch(form, data_root):
    result = command(form, "--help", data_root=data_root)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.strip() == "torch loaded: False"
    lines = result.stdout.splitlines()
    groups = config_groups()
    assert len(groups) == 15 and groups["recorders"] == ["default"]
    assert groups["logger"] == ["csv", "mlflow", "none", "tensorboard", "wandb"]
    for group, options in groups.items():
        assert f"{group}: {', '.join(options)}" in lines
    for key in ("seed: 0", "name: default", "debug: false", "  rounds: 20", "  train_subset: null"):
        assert key in lines  # the main keys, in the composed config
    text = " ".join(result.stdout.split())
    assert "--cfg job (the composed config" in text and "--info (config search path" in text


def test_hydra_flags_still_answer(data_root):
    """--help is Hydra's own, templated: its other flags are untouched."""
    job = command(
        "prune-ready-train", "--cfg", "job", "-p", "pruning.rounds", "seed=4", data_root=data_root
    )
    assert (job.returncode, job.stdout) == (0, "20\n")
    info = command("prune-ready-train", "--info", "defaults-tree", data_root=data_root)
    assert info.returncode == 0 and "    logger: tensorboard" in info.stdout.splitlines()
    hydra_help = command("prune-ready-train", "--hydra-help", data_root=data_root)
    assert hydra_help.returncode == 0 and "--multirun,-m" in hydra_help.stdout


def test_export_module_help_answers_without_torch(data_root):
    """python -m prune_ready.export runs a module that imports only the parser."""
    result = command("prune_ready.export", "--help", data_root=data_root)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("usage: prune-ready-export")
    assert result.stderr.strip() == "torch loaded: False"


def test_shell_completion_offers_the_group_options(data_root):
    """Hydra's bash completion asks the command itself (prune-ready-train -sc query=bash)."""
    result = command(
        "prune-ready-train",
        "-sc",
        "query=bash",
        data_root=data_root,
        env={"COMP_LINE": "prune-ready-train logger=", "COMP_POINT": "25"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [
        f"logger={o}" for o in ("csv", "mlflow", "none", "tensorboard", "wandb")
    ]
    install = command("prune-ready-train", "-sc", "install=bash", data_root=data_root)
    assert "complete -o nospace -o default -F hydra_bash_completion prune-ready-train" in (
        install.stdout
    )
