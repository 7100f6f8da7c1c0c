"""Whether a run finished, failed or is unfinished, from the files it left behind.

A run is FINISHED when rounds.csv holds one row per round (pruning.rounds + 1); it FAILED when
its directory holds a file named FAILED (whose text is the reason); otherwise it is UNFINISHED
(still running, killed, or not started). Training uses this to skip finished runs; the analysis
to list unfinished and failed ones.
"""

import csv
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from prune_ready import results


class State(StrEnum):
    FINISHED = "finished"
    UNFINISHED = "unfinished"
    FAILED = "failed"


@dataclass(frozen=True)
class RunStatus:
    state: State
    rounds_done: int  # rows in rounds.csv
    rounds_expected: int  # pruning.rounds + 1
    reason: str = ""  # the FAILED file's text

    def describe(self) -> str:
        """One line for listings, e.g. 'unfinished: 2 of 21 rounds'."""
        if self.state is State.FAILED:
            return f"failed with {self.rounds_done} of {self.rounds_expected} rounds: {self.reason}"
        return f"{self.state}: {self.rounds_done} of {self.rounds_expected} rounds"


def run_status(run_dir: str | Path, rounds: int) -> RunStatus:
    """The status of the run in `run_dir`, configured for `rounds` pruning steps."""
    run_dir = Path(run_dir)
    done = count_rows(run_dir / results.ROUNDS)
    expected = rounds + 1
    failed = run_dir / results.FAILED
    if failed.is_file():
        reason = " ".join(failed.read_text(errors="replace").split()) or "(no reason given)"
        return RunStatus(State.FAILED, done, expected, reason)
    state = State.FINISHED if done >= expected else State.UNFINISHED
    return RunStatus(state, done, expected)


def count_rows(path: Path) -> int:
    """Data rows of a CSV file with a header; 0 when it does not exist."""
    if not path.is_file():
        return 0
    with open(path, newline="") as f:
        return max(sum(1 for row in csv.reader(f) if row) - 1, 0)
