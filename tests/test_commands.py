"""The commands on the PATH (pyproject's [project.scripts]): what they run, Hydra's completion,
and that --help and one-line refusals answer without importing torch (what made them take
8-18 s; benchmarks/startup.py times them)."""

import subprocess
import sys
import tomllib
from importlib import import_module
from pathlib import Path

import pytest

from prune_ready import cli, export
from tests.helpers import REPO, cli_env

SCRIPTS = {
    "prune-ready-train": "prune_ready.train:main",
    "prune-ready-analyze": "prune_ready.analyze.__main__:main",
    "prune-ready-export": "prune_ready.cli:export",
}
# Run a console script's target as pip's wrapper does, then say whether torch was imported.
PROBE = """
import atexit, importlib, sys
atexit.register(lambda: print("torch loaded:", "torch" in sys.modules, file=sys.stderr))
module, function = sys.argv[1].split(":")
sys.argv = [sys.argv[2], *sys.argv[3:]]
sys.exit(getattr(importlib.import_module(module), function)())
"""


def command(script: str, *args: str, data_root: Path, env: dict | None = None):
    return subprocess.run(
        [sys.executable, "-c", PROBE, SCRIPTS[script], script, *args],
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
    assert tuple(export.FORMATS) == cli.FORMATS and cli.KERNELS == export.KERNELS


@pytest.mark.parametrize(
    ("script", "args", "status", "says"),
    [
        ("prune-ready-train", ["--help"], 0, "== Configuration groups =="),
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
