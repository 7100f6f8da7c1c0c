"""Checksums of a run's checkpoint, so that a damaged one is never resumed from.

A checkpoint that resumes with flipped bytes can train on and finish with nonsense (seen: a last
round with val_loss 2e25), and a truncated one fails with a long traceback on every rerun. So
each checkpoint is sealed: before it is renamed into place, `checkpoint.ckpt.sha256` is written
with its sha256 and the previous checkpoint's, so a kill between the two renames leaves a
checkpoint that still verifies. Before resuming, a checkpoint that matches neither is set aside
as `checkpoint.ckpt.corrupt` (kept for inspection, not deleted) and the run starts again from
its last verified state: from scratch, as no other state is kept.
"""

import json
import logging
import os
from pathlib import Path

from prune_ready import results
from prune_ready.manifest import sha256

SIDECAR = f"{results.CHECKPOINT}.sha256"
CORRUPT = f"{results.CHECKPOINT}.corrupt"
log = logging.getLogger(__name__)


def seal(tmp: Path, path: Path) -> None:
    """Record the sha256 of `tmp`, about to replace `path`, keeping the one `path` has now."""
    sidecar = path.with_name(SIDECAR)
    accepted = [sha256(tmp), *sealed(sidecar)[:1]]
    results.write_text_atomic(sidecar, json.dumps({"sha256": accepted}) + "\n")


def sealed(sidecar: Path) -> list[str]:
    """The checksums a checkpoint may have ([] without a readable sidecar)."""
    try:
        return [str(h) for h in json.loads(sidecar.read_bytes())["sha256"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def verified(run_dir: Path) -> bool:
    """Whether `run_dir` holds a checkpoint to resume from. One that does not match its seal
    (flipped bytes, cut short, or the seal itself damaged) is renamed to checkpoint.ckpt.corrupt,
    with one line saying so, and the run trains again from scratch."""
    path = run_dir / results.CHECKPOINT
    if not path.is_file():
        return False
    sidecar = run_dir / SIDECAR
    if sha256(path) in sealed(sidecar):
        return True
    os.replace(path, run_dir / CORRUPT)
    sidecar.unlink(missing_ok=True)
    log.warning(
        "%s does not match its checksum (damaged or cut short): set aside as %s; "
        "training %s again from the start",
        path,
        CORRUPT,
        run_dir,
    )
    return False


def discard(run_dir: Path) -> None:
    """Remove the seal with the checkpoint it sealed (a finished run keeps neither)."""
    (run_dir / SIDECAR).unlink(missing_ok=True)
