"""Compaction and export of a pruned network: exact on constructed masks (a unit with only a
bias, a unit with no outputs, a dead pixel, a dead conv channel) and on a real short run; the
exported files load without prune_ready and give the same logits; CSR and dense agree."""

import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from torch import Tensor

from prune_ready import export, exporter, results
from prune_ready.compact import compact_sizes, structure
from prune_ready.compact_net import (
    DENSE,
    SPARSE,
    Packed,
    build,
    choose_kernels,
    parameter_count,
    raw_bytes,
)
from prune_ready.data import MNISTData, channel_stats, decode_folders
from prune_ready.models import Conv6, LeNet300100
from prune_ready.models.description import describe
from prune_ready.train import CONF_DIR, train
from tests.helpers import REPO, cli_env, read_csv

# A real run pruned hard in two steps: fc layers keep 5% a step, the output layer 30%, so
# round 2 holds 588 + 75 + 90 weights, with units, pixels and whole paths left dead.
HARD = [
    "data.train_subset=600",
    "pruning.round_length=1ep",
    "pruning.rounds=2",
    "model.prune_rates.fc=0.95",
    "model.prune_rates.output=0.7",
]


LENET, CONV6 = describe(LeNet300100()), describe(Conv6())


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def random_params(net: torch.nn.Module, seed: int = 0) -> dict[str, Tensor]:
    """Float64 weights of He scale and non-zero biases (so folding a constant unit matters)."""
    g = generator(seed)
    params = {}
    for name, p in net.named_parameters():
        scale = (2 / p[0].numel()) ** 0.5 if name.endswith("weight") else 0.1
        params[name] = torch.randn(p.shape, generator=g, dtype=torch.float64) * scale
    return params


def assert_exact(logits: Tensor, reference: Tensor) -> None:
    """Equal but for float64 rounding: compaction changes nothing but the summation order."""
    assert (logits - reference).abs().max() <= 1e-12 * max(1.0, float(reference.abs().max()))


