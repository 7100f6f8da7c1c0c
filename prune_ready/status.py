"""Whether a run finished, failed or is unfinished, from the files it left behind.

A run FAILED when its directory holds a file named FAILED (whose text is the reason); it is
FINISHED when its manifest.json exists and verifies (prune_ready.manifest), or, for a legacy run
written before manifests, when its rounds.csv holds one complete row per round (pruning.rounds +
1); otherwise it is UNFINISHED (still running, killed, or not started). Training uses this to skip finished runs; the analysis
to list unfinished and failed ones.
"""

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from prune_ready import manifest, results


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
    legacy: bool = False  # written before manifests: checked by its rounds.csv only

    def describe(self) -> str:
        """One line for listings, e.g. 'unfinished: 2 of 21 rounds'."""
        if self.state is State.FAILED:
            return f"failed with {self.rounds_done} of {self.rounds_expected} rounds: {self.reason}"
        return f"{self.state}: {self.rounds_done} of {self.rounds_expected} rounds"


def run_status(run_dir: str | Path, rounds: int, hashed: Iterable[str] | None = None) -> RunStatus:
    """The status of the run in `run_dir`, configured for `rounds` pruning steps. A finished
    run's files are checked against its manifest, hashing those named in `hashed` (None: all):
    a mismatch raises manifest.Damaged (one line naming the file)."""
    run_dir = Path(run_dir)
    expected = rounds + 1
    failed = run_dir / results.FAILED
    if failed.is_file():
        reason = " ".join(failed.read_text(errors="replace").split()) or "(no reason given)"
        return RunStatus(State.FAILED, count_rows(run_dir / results.ROUNDS), expected, reason)
    if manifest.verify(run_dir, hashed):
        return RunStatus(State.FINISHED, count_rows(run_dir / results.ROUNDS), expected)
    if (run_dir / manifest.UNFINISHED).is_file():
        return RunStatus(State.UNFINISHED, count_rows(run_dir / results.ROUNDS), expected)
    done = manifest.legacy_rounds(run_dir)
    state = State.FINISHED if done >= expected else State.UNFINISHED
    return RunStatus(state, done, expected, legacy=True)


def count_rows(path: Path) -> int:
    """Data rows of a CSV file with a header; 0 when it does not exist."""
    if not path.is_file():
        return 0
    with open(path, newline="", errors="replace") as f:
        return max(sum(1 for row in csv.reader(f) if row) - 1, 0)
