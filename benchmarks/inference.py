"""What pruning buys at inference: size and speed of a run's network, every round, in one process.

    python benchmarks/inference.py RUN                       # every round, batches 1, 64, 10000
    python benchmarks/inference.py RUN --rounds 0,13 --batches 1,64 --threads 1
    python benchmarks/inference.py RUN --csv results/inference_lenet.csv --figure results/inference_lenet.png

RUN is one run's directory (outputs/<study>/.../seed=0). For every round it prints, side by side:
  bytes    torch.save of the state dict: dense = the network's fp32 weights and biases; masked =
           those plus float masks (torch.nn.utils.prune's weight_orig and weight_mask);
           compact = the compacted network (prune_ready.compact), layers dense; sparse = the
           compacted network with its linear layers as CSR (conv layers stay dense);
           script, exported, onnx = the file the exporter writes in that format
  params   numbers stored for the layers: dense and masked: every weight and bias; compact: the
           compacted tensors; sparse: CSR values, biases, the conv layers' compacted weights;
           script: those of its mix of dense and CSR layers
  images/s at each batch size (real test images) on 1 thread and on all, for
           dense    the round's network as trained (pruned weights 0), a plain forward
           masked   weight × mask recomputed in every forward (torch.nn.utils.prune)
           compact  the compacted network, dense kernels
           sparse   the compacted network, torch.sparse CSR kernels for its linear layers
           script   what `python -m prune_ready.export RUN` writes (TorchScript; per linear
                    layer dense or CSR, whichever was faster at batch 64 here), loaded and
                    torch.jit.freeze-d
           exported what `--format exported` writes, loaded with torch.export.load().module()
           onnx     what `--format onnx` writes, run by onnxruntime (CPU; its own thread pool,
                    whatever the thread column says)
           (the three files store dense layers as their surviving weights, rebuilt in the
           forward: see prune_ready.compact_net.Packed)
All take images on the [0, 1] scale and normalise inside; before any timing each one's logits
are checked against the masked network's. Variants run interleaved, `--repeats` times, each
for about `--min-time` seconds (at least one call), and the median is reported. Run it on idle
cores: other busy processes distort every number (see `uptime`).
"""

import argparse
import io
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.nn.utils import prune
from tqdm import tqdm

from prune_ready import results
from prune_ready.cli import add_data_root
from prune_ready.compact import compact_sizes
from prune_ready.compact_net import DENSE, SPARSE, choose_kernels, parameter_count
from prune_ready.errors import UserError
from prune_ready.exporter import Run, check_exact, load_run, loader, reference_logits, serialise
from prune_ready.pruning.masks import prunable_layers

VARIANTS = ("dense", "masked", "compact", "sparse", "script", "exported", "onnx")
TUNE_BATCH = 64  # script: the kernels `python -m prune_ready.export` chooses by default
CHECK_IMAGES = 1000


class Normalised(nn.Module):
    """A network trained on normalised inputs, taking [0, 1] images as the compacted one does."""

    def __init__(self, net: nn.Module, mean: Tensor, std: Tensor, channels_last: bool) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("mean", mean.view(1, -1, 1, 1).clone())
        self.register_buffer("std", std.view(1, -1, 1, 1).clone())
        self.format = torch.channels_last if channels_last else torch.contiguous_format
        if channels_last:
            net.to(memory_format=torch.channels_last)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(((x - self.mean) / self.std).contiguous(memory_format=self.format))


@dataclass
class Variant:
    """A variant of a round's network, and what storing it takes."""

    forward: Callable[[Tensor], Tensor]
    bytes: int  # torch.save of its state dict (script: the exported file)
    params: int  # numbers stored for its layers (weights or CSR values, biases)


