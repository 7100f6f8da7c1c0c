"""A run that does not learn is not a result: a dense network at chance accuracy is marked
failed, like one whose loss went non-finite.

Too high a learning rate can keep the loss finite while the network predicts one class (seen:
model.lr=1e3, 12% accuracy on MNIST, which entered the statistics as a finished run). Only the
dense round (round 0) is checked: a heavily pruned network that falls to chance is a finding of
the study (layer collapse), not a failed run.
"""

from typing import Any

from prune_ready.errors import Diverged

CHANCE_MARGIN = 0.05  # accuracy points above 1/num_classes still counted as chance


def check_learned(row: dict[str, Any], num_classes: int) -> None:
    """Raise Diverged when round 0's validation accuracy is at most chance + CHANCE_MARGIN."""
    chance = 1 / num_classes
    if row["round"] == 0 and row["val_acc"] <= chance + CHANCE_MARGIN:
        raise Diverged(
            f"val/acc is {row['val_acc']} after round 0 ({row['iteration']} iterations), at "
            f"chance (at most 1/{num_classes} + {CHANCE_MARGIN}): the network did not learn; "
            "try a lower learning rate (optimizer.lr: model.lr under adam and adamw) or another init"
        )
