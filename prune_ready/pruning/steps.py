"""One type for "N epochs" or "N iterations" of training, written ``5ep`` or ``50000it``.

Round lengths, evaluation intervals, rewind points and pruning intervals are all Steps, so a
schedule is stated once in either unit and converted to iterations only where the number of
batches in an epoch is known (at the start of training).
"""

import re
from dataclasses import dataclass

UNITS = {"ep": "epochs", "it": "iterations"}
PATTERN = re.compile(r"^\s*(\d+)\s*(ep|it)\s*$")


@dataclass(frozen=True)
class Step:
    count: int
    unit: str  # "ep" or "it"

    @classmethod
    def parse(cls, value: "Step | str | int") -> "Step":
        """``"5ep"``, ``"50000it"``, a Step, or ``0`` (the start of training, in no unit)."""
        if isinstance(value, Step):
            return value
        if value == 0 or value == "0":
            return cls(0, "it")
        match = PATTERN.match(value) if isinstance(value, str) else None
        if match is None:
            raise ValueError(
                f"{value!r} is not a training length: write N followed by ep (epochs) or it "
                "(iterations), e.g. 5ep or 50000it"
            )
        return cls(int(match[1]), match[2])

    def iterations(self, steps_per_epoch: int) -> int:
        return self.count * (steps_per_epoch if self.unit == "ep" else 1)

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"
