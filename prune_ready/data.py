"""Datasets as LightningDataModules over in-memory tensors.

Each dataset is decoded and normalised once into float tensors; batches are drawn by index
permutation (no per-sample transforms in the training loop), several minibatches per call of
the training step. The train/validation split is drawn
with its own fixed generator, so every init and seed trains and validates on the same images;
the test set is only reported. Decoding JPEG folders is cached on disk (written atomically,
under a file lock, so parallel jobs can share the cache safely).
"""

import fcntl
import hashlib
import logging
import os
import struct
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytorch_lightning as pl
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler

from prune_ready.errors import UserError
from prune_ready.results import save_atomic
from prune_ready.seeding import generator

log = logging.getLogger(__name__)


class RawSplits(NamedTuple):
    """A dataset as uint8 images (N, C, H, W) and int64 labels, before any split."""

    train_x: Tensor
    train_y: Tensor
    test_x: Tensor
    test_y: Tensor


class TensorPairs(Dataset):
    """(x, y) tensors indexed by a whole batch of indices at once, or by a list of batches."""

    def __init__(self, x: Tensor, y: Tensor) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, idx: Tensor | list[Tensor]) -> Any:
        if isinstance(idx, Tensor):
            idx = idx.to(self.y.device)
            return self.x[idx], self.y[idx]
        sizes = [len(i) for i in idx]  # one gather for the whole chunk, then views
        flat = torch.cat(idx).to(self.y.device)
        return list(zip(self.x[flat].split(sizes), self.y[flat].split(sizes), strict=True))

    def to(self, device: torch.device) -> "TensorPairs":
        return TensorPairs(self.x.to(device), self.y.to(device))


class IndexBatches(Sampler[Tensor]):
    """Evaluation batches of indices, in order; under DDP process `rank` of `world` takes its
    slice of every batch, so together they evaluate each image exactly once."""

    def __init__(self, n: int, batch_size: int, rank: int = 0, world: int = 1) -> None:
        batches = torch.arange(n).split(batch_size)
        shards = (batch.tensor_split(world)[rank] for batch in batches)
        self.batches = [shard for shard in shards if len(shard)]

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Iterator[Tensor]:
        return iter(self.batches)