def normalise64(raw: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    """prune_ready.data.normalise in float64 (it divides in float32)."""
    return (raw.double() / 255 - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)


def masked_logits(net: torch.nn.Module, params: dict, masks: dict, x: Tensor) -> Tensor:
    net = net.double()
    net.load_state_dict(
        {
            n: p * masks[n.removesuffix(".weight")] if n.endswith("weight") else p
            for n, p in params.items()
        }
    )
    with torch.no_grad():
        return net(x)


@pytest.fixture(scope="module")
def mnist(data_root) -> tuple[Tensor, Tensor, Tensor]:
    """256 real test images (uint8) and the training split's mean and std."""
    dm = MNISTData(name="mnist", root=str(data_root))
    dm.setup()
    return dm.load().test_x[:256], dm.mean.double(), dm.std.double()


def naive_kept(masks: dict[str, Tensor]) -> dict[str, Tensor]:
    """The definition, done slowly: remove hidden units with no surviving weight from a unit
    (or pixel) still there or none to one still there, and pixels no unit reads, until nothing
    changes."""
    m1, m2, m3 = (masks[n].bool() for n in ("fc1", "fc2", "out"))
    pixels, a1, a2 = (
        torch.ones(784, dtype=torch.bool),
        torch.ones(300, dtype=torch.bool),
        torch.ones(100, dtype=torch.bool),
    )
    while True:
        new1 = a1 & m1[:, pixels].any(1) & m2[a2].any(0)
        new2 = a2 & m2[:, new1].any(1) & m3.any(0)
        new_pixels = pixels & m1[new1].any(0)
        if torch.equal(new1, a1) and torch.equal(new2, a2) and torch.equal(new_pixels, pixels):
            return {"pixels": pixels, "fc1": a1, "fc2": a2}
        pixels, a1, a2 = new_pixels, new1, new2


def lenet_masks() -> dict[str, Tensor]:
    """fc1 unit u reads pixels 2u, 2u+1 (pixels 600-783 dead); fc2 unit v reads fc1 units
    3v..3v+2; the output reads every fc2 unit. Then: fc1 unit 0 has no inputs (bias only),
    fc1 unit 1 no outputs, fc2 unit 5 reads only fc1 unit 0 (so it is constant too, and fc1
    units 15-17 go unread), fc2 unit 7 has no outputs (so fc1 units 21-23 go unread)."""
    fc1 = torch.zeros(300, 784, dtype=torch.bool)
    units = torch.arange(300)
    fc1[units, 2 * units] = fc1[units, 2 * units + 1] = True
    fc2 = torch.zeros(100, 300, dtype=torch.bool)
    for v in range(100):
        fc2[v, 3 * v : 3 * v + 3] = True
    out = torch.ones(10, 100, dtype=torch.bool)
    fc1[0] = False
    fc2[:, 1] = False
    fc2[5] = False
    fc2[5, 0] = True
    out[:, 7] = False
    return {"fc1": fc1, "fc2": fc2, "out": out}


def test_lenet_compaction_is_exact_and_minimal_on_constructed_masks(mnist):
    raw, mean, std = mnist
    masks = lenet_masks()
    params = random_params(LeNet300100())
    params["fc1.bias"][0] = 0.5  # the bias-only unit outputs relu(0.5): folded, not lost,
    params["fc2.weight"][5, 0], params["fc2.bias"][5] = 1.0, 0.1  # through fc2 unit 5: 0.6
    s = structure(masks, LENET)
    kept = naive_kept(masks)
    assert torch.equal(s.input_index, kept["pixels"].nonzero().flatten())
    for layer in s.layers[:2]:
        assert torch.equal(layer.kept_out, kept[layer.name].nonzero().flatten())
    sizes = compact_sizes(masks, LENET)
    assert (sizes["inputs"], sizes["units/fc1"], sizes["units/fc2"], sizes["units/out"]) == (
        584,
        292,
        98,
        10,
    )
    assert (sizes["hidden_units"], sizes["hidden_units_total"]) == (390, 400)
    assert sizes["weights_total"] == 266_200
    assert sizes["weights"] == 598 + 297 + 990
    assert sizes["weights_kept"] == 584 + (98 * 3 - 2) + 980  # fc2 unit 0 lost its inputs 0, 1
    reference = masked_logits(LeNet300100(), params, masks, normalise64(raw, mean, std))
    for kernels in (DENSE, SPARSE, [SPARSE, DENSE, SPARSE]):
        net = build(s, params, masks, mean, std, kernels)
        assert_exact(net(raw.double() / 255), reference)
    fp32 = {n: p.float() for n, p in params.items()}  # the sizes count fp32 tensors
    for kernels, kind in ((DENSE, "compact"), (SPARSE, "sparse")):
        net = build(s, fp32, masks, mean.float(), std.float(), kernels)
        assert raw_bytes(net) == sizes[f"bytes_{kind}"]
    params["fc1.bias"][0] = 0.0  # the constant reaches the logits: dropping it would show
    unfolded = masked_logits(LeNet300100(), params, masks, normalise64(raw, mean, std))
    assert (unfolded - reference).abs().max() > 0.01


def conv6_masks() -> dict[str, Tensor]:
    """30% of every layer's weights at random (all of the output layer's), then: input
    channel 2 (blue) never read; conv2 filter 7 fully pruned (a constant channel feeding a
    padded conv at 16×16: cheaper kept as a channel than as a bias map); conv4 filters 20-27
    fully pruned (eight constant channels into conv5 at 8×8: a bias map is cheaper); conv4
    channel 10 never read by conv5; conv6 filter 3 fully pruned (constant, into fc1's bias);
    conv6 channel 9 never read by fc1; fc1 never reading channel 5's first position."""
    g = generator(1)
    shapes = {
        name: layer.weight.shape
        for name, layer in Conv6().named_children()
        if hasattr(layer, "weight")
    }
    masks = {name: torch.rand(shape, generator=g) < 0.3 for name, shape in shapes.items()}
    masks["out"][:] = True  # else ~8 of fc2's units would go unread by chance
    masks["conv1"][:, 2] = False
    masks["conv2"][7] = False
    masks["conv4"][20:28] = False
    masks["conv5"][:, 10] = False
    masks["conv6"][3] = False
    masks["fc1"][:, 9 * 16 : 10 * 16] = False
    masks["fc1"][:, 5 * 16] = False
    return masks


def cifar_images(data_root: Path, n: int = 6) -> Tensor:
    files = sorted((data_root / "cifar10-jpeg" / "test").glob("*/*"))[:: 10_000 // n][:n]
    return decode_folders({"train": files, "test": files}, (3, 32, 32)).test_x


def test_conv6_compaction_drops_dead_channels_exactly(data_root):
    raw = cifar_images(data_root)
    mean, std = (t.double() for t in channel_stats(raw))
    masks = conv6_masks()
    params = random_params(Conv6(), seed=2)
    params["conv2.bias"][7], params["conv6.bias"][3] = 0.3, 0.2  # constants that matter
    params["conv4.bias"][20:28] = 0.2
    s = structure(masks, CONV6)
    sizes = compact_sizes(masks, CONV6)
    units = {
        name: sizes[f"units/{name}"]
        for name in ("conv1", "conv2", "conv3", "conv4", "conv5", "conv6", "fc1", "fc2", "out")
    }
    assert units == {
        "conv1": 64,
        "conv2": 64,
        "conv3": 128,
        "conv4": 119,
        "conv5": 256,
        "conv6": 254,
        "fc1": 256,
        "fc2": 256,
        "out": 10,
    }
    assert sizes["inputs"] == 2
    assert [layer.bias_map for layer in s.layers] == [False] * 4 + [True] + [False] * 4
    assert len(s.flat_index) == 254 * 16 - 1
    reference = masked_logits(Conv6(), params, masks, normalise64(raw, mean, std))
    net = build(s, params, masks, mean, std, [SPARSE, DENSE, DENSE])
    assert_exact(net(raw.double() / 255), reference)
    fp32 = {n: p.float() for n, p in params.items()}  # the sizes count fp32 tensors
    dense = build(s, fp32, masks, mean.float(), std.float(), DENSE)
    sparse = build(s, fp32, masks, mean.float(), std.float(), SPARSE)
    assert raw_bytes(dense) == sizes["bytes_compact"]
    assert raw_bytes(sparse) == sizes["bytes_sparse"] < sizes["bytes_compact"]  # fc1 30% dense
    images = raw.float() / 255
    scripted = exporter.loader("torchscript", exporter.serialise(sparse, "torchscript", images))
    assert (scripted(images) - sparse(images)).abs().max() <= 1e-5 * float(
        sparse(images).abs().max()
    )


def test_unpruned_networks_compact_to_themselves(mnist, data_root):
    """The plans the networks describe follow their forward: nothing pruned, nothing removed,
    the same logits."""
    raw, mean, std = mnist
    cifar = cifar_images(data_root, 2)
    cases = [
        (LeNet300100(), raw[:32], mean, std),
        (Conv6(), cifar, *(t.double() for t in channel_stats(cifar))),
    ]
    for net, images, m, sd in cases:
        params = random_params(net, seed=3)
        masks = {
            n.removesuffix(".weight"): torch.ones_like(p, dtype=torch.bool)
            for n, p in params.items()
            if n.endswith("weight")
        }
        s = structure(masks, describe(net))
        assert s.in_shape == images.shape[1:]
        assert s.input_index is None and s.flat_index is None
        assert all(len(layer.kept_out) == len(layer.reads) for layer in s.layers)
        reference = masked_logits(net, params, masks, normalise64(images, m, sd))
        assert_exact(build(s, params, masks, m, sd)(images.double() / 255), reference)


def state_dict_bytes(net: torch.nn.Module) -> int:
    buffer = io.BytesIO()
    torch.save(net.state_dict(), buffer)
    return len(buffer.getvalue())


@pytest.mark.parametrize(
    ("fmt", "kernels"),
    [("torchscript", DENSE), ("torchscript", SPARSE), ("exported", DENSE), ("onnx", DENSE)],
)
def test_files_hold_only_the_surviving_weights(fmt, kernels, mnist):
    """At 3.6% of LeNet's weights (masks at random, at the density of each layer in a real
    run's round 15, where compaction removes few units) every format is at least 10× smaller than the dense network's state dict, and its logits
    are the unpacked compacted network's, bit for bit."""
    if fmt == "onnx" and not all(importlib.util.find_spec(p) for p in ("onnx", "onnxscript")):
        pytest.skip("the onnx extra is not installed (pip install onnx onnxscript onnxruntime)")
    raw, mean, std = mnist
    g = generator(4)
    params = {n: p.float() for n, p in random_params(LeNet300100(), seed=4).items()}
    density = {"fc1": 0.035, "fc2": 0.035, "out": 0.2}  # as IMP's round 15 holds them
    masks = {
        n: torch.rand(params[f"{n}.weight"].shape, generator=g) < d for n, d in density.items()
    }
    s = structure(masks, LENET)
    sizes = compact_sizes(masks, LENET)
    assert (sizes["weights"], sizes["units/fc1"], sizes["units/fc2"]) == (9_415, 288, 84)
    packed = build(s, params, masks, mean.float(), std.float(), kernels, packed=True)
    plain = build(s, params, masks, mean.float(), std.float(), kernels)
    images = raw.float() / 255
    assert torch.equal(packed(images), plain(images))
    stored = [m for m in packed.modules() if isinstance(m, Packed)]
    assert len(stored) == (3 if kernels == DENSE else 0)
    assert sum(len(m.values) for m in stored) in (0, sizes["weights_kept"])
    dense = state_dict_bytes(LeNet300100())
    assert dense == 1_069_205
    data = exporter.serialise(packed, fmt, images[:2].clone())
    assert len(data) * 10 <= dense, len(data)
    loaded = exporter.loader(fmt, data)
    if loaded is not None:
        assert (torch.as_tensor(loaded(images)) - plain(images)).abs().max() <= 1e-5


def test_packed_weights_rebuild_exactly():
    """Positions as gaps in the smallest type: 1 byte each where every gap is < 256."""
    weight = torch.zeros(3, 200)
    weight[0, 5], weight[1, 0], weight[2, 199] = 1.5, -2.0, 3.0  # gaps 5, 195, 399
    packed = Packed(weight)
    assert packed.values.tolist() == [1.5, -2.0, 3.0]
    assert packed.gaps.tolist() == [5, 195, 399] and packed.gaps.dtype == torch.int16
    assert torch.equal(packed(), weight)
    assert Packed(weight[:2]).gaps.dtype == torch.uint8
    assert torch.equal(Packed(torch.zeros(2, 3))(), torch.zeros(2, 3))


def test_check_refuses_logits_that_differ():
    reference = torch.tensor([[40.0, -3.0], [1.0, 2.0]], dtype=torch.float64)
    assert exporter.check_exact(reference, reference + 3e-4, "x") == {
        "max_abs_diff": pytest.approx(3e-4),
        "tolerance": pytest.approx(4e-4),
    }
    with pytest.raises(
        exporter.NotExact, match=r"differ from the masked network's by up to 0\.0005"
    ):
        exporter.check_exact(reference, reference + 5e-4, "x")


@pytest.fixture(scope="module")
def hard_run(data_root, tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("export")
    with initialize_config_dir(CONF_DIR, version_base="1.3"):
        cfg = compose(
            "train",
            overrides=[
                f"data.root={data_root}",
                f"paths.output_root={base}",
                "progress_bar=null",
                *HARD,
            ],
        )
    run_dir = base / "run"
    train(cfg, run_dir)
    return run_dir


def export_cli(
    run_dir: Path, *args: str, data_root: Path, cwd: Path
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "prune_ready.export", str(run_dir), *args],
        cwd=cwd,
        env=cli_env(data_root),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_real_run_compacts_exactly(hard_run, data_root):
    run = exporter.load_run(hard_run, str(data_root))
    assert sorted(run.masks) == [0, 1, 2]
    masks = run.masks[2]
    assert {n: int(m.sum()) for n, m in masks.items()} == {"fc1": 588, "fc2": 75, "out": 90}
    s = run.structure(2)
    kept = naive_kept(masks)
    assert torch.equal(s.input_index, kept["pixels"].nonzero().flatten())
    assert [len(layer.kept_out) for layer in s.layers[:2]] == [
        int(kept["fc1"].sum()),
        int(kept["fc2"].sum()),
    ]
    assert len(s.layers[0].kept_out) < 300 and len(s.layers[1].kept_out) < 100
    params = {n: p.double() for n, p in run.weights[2].items()}
    reference = masked_logits(
        LeNet300100(), params, masks, normalise64(run.test_raw, run.mean.double(), run.std.double())
    )
    dense = build(s, params, masks, run.mean.double(), run.std.double())
    assert_exact(dense(run.test_raw.double() / 255), reference)
    sparse = build(s, params, masks, run.mean.double(), run.std.double(), SPARSE)
    assert_exact(sparse(run.test_raw.double() / 255), reference)
    sizes = compact_sizes(masks, LENET)
    for kernels, kind in ((DENSE, "compact"), (SPARSE, "sparse")):
        net = run.compact(2, kernels)
        assert raw_bytes(net) == sizes[f"bytes_{kind}"]
        assert parameter_count(net) == sizes[f"params_{kind}"]
    kernels, timings = choose_kernels(run.compact(2), batch=8)
    assert len(kernels) == len(timings) == 3 and set(kernels) <= {DENSE, SPARSE}


STANDALONE = """
import sys
sys.modules["prune_ready"] = None  # any import of it fails: the file must stand alone
import torch
path, images, out = sys.argv[1:]
x = torch.load(images)
if path.endswith(".onnx"):
    import onnxruntime
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    y = torch.from_numpy(session.run(None, {session.get_inputs()[0].name: x.numpy()})[0])
elif path.endswith(".pt2"):
    y = torch.export.load(path).module()(x)
else:
    y = torch.jit.load(path)(x)
torch.save(y, out)
"""


@pytest.mark.parametrize("fmt", ["torchscript", "exported", "onnx"])
def test_exported_file_stands_alone_and_gives_the_same_logits(fmt, hard_run, data_root, tmp_path):
    if fmt == "onnx" and not all(importlib.util.find_spec(p) for p in ("onnx", "onnxscript")):
        pytest.skip("the onnx extra is not installed (pip install onnx onnxscript onnxruntime)")
    out_dir = tmp_path / "out"
    # the command's main() in this process (the bad-input test runs it as a process): the file
    # itself is loaded in a process of its own below
    export.main(
        [str(hard_run), "--format", fmt, "--out", str(out_dir), "--data-root", str(data_root)]
    )
    path = out_dir / f"round2{exporter.FORMATS[fmt]}"
    info = json.loads(Path(f"{path}.json").read_text())
    rounds = read_csv(hard_run / results.ROUNDS)
    assert info["round"] == 2 and info["format"] == fmt and info["bytes"] == path.stat().st_size
    assert info["compaction"] == compact_sizes(results.load_round_masks(hard_run)[2], LENET)
    check = info["check"]
    assert check["images"] == 10_000 and check["max_abs_diff"] <= check["tolerance"]
    assert (
        check["test_acc"]
        == check["test_acc_masked"]
        == pytest.approx(float(rounds[2]["test_acc"]), abs=1e-6)
    )
    if fmt == "torchscript":
        assert len(info["kernels"]) == 3 and info["kernel_times"]
    else:
        assert info["kernels"] == [DENSE] * 3  # neither torch.export nor ONNX has torch.sparse
    if fmt == "onnx" and importlib.util.find_spec("onnxruntime") is None:
        assert check["checked"].startswith("the torch module")
        return
    run = exporter.load_run(hard_run, str(data_root))
    images = run.test_images[:100].clone()
    torch.save(images, tmp_path / "images.pt")
    standalone = subprocess.run(
        [
            sys.executable,
            "-c",
            STANDALONE,
            str(path),
            str(tmp_path / "images.pt"),
            str(tmp_path / "y.pt"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert standalone.returncode == 0, standalone.stderr[-3000:]
    reference = exporter.reference_logits(run, 2, 100)
    assert (torch.load(tmp_path / "y.pt") - reference).abs().max() <= check["tolerance"]


def test_benchmark_prints_and_writes_every_round(hard_run, data_root, tmp_path):
    csv_path, figure = tmp_path / "inference.csv", tmp_path / "inference.png"
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "inference.py"),
            str(hard_run),
            "--rounds",
            "0,2",
            "--batches",
            "1,8",
            "--threads",
            "1",
            "--repeats",
            "1",
            "--min-time",
            "0",
            "--csv",
            str(csv_path),
            "--figure",
            str(figure),
        ],
        cwd=tmp_path,
        env=cli_env(data_root),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = read_csv(csv_path)
    assert [(int(r["round"]), r["variant"]) for r in rows] == [
        (r, v)
        for r in (0, 2)
        for v in ("dense", "masked", "compact", "sparse", "script", "exported", "onnx")
    ]
    run = exporter.load_run(hard_run, str(data_root))
    buffer = io.BytesIO()
    torch.save(run.trained(2).state_dict(), buffer)
    by = {(int(r["round"]), r["variant"]): r for r in rows}
    assert int(by[2, "dense"]["bytes"]) == len(buffer.getvalue())
    assert int(by[2, "dense"]["params"]) == 266_610
    sizes = compact_sizes(run.masks[2], LENET)
    assert int(by[2, "sparse"]["params"]) == sizes["params_sparse"]
    assert int(by[2, "compact"]["params"]) == sizes["params_compact"]
    assert int(by[0, "compact"]["params"]) == 266_610  # round 0: nothing to remove
    for fmt in ("script", "exported", "onnx"):  # the files hold the surviving weights only
        assert int(by[2, fmt]["bytes"]) * 10 < int(by[2, "dense"]["bytes"])
    assert by[2, "dense"]["weights_remaining"] == "753"
    assert all(float(r[c]) > 0 for r in rows for c in ("img_s/1t/b1", "img_s/1t/b8"))
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "round 2: 0.28% of the weights (753)" in result.stdout


def assert_refused(exit_: pytest.ExceptionInfo, message: str, out_dir: Path) -> None:
    text = str(exit_.value.code)
    assert text.startswith(message) and "\n" not in text, text
    assert not out_dir.exists()


def test_bad_input_is_one_line_and_writes_nothing(hard_run, data_root, tmp_path, monkeypatch):
    out = tmp_path / "out"
    common = ["--out", str(out), "--data-root", str(data_root)]
    with pytest.raises(SystemExit) as exit_:
        export.main([str(hard_run), "--round", "3", *common])
    assert_refused(
        exit_, f"error: round 3 is not in {hard_run}: it recorded rounds 0 to 2 (--round)", out
    )
    with pytest.raises(SystemExit) as exit_:
        export.main([str(hard_run), "--format", "exported", "--kernels", "sparse", *common])
    assert_refused(exit_, "error: --format exported cannot hold torch.sparse layers", out)
    partial = tmp_path / "partial"
    partial.mkdir()
    for name in (results.CONFIG, results.ROUND_MASKS):
        (partial / name).write_bytes((hard_run / name).read_bytes())
    with pytest.raises(SystemExit) as exit_:
        export.main([str(partial), *common])
    assert_refused(
        exit_, f"error: {partial} has no round_weights.pt (every round's trained weights)", out
    )
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name in ("onnx", "onnxscript") else real_find_spec(name, *a),
    )
    with pytest.raises(SystemExit) as exit_:
        export.main([str(hard_run), "--format", "onnx", *common])
    assert_refused(
        exit_,
        "error: --format onnx needs the onnx and onnxscript packages: pip install onnx onnxscript "
        "onnxruntime (prune_ready's [onnx] extra), or use --format torchscript or exported",
        out,
    )
    result = export_cli(tmp_path, data_root=data_root, cwd=tmp_path)  # the CLI: one line on stderr
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path} is not a run directory (no config.yaml): pass one run's folder, e.g. outputs/<study>/lenet_300_100-mnist/<init>/imp/seed=0"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["partial"]
