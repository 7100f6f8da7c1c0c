"""Stability to SGD noise (linear mode connectivity, Frankle et al. 2020) as a branch of a run.

    python -m prune_ready.stability RUN_DIR [RUN_DIR ...] [--rounds all|0,4,8,13] [--points 11]

Frankle et al. 2020 find that IMP yields matching subnetworks exactly where the network is
*stable* at its rewind point: two copies trained from the same weights on two different data
orders end in one linearly connected region. For every chosen round of a finished run this
starts from the round's own starting point (the rewind point, θ0 or θk, times the round's mask,
as the pruning core built it), trains two copies for the round's length with the run's
optimizer, learning-rate schedule (replayed from where the run's round started it) and settings
on two data orders of their own, masks fixed, and evaluates validation and test error at
`points` evenly spaced α on the straight line between the two end points.

The copies' data orders come from the run seed's streams ``stability-data-order/0`` and ``/1``
(prune_ready.seeding): they differ from the run's order and from each other, and are the same at
every round, so the rounds of a run (and the inits of one seed) differ only in where they start.
Round 0 of a late-rewound run (pruning.reset.to=k) starts from θk, dense: the instability of the
network at its rewind point, as in the paper, not from θ0 as the run's own round 0 did.

RUN_DIR/stability.csv gets one row per round and α: the round, weights remaining, the rewind
point, α, validation and test loss and error (fractions), and per round the barrier (the largest
error on the path minus the mean of the two end points' errors, per split) and the L2 distance
between the copies (all parameters). A round's rows are written (atomically) when it finishes;
a rerun skips the rounds already there, and two launches split the runs (a lock per run).
Cost: two trainings of the round's length and 2·points evaluations per chosen round.
"""

import argparse
import copy
import csv
import glob
import logging
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch import Tensor, nn

from prune_ready import results, run_format
from prune_ready.cli import add_data_root
from prune_ready.data import InMemoryData
from prune_ready.errors import UserError
from prune_ready.inits import Init
from prune_ready.module import Classifier
from prune_ready.pruning import masks
from prune_ready.pruning.callback import Pruning
from prune_ready.pruning.resets import Keep, Rewind
from prune_ready.recipe import LRSchedule, optimizer_factory, run_recipe, set_rate
from prune_ready.run import branches
from prune_ready.rundir import exclusive
from prune_ready.seeding import derive_seed
from prune_ready.status import State, run_status
from prune_ready.train import default_threads

FILE = run_format.STABILITY
LOCK = ".stability.lock"
STREAM = "stability-data-order"
SPLITS = ("val", "test")
log = logging.getLogger(__name__)


@dataclass
class Branch:
    """A finished run, checked, to measure: its config and parts, and every round's masks."""

    path: Path
    cfg: DictConfig
    pruning: Pruning
    init: Init
    data_root: str

    @cached_property
    def masks(self) -> dict[int, dict[str, Tensor]]:
        """Read when the run is measured, not when it is checked: a glob of Conv-6 runs would
        otherwise hold every run's masks of every round at once."""
        return results.load_round_masks(self.path)

    @property
    def rewind_label(self) -> str:
        """Where the rounds start: '0' (θ0), the rewind step (θk, e.g. '1ep'), or 'keep' (the
        previous round's trained weights: pruning without resetting)."""
        reset = self.pruning.reset
        if isinstance(reset, Keep):
            return "keep"
        return str(reset.to) if reset.to.count else "0"

    def data(self, seed: int) -> InMemoryData:
        """The run's data (its split, subsets, batch size), with the data order of `seed`."""
        return instantiate(self.cfg.data, root=self.data_root, seed=seed)

    def network(self, num_classes: int, in_shape: tuple[int, ...]) -> nn.Module:
        net = instantiate(self.cfg.model.net, in_shape=in_shape, num_classes=num_classes)
        masks.add_masks(net)
        return net


