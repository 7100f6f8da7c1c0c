"""Every file of a run directory and the columns of its tables, named once.

The writers (run/recorders.py, diagnostics.py, predictors.py, train.py, via results.py) and
the readers (results.py, status.py, export.py, analyze/) take the names from here. It imports
nothing, so the analysis can use it without loading Lightning or torch.
"""

from collections.abc import Mapping, Sequence
from typing import Any

CONFIG = "config.yaml"  # the fully resolved config of the run
ROUNDS = "rounds.csv"  # one row per round: ROUND_COLUMNS, then remaining_pct/<layer>
EPOCHS = "metrics.csv"  # one row per evaluation: EPOCH_COLUMNS
DIAGNOSTICS = "diagnostics.csv"  # one row per round and layer: DIAGNOSTIC_COLUMNS
PREDICTORS = "predictors.csv"  # one row: statistics of θ0 (prune_ready.predictors)
INIT = "init.pt"  # θ0, the rewind target
REWIND = "rewind.pt"  # θk, with pruning.reset.to > 0
MASK = "mask.pt"  # the final masks
ROUND_MASKS = "round_masks.pt"  # every round's masks, bit-packed
ROUND_WEIGHTS = "round_weights.pt"  # every round's trained weights at its end (survivors only)
CHECKPOINT = "checkpoint.ckpt"  # the last completed round's training state, while unfinished
FAILED = "FAILED"  # present when the run failed; its text says why
MACHINE = "machine.json"  # where each start of the run trained (prune_ready.machine)
MANIFEST = "manifest.json"  # written last: each file's size and sha256 (prune_ready.manifest)
UNFINISHED = "UNFINISHED"  # from a run's start until its manifest is written
STABILITY = "stability.csv"  # the linear path between two copies (prune_ready.stability)
TENSORBOARD = "tb"  # TensorBoard's event files

EPOCH_COLUMNS = (
    "epoch",
    "iteration",
    "round",
    "weights_remaining",
    "weights_remaining_pct",
    "train_loss",
    "val_loss",
    "val_acc",
    "test_acc",
    "lr",  # the learning rate of the evaluation's last step (prune_ready.recipe)
    "seconds",
)
ROUND_COLUMNS = (
    "round",
    "control",
    "epoch",
    "iteration",
    "weights_remaining",
    "weights_remaining_pct",
    "val_loss",
    "val_acc",
    "test_acc",
    "early_stop_epoch",
    "early_stop_iteration",
    "test_acc_at_early_stop",
)
REMAINING = "remaining_pct/"  # + a layer's name: the % of its weights left (rounds.csv)
DIAGNOSTIC_MEASURES = (  # see prune_ready/diagnostics.py
    "units",
    "fan_in_mean",
    "fan_in_min",
    "dead_in",
    "dead_out",
    "dead",
    "weight_rms",
    "intended_rms",
    "act_rms",
    "grad_norm",
)
DIAGNOSTIC_COLUMNS = ("round", "layer", *DIAGNOSTIC_MEASURES)


def row(columns: Sequence[str], values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` as a row of a table with `columns`, in their order; a missing or an extra
    value is a bug in the writer, and raises."""
    if set(values) != set(columns):
        raise ValueError(f"a row's keys {sorted(values)} are not the columns {list(columns)}")
    return {column: values[column] for column in columns}
