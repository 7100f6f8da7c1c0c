"""prune-ready-tensorboard STUDY [-- TENSORBOARD ARGS]: TensorBoard over a study, each run named
by what tells it apart from the study's other runs.

TensorBoard names a run by its events folder's path below --logdir. A run's path says everything
that made it (`lenet_300_100-mnist/kaiming_normal/imp_seed/init.scale=0.5,optimizer=sgd/seed=3/tb`),
so over a study the names are long, mostly alike, and TensorBoard's run list cuts them before the
part that differs. This command makes a view of the study, one link per run to its events
folder, named by only the path parts and `key=value` settings that vary among the study's runs
(`init.scale=0.5/seed=3`), then starts TensorBoard on it. The view lives in the cache folder
($PRUNE_READY_CACHE, default ~/.cache/prune_ready, as the decoded images do), not in outputs/,
so that `tensorboard --logdir outputs/...` still lists each run once, by its full path. It is
rebuilt on each call (links only: the events stay in the runs, and a run still training shows
its new points); the runs themselves are not touched.
"""

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from prune_ready.errors import UserError

EVENTS = "events.out.tfevents.*"
LOGGER_DIR = "tb"  # conf/logger/tensorboard.yaml's name: a run's events folder, not a setting


def event_dirs(study: Path) -> list[Path]:
    """The folders below `study` that hold TensorBoard events, outside hidden folders (runs a
    repair set aside), in path order."""
    found = {p.parent for p in study.rglob(EVENTS)}
    return sorted(
        d for d in found if not any(p.startswith(".") for p in d.relative_to(study).parts)
    )


def items(relative: Path) -> list[tuple[tuple[int, str], str]]:
    """A run's path below the study as (key, text) items: a part without '=' is keyed by its
    position (the network and data, the init, the method); a `k=v,k2=v2` part gives one item per
    setting, keyed by its name, so that runs with and without a setting line up."""
    found = []
    for position, part in enumerate(relative.parts):
        if "=" in part:
            found += [((-1, s.split("=", 1)[0]), s) for s in part.split(",")]
        else:
            found.append(((position, ""), part))
    return found


def short_names(relatives: Sequence[Path]) -> list[str]:
    """For each path, the items that are not the same in every path, in its own order, joined
    as the path joined them (an item present in some paths only counts as varying); a path
    whose items are all shared keeps its full form, and so does every path should two short
    names coincide."""
    parsed = [items(r) for r in relatives]
    everywhere: dict[tuple[int, str], set[str]] = {}
    for run in parsed:
        for key, text in run:
            everywhere.setdefault(key, set()).add(text)
    shared = {
        key
        for key, texts in everywhere.items()
        if len(texts) == 1 and all(key in dict(run) for run in parsed)
    }
    names = []
    for relative, run in zip(relatives, parsed, strict=True):
        kept = {text for key, text in run if key not in shared}
        parts = []
        for part in relative.parts:
            settings = [s for s in (part.split(",") if "=" in part else [part]) if s in kept]
            if settings:
                parts.append(",".join(settings))
        names.append("/".join(parts) or relative.as_posix())
    if len(set(names)) < len(names) or nested(names):
        return [r.as_posix() for r in relatives]
    return names


def nested(names: Sequence[str]) -> bool:
    """Whether one name lies inside another: its link would go into the other's run."""
    return any(b.startswith(f"{a}/") for a in names for b in names)


def check_is_view(view: Path) -> None:
    """Refuse to replace a folder that holds anything but folders and links (what this command
    makes): --view pointed at a folder of one's own must not be emptied."""
    for folder, _, files in os.walk(view):
        for name in files:
            if not (Path(folder) / name).is_symlink():
                raise UserError(
                    f"{view} holds {Path(folder) / name}, not only the links this command makes: "
                    "choose another --view"
                )


def default_view(study: Path) -> Path:
    """<cache>/tensorboard/<study's name>-<its path's digest>: one view per study folder."""
    cache = Path(os.environ.get("PRUNE_READY_CACHE") or Path.home() / ".cache" / "prune_ready")
    digest = hashlib.sha256(str(study.resolve()).encode()).hexdigest()[:8]
    return cache / "tensorboard" / f"{study.resolve().name}-{digest}"


def build_view(study: Path, view: Path) -> dict[str, Path]:
    """`view` made afresh: {short name: the run's events folder}, one link each."""
    if view.exists():
        check_is_view(view)
    dirs = event_dirs(study)
    if not dirs:
        raise UserError(f"no TensorBoard events under {study}: train with logger=tensorboard")
    relatives = [d.relative_to(study) for d in dirs]
    runs = [r.parent if r.name == LOGGER_DIR else r for r in relatives]
    names = short_names(runs)
    if nested(names):  # runs inside runs: their events folders never hold one another
        names = [r.as_posix() for r in relatives]
    view.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{view.name}.", dir=view.parent))
    for name, events in zip(names, dirs, strict=True):
        link = fresh / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(events.resolve(), target_is_directory=True)
    if view.exists():  # only folders and links (checked above): what an earlier call made
        shutil.rmtree(view)
    fresh.rename(view)
    return dict(zip(names, dirs, strict=True))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="prune-ready-tensorboard",
        description="TensorBoard over a study, each run named by what tells it apart.",
        epilog="Arguments after -- go to tensorboard (e.g. -- --port 6007 --bind_all).",
    )
    parser.add_argument("study", type=Path, help="a study's folder (outputs/<name>)")
    parser.add_argument(
        "--view",
        type=Path,
        help="where the view goes (default: $PRUNE_READY_CACHE/tensorboard/<study>-<digest>)",
    )
    parser.add_argument(
        "--no-serve", action="store_true", help="only make the view and list its names"
    )
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--") if "--" in argv else len(argv)
    args, rest = parser.parse_args(argv[:split]), argv[split + 1 :]
    if not args.study.is_dir():
        sys.exit(f"error: {args.study} is not a folder")
    view = args.view or default_view(args.study)
    try:
        runs = build_view(args.study, view)
    except UserError as e:
        sys.exit(f"error: {e}")
    width = max(map(len, runs))
    for name, events in runs.items():
        print(f"{name:<{width}}  {events}")
    if args.no_serve:
        print(f"tensorboard --logdir {view}")
        return
    tensorboard = shutil.which("tensorboard")
    if tensorboard is None:
        sys.exit("error: tensorboard is not installed (pip install tensorboard)")
    os.execv(tensorboard, [tensorboard, "--logdir", str(view), *rest])


if __name__ == "__main__":
    main()