class StepBatches(Sampler[list[Tensor]]):
    """Training minibatches as a function of the global step, handed out in chunks.

    Step s trains on minibatch s mod B of data epoch s div B, whose order is a permutation drawn
    from (seed, data epoch): the same for every init, and the same whether a run was resumed or
    not. Lightning's epochs are cut at every evaluation (`steps_per_epoch` steps; by default a
    data epoch of B steps), and each is handed to the training step in chunks of at most
    `steps_per_call` minibatches, so Lightning's per-call overhead is paid once per chunk.
    Under DDP, process `rank` of `world` trains on its share of every minibatch (a contiguous
    slice): the minibatches, and so the effective batch, are those of a single process.
    """

    def __init__(
        self,
        n: int,
        batch_size: int,
        seed: int,
        steps_per_epoch: int | None = None,
        steps_per_call: int = 1,
        rank: int = 0,
        world: int = 1,
    ) -> None:
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.rank, self.world = rank, world
        self.batches_per_data_epoch = -(-n // batch_size)
        self.steps_per_epoch = steps_per_epoch or self.batches_per_data_epoch
        self.steps_per_call, self.epoch = steps_per_call, 0
        self._order: tuple[int, Tensor] | None = None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return -(-self.steps_per_epoch // self.steps_per_call)

    def minibatch(self, step: int) -> Tensor:
        data_epoch, position = divmod(step, self.batches_per_data_epoch)
        if self._order is None or self._order[0] != data_epoch:
            order = torch.randperm(self.n, generator=generator(self.seed, "data-order", data_epoch))
            self._order = (data_epoch, order)
        start = position * self.batch_size
        return self._order[1][start : start + self.batch_size]

    def __iter__(self) -> Iterator[list[Tensor]]:
        first = self.epoch * self.steps_per_epoch
        end = first + self.steps_per_epoch
        for chunk in range(first, end, self.steps_per_call):
            steps = range(chunk, min(chunk + self.steps_per_call, end))
            yield [self.minibatch(s).tensor_split(self.world)[self.rank] for s in steps]


class InMemoryData(pl.LightningDataModule):
    """Base class: subclasses only say how to read the raw images (`load`)."""

    in_shape: tuple[int, int, int]
    num_classes = 10
    folder: str  # what must exist under `root`, for the error message

    def __init__(
        self,
        name: str,
        root: str,
        batch_size: int = 60,
        val_size: int = 5000,
        train_subset: int | None = None,
        test_subset: int | None = None,
        eval_batch_size: int = 1000,
        download: bool = False,
        cache_dir: str | None = None,
        seed: int = 0,
        split_seed: int = 0,
        steps_per_call: int = 16,
        steps_per_epoch: int | None = None,
    ) -> None:
        super().__init__()
        self.name, self.root, self.download = name, Path(root).expanduser(), download
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size
        self.val_size, self.train_subset, self.test_subset = val_size, train_subset, test_subset
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else None
        self.seed, self.split_seed = seed, split_seed
        self.splits: dict[str, TensorPairs] = {}
        if steps_per_call < 1:
            raise UserError(f"data.steps_per_call={steps_per_call} must be at least 1")
        self.steps_per_call, self.steps_per_epoch = steps_per_call, steps_per_epoch

    def load(self) -> RawSplits:
        raise NotImplementedError

    def check_root(self) -> None:
        """Fail early, in one line, when the data is not where the config says."""
        if self.download:
            return
        where = self.root / self.folder
        if not where.is_dir():
            raise UserError(
                f"no {self.name} data at {where.resolve()} (data root {str(self.root)!r}); "
                f"set data.root=/path/holding/{self.folder} or the PRUNE_READY_DATA environment "
                "variable" + ("" if self.name == "cifar10-jpeg" else ", or data.download=true")
            )

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        self.check_root()
        raw = self.load()
        n = len(raw.train_y)
        if not 0 < self.val_size < n:
            raise UserError(f"data.val_size={self.val_size} must be between 1 and {n - 1}")
        order = torch.randperm(n, generator=generator(self.split_seed, "train-val-split"))
        val_idx, train_idx = order[: self.val_size], order[self.val_size :]
        if self.train_subset is not None:
            if not 0 < self.train_subset <= len(train_idx):
                raise UserError(
                    f"data.train_subset={self.train_subset} must be between 1 and {len(train_idx)}"
                )
            train_idx = train_idx[: self.train_subset]
        test_idx = torch.arange(len(raw.test_y))
        if self.test_subset is not None:
            if not 0 < self.test_subset <= len(test_idx):
                raise UserError(
                    f"data.test_subset={self.test_subset} must be between 1 and {len(test_idx)}"
                )
            shuffled = torch.randperm(len(test_idx), generator=generator(self.split_seed, "test"))
            test_idx = shuffled[: self.test_subset]
        mean, std = channel_stats(raw.train_x[order[self.val_size :]])
        self.mean, self.std = mean, std  # an exported model normalises inside (export.py)
        self.splits = {
            "train": TensorPairs(
                normalise(raw.train_x[train_idx], mean, std), raw.train_y[train_idx]
            ),
            "val": TensorPairs(normalise(raw.train_x[val_idx], mean, std), raw.train_y[val_idx]),
            "test": TensorPairs(normalise(raw.test_x[test_idx], mean, std), raw.test_y[test_idx]),
        }

    @property
    def batches_per_data_epoch(self) -> int:
        return -(-len(self.splits["train"]) // self.batch_size)

    @property
    def shard(self) -> tuple[int, int]:
        """(this process's rank, the number of processes): (0, 1) unless under DDP."""
        trainer = self.trainer
        return (trainer.global_rank, trainer.world_size) if trainer else (0, 1)

    def resident(self) -> dict[str, TensorPairs]:
        """The splits, moved once to the device Lightning trains on (a GPU: no host copies)."""
        device = self.trainer.strategy.root_device if self.trainer else torch.device("cpu")
        if self.splits["train"].y.device != device:
            self.splits = {name: split.to(device) for name, split in self.splits.items()}
        return self.splits

    def train_dataloader(self) -> DataLoader:
        """Chunks of minibatches (see StepBatches); the training step takes a chunk at a time."""
        data = self.resident()["train"]
        rank, world = self.shard
        sampler = StepBatches(
            len(data),
            self.batch_size,
            self.seed,
            self.steps_per_epoch,
            self.steps_per_call,
            rank,
            world,
        )
        return DataLoader(data, batch_size=None, sampler=sampler)

    def _eval_loader(self, split: str) -> DataLoader:
        data = self.resident()[split]
        sampler = IndexBatches(len(data), self.eval_batch_size, *self.shard)
        return DataLoader(data, batch_size=None, sampler=sampler)

    def random_batch(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """`n` training images drawn by `generator` (data-driven pruning scores)."""
        train = self.splits["train"]
        idx = torch.randperm(len(train), generator=generator)[:n]
        return train[idx]

    def fixed_batch(self, n: int = 256) -> tuple[Tensor, Tensor]:
        """The first `n` validation images: one batch, the same for every run (diagnostics)."""
        val = self.splits["val"]
        return val.x[:n], val.y[:n]

    def val_dataloader(self) -> list[DataLoader]:
        """Validation *and* test, every evaluation: rounds report test accuracy at early stop."""
        return [self._eval_loader(s) for s in ("val", "test")]

    def test_dataloader(self) -> DataLoader:
        return self._eval_loader("test")


def channel_stats(x: Tensor) -> tuple[Tensor, Tensor]:
    """Per-channel mean and std of uint8 images, on the [0, 1] scale."""
    flat = x.transpose(0, 1).reshape(x.shape[1], -1).double() / 255
    return flat.mean(1).float(), flat.std(1).float()


def normalise(x: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    """uint8 images -> float32, zero mean and unit std per channel (training-split statistics)."""
    return ((x.float() / 255 - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)).contiguous()


# The original MNIST release's files and sizes. torchvision does not check them, so a truncated
# copy would otherwise fail deep inside its reader, or not at all.
MNIST_SIZES = {
    "train-images-idx3-ubyte": 47_040_016,
    "train-labels-idx1-ubyte": 60_008,
    "t10k-images-idx3-ubyte": 7_840_016,
    "t10k-labels-idx1-ubyte": 10_008,
}
# Their IDX headers: the magic number (2051: images, 2049: labels) and the dimensions. A file of
# the right size with another header (or labels outside 0-9) is damaged; torchvision's reader
# would fail in an assertion, or take out-of-range labels as classes mid-training.
MNIST_HEADERS = {
    "train-images-idx3-ubyte": (2051, 60_000, 28, 28),
    "train-labels-idx1-ubyte": (2049, 60_000),
    "t10k-images-idx3-ubyte": (2051, 10_000, 28, 28),
    "t10k-labels-idx1-ubyte": (2049, 10_000),
}
MNIST_REPLACE = "the file is damaged; replace it (or delete it and set data.download=true)"


def check_mnist_file(path: Path, header: tuple[int, ...]) -> None:
    """Refuse, in one line naming `path`, an MNIST file whose IDX header is not `header`, or a
    label file with a label outside 0-9."""
    with open(path, "rb") as f:
        found = struct.unpack(f">{len(header)}i", f.read(4 * len(header)))
        if found[0] != header[0]:
            raise UserError(
                f"{path} has the magic number {found[0]}, not {header[0]} "
                f"(MNIST {'images' if header[0] == 2051 else 'labels'}): {MNIST_REPLACE}"
            )
        if found != header:
            dims = "x".join(map(str, header[1:]))
            raise UserError(
                f"{path} says it holds {'x'.join(map(str, found[1:]))}, not {dims}: {MNIST_REPLACE}"
            )
        if len(header) == 2:
            labels = f.read()
            bad = [i for i, label in enumerate(labels) if label > 9]
            if bad:
                raise UserError(
                    f"{path} has {len(bad):,} labels outside 0-9 (the first: {labels[bad[0]]} "
                    f"at index {bad[0]:,}): {MNIST_REPLACE}"
                )


class MNISTData(InMemoryData):
    """MNIST from torchvision's layout (`<root>/MNIST/raw/*-ubyte`); 55,000/5,000 split."""

    in_shape = (1, 28, 28)
    folder = "MNIST"

    def load(self) -> RawSplits:
        from torchvision.datasets import MNIST

        if self.download:
            MNIST(str(self.root), download=True)
        raw = self.root / "MNIST" / "raw"
        for name, size in MNIST_SIZES.items():
            if not (raw / name).is_file():
                raise UserError(
                    f"MNIST file {raw.resolve() / name} is missing: put the four uncompressed "
                    f"files ({', '.join(MNIST_SIZES)}) there, or set data.download=true"
                )
            found = (raw / name).stat().st_size
            if found != size:
                raise UserError(
                    f"{raw.resolve() / name} has {found:,} bytes, not the original {size:,}: "
                    f"{MNIST_REPLACE}"
                )
            check_mnist_file(raw.resolve() / name, MNIST_HEADERS[name])
        parts = []
        for train in (True, False):
            ds = MNIST(str(self.root), train=train)
            parts += [ds.data.unsqueeze(1), ds.targets.long()]
        return RawSplits(*parts)


class CIFAR10Data(InMemoryData):
    """The real CIFAR-10 (torchvision's `cifar-10-batches-py`); 45,000/5,000 split."""

    in_shape = (3, 32, 32)
    folder = "cifar-10-batches-py"

    def load(self) -> RawSplits:
        from torchvision.datasets import CIFAR10

        parts = []
        for train in (True, False):
            try:
                ds = CIFAR10(str(self.root), train=train, download=self.download)
            except RuntimeError as e:
                raise UserError(f"CIFAR-10 not readable under {self.root.resolve()}: {e}") from e
            parts += [
                torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous(),
                torch.tensor(ds.targets),
            ]
        return RawSplits(*parts)


class ImageFolderData(InMemoryData):
    """JPEG/PNG images in ImageFolder layout (`<root>/<folder>/{train,test}/<class>/*`).

    Used for the JPEG-recompressed CIFAR-10 stand-in (`cifar10-jpeg`). Decoded once; the decoded
    tensors are cached in `cache_dir` under a digest of the folder and its files' contents.
    """

    in_shape = (3, 32, 32)

    def __init__(self, folder: str, **kwargs) -> None:
        self.folder = folder
        super().__init__(**kwargs)

    def load(self) -> RawSplits:
        base = self.root / self.folder
        files = {split: sorted((base / split).glob("*/*")) for split in ("train", "test")}
        if not files["train"] or not files["test"]:
            raise UserError(
                f"{base.resolve()} holds no images in ImageFolder layout "
                "(expected train/<class>/*.jpg and test/<class>/*.jpg)"
            )
        if self.cache_dir is None:
            return decode_folders(files, self.in_shape)
        cache = self.cache_dir / f"{self.folder}-{cache_key(base, files)}.pt"
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with open(f"{cache}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if cache.exists():
                try:
                    return RawSplits(**torch.load(cache))
                except Exception:
                    os.remove(cache)  # unreadable: decode again below
            count = sum(len(paths) for paths in files.values())
            log.info("decoding %d images of %s once into %s", count, base, cache)
            raw = decode_folders(files, self.in_shape, progress=f"decoding {self.name}")
            save_atomic(raw._asdict(), cache)
            return raw


def cache_key(base: Path, files: dict[str, list[Path]]) -> str:
    """The decoded-image cache's key: the folder's resolved path and every file's split, class,
    name and bytes, so that no entry can stand in for other images (names and sizes alone let a
    same-size changed image be served from the cache). Hashing all of cifar10-jpeg (60,000 files)
    reads its 55 MB once: ~10 s warm, 28 s cold on a loaded 2-core machine (4 s for names and
    sizes alone)."""
    key = hashlib.sha256(f"{base.resolve()}\n".encode())
    for split, paths in files.items():
        for p in paths:
            key.update(f"{split}/{p.parent.name}/{p.name}\n".encode())
            key.update(hashlib.sha256(p.read_bytes()).digest())
    return key.hexdigest()[:32]


def decode_folders(
    files: dict[str, list[Path]], shape: tuple[int, int, int], progress: str | None = None
) -> RawSplits:
    """Decode every image to uint8 RGB of `shape` (C, H, W); labels are sorted class-folder indices.

    `progress`: the description of a progress bar on stderr (None: none), drawn only in a
    terminal: all of cifar10-jpeg (60,000 images) takes 1-2 minutes on 2 cores, once, before the
    first run can start, and without a bar that looks like a hang (a log gets the line the
    caller logs). A damaged image clears the bar, so that its error is the one line left.
    """
    from tqdm import tqdm

    classes = sorted({p.parent.name for p in files["train"]})
    index = {c: i for i, c in enumerate(classes)}
    bar = tqdm(
        total=sum(len(paths) for paths in files.values()),
        desc=progress,
        unit="img",
        disable=progress is None or not sys.stderr.isatty(),
        mininterval=0.5,
        file=sys.stderr,
    )
    try:
        return decode_with(files, shape, index, bar)
    except UserError:
        bar.leave = False
        raise
    finally:
        bar.close()


def decode_with(
    files: dict[str, list[Path]], shape: tuple[int, int, int], index: dict[str, int], bar: Any
) -> RawSplits:
    """decode_folders's work, one image after the other, each counted on `bar`."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    parts = []
    for split in ("train", "test"):
        images = np.empty((len(files[split]), shape[1], shape[2], shape[0]), dtype=np.uint8)
        for i, path in enumerate(files[split]):
            bar.update()
            try:
                with Image.open(path) as image:
                    images[i] = np.asarray(image.convert("RGB"))
            except (OSError, UnidentifiedImageError, ValueError) as e:
                raise UserError(f"could not read image {path}: {e}") from e
        labels = torch.tensor([index[p.parent.name] for p in files[split]])
        parts += [torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), labels]
    return RawSplits(*parts)