def variants(run: Run, round_: int, names: list[str]) -> dict[str, Variant]:
    """The variants `names` of the round's network (see the module docstring)."""
    channels_last = bool(run.cfg.model.channels_last)

    def plain(net: nn.Module) -> Variant:
        params = sum(p.numel() for p in net.parameters())
        return Variant(Normalised(net, run.mean, run.std, channels_last), saved_bytes(net), params)

    def masked() -> Variant:
        net = run.trained(round_)
        for name, layer in prunable_layers(net).items():
            prune.custom_from_mask(layer, "weight", run.masks[round_][name])
        return plain(net)  # its parameters: weight_orig and bias; weight_mask is a buffer

    def compact(kernels: str | list[str]) -> Variant:
        net = run.compact(round_, kernels)
        return Variant(net, saved_bytes(net), parameter_count(net))

    def script() -> Variant:
        kernels, _ = choose_kernels(run.compact(round_), TUNE_BATCH)
        net = run.compact(round_, kernels, packed=True)
        data = serialise(net, "torchscript", run.test_images[:2].clone())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated; works
            loaded = torch.jit.freeze(loader("torchscript", data).eval())
        return Variant(loaded, len(data), parameter_count(net))

    def file(fmt: str) -> Variant:
        """The file the exporter writes in `fmt` (dense kernels, weights packed), loaded back."""
        net = run.compact(round_, DENSE, packed=True)
        data = serialise(net, fmt, run.test_images[:2].clone())
        loaded = loader(fmt, data)
        if loaded is None:
            sys.exit("error: --variants onnx needs onnxruntime: pip install onnxruntime")
        return Variant(lambda x: torch.as_tensor(loaded(x)), len(data), parameter_count(net))

    builders: dict[str, Callable[[], Variant]] = {
        "dense": lambda: plain(run.trained(round_)),
        "masked": masked,
        "compact": lambda: compact(DENSE),
        "sparse": lambda: compact(SPARSE),
        "script": script,
        "exported": lambda: file("exported"),
        "onnx": lambda: file("onnx"),
    }
    return {name: builders[name]() for name in names}


def saved_bytes(module: nn.Module) -> int:
    """Bytes of torch.save(state dict)."""
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    return len(buffer.getvalue())


def seconds_per_call(module: Callable[[Tensor], Tensor], x: Tensor, min_time: float) -> float:
    """Mean seconds per call of module(x) over calls filling about `min_time` (at least one)."""
    calls, start = 0, time.perf_counter()
    while True:
        module(x)
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / calls


@torch.no_grad()
def measure(
    run: Run,
    round_: int,
    names: list[str],
    batches: list[int],
    threads: list[int],
    repeats: int,
    min_time: float,
) -> list[dict]:
    """One row per variant: bytes, parameters and images/s per (threads, batch)."""
    built = variants(run, round_, names)
    images = run.test_images
    reference = reference_logits(run, round_, CHECK_IMAGES)
    for name, variant in built.items():
        check_exact(reference, variant.forward(images[:CHECK_IMAGES]), f"variant {name}")
    sizes = compact_sizes(run.masks[round_], run.network)
    rows = {
        name: {
            "round": round_,
            "weights_remaining": sizes["weights"],
            "weights_remaining_pct": round(100 * sizes["weights"] / sizes["weights_total"], 4),
            "variant": name,
            "bytes": variant.bytes,
            "params": variant.params,
        }
        for name, variant in built.items()
    }
    for n_threads in threads:
        torch.set_num_threads(n_threads)
        for batch in batches:
            x = images[:batch].clone()
            times: dict[str, list[float]] = {name: [] for name in built}
            for variant in built.values():
                variant.forward(x)  # warm-up
            for _ in range(repeats):  # interleaved: a slow spell hits every variant alike
                for name, variant in built.items():
                    times[name].append(seconds_per_call(variant.forward, x, min_time))
            for name in built:
                speed = batch / statistics.median(times[name])
                rows[name][column(n_threads, batch)] = round(speed, 1)
    return list(rows.values())


def column(n_threads: int, batch: int) -> str:
    return f"img_s/{n_threads}t/b{batch}"


def table(rows: list[dict], sizes: dict[str, int], timed: list[str]) -> str:
    """A round's rows as text: bytes, parameters, images/s (× dense where dense was timed)."""
    first = rows[0]
    layers = [k.removeprefix("units/") for k in sizes if k.startswith("units/")]
    before = "-".join(str(sizes[f"units_total/{n}"]) for n in layers)
    after = "-".join(str(sizes[f"units/{n}"]) for n in layers)
    lines = [
        f"round {first['round']}: {first['weights_remaining_pct']:.2f}% of the weights "
        f"({first['weights_remaining']:,}); inputs {sizes['inputs_total']} -> "
        f"{sizes['inputs']}, units {before} -> {after}",
        f"{'variant':<8} {'bytes':>11} {'params':>9} "
        + " ".join(f"{c.removeprefix('img_s/'):>16}" for c in timed)
        + "   (images/s, × dense)",
    ]
    dense = next((row for row in rows if row["variant"] == "dense"), None)
    for row in rows:
        size = f"{row['bytes']:>11,}" if row["bytes"] != "" else f"{'':>11}"
        cells = []
        for c in timed:
            ratio = f" ({row[c] / dense[c]:.1f}×)" if dense else ""
            cells.append(f"{f'{row[c]:,.0f}{ratio}':>16}")
        lines.append(f"{row['variant']:<8} {size} {row['params']:>9,} " + " ".join(cells))
    return "\n".join(lines)


