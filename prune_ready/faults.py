"""Faults of the machine, not of the input, said in one line: a full disk, a read-only or
unwritable folder, an output path that names a file. Each would otherwise be a long traceback,
often after all the work was done."""

import errno
import os
from pathlib import Path

from prune_ready.errors import UserError

# what a user can fix by freeing space or choosing another folder
WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR}


def write_error(e: BaseException) -> UserError | None:
    """The one line for an OSError (or one it caused) a user can fix, else None."""
    while e is not None and not (isinstance(e, OSError) and e.errno in WRITE_ERRORS):
        e = e.__cause__ or e.__context__
    if e is None:
        return None
    where = f"{e.filename}: " if e.filename else ""
    fix = (
        "free some space" if e.errno in (errno.ENOSPC, errno.EDQUOT) else "choose a writable folder"
    )
    return UserError(f"cannot write {where}{e.strerror}: {fix}, then run the same command again")


NOT_A_FOLDER, NOT_WRITABLE = "is a file, not a folder", "is not writable"


def blocker(path: Path) -> tuple[Path, str] | None:
    """What keeps folder `path` from being made: a file on its path, or the deepest existing
    folder on it that cannot be written, with NOT_A_FOLDER or NOT_WRITABLE; None if nothing."""
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        return existing, NOT_A_FOLDER
    if not os.access(existing, os.W_OK | os.X_OK):
        return existing, NOT_WRITABLE
    return None


def check_out_dir(path: Path, option: str) -> None:
    """Refuse, before any work, an output folder that names a file or cannot be written."""
    if (found := blocker(path)) is not None:
        existing, why = found
        fix = "name a folder" if why == NOT_A_FOLDER else "choose another folder"
        raise UserError(f"{option} {path}: {existing} {why}: {fix}")
