"""A run's completion manifest: the last file a run writes, so that "finished" means "all of it
was written" and a file damaged afterwards is noticed instead of read as data.

While a run trains, its directory holds UNFINISHED (written before config.yaml). When training
has ended and every other file is in place (the checkpoint removed), manifest.json is written
atomically with the size and sha256 of each file the run holds, and UNFINISHED is removed. So:

- manifest.json present: the run finished; readers check the sizes of all its files and hash
  the ones they read (`verify`), and refuse, in one line naming the file, one that differs;
- UNFINISHED present (and no manifest): killed somewhere before the end, even after its last
  rounds.csv row; running its command again resumes or retrains it;
- neither: a legacy run, written before manifests existed (every study under results/ and the
  test fixtures); it is judged by what it holds (`legacy_rounds`: rounds.csv must parse, one
  row per round, rounds numbered 0, 1, ...).
"""

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from pathlib import Path

from prune_ready import results
from prune_ready.errors import UserError
from prune_ready.run_format import MANIFEST, UNFINISHED

FILES = (
    results.ROUNDS,
    results.EPOCHS,
    results.CONFIG,
    results.INIT,
    results.REWIND,
    results.MASK,
    results.ROUND_MASKS,
    results.ROUND_WEIGHTS,
    results.DIAGNOSTICS,
    results.PREDICTORS,
    results.MACHINE,
)


class Damaged(UserError):
    """A run file (`path`) does not match the run's manifest, or a legacy run's rounds.csv is
    broken."""

    def __init__(self, message: str, path: Path | None = None) -> None:  # None: unpickled
        super().__init__(message)
        self.path = path


def rerun_hint(run_dir: Path) -> str:
    """The commands that bring a damaged run back: set it aside (prune_ready.repair), run its
    command again (a grid's command retrains only this run; the others are skipped)."""
    return (
        f"set it aside with python -m prune_ready.repair {run_dir}, then rerun its command "
        "(it trains again from round 0)"
    )


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def begin(run_dir: Path) -> None:
    """Mark `run_dir` as a run being written (before its config.yaml), so that a kill at any
    moment before `finish` leaves a run that reads as unfinished."""
    results.write_text_atomic(
        run_dir / UNFINISHED,
        "this run has not written its manifest.json yet: run its command again to complete it\n",
    )
    (run_dir / MANIFEST).unlink(missing_ok=True)


def finish(run_dir: Path) -> None:
    """Write the manifest of every file the run holds (the last write of a run)."""
    files = {
        name: {"size": (run_dir / name).stat().st_size, "sha256": sha256(run_dir / name)}
        for name in FILES
        if (run_dir / name).is_file()
    }
    text = json.dumps({"files": files}, indent=1, sort_keys=True) + "\n"
    results.write_text_atomic(run_dir / MANIFEST, text)
    (run_dir / UNFINISHED).unlink(missing_ok=True)


def reseal(run_dir: Path, name: str) -> None:
    """Record a file rewritten in a finished run by a later tool (predictors' backfill)."""
    files = load(run_dir)
    if files is not None:
        path = run_dir / name
        files[name] = {"size": path.stat().st_size, "sha256": sha256(path)}
        text = json.dumps({"files": files}, indent=1, sort_keys=True) + "\n"
        results.write_text_atomic(run_dir / MANIFEST, text)


def load(run_dir: Path) -> dict[str, dict] | None:
    """The manifest's {file: {size, sha256}}; None when the run has none."""
    path = run_dir / MANIFEST
    if not path.is_file():
        return None
    try:
        files = json.loads(path.read_bytes())["files"]
        if not all({"size", "sha256"} <= set(entry) for entry in files.values()):
            raise ValueError
    except (ValueError, KeyError, TypeError, AttributeError):
        raise Damaged(f"{path} is damaged (not a manifest): {rerun_hint(run_dir)}", path) from None
    return files


def verify(run_dir: Path, hashed: Iterable[str] | None = None) -> bool:
    """Check a finished run against its manifest: every listed file present with its size, and
    the sha256 of those in `hashed` (None: all), i.e. of what the caller is about to read.
    Returns False when the run has no manifest; raises Damaged naming the first bad file."""
    files = load(run_dir)
    if files is None:
        return False
    for name, entry in files.items():
        path = run_dir / name
        size = path.stat().st_size if path.is_file() else None
        if size != entry["size"]:
            found = (
                "missing" if size is None else f"{size} bytes, the manifest says {entry['size']}"
            )
            raise Damaged(
                f"{path} does not match the run's manifest ({found}): {rerun_hint(run_dir)}", path
            )
    for name in files if hashed is None else [n for n in hashed if n in files]:
        if sha256(run_dir / name) != files[name]["sha256"]:
            raise Damaged(
                f"{run_dir / name} does not match the run's manifest (its sha256 differs): "
                f"{rerun_hint(run_dir)}",
                run_dir / name,
            )
    return True


def legacy_rounds(run_dir: Path) -> int:
    """The rounds of a run without a manifest, checked as far as its rounds.csv can be: UTF-8,
    ending in a newline, every row as long as the header, rounds numbered 0, 1, ... (0 when there is no rounds.csv)."""
    path = run_dir / results.ROUNDS
    if not path.is_file():
        return 0
    data = path.read_bytes()
    try:
        rows = [row for row in csv.reader(io.StringIO(data.decode())) if row]
        header, body = rows[0], rows[1:]
        column = header.index("round")
        ok = data.endswith(b"\n") and all(len(row) == len(header) for row in body)
        ok = ok and [int(row[column]) for row in body] == list(range(len(body)))
    except (UnicodeDecodeError, csv.Error, IndexError, ValueError):
        ok = False
    if not ok:
        raise Damaged(
            f"{path} is damaged (not one complete row per round): {rerun_hint(run_dir)}", path
        )
    return len(body)
