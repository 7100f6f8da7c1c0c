"""The paper's controls as branches of a finished ticket run: reinit and random_prune train the
ticket's masks (or random masks with its per-layer counts), level by level."""

from pathlib import Path

import pytest
import torch

from prune_ready import results
from prune_ready.pruning import masks
from prune_ready.train import train
from tests.helpers import TINY, cli, in_process, read_csv
from tests.test_prune_rewind import QUICK, Probe, read_rounds


def ticket_and_control(
    make_cfg, tmp_path: Path, control: str, *overrides: str, ticket: Path | None = None
):
    """A ticket run on QUICK (`ticket`: one already trained on it) and its `control` branch."""
    if ticket is None:
        ticket = tmp_path / "ticket"
        train(make_cfg(*QUICK, *overrides), ticket)
    cfg = make_cfg(*QUICK, *overrides, f"pruning.control={control}", f"pruning.ticket={ticket}")
    probe = Probe(2)  # QUICK: rounds of 2 epochs
    branch = tmp_path / control
    train(cfg, branch, callbacks=[probe])
    return ticket, branch, probe


def test_reinit_trains_the_tickets_masks_with_fresh_weights(make_cfg, tmp_path, quick_run):
    _, shared = quick_run  # the default IMP run on QUICK
    ticket, branch, probe = ticket_and_control(make_cfg, tmp_path, "reinit", ticket=shared)
    ticket_masks = results.load_round_masks(ticket)
    theta0 = torch.load(branch / results.INIT)
    assert all(torch.equal(theta0[k], v) for k, v in torch.load(ticket / results.INIT).items())
    rows, ticket_rows = read_rounds(branch), read_rounds(ticket)
    assert {r["control"] for r in rows} == {"reinit"}
    assert [r["weights_remaining"] for r in rows] == [r["weights_remaining"] for r in ticket_rows]
    same = {k: v for k, v in rows[0].items() if k != "control"}  # round 0: the same dense run
    assert same == {k: v for k, v in ticket_rows[0].items() if k != "control"}
    for round_, start in enumerate(probe.starts, start=1):
        for name, mask in start["masks"].items():
            assert torch.equal(mask.bool(), ticket_masks[round_][name])  # the ticket's mask
            weight = start["params"][f"{name}.weight"]
            assert torch.count_nonzero(weight[mask == 0]) == 0
            survivors, original = weight[mask == 1], theta0[f"{name}.weight"][mask == 1]
            assert not torch.equal(survivors, original)  # new draws ...
            if survivors.numel() > 2000:  # ... from the init distribution (xavier_normal)
                std = theta0[f"{name}.weight"].std().item()
                assert survivors.std().item() == pytest.approx(std, rel=0.05)
    first, second = probe.starts
    assert not torch.equal(first["params"]["fc1.weight"], second["params"]["fc1.weight"])


@pytest.mark.parametrize("target", ["layer_rates", "global_rate"])
def test_random_prune_keeps_the_tickets_per_layer_counts(make_cfg, tmp_path, quick_run, target):
    overrides = (f"pruning/target={target}",)
    shared = quick_run[1] if target == "layer_rates" else None  # layer_rates: imp's default
    ticket, branch, probe = ticket_and_control(
        make_cfg, tmp_path, "random_prune", *overrides, ticket=shared
    )
    ticket_masks = results.load_round_masks(ticket)
    theta0 = torch.load(ticket / results.INIT)
    for round_, start in enumerate(probe.starts, start=1):
        for name, mask in start["masks"].items():
            assert int(mask.sum()) == int(ticket_masks[round_][name].sum())  # every scope
            assert not torch.equal(mask.bool(), ticket_masks[round_][name])  # another pattern
            weight = start["params"][f"{name}.weight"]
            assert torch.equal(weight, theta0[f"{name}.weight"] * mask)  # rewound to θ0
    rows = read_rounds(branch)
    assert [r["weights_remaining"] for r in rows] == [
        r["weights_remaining"] for r in read_rounds(ticket)
    ]
    if target == "global_rate":  # one threshold: uneven per layer, and the control follows it
        per_layer = {n: int(m.sum()) for n, m in ticket_masks[2].items()}
        assert per_layer["fc1"] / 235_200 != per_layer["out"] / 1_000


def test_a_control_finds_its_ticket_by_path_in_a_grid(data_root, tmp_path):
    out = in_process("-m", "pruning.control=none,reinit", *TINY, data_root=data_root, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    base = tmp_path / "outputs/default/lenet_300_100-mnist/xavier_normal/imp"
    variant = "data.train_subset=300,pruning.control={},pruning.round_length=1ep,pruning.rounds=1"
    ticket = base / variant.format("none") / "seed=0"
    branch = (
        base
        / ("data.train_subset=300,pruning.control=reinit,pruning.round_length=1ep,pruning.rounds=1")
        / "seed=0"
    )
    ticket_masks, branch_masks = (results.load_round_masks(d) for d in (ticket, branch))
    assert all(torch.equal(branch_masks[1][n], m) for n, m in ticket_masks[1].items())
    assert read_csv(branch / results.ROUNDS)[1]["control"] == "reinit"
    assert int(read_csv(branch / results.ROUNDS)[1]["weights_remaining"]) == sum(
        int(m.sum()) for m in ticket_masks[1].values()
    )
    assert masks.count_to_prune(0.2, 235_200) == 235_200 - int(ticket_masks[1]["fc1"].sum())


def test_a_control_without_its_ticket_is_refused(data_root, tmp_path):
    out = cli("pruning.control=reinit", *TINY, data_root=data_root, cwd=tmp_path)
    assert out.returncode != 0
    (line,) = out.stderr.strip().splitlines()
    assert line.startswith("error: pruning.control=reinit needs its ticket run at ")
    assert line.endswith("train the ticket first (the same command without pruning.control=reinit)")