def figure(rows: list[dict], timed: list[str], path: Path, title: str) -> None:
    """Throughput (one panel per batch size; solid: 1 thread, dashed: all) and bytes against
    weights remaining, log axes, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    batches = sorted({c.rsplit("/b", 1)[1] for c in timed}, key=int)
    fig, axes = plt.subplots(1, len(batches) + 1, figsize=(4.2 * (len(batches) + 1), 3.8))
    names = list(dict.fromkeys(row["variant"] for row in rows))
    colours = dict(zip(VARIANTS, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    thread_settings = sorted({c.split("/")[1] for c in timed}, key=lambda t: int(t[:-1]))
    for ax, batch in zip(axes, batches, strict=False):
        for name in names:
            mine = [row for row in rows if row["variant"] == name]
            x = [row["weights_remaining_pct"] for row in mine]
            for style, threads in zip(("-", "--", ":"), thread_settings, strict=False):
                y = [row[f"img_s/{threads}/b{batch}"] for row in mine]
                label = f"{name}, {threads[:-1]} thread(s)"
                ax.plot(x, y, style, marker=".", color=colours[name], label=label)
        ax.set(xscale="log", yscale="log", title=f"batch {batch}", ylabel="images/s")
    ax = axes[-1]
    for name in names:
        mine = [row for row in rows if row["variant"] == name and row["bytes"] != ""]
        if mine:
            x = [row["weights_remaining_pct"] for row in mine]
            ax.plot(x, [row["bytes"] for row in mine], marker=".", color=colours[name], label=name)
    ax.set(xscale="log", yscale="log", title="state dict size", ylabel="bytes")
    ax.legend(fontsize=7)
    axes[0].legend(fontsize=6)
    for ax in axes:
        ax.set_xlabel("weights remaining (%)")
        ax.invert_xaxis()  # pruning proceeds to the right
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format=path.suffix.lstrip(".") or "png", dpi=150)
    plt.close(fig)
    results.write_atomic(path, buffer.getvalue())


def int_list(text: str, what: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise UserError(f"{what} {text!r}: expected comma-separated integers") from None
    if any(v < 0 for v in values):
        raise UserError(f"{what} {text!r}: expected non-negative integers")
    return values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", help="a run directory (outputs/<study>/.../seed=0)")
    parser.add_argument("--rounds", help="comma-separated rounds (default: every round)")
    parser.add_argument("--batches", default="1,64,10000", help="batch sizes (default %(default)s)")
    parser.add_argument(
        "--threads", default="1,all", help="thread counts; all = every CPU this process may use"
    )
    parser.add_argument("--variants", default=",".join(VARIANTS), help="(default %(default)s)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per timing")
    parser.add_argument("--csv", type=Path, help="write the table here")
    parser.add_argument("--figure", type=Path, help="draw throughput and size here (.png, .pdf)")
    add_data_root(parser)
    args = parser.parse_args(argv)
    try:
        cpus = len(os.sched_getaffinity(0))
        threads = [cpus if t == "all" else t for t in args.threads.split(",")]
        threads = list(dict.fromkeys(int_list(",".join(map(str, threads)), "--threads")))
        batches = int_list(args.batches, "--batches")
        names = args.variants.split(",")
        unknown = sorted(set(names) - set(VARIANTS))
        if unknown:
            raise UserError(
                f"--variants {','.join(unknown)}: expected some of {','.join(VARIANTS)}"
            )
        if args.repeats < 1 or args.min_time < 0 or 0 in threads or 0 in batches:
            raise UserError("--repeats, --threads and --batches must be at least 1, --min-time ≥ 0")
        run = load_run(args.run, args.data_root)
        rounds = sorted(run.masks) if args.rounds is None else int_list(args.rounds, "--rounds")
        for round_ in rounds:
            run.check_round(round_)
        if max(batches) > len(run.test_labels):
            raise UserError(
                f"--batches {max(batches)}: the test set has only {len(run.test_labels):,} images"
            )
    except UserError as e:
        sys.exit(f"error: {e}")
    timed = [column(t, b) for t in threads for b in batches]
    print(f"{run.path}: {run.cfg.model.name} on {run.cfg.data.name}, torch {torch.__version__}")
    all_rows = []
    for round_ in tqdm(rounds, desc="rounds", unit="round", file=sys.stderr):
        rows = measure(run, round_, names, batches, threads, args.repeats, args.min_time)
        sizes = compact_sizes(run.masks[round_], run.network)
        tqdm.write(table(rows, sizes, timed) + "\n")
        all_rows += rows
    if args.csv:
        results.write_csv_atomic(args.csv, all_rows)
        print(f"wrote {args.csv}")
    if args.figure:
        title = f"{run.cfg.model.name} on {run.cfg.data.name}: {run.path}"
        figure(all_rows, timed, args.figure, title)
        print(f"wrote {args.figure}")


if __name__ == "__main__":
    main()
