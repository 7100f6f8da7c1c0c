"""Where a run trained: the facts that decide its floating-point sums, and a key that names them.

The same config and seed give byte-identical results only on the same kind of CPU with the same
torch build and thread count: another CPU model picks other vectorised kernels (oneDNN, MKL) and
another thread count sums in another order, so one seed differs by tenths of a point across
machines. Each start (and resume) of a run appends one record to the run's `machine.json`; the
analysis pairs two runs by seed only when their `key`s are equal.

The key covers what changes the numbers (CPU vendor, family, model, stepping, its instruction
set flags, torch's version and CPU capability, the thread count, the accelerator), not what only
names the host (hostname, boot id), which the record keeps for the reader.
"""

import hashlib
import json
import platform
import socket
import time
from pathlib import Path
from typing import Any

FIELDS = ("cpu", "cpu_id", "cpu_flags", "torch", "cpu_capability", "threads", "accelerator")


def cpu_info() -> dict[str, str]:
    """The first processor's entries of /proc/cpuinfo (empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    first = text.split("\n\n")[0]
    return {
        k.strip(): v.strip() for k, _, v in (line.partition(":") for line in first.splitlines())
    }


def describe(threads: int, accelerator: str = "cpu") -> dict[str, Any]:
    """This process's machine as a record (see the module docstring); `key` names its FIELDS."""
    import torch  # here: the analysis reads records without loading torch

    info = cpu_info()
    flags = info.get("flags", "")
    record: dict[str, Any] = {
        "cpu": info.get("model name") or platform.processor() or platform.machine(),
        "cpu_id": "/".join(
            info.get(k, "?") for k in ("vendor_id", "cpu family", "model", "stepping")
        ),
        "cpu_flags": hashlib.sha256(" ".join(sorted(flags.split())).encode()).hexdigest()[:12],
        "torch": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "threads": threads,
        "accelerator": accelerator,
    }
    if accelerator not in ("cpu", "auto") and torch.cuda.is_available():
        record["accelerator"] = torch.cuda.get_device_name(0)
    record["key"] = key(record)
    record["host"] = socket.gethostname()
    record["started"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return record


def key(record: dict[str, Any]) -> str:
    """A short name for the FIELDS of `record`: equal keys, equal floating-point sums."""
    text = json.dumps({f: record.get(f) for f in FIELDS}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def append(path: Path, record: dict[str, Any], from_round: int) -> list[dict[str, Any]]:
    """The records in `path` with `record` added (from_round: the first round this start
    trains); the caller writes them (atomically)."""
    records = read(path)
    return [*records, {**record, "from_round": from_round}]


def read(path: Path) -> list[dict[str, Any]]:
    """The records of a run's machine.json ([] for runs from before it was written)."""
    if not path.is_file():
        return []
    return json.loads(path.read_text())


def run_key(records: list[dict[str, Any]]) -> str:
    """The machine a run trained on: its key, "" when unrecorded, "mixed:a+b" when a resume
    moved it to another kind of machine (then it pairs with nothing but itself)."""
    keys = list(dict.fromkeys(r["key"] for r in records))
    return keys[0] if len(keys) == 1 else ("mixed:" + "+".join(keys) if keys else "")
