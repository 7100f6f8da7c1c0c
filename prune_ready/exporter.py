"""Take the ticket out: a run's pruned network at a round as a small, fast model file.

The work of `python -m prune_ready.export` (its command line: prune_ready.cli):

    python -m prune_ready.export RUN [--round R] [--format torchscript|exported|onnx]
                                     [--kernels auto|dense|sparse] [--tune-batch 64] [--out DIR]

RUN is one run's directory (outputs/<study>/.../seed=0). The round's masks (round_masks.pt)
and the weights its training ended with (round_weights.pt, survivors only) are compacted
(prune_ready.compact: dead units folded away, unread pixels not gathered) into a network that
takes images on the [0, 1] scale, shaped as the dataset gives them, with the run's
normalisation inside, and returns logits. The file is written to DIR (default: RUN/export) as
round<R>.pt (TorchScript: torch.jit.load), round<R>.pt2 (torch.export: torch.export.load(...)
.module()) or round<R>.onnx, with round<R>.<ext>.json describing it. Before anything is
written, the file is loaded back and run on the whole test set, and its logits must equal the
masked network's (max |difference| ≤ 1e-5 × the largest |logit|, at least 1e-5: two fp32
evaluations of one network in different summation orders differ that much).
"""

import argparse
import importlib.util
import io
import json
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf
from torch import Tensor, nn
from tqdm import tqdm

from prune_ready import manifest, results
from prune_ready.build import build as build_run
from prune_ready.build import network
from prune_ready.compact import Structure, compact_sizes, structure
from prune_ready.compact_net import DENSE, SPARSE, CompactNet, build, choose_kernels
from prune_ready.data import normalise
from prune_ready.errors import UserError
from prune_ready.faults import check_out_dir
from prune_ready.models.description import Description, describe
from prune_ready.status import State, run_status

FORMATS = {"torchscript": ".pt", "exported": ".pt2", "onnx": ".onnx"}
KERNELS = ("auto", DENSE, SPARSE)
RELATIVE_TOLERANCE = 1e-5
CHUNK = 1000  # test images per forward in the check


class NotExact(Exception):
    """The exported model's logits differ from the masked network's: a bug, nothing written."""


@dataclass
class Run:
    """A finished (or partly finished) run, with what an export and a benchmark need."""

    path: Path
    cfg: DictConfig
    masks: dict[int, dict[str, Tensor]]  # per round, bool
    weights: dict[int, dict[str, Tensor]]  # per round, dense (pruned weights 0)
    network: Description  # the network's layers in forward order and input shape
    num_classes: int
    mean: Tensor  # the run's input normalisation, per channel, on the [0, 1] scale
    std: Tensor
    test_raw: Tensor  # the whole test set as stored, uint8
    test_labels: Tensor

    @property
    def test_images(self) -> Tensor:
        """The test set as an exported model takes it: float32 on the [0, 1] scale."""
        return self.test_raw.float() / 255

    def round_range(self) -> str:
        return f"{min(self.masks)} to {max(self.masks)}"

    def check_round(self, round_: int) -> None:
        if round_ not in self.masks or round_ not in self.weights:
            raise UserError(
                f"round {round_} is not in {self.path}: it recorded rounds "
                f"{self.round_range()} (--round)"
            )

    @property
    def in_shape(self) -> tuple[int, int, int]:
        return self.network.in_shape

    def structure(self, round_: int) -> Structure:
        return structure(self.masks[round_], self.network)

    def trained(self, round_: int) -> nn.Module:
        """The round's trained network as the run held it: dense, pruned weights zero."""
        net = network(self.cfg, self.in_shape, self.num_classes)
        net.load_state_dict(self.weights[round_])
        return net.eval()

    def compact(
        self, round_: int, kernels: str | Sequence[str] = DENSE, packed: bool = False
    ) -> CompactNet:
        return build(
            self.structure(round_),
            self.weights[round_],
            self.masks[round_],
            self.mean,
            self.std,
            kernels,
            packed,
        )