def load_branch(run_dir: Path, data_root: str | None) -> Branch | None:
    """The run in `run_dir`, checked for what the measurement needs (None: the run failed)."""
    if not (run_dir / results.CONFIG).is_file():
        raise UserError(f"{run_dir} is not a run directory (no {results.CONFIG})")
    cfg = OmegaConf.load(run_dir / results.CONFIG)
    status = run_status(run_dir, cfg.pruning.rounds)
    if status.state is State.FAILED:
        log.info("skipped %s: %s", run_dir, status.describe())
        return None
    if status.state is not State.FINISHED:
        raise UserError(f"{run_dir} is {status.describe()}: let it finish first")
    if not (run_dir / results.ROUND_MASKS).is_file():
        raise UserError(f"{run_dir} has no {results.ROUND_MASKS}: train it again to measure it")
    pruning = instantiate(cfg.pruning)
    if pruning.control == "reinit":
        raise UserError(
            f"{run_dir} is a reinit control (fresh weights every round): measure its ticket run"
        )
    if pruning.schedule.has_step_events:
        raise UserError(
            f"{run_dir} ({pruning.name}) changes its mask during training: a round has no one "
            "mask to train the copies with"
        )
    if not isinstance(pruning.reset, Rewind | Keep):
        raise UserError(f"{run_dir}: pruning.reset {type(pruning.reset).__name__} not supported")
    late = isinstance(pruning.reset, Rewind) and pruning.reset.to.count
    if late and not (run_dir / results.REWIND).is_file():
        raise UserError(f"{run_dir} rewinds to θ{pruning.reset.to} but has no rewind.pt")
    kept = isinstance(pruning.reset, Keep) and pruning.rounds
    if kept and not (run_dir / results.ROUND_WEIGHTS).is_file():
        raise UserError(f"{run_dir} has no {results.ROUND_WEIGHTS}: train it again to measure it")
    root = data_root or cfg.data.root
    instantiate(cfg.data, root=root).check_root()  # a missing data folder: before any work
    init = instantiate(cfg.init)
    return Branch(run_dir, cfg, pruning, init, root)


def parse_rounds(text: str, rounds: int, option: str = "--rounds") -> list[int]:
    """'all' or a comma list of rounds ('0,4,8,13'), each in [0, rounds] (`option`: what the
    user set, for the error line)."""
    if text == "all":
        return list(range(rounds + 1))
    try:
        chosen = sorted({int(part) for part in text.split(",")})
    except ValueError:
        raise UserError(
            f"{option} {text!r}: write all or a comma list of rounds, e.g. 0,4,8"
        ) from None
    wrong = [r for r in chosen if not 0 <= r <= rounds]
    if wrong:
        raise UserError(f"{option} {text}: round {wrong[0]} is not in 0..{rounds}")
    return chosen


@torch.no_grad()
def start_point(branch: Branch, round_: int, net: nn.Module) -> None:
    """Set `net` to what round `round_` of the run started from, as the pruning core built it:
    the rewind point (θ0 from init.pt, θk from rewind.pt; under pruning without resetting the
    previous round's trained weights) times the round's mask, then the init's transform at
    rewind where the core applies one (after a rewind; after pruning at initialisation)."""
    reset, path = branch.pruning.reset, branch.path
    if isinstance(reset, Keep) and round_ > 0:
        params = results.load_round_weights(path)[round_ - 1]
    elif isinstance(reset, Rewind) and reset.to.count:
        params = torch.load(path / results.REWIND)
    else:
        params = torch.load(path / results.INIT)
    for name, param in net.named_parameters():
        param.copy_(params[name])
    masks.set_masks(net, {n: m.float() for n, m in branch.masks[round_].items()})
    pruned_at_init = round_ == 0 and bool(branch.pruning.schedule.init_events())
    rewound = round_ > 0 and branch.pruning.reset.transforms
    if branch.init.at_rewind is not None and (pruned_at_init or rewound):
        for layer in masks.prunable_layers(net).values():
            branch.init.at_rewind(layer.weight, layer.weight_mask)
        masks.MaskedWeights(net).apply_()


