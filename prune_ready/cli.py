"""What the commands parse and refuse before torch loads (it takes seconds to import).

`prune-ready-export --help`, a bad option or a round the run never recorded answer at once; only
then does `prune_ready.exporter` (torch, the compaction, the data) load and do the work. The train
and analyze commands import lazily in their own modules (prune_ready.train, prune_ready.analyze).
"""

import argparse
import csv
import os
import sys
from collections.abc import Sequence
from pathlib import Path

# exporter.FORMATS's keys and exporter.KERNELS, spelled out here so that the parser needs no torch
# (tests/test_commands.py holds them equal).
FORMATS = ("torchscript", "exported", "onnx")
KERNELS = ("auto", "dense", "sparse")


def add_data_root(parser: argparse.ArgumentParser, whose: str = "the run's") -> None:
    """The `--data-root` option of the commands that re-read a run's data: a run made on another
    machine names a data folder that may not exist on this one."""
    parser.add_argument(
        "--data-root",
        default=os.environ.get("PRUNE_READY_DATA"),
        help=f"the data folder (default: $PRUNE_READY_DATA, else {whose} own data.root)",
    )


def export_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prune-ready-export",
        description="Export a run's pruned network at a round as a small, fast model file.",
    )
    parser.add_argument("run", help="a run directory (outputs/<study>/.../seed=0)")
    parser.add_argument("--round", type=int, help="the round to export (default: the last)")
    parser.add_argument("--format", choices=FORMATS, default="torchscript")
    parser.add_argument(
        "--kernels",
        choices=KERNELS,
        default="auto",
        help="linear layers dense, CSR (torch.sparse; TorchScript only), or per layer CSR where "
        "it is ≥ 10%% faster here at --tune-batch images (default)",
    )
    parser.add_argument("--tune-batch", type=int, default=64, help="batch size for auto")
    parser.add_argument("--out", type=Path, help="output folder (default: RUN/export)")
    add_data_root(parser)
    return parser


def recorded_rounds(run_dir: Path) -> list[int]:
    """The rounds a run's rounds.csv lists ([] without one: the export then says what is missing)."""
    try:
        with open(run_dir / "rounds.csv", newline="") as f:
            return [int(row["round"]) for row in csv.DictReader(f)]
    except (OSError, KeyError, ValueError):
        return []


def export(argv: Sequence[str] | None = None) -> None:
    """prune-ready-export (and python -m prune_ready.export)."""
    args = export_parser().parse_args(argv)
    rounds = recorded_rounds(Path(args.run))
    if args.round is not None and rounds and args.round not in rounds:
        sys.exit(
            f"error: round {args.round} is not in {Path(args.run)}: it recorded rounds "
            f"{min(rounds)} to {max(rounds)} (--round)"
        )
    from prune_ready.exporter import run

    run(args)
