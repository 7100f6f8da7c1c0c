"""The compacted network as a module a user deploys: images on the [0, 1] scale in, logits out.

It holds the run's input normalisation, gathers only the inputs the ticket reads, and runs
each remaining linear layer dense (a small matrix) or as CSR (values plus indices in the
smallest integer type that fits, multiplied with torch.sparse), chosen per layer. Conv layers
are always dense (torch has no sparse convolution on CPU). Everything is TorchScript-
compatible, so a scripted file runs with plain `torch`.

Speed at small batches is mostly per-operation overhead, so the forward is short: an MLP's
normalisation is folded into its first layer (a conv net's cannot be: its zero padding lives
in the normalised space), and the linear layers work on the activations transposed
(features × batch, row-major), the layout both a CSR and a dense `addmm` take and give
without copies, and the one MKL's sparse kernel is fast with.
Convolutions run channels-last (NHWC), faster on CPU, as training does.
"""

import time
import warnings
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from prune_ready.compact import Structure, compact, index_dtype
from prune_ready.models.description import POOL

DENSE, SPARSE = "dense", "sparse"
# torch.sparse's "beta" notice, which PackedCsrLinear's forward would raise once a process: it
# works, and is tested
warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta state")


def small_index(index: Tensor) -> Tensor:
    """Indices in the smallest integer type that holds them."""
    return index.to(index_dtype(int(index.max()) if len(index) else 0))


class Stored(nn.Module):
    """A dense weight, stored as it is: zeros where pruned."""

    def __init__(self, weight: Tensor) -> None:
        super().__init__()
        self.register_buffer("weight", weight.clone())

    def forward(self) -> Tensor:
        return self.weight


class Packed(nn.Module):
    """A dense weight stored as its surviving weights only, rebuilt in every forward.

    The file of a pruned network then holds what survived and not the zeros, in every format
    (torch.export and ONNX have no sparse layers): the non-zero values in row-major order, and
    for each the gap from the previous one's position (the first's from 0) in the smallest
    integer type that fits, about 6 bytes per surviving weight where a dense matrix takes
    4 per position. The forward scatters them into zeros (positions = cumulative gaps); ONNX
    Runtime folds that into a constant when it loads the file. The rebuilt weight equals the
    dense one bit for bit, so the layer computes exactly what the dense layer does.
    """

    def __init__(self, weight: Tensor) -> None:
        super().__init__()
        positions = weight.flatten().nonzero().flatten()
        gaps = positions.diff(prepend=positions.new_zeros(1))
        self.register_buffer("values", weight.flatten()[positions].clone())
        self.register_buffer("gaps", gaps.to(index_dtype(int(gaps.max()) if len(gaps) else 0)))
        self.shape = list(weight.shape)
        self.numel = weight.numel()
        self.channels_last = weight.dim() == 4  # a conv weight, as Conv stores it

    def forward(self) -> Tensor:
        flat = torch.zeros(self.numel, dtype=self.values.dtype, device=self.values.device)
        weight = flat.scatter(0, self.gaps.long().cumsum(0), self.values).view(self.shape)
        if self.channels_last:
            return weight.contiguous(memory_format=torch.channels_last)
        return weight


def storage(weight: Tensor, packed: bool) -> nn.Module:
    return Packed(weight) if packed else Stored(weight)


class DenseLinear(nn.Module):
    """W @ x + b on features × batch activations (W stored dense, or packed)."""

    def __init__(self, weight: Tensor, bias: Tensor, relu: bool, packed: bool = False) -> None:
        super().__init__()
        self.weight = storage(weight, packed)
        self.register_buffer("bias", bias.reshape(-1, 1).clone())
        self.relu = relu

    def forward(self, x: Tensor) -> Tensor:
        y = torch.addmm(self.bias, self.weight(), x)
        return y.relu_() if self.relu else y