class CopyTraining(pl.Callback):
    """What the pruning core does to the steps of a run's round, for a copy: pruned weights stay
    exactly 0 (every optimizer step is followed by a re-masking) and, under a learning-rate
    schedule, step i takes the schedule's rate at iteration `start` + i (set before the step)."""

    def __init__(self, schedule: LRSchedule, start: int) -> None:
        self.schedule, self.start = schedule, start

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        masked = masks.MaskedWeights(pl_module.net)  # after the move to the device
        self.hooks = [
            optimizer.register_step_post_hook(lambda *_: masked.apply_())
            for optimizer in trainer.optimizers
        ]
        if not self.schedule.constant:
            self.hooks += [o.register_step_pre_hook(self.set_rate) for o in trainer.optimizers]
        self.step = 0

    def set_rate(self, optimizer: torch.optim.Optimizer, *_: Any) -> None:
        set_rate(optimizer, self.schedule.factor(self.start + self.step))
        self.step += 1

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        for hook in self.hooks:
            hook.remove()


def copy_seeds(seed: int) -> tuple[int, int]:
    """The two copies' data-order seeds, derived from the run seed (see the module docstring)."""
    return derive_seed(seed, STREAM, 0), derive_seed(seed, STREAM, 1)


def train_copy(
    branch: Branch,
    round_: int,
    start: nn.Module,
    data: InMemoryData,
    data_seed: int,
    callbacks: Sequence[pl.Callback] = (),
) -> nn.Module:
    """A copy of `start` (round `round_`'s starting point) trained for the run's round length
    with its optimizer, learning-rate schedule and trainer settings, on the data order of
    `data_seed`; masks fixed. No evaluation, nothing written. The schedule is replayed from
    where the run's round started it (`Reset.lr_start`: 0 after rewinding to θ0, k after
    rewinding to θk, round 0 of such a run included, as it starts from θk here; without
    resetting, where the run continued or replayed it). `callbacks` are added (tests use this
    to record the rates)."""
    data.setup()
    per_epoch = data.batches_per_data_epoch
    steps = branch.pruning.round_length.iterations(per_epoch)
    data.seed, data.steps_per_epoch = data_seed, steps  # one Lightning epoch: the whole round
    cfg = branch.cfg
    optimizer, schedule_node = run_recipe(cfg)
    schedule = instantiate(schedule_node)
    schedule.bind(per_epoch, steps)
    reset = branch.pruning.reset
    rewind_step = reset.to.iterations(per_epoch) if isinstance(reset, Rewind) else 0
    module = Classifier(
        copy.deepcopy(start),
        optimizer_factory(optimizer),
        num_classes=data.num_classes,
        channels_last=cfg.model.channels_last,
        compile=cfg.model.compile,
    )
    trainer = instantiate(
        cfg.trainer,
        devices=1,
        strategy="auto",  # a DDP run's copies train in this one process
        max_epochs=1,
        max_steps=-1,
        limit_val_batches=0,
        callbacks=[CopyTraining(schedule, reset.lr_start(round_, rewind_step, steps)), *callbacks],
        logger=False,
        enable_progress_bar=False,
        enable_checkpointing=False,
        default_root_dir=str(branch.path),
    )
    trainer.fit(module, datamodule=data)
    return module.net


@torch.no_grad()
def evaluate(net: nn.Module, x: Tensor, y: Tensor, batch_size: int) -> tuple[float, float]:
    """Mean cross-entropy and error (fraction misclassified) of `net` on (x, y)."""
    net.eval()
    loss, wrong = 0.0, 0
    for xb, yb in zip(x.split(batch_size), y.split(batch_size), strict=True):
        logits = net(xb)
        loss += float(F.cross_entropy(logits, yb, reduction="sum"))
        wrong += int((logits.argmax(1) != yb).sum())
    return loss / len(y), wrong / len(y)