def load_run(run_dir: str | Path, data_root: str | None = None) -> Run:
    """A run's config, every round's masks and trained weights, and its test set (read from
    `data_root` if given, else from where the run read it)."""
    path = Path(run_dir)
    if not (path / results.CONFIG).is_file():
        raise UserError(
            f"{path} is not a run directory (no {results.CONFIG}): pass one run's folder, "
            "e.g. outputs/<study>/lenet_300_100-mnist/<init>/imp/seed=0"
        )
    for name, what in ((results.ROUND_MASKS, "masks"), (results.ROUND_WEIGHTS, "trained weights")):
        if not (path / name).is_file():
            raise UserError(
                f"{path} has no {name} (every round's {what}): it was trained before "
                "prune_ready recorded them, or has not finished a round yet; train it again "
                "with the current prune_ready to export it"
            )
    manifest.verify(path, [results.CONFIG])  # a damaged config is one line, not a yaml error
    cfg = OmegaConf.load(path / results.CONFIG)
    status = run_status(
        path, cfg.pruning.rounds, hashed=[results.ROUND_MASKS, results.ROUND_WEIGHTS]
    )
    if status.state is not State.FINISHED:  # its last round would not be the run's last
        raise UserError(f"{path} is {status.describe()}: finish it first (rerun its command)")
    masks = results.load_round_masks(path)
    weights = results.load_round_weights(path)
    # the normalisation statistics of the run's training split, the network as it was built
    built = build_run(cfg, root=data_root or cfg.data.root, test_subset=None)
    datamodule = built.datamodule
    raw = datamodule.load()  # the test images as stored, uint8
    return Run(
        path=path,
        cfg=cfg,
        masks={r: {n: m.bool() for n, m in layers.items()} for r, layers in masks.items()},
        weights=weights,
        network=describe(built.net),
        num_classes=datamodule.num_classes,
        mean=datamodule.mean,
        std=datamodule.std,
        test_raw=raw.test_x,
        test_labels=raw.test_y,
    )


@torch.no_grad()
def logits(forward: Callable[[Tensor], Tensor], images: Tensor, desc: str) -> Tensor:
    """forward over `images` in chunks, with a progress bar."""
    chunks = images.split(CHUNK)
    bar = tqdm(
        chunks, desc=desc, unit="chunk", file=sys.stderr, leave=False, disable=len(chunks) < 2
    )
    return torch.cat([torch.as_tensor(forward(chunk)) for chunk in bar])


def reference_logits(run: Run, round_: int, count: int | None = None) -> Tensor:
    """The masked network's logits on the test set (its first `count` images), fed the way
    training fed it."""
    net = run.trained(round_)
    forward = lambda x: net(normalise(x, run.mean, run.std))  # noqa: E731
    return logits(forward, run.test_raw[:count], "masked network")


def check_exact(reference: Tensor, candidate: Tensor, what: str) -> dict[str, float]:
    """Raise NotExact unless `candidate` equals `reference` up to fp32 rounding."""
    tolerance = RELATIVE_TOLERANCE * max(1.0, float(reference.abs().max()))
    difference = float((candidate - reference).abs().max())
    if not difference <= tolerance:
        raise NotExact(
            f"{what}: its logits differ from the masked network's by up to {difference:.3g} "
            f"(tolerance {tolerance:.3g}); nothing was written. This is a bug: please report it"
        )
    return {"max_abs_diff": difference, "tolerance": tolerance}


def serialise(net: CompactNet, fmt: str, example: Tensor) -> bytes:
    """The model file's bytes: TorchScript, torch.export's .pt2 or ONNX, batch size dynamic."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated; still works
        if fmt == "torchscript":
            torch.jit.save(torch.jit.script(net), buffer)
            return buffer.getvalue()
        batch = {0: torch.export.Dim("batch", min=1)}
        if fmt == "exported":
            program = torch.export.export(net, (example,), dynamic_shapes={"x": batch})
            program.example_inputs = None  # the file need not carry the tracing images
            for node in program.graph.nodes:  # nor where each operation was traced from
                node.meta.pop("stack_trace", None)
            torch.export.save(program, buffer)
            return buffer.getvalue()
        program = torch.onnx.export(
            net,
            (example,),
            dynamo=True,
            dynamic_shapes={"x": batch},
            input_names=["images"],
            output_names=["logits"],
            verbose=False,
            optimize=False,  # its constant folding would store packed weights dense again
        )
        model = program.model_proto
        for node in model.graph.node:  # where each operation was traced from (~40 KB)
            del node.metadata_props[:]
        return model.SerializeToString()


def loader(fmt: str, data: bytes) -> Callable[[Tensor], Tensor] | None:
    """The written file, loaded back as a function of images (None: ONNX without onnxruntime)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        if fmt == "torchscript":
            return torch.jit.load(io.BytesIO(data))
        if fmt == "exported":
            return torch.export.load(io.BytesIO(data)).module()
    if importlib.util.find_spec("onnxruntime") is None:
        return None
    import onnxruntime

    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: x.numpy()})[0]


def check_format(fmt: str, kernels: str) -> None:
    """Fail before any work when the format cannot be written here or hold the kernels."""
    if fmt == "onnx":
        missing = [p for p in ("onnx", "onnxscript") if importlib.util.find_spec(p) is None]
        if missing:
            raise UserError(
                f"--format onnx needs the {' and '.join(missing)} package"
                f"{'s' if len(missing) > 1 else ''}: pip install onnx onnxscript onnxruntime "
                "(prune_ready's [onnx] extra), or use --format torchscript or exported"
            )
    if fmt != "torchscript" and kernels == SPARSE:
        raise UserError(
            f"--format {fmt} cannot hold torch.sparse layers: use --format torchscript with "
            "--kernels sparse, or --kernels dense"
        )


