"""Run-directory files (named in prune_ready.run_format), always written atomically (temp file
+ rename), and the bit-packed masks and survivor weights read back.

A killed run never leaves a truncated file that an analysis would read as data: each file either
has its previous complete content or its new complete content. The file names are re-exported
here (results.ROUNDS) for the writers, which import this module anyway.
"""

from __future__ import annotations  # torch types in signatures: imported where used

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prune_ready.run_format import (
    CHECKPOINT,
    CONFIG,
    DIAGNOSTICS,
    EPOCHS,
    FAILED,
    INIT,
    MACHINE,
    MASK,
    PREDICTORS,
    REWIND,
    ROUND_MASKS,
    ROUND_WEIGHTS,
    ROUNDS,
)

__all__ = [
    "CHECKPOINT",
    "CONFIG",
    "DIAGNOSTICS",
    "EPOCHS",
    "FAILED",
    "INIT",
    "MACHINE",
    "MASK",
    "PREDICTORS",
    "REWIND",
    "ROUNDS",
    "ROUND_MASKS",
    "ROUND_WEIGHTS",
    "TEMP",
    "csv_text",
    "load_round_masks",
    "load_round_weights",
    "pack_mask",
    "remove_stale_temps",
    "save_atomic",
    "survivor_values",
    "temp_prefix",
    "unpack_mask",
    "unpack_survivors",
    "write_atomic",
    "write_csv_atomic",
    "write_text_atomic",
]

# torch loads in seconds: the analysis's command line reads run files without it (status,
# manifests), so the functions that need it import it.
if TYPE_CHECKING:
    import torch

UMASK = os.umask(0o022)
os.umask(UMASK)


# A file being written is a hidden temporary beside it, `.<name>.<random>.tmp` (the checkpoint's:
# `.checkpoint.ckpt.tmp`), renamed into place once whole. A SIGKILL mid-write leaves it behind:
# a run removes its own when it resumes (remove_stale_temps).
TEMP = ".tmp"


def temp_prefix(path: Path) -> str:
    """How the names of `path`'s temporary files begin."""
    return f".{path.name}."


def remove_stale_temps(run_dir: Path) -> list[str]:
    """Remove the temporary files killed writes left in `run_dir`, and return their names.
    Only the holder of the run's lock writes there: call it holding the lock."""
    stale = sorted(p for p in run_dir.glob(f".*{TEMP}") if p.is_file())
    for path in stale:
        path.unlink()
    return [path.name for path in stale]


def write_atomic(path: str | Path, data: bytes) -> None:
    """Replace `path` with `data` in one step, durable once this returns."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix(path), suffix=TEMP)
    try:
        os.fchmod(fd, 0o666 & ~UMASK)  # mkstemp makes 0600; results are for colleagues too
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    write_atomic(path, text.encode())


def save_atomic(obj: Any, path: str | Path) -> None:
    """torch.save, atomically."""
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_atomic(path, buffer.getvalue())


def csv_text(rows: Iterable[Mapping[str, Any]]) -> str:
    """Rows of dicts as CSV; columns in first-seen order."""
    rows = list(rows)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def write_csv_atomic(path: str | Path, rows: Iterable[Mapping[str, Any]]) -> None:
    write_text_atomic(path, csv_text(rows))


def pack_mask(mask: torch.Tensor) -> torch.Tensor:
    """A 0/1 mask as bits, 8 to a byte (a Conv-6 mask: 283 KB instead of 9 MB of floats)."""
    import torch

    bits = mask.flatten().bool()
    bits = torch.cat([bits, bits.new_zeros(-len(bits) % 8)]).view(-1, 8).to(torch.uint8)
    return (bits << torch.arange(8, dtype=torch.uint8)).sum(1, dtype=torch.uint8)


def unpack_mask(packed: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """The inverse of pack_mask: a bool tensor of `shape`."""
    import torch

    bits = (packed.unsqueeze(1) >> torch.arange(8, dtype=torch.uint8)) & 1
    return bits.flatten()[: torch.Size(shape).numel()].view(shape).bool()


def load_round_masks(run_dir: str | Path) -> dict[int, dict[str, torch.Tensor]]:
    """Every round's masks of a run, as bool tensors: {round: {layer: mask}}."""
    import torch

    saved = torch.load(Path(run_dir) / ROUND_MASKS)
    return {
        int(r): {name: unpack_mask(bits, saved["shapes"][name]) for name, bits in layers.items()}
        for r, layers in saved["rounds"].items()
    }


def survivor_values(params: dict[str, torch.Tensor], masks: dict[str, torch.Tensor]) -> dict:
    """A network's parameters, small: a pruned layer's weight as its surviving values only (in
    the mask's flat order), everything else whole. `unpack_survivors` inverts it."""
    out = {}
    for name, param in params.items():
        layer = name.removesuffix(".weight")
        kept = param.detach().cpu()
        out[name] = kept[masks[layer].cpu().bool()] if layer in masks else kept.clone()
    return out


def unpack_survivors(
    values: dict[str, torch.Tensor], masks: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Dense parameters from `survivor_values`' output and the same masks (pruned weights 0)."""
    out = {}
    for name, value in values.items():
        layer = name.removesuffix(".weight")
        if layer in masks:
            dense = value.new_zeros(masks[layer].shape)
            dense[masks[layer].bool()] = value
            value = dense
        out[name] = value
    return out


def load_round_weights(run_dir: str | Path) -> dict[int, dict[str, torch.Tensor]]:
    """Every round's trained parameters at the round's end, dense: {round: {name: tensor}}."""
    import torch

    masks = load_round_masks(run_dir)
    saved = torch.load(Path(run_dir) / ROUND_WEIGHTS)
    return {int(r): unpack_survivors(values, masks[int(r)]) for r, values in saved.items()}