def alphas(points: int) -> list[float]:
    return [i / (points - 1) for i in range(points)]


@torch.no_grad()
def interpolate(a: nn.Module, b: nn.Module, alpha: float, into: nn.Module) -> None:
    """`into`'s parameters := a + α(b − a) (torch.lerp: exactly a at 0, b at 1, and a
    everywhere when a == b); pruned weights are 0 in both ends, so they stay 0."""
    ends = zip(a.parameters(), b.parameters(), into.parameters(), strict=True)
    for pa, pb, out in ends:
        out.copy_(torch.lerp(pa, pb, alpha))


@torch.no_grad()
def l2_distance(a: nn.Module, b: nn.Module) -> float:
    """‖θa − θb‖₂ over all parameters (weights and biases), in float64."""
    pairs = zip(a.parameters(), b.parameters(), strict=True)
    return math.sqrt(sum(float((pa.double() - pb.double()).square().sum()) for pa, pb in pairs))


def barrier(errors: Sequence[float]) -> float:
    """The largest error on the path minus the mean of its two end points' errors."""
    return max(errors) - (errors[0] + errors[-1]) / 2


def path_rows(
    a: nn.Module, b: nn.Module, data: InMemoryData, points: int
) -> list[dict[str, float]]:
    """Loss and error on validation and test at each α, and the barriers and distance."""
    probe = copy.deepcopy(a)
    rows = []
    for alpha in alphas(points):
        interpolate(a, b, alpha, probe)
        row: dict[str, float] = {"alpha": alpha}
        for split in SPLITS:
            pairs = data.splits[split]
            loss, error = evaluate(probe, pairs.x, pairs.y, data.eval_batch_size)
            row |= {f"{split}_loss": loss, f"{split}_error": error}
        rows.append(row)
    per_round = {f"{s}_barrier": barrier([r[f"{s}_error"] for r in rows]) for s in SPLITS}
    per_round["l2_distance"] = l2_distance(a, b)
    return [row | per_round for row in rows]


def measure(branch: Branch, round_: int, points: int, seeds: tuple[int, int]) -> list[dict]:
    """Round `round_`'s rows of stability.csv: two copies trained from its start, the path."""
    data = branch.data(seeds[0])
    data.setup()
    start = branch.network(data.num_classes, data.in_shape)
    start_point(branch, round_, start)
    ends = [train_copy(branch, round_, start, data, seed) for seed in seeds]
    total, _, alive = masks.remaining(start)
    head = {
        "round": round_,
        "weights_remaining": alive,
        "weights_remaining_pct": round(100 * total, 4),
        "rewind": branch.rewind_label,
    }
    return [head | row for row in path_rows(*ends, data, points)]


def read_rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def measured_rounds(rows: list[dict[str, str]], points: int, path: Path) -> set[int]:
    """The rounds `rows` hold; an error if they were measured at another number of points."""
    counts: dict[int, int] = {}
    for row in rows:
        counts[int(row["round"])] = counts.get(int(row["round"]), 0) + 1
    other = {n for n in counts.values() if n != points}
    if other:
        raise UserError(
            f"{path} was measured at {(n := other.pop())} points: measure it at {n} points "
            "(--points, stability.points), or delete it"
        )
    return set(counts)


