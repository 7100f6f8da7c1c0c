"""The in-memory datamodules on the real data: splits, subsets, normalisation, batch order."""

import pytest
import torch
from hydra.utils import instantiate

from prune_ready.data import IndexBatches, StepBatches
from prune_ready.errors import UserError
from tests.helpers import cifar_slice


@pytest.fixture(scope="module")
def mnist(data_root):
    from prune_ready.data import MNISTData

    dm = MNISTData(name="mnist", root=str(data_root))
    dm.setup()
    return dm


def test_mnist_split_sizes_and_normalisation(mnist):
    sizes = {k: len(v) for k, v in mnist.splits.items()}
    assert sizes == {"train": 55_000, "val": 5_000, "test": 10_000}
    x = mnist.splits["train"].x
    assert x.shape == (55_000, 1, 28, 28) and x.dtype == torch.float32
    assert x.mean().item() == pytest.approx(0, abs=1e-3)
    assert x.std().item() == pytest.approx(1, abs=1e-3)
    counts = torch.bincount(mnist.splits["test"].y, minlength=10).tolist()
    assert counts == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]  # data README


def test_split_is_the_same_for_every_seed(data_root, mnist):
    from prune_ready.data import MNISTData

    other = MNISTData(name="mnist", root=str(data_root), seed=5, train_subset=500)
    other.setup()
    assert torch.equal(other.splits["val"].x, mnist.splits["val"].x)
    assert torch.equal(other.splits["train"].x, mnist.splits["train"].x[:500])


def test_minibatches_depend_on_seed_and_step_only():
    def steps(seed, epoch, per_epoch=None, per_call=1):
        sampler = StepBatches(130, 60, seed, per_epoch, per_call)  # 3 minibatches a data epoch
        sampler.set_epoch(epoch)
        return [[b.tolist() for b in chunk] for chunk in sampler]

    data_epoch = steps(0, 0)
    assert [[len(b) for b in chunk] for chunk in data_epoch] == [[60], [60], [10]]
    assert sorted(i for chunk in data_epoch for b in chunk for i in b) == list(range(130))
    assert steps(0, 3) == steps(0, 3) and steps(0, 3) != steps(0, 4) and steps(0, 3) != steps(1, 3)
    assert steps(0, 0, per_call=2) == [data_epoch[0] + data_epoch[1], data_epoch[2]]
    # Lightning epochs of 2 steps run across data epochs: steps 4, 5 = data epoch 1's 2nd, 3rd
    assert steps(0, 2, per_epoch=2) == steps(0, 1)[1:]


def test_evaluation_batches_are_in_order():
    assert [b.tolist() for b in IndexBatches(5, 2)] == [[0, 1], [2, 3], [4]]


def test_train_loader_yields_real_batches(make_cfg):
    dm = instantiate(make_cfg("data.train_subset=120").data)
    dm.setup()
    (xb, yb), (xb2, _) = next(iter(dm.train_dataloader()))  # a chunk of minibatches
    assert xb.shape == (60, 1, 28, 28) and yb.shape == (60,) and xb2.shape == (60, 1, 28, 28)
    val, test = dm.val_dataloader()
    assert sum(len(b[1]) for b in val) == 5_000 and sum(len(b[1]) for b in test) == 10_000


def test_missing_root_says_where_it_looked(make_cfg, tmp_path):
    dm = instantiate(make_cfg(f"data.root={tmp_path}/nowhere").data)
    with pytest.raises(UserError, match=r"no mnist data at .*nowhere/MNIST.*PRUNE_READY_DATA"):
        dm.setup()


def test_bad_subset_is_rejected(make_cfg):
    dm = instantiate(make_cfg("data.train_subset=60000").data)
    with pytest.raises(UserError, match="train_subset=60000 must be between 1 and 55000"):
        dm.setup()


def test_test_subset_is_a_fixed_sample_of_the_test_set(make_cfg, mnist):
    dm = instantiate(make_cfg("data.test_subset=1000", "seed=3").data)
    dm.setup()
    test = dm.splits["test"]
    assert len(test) == 1000 and sum(len(b[1]) for b in dm.val_dataloader()[1]) == 1000
    full = mnist.splits["test"].x.flatten(1)
    picked = torch.cdist(test.x.flatten(1), full).argmin(1)  # its index in the full test set
    assert len(set(picked.tolist())) == 1000
    assert torch.equal(full[picked], test.x.flatten(1))
    assert torch.equal(mnist.splits["test"].y[picked], test.y)
    again = instantiate(make_cfg("data.test_subset=1000", "seed=4").data)
    again.setup()  # the sample depends on the split seed only, not the run's seed
    assert torch.equal(again.splits["test"].x, test.x)
    with pytest.raises(UserError, match="test_subset=10001 must be between 1 and 10000"):
        instantiate(make_cfg("data.test_subset=10001").data).setup()


def test_cifar10_jpeg_stand_in_decodes_and_caches(data_root, tmp_path):
    from prune_ready.data import ImageFolderData

    def make():
        dm = ImageFolderData(
            folder="cifar10-jpeg",
            name="cifar10-jpeg",
            root=str(data_root),
            cache_dir=str(tmp_path / "cache"),
            train_subset=100,
        )
        dm.setup()
        return dm

    dm = make()
    assert {k: len(v) for k, v in dm.splits.items()} == {"train": 100, "val": 5_000, "test": 10_000}
    assert dm.splits["test"].x.shape[1:] == (3, 32, 32)
    assert torch.bincount(dm.splits["test"].y).tolist() == [1000] * 10
    assert len(list((tmp_path / "cache").glob("*.pt"))) == 1
    again = make()  # from the cache: identical tensors
    assert torch.equal(again.splits["val"].x, dm.splits["val"].x)


def test_first_decode_shows_progress_then_the_cache_is_silent(
    data_root, tmp_path, capsys, monkeypatch
):
    """A real slice of cifar10-jpeg (2 classes, 80 images): the first load decodes with a
    progress bar on stderr (in a terminal), the second reads the cache, identical and silent."""
    import sys

    from prune_ready.data import ImageFolderData

    data = ImageFolderData(
        folder="cifar10-jpeg",
        name="cifar10-jpeg",
        root=str(cifar_slice(data_root, tmp_path / "data", train=30, test=10)),
        cache_dir=str(tmp_path / "cache"),
        val_size=10,
    )
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    raw = data.load()
    bar = capsys.readouterr().err
    assert "decoding cifar10-jpeg" in bar and "80/80" in bar
    assert raw.train_x.shape == (60, 3, 32, 32) and raw.test_y.tolist() == [0] * 10 + [1] * 10
    (cache,) = (tmp_path / "cache").glob("*.pt")
    again = data.load()
    assert capsys.readouterr().err == ""
    assert torch.equal(again.train_x, raw.train_x) and cache.stat().st_size > 60 * 3 * 32 * 32