@dataclass
class Export:
    """A model file that passed the check, and what describes it."""

    data: bytes
    info: dict[str, Any]


def export(run: Run, round_: int, fmt: str, kernels: str = "auto", tune_batch: int = 64) -> Export:
    """Compact the round, write the format into memory, load it back and check it on the test
    set. `kernels`: dense, sparse, or auto (per linear layer, CSR where it is clearly faster at
    `tune_batch` images on this CPU; always dense for formats without torch.sparse)."""
    check_format(fmt, kernels)
    run.check_round(round_)
    timings: list[dict] = []
    if kernels == "auto":
        net = run.compact(round_)
        chosen, timings = choose_kernels(net, tune_batch) if fmt == "torchscript" else ([], [])
        net = run.compact(round_, chosen or DENSE, packed=True)
    else:
        net = run.compact(round_, kernels, packed=True)
    reference = reference_logits(run, round_)
    images = run.test_images
    out = logits(net, images, "compacted network")
    check = check_exact(reference, out, "the compacted network")
    data = serialise(net, fmt, images[:2].clone())  # a view would save all images
    loaded = loader(fmt, data)
    ran = "the torch module (onnxruntime not installed: pip install onnxruntime to run the file)"
    if loaded is not None:
        out = logits(loaded, images, f"{fmt} file")
        check = check_exact(reference, out, f"the {fmt} file")
        ran = "onnxruntime" if fmt == "onnx" else f"the {fmt} file, loaded back"
    labels = run.test_labels
    info = {
        "run": str(run.path.resolve()),
        "round": round_,
        "model": run.cfg.model.name,
        "data": run.cfg.data.name,
        "format": fmt,
        "input": f"float32 N×{'×'.join(map(str, run.in_shape))}, on the [0, 1] scale",
        "output": f"logits N×{run.num_classes}",
        "normalisation": {"mean": run.mean.tolist(), "std": run.std.tolist()},
        "kernels": net.kernels,
        "kernel_times": timings,
        "compaction": compact_sizes(run.masks[round_], run.network),
        "check": {
            "images": len(labels),
            "checked": ran,
            **check,
            "test_acc": accuracy(out, labels),
            "test_acc_masked": accuracy(reference, labels),
        },
        "bytes": len(data),
    }
    return Export(data, info)


def accuracy(scores: Tensor, labels: Tensor) -> float:
    return round(float((scores.argmax(1) == labels).double().mean()), 6)


def write(result: Export, out_dir: Path) -> Path:
    """The model file and its description, each written atomically."""
    info = result.info
    path = out_dir / f"round{info['round']}{FORMATS[info['format']]}"
    results.write_atomic(path, result.data)
    results.write_text_atomic(f"{path}.json", json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    return path


def summary(info: dict[str, Any], path: Path) -> str:
    sizes, check = info["compaction"], info["check"]
    layers = [k.removeprefix("units/") for k in sizes if k.startswith("units/")]
    before = "-".join(str(sizes[f"units_total/{n}"]) for n in layers)
    after = "-".join(str(sizes[f"units/{n}"]) for n in layers)
    return (
        f"round {info['round']}: {sizes['weights']:,} weights; inputs {sizes['inputs_total']} → "
        f"{sizes['inputs']}, units {before} → {after}, kernels {', '.join(info['kernels'])}\n"
        f"checked ({check['checked']}) on {check['images']:,} test images: max |Δ logit| "
        f"{check['max_abs_diff']:.2g} (tolerance {check['tolerance']:.2g}), test accuracy "
        f"{check['test_acc']:.4f} (masked network {check['test_acc_masked']:.4f})\n"
        f"wrote {path} ({info['bytes']:,} bytes) and {path.name}.json"
    )


def run(args: argparse.Namespace) -> None:
    """Export as the parsed command line says; bad input is one line."""
    try:
        check_format(args.format, args.kernels)
        if args.out:
            check_out_dir(args.out, "--out")  # before the work, not after it
        if args.tune_batch < 1:
            raise UserError(f"--tune-batch {args.tune_batch}: must be at least 1")
        run = load_run(args.run, args.data_root)
        round_ = max(run.masks) if args.round is None else args.round
        result = export(run, round_, args.format, args.kernels, args.tune_batch)
    except (UserError, NotExact) as e:
        sys.exit(f"error: {e}")
    path = write(result, args.out or run.path / "export")
    print(summary(result.info, path))