def measure_run(branch: Branch, rounds: list[int], points: int) -> bool:
    """Measure the chosen rounds of `branch` not yet in its stability.csv, each written when it
    is done. False: skipped (all there, or another process is measuring the run)."""
    path = branch.path / FILE
    if set(rounds) <= measured_rounds(read_rows(path), points, path):
        log.info("skipped %s: rounds %s measured already", branch.path, rounds)
        return False
    with exclusive(branch.path, LOCK) as mine:
        if not mine:
            log.info("skipped %s: another process is measuring it", branch.path)
            return False
        rows: list[dict[str, Any]] = read_rows(path)  # again: it may have changed meanwhile
        done = measured_rounds(rows, points, path)
        seeds = copy_seeds(branch.cfg.seed)
        for round_ in (r for r in rounds if r not in done):
            log.info("%s: round %d, two copies", branch.path, round_)
            rows += measure(branch, round_, points, seeds)
            rows.sort(key=lambda row: int(row["round"]))  # stable: α order within a round
            results.write_csv_atomic(path, rows)
            print(summary(branch.path, rows, round_))
    return True


def summary(run_dir: Path, rows: list[dict[str, Any]], round_: int) -> str:
    """One line per finished round: the barriers and the distance."""
    row = next(r for r in rows if int(r["round"]) == round_)
    return (
        f"{run_dir} round {round_} ({float(row['weights_remaining_pct']):.2f}% of the weights): "
        f"val barrier {float(row['val_barrier']):.4f}, test barrier "
        f"{float(row['test_barrier']):.4f}, L2 distance {float(row['l2_distance']):.3f}"
    )


def check_points(points: int, setting: str) -> None:
    """Refuse fewer than 3 points (`setting`: what the user wrote, for the error line)."""
    if points < 3:
        raise UserError(f"{setting}: must be at least 3 (both ends and between)")


def measure_ticket(cfg: DictConfig, run_dir: Path) -> State | None:
    """pruning.control=stability under prune_ready.train: measure the run of `cfg` without the
    control (the ticket, found by `run_dir`'s path as the controls find theirs, or
    pruning.ticket), the rounds stability.rounds at stability.points, into the ticket's
    stability.csv, as this command does. A failed ticket, or one measured already, is skipped
    (None). Nothing is written into `run_dir`: prune_ready.train removes the directory Hydra
    made for the branch."""
    check_points(cfg.stability.points, f"stability.points={cfg.stability.points}")
    rounds = cfg.stability.rounds
    text = rounds if isinstance(rounds, str) else ",".join(str(r) for r in rounds)
    ticket = branches.ticket_run("stability", cfg.pruning.ticket, run_dir, cfg)
    branch = load_branch(ticket, cfg.data.root)
    if branch is None:
        return None
    chosen = parse_rounds(text, branch.pruning.rounds, "stability.rounds")
    return State.FINISHED if measure_run(branch, chosen, cfg.stability.points) else None


def run_dirs(patterns: Sequence[str]) -> list[Path]:
    """The run directories named (quoted globs, ** included, are expanded here)."""
    found: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else []
        if glob.has_magic(pattern) and not matches:
            raise UserError(f"{pattern} matches no directory")
        found += [Path(p) for p in matches or [pattern]]
    return list(dict.fromkeys(found))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m prune_ready.stability",
        description="Stability to SGD noise: two copies of chosen rounds of finished runs, "
        "trained on two data orders, and the error barrier on the line between them.",
    )
    parser.add_argument("runs", nargs="+", help="run directories (or quoted globs)")
    parser.add_argument(
        "--rounds", default="all", help="all, or a comma list of rounds, e.g. 0,4,8,13"
    )
    parser.add_argument(
        "--points", type=int, default=11, help="evenly spaced α from 0 to 1 (default 11)"
    )
    add_data_root(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        check_points(args.points, f"--points {args.points}")
        branches = [load_branch(path, args.data_root) for path in run_dirs(args.runs)]
        chosen = [
            (b, parse_rounds(args.rounds, b.pruning.rounds)) for b in branches if b is not None
        ]
        for branch, _ in chosen:  # another number of points: refused before any training
            measured_rounds(read_rows(branch.path / FILE), args.points, branch.path / FILE)
        torch.set_num_threads(int(os.environ.get("PRUNE_READY_THREADS") or default_threads()))
        for branch, rounds in chosen:
            measure_run(branch, rounds, args.points)
    except UserError as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