class CsrLinear(nn.Module):
    """W @ x + b with W as CSR, multiplied with torch.sparse (MKL on CPU).

    The state dict holds the CSR arrays with indices in the smallest integer type that fits;
    the forward uses a copy with the int32 indices torch.sparse takes (built here, so a module
    is made from its tensors, never by load_state_dict; a saved TorchScript file holds both).
    """

    def __init__(self, weight: Tensor, bias: Tensor, relu: bool) -> None:
        super().__init__()
        with warnings.catch_warnings():  # torch.sparse's "beta" notice: it works, and is tested
            warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta state")
            csr = weight.to_sparse_csr()
        nnz = len(csr.values())
        self.register_buffer("crow", csr.crow_indices().to(index_dtype(nnz)))
        self.register_buffer("col", csr.col_indices().to(index_dtype(max(weight.shape[1] - 1, 0))))
        self.register_buffer("values", csr.values().clone())
        self.register_buffer("bias", bias.reshape(-1, 1).clone())
        self.shape = [weight.shape[0], weight.shape[1]]
        self.relu = relu
        wide = torch.sparse_csr_tensor(
            self.crow.int(), self.col.int(), self.values, self.shape, check_invariants=True
        )
        self.register_buffer("weight", wide, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        y = torch.addmm(self.bias, self.weight, x)
        return y.relu_() if self.relu else y


class PackedCsrLinear(CsrLinear):
    """CsrLinear for a file: only the CSR arrays with small indices are kept (the int32 copy
    torch.sparse multiplies with would double the file), and the forward rebuilds that copy
    (two casts of the layer's indices a call)."""

    def __init__(self, weight: Tensor, bias: Tensor, relu: bool) -> None:
        super().__init__(weight, bias, relu)
        del self._buffers["weight"]

    def forward(self, x: Tensor) -> Tensor:
        wide = torch.sparse_csr_tensor(self.crow.int(), self.col.int(), self.values, self.shape)
        y = torch.addmm(self.bias, wide, x)
        return y.relu_() if self.relu else y


class Conv(nn.Module):
    """A 'same'-padded conv layer, ReLU, and max-pool if `pool`; its bias is a vector, or a map
    of its output's shape where it absorbed constant channels."""

    def __init__(self, weight: Tensor, bias: Tensor, pool: bool, packed: bool = False) -> None:
        super().__init__()
        self.weight = storage(weight.contiguous(memory_format=torch.channels_last), packed)
        self.register_buffer("bias", bias.clone())
        self.padding = weight.shape[-1] // 2
        self.pool, self.window = pool, POOL  # TorchScript reads no module globals

    def forward(self, x: Tensor) -> Tensor:
        if self.bias.dim() == 1:
            x = F.conv2d(x, self.weight(), self.bias, padding=self.padding)
        else:
            x = F.conv2d(x, self.weight(), None, padding=self.padding) + self.bias
        x = x.relu_()
        return F.max_pool2d(x, self.window) if self.pool else x


class CompactNet(nn.Module):
    """A compacted ticket: N×C×H×W images on the [0, 1] scale in, logits out."""

    def __init__(
        self,
        s: Structure,
        layers: Sequence[tuple[Tensor, Tensor]],
        mean: Tensor,
        std: Tensor,
        kernels: Sequence[str],
        packed: bool = False,
    ) -> None:
        super().__init__()
        self.convolutional = s.convolutional
        self.gather_input = s.input_index is not None
        self.gather_flat = s.flat_index is not None
        empty = torch.zeros(0, dtype=torch.uint8)
        self.register_buffer(
            "input_index", small_index(s.input_index if self.gather_input else empty)
        )
        self.register_buffer("flat_index", small_index(s.flat_index if self.gather_flat else empty))
        layers = list(layers)
        if self.convolutional:  # per kept input channel
            kept = s.layers[0].kept_in
            self.register_buffer("mean", mean[kept].view(-1, 1, 1).clone())
            self.register_buffer("std", std[kept].view(-1, 1, 1).clone())
        else:
            layers[0] = fold_normalisation(*layers[0], s, mean, std)
            self.register_buffer("mean", empty.float())
            self.register_buffer("std", empty.float())
        convs, linears = [], []
        for layer, (weight, bias) in zip(s.layers, layers, strict=True):
            if layer.conv:
                convs.append(Conv(weight, bias, layer.pool, packed))
            elif kernels[len(linears)] == SPARSE:
                csr = PackedCsrLinear if packed else CsrLinear
                linears.append(csr(weight, bias, layer.relu))
            else:
                linears.append(DenseLinear(weight, bias, layer.relu, packed))
        self.convs = nn.ModuleList(convs)
        self.linears = nn.ModuleList(linears)
        self.kernels = list(kernels)

    def forward(self, x: Tensor) -> Tensor:
        if self.convolutional:
            if self.gather_input:
                x = x.index_select(1, self.input_index.long())
            x = ((x - self.mean) / self.std).contiguous(memory_format=torch.channels_last)
            for conv in self.convs:
                x = conv(x)
            x = x.flatten(1)
            if self.gather_flat:
                x = x.index_select(1, self.flat_index.long())
        else:
            x = x.flatten(1)
            if self.gather_input:
                x = x.index_select(1, self.input_index.long())
        x = x.t().contiguous()  # row-major features × batch: MKL's sparse kernel needs it
        for linear in self.linears:
            x = linear(x)
        return x.t()


def fold_normalisation(
    weight: Tensor, bias: Tensor, s: Structure, mean: Tensor, std: Tensor
) -> tuple[Tensor, Tensor]:
    """An MLP's first layer reading [0, 1] pixels: W·((x - m) / σ) + b = (W / σ)·x + b - (W / σ)·m,
    per gathered pixel (its channel's m and σ); the constant is summed in float64."""
    channel = s.layers[0].kept_in // (s.in_shape[1] * s.in_shape[2])
    scaled = weight.double() / std[channel].double()
    shifted = bias.double() - scaled @ mean[channel].double()
    return scaled.to(weight.dtype), shifted.to(weight.dtype)


def linear_count(s: Structure) -> int:
    return sum(not layer.conv for layer in s.layers)


def build(
    s: Structure,
    params: dict[str, Tensor],
    masks: dict[str, Tensor],
    mean: Tensor,
    std: Tensor,
    kernels: str | Sequence[str] = DENSE,
    packed: bool = False,
) -> CompactNet:
    """The compacted network of `params` under `masks`, taking [0, 1] images normalised by the
    per-channel `mean` and `std`; `kernels`: dense, sparse, or one of them per linear layer;
    `packed`: dense weights (conv layers' too) stored as their surviving weights only (the
    exporter's files), else as matrices."""
    if isinstance(kernels, str):
        kernels = [kernels] * linear_count(s)
    return CompactNet(s, compact(s, params, masks), mean, std, kernels, packed).eval()


def parameter_count(net: CompactNet) -> int:
    """Numbers stored for the layers (weights or CSR values, biases; not the normalisation)."""
    return sum(
        t.numel()
        for name, t in net.state_dict().items()
        if t.is_floating_point() and name not in ("mean", "std")
    )


def raw_bytes(net: nn.Module) -> int:
    """The bytes of a module's tensors (its state dict), without any file format's overhead."""
    return sum(t.numel() * t.element_size() for t in net.state_dict().values())


@torch.no_grad()
def choose_kernels(net: CompactNet, batch: int = 64) -> tuple[list[str], list[dict]]:
    """Per linear layer of `net`, CSR where it is clearly (≥ 10%) faster than dense on this CPU
    at `batch` images, else dense; with the times measured (µs per call, the best of several
    runs, the two kernels' runs interleaved so a busy spell hits both)."""
    kernels, timings = [], []
    for linear in net.linears:
        weight, bias = dense_weight(linear), linear.bias.flatten()
        x = torch.rand(weight.shape[1], batch)  # the layout the layers see
        candidates = {
            DENSE: DenseLinear(weight, bias, linear.relu),
            SPARSE: CsrLinear(weight, bias, linear.relu),
        }
        times = best_times(candidates, x)
        kernels.append(SPARSE if times[SPARSE] < 0.9 * times[DENSE] else DENSE)
        timings.append({f"{kind}_us": round(t, 1) for kind, t in times.items()})
    return kernels, timings


def dense_weight(linear: nn.Module) -> Tensor:
    return linear.weight.to_dense() if isinstance(linear, CsrLinear) else linear.weight()


def best_times(modules: dict[str, nn.Module], x: Tensor, budget: float = 0.05) -> dict[str, float]:
    """µs per call of each module(x): the best of 7 runs of about budget / 14 seconds each,
    the modules taking turns."""
    calls = {}
    for name, module in modules.items():
        module(x)
        start, calls[name] = time.perf_counter(), 0
        while time.perf_counter() - start < budget / 14 or calls[name] < 3:
            module(x)
            calls[name] += 1
    best = dict.fromkeys(modules, float("inf"))
    for _ in range(7):
        for name, module in modules.items():
            start = time.perf_counter()
            for _ in range(calls[name]):
                module(x)
            best[name] = min(best[name], (time.perf_counter() - start) / calls[name])
    return {name: t * 1e6 for name, t in best.items()}
