"""Stability to SGD noise as a branch of a finished run (prune_ready.stability), on real MNIST:
identical copies under one data order, the path and barrier against a hand computation in
plain torch, the rounds' starting points, resume after SIGKILL, bad input."""

import hashlib
import math
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir

from prune_ready import manifest, results, stability
from prune_ready.data import StepBatches
from prune_ready.train import CONF_DIR, train
from tests.conftest import find_data_root
from tests.helpers import cli, cli_env, in_process, read_csv
from tests.test_prune_rewind import Probe

# 300 training images (5 steps an epoch), 1-epoch rounds, 3 rounds; 1,000 validation and test
# images, so that a round's two copies and its 11 points take about a second.
TINY = [
    "data.train_subset=300",
    "data.val_size=1000",
    "data.test_subset=1000",
    "pruning.round_length=1ep",
    "pruning.rounds=2",
    "progress_bar=null",
]


@pytest.fixture(scope="module")
def ticket(tmp_path_factory) -> tuple[Path, Probe]:
    """A finished tiny IMP run, and what each of its rounds after the first started from."""
    root = find_data_root()
    run = tmp_path_factory.mktemp("stability") / "run"
    with initialize_config_dir(CONF_DIR, version_base="1.3"):
        cfg = compose("train", overrides=[f"data.root={root}", *TINY])
    probe = Probe(1)  # rounds of 1 epoch: a start at every epoch after the first
    train(cfg, run, callbacks=[probe])
    return run, probe


@pytest.fixture(scope="module")
def measured(ticket, tmp_path_factory) -> Path:
    """A copy of the run with rounds 0 and 2 measured by the command."""
    run = tmp_path_factory.mktemp("measured") / "run"
    shutil.copytree(ticket[0], run)
    stability.main([str(run), "--rounds", "0,2"])
    return run


def parameters(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in net.named_parameters()}


def test_a_rounds_start_is_the_start_the_run_trained_from(ticket):
    run, probe = ticket
    branch = stability.load_branch(run, None)
    data = branch.data(0)
    data.setup()
    for round_, started in enumerate(probe.starts, start=1):
        net = branch.network(data.num_classes, data.in_shape)
        stability.start_point(branch, round_, net)
        ours = parameters(net)
        assert ours.keys() == started["params"].keys()
        assert all(torch.equal(ours[n], started["params"][n]) for n in ours)


def test_a_late_rewound_run_starts_every_round_from_theta_k(data_root, tmp_path):
    """Round 0 too: the dense network at θk (the paper's instability at k); later rounds as the
    run trained them, θk times the round's mask."""
    overrides = [*TINY[:3], "pruning.round_length=2ep", "pruning.rounds=1", "pruning.reset.to=1ep"]
    with initialize_config_dir(CONF_DIR, version_base="1.3"):
        cfg = compose("train", overrides=[f"data.root={data_root}", *overrides])
    probe = Probe(2)
    train(cfg, tmp_path, callbacks=[probe])
    branch = stability.load_branch(tmp_path, None)
    assert branch.rewind_label == "1ep"
    theta_k, theta_0 = torch.load(tmp_path / results.REWIND), torch.load(tmp_path / results.INIT)
    data = branch.data(0)
    data.setup()
    starts = []
    for round_ in (0, 1):
        net = branch.network(data.num_classes, data.in_shape)
        stability.start_point(branch, round_, net)
        starts.append(parameters(net))
    assert all(torch.equal(starts[0][n], theta_k[n]) for n in theta_k)
    assert not torch.equal(theta_k["fc1.weight"], theta_0["fc1.weight"])
    (started,) = probe.starts
    assert all(torch.equal(starts[1][n], started["params"][n]) for n in theta_k)


def test_without_resetting_a_round_starts_from_the_previous_rounds_trained_weights(
    data_root, tmp_path
):
    """pruning=finetune: round 1 starts from round 0's trained survivors, as the run did."""
    overrides = [*TINY[:3], "pruning=finetune", "pruning.round_length=1ep", "pruning.rounds=1"]
    with initialize_config_dir(CONF_DIR, version_base="1.3"):
        cfg = compose("train", overrides=[f"data.root={data_root}", *overrides])
    probe = Probe(1)
    train(cfg, tmp_path, callbacks=[probe])
    branch = stability.load_branch(tmp_path, None)
    assert branch.rewind_label == "keep"
    data = branch.data(0)
    data.setup()
    net = branch.network(data.num_classes, data.in_shape)
    stability.start_point(branch, 1, net)
    (started,) = probe.starts
    ours = parameters(net)
    assert all(torch.equal(ours[n], started["params"][n]) for n in ours)
    trained = results.load_round_weights(tmp_path)[0]["fc1.weight"]
    assert torch.equal(ours["fc1.weight"], trained * branch.masks[1]["fc1"])


def test_one_data_order_gives_identical_copies_and_a_barrier_of_exactly_zero(ticket):
    branch = stability.load_branch(ticket[0], None)
    seeds = stability.copy_seeds(0)
    data = branch.data(seeds[0])
    data.setup()
    start = branch.network(data.num_classes, data.in_shape)
    stability.start_point(branch, 1, start)
    a, b = (stability.train_copy(branch, 1, start, data, seeds[0]) for _ in range(2))
    pa, pb, p0 = parameters(a), parameters(b), parameters(start)
    assert all(torch.equal(pa[n], pb[n]) for n in pa)
    assert not torch.equal(pa["fc1.weight"], p0["fc1.weight"])  # trained
    for layer, mask in branch.masks[1].items():  # masks fixed: pruned weights still 0
        assert torch.count_nonzero(pa[f"{layer}.weight"][~mask]) == 0
    rows = stability.path_rows(a, b, data, 11)
    assert [r["alpha"] for r in rows] == [i / 10 for i in range(11)]
    assert {r["val_barrier"] for r in rows} == {r["test_barrier"] for r in rows} == {0.0}
    assert {r["l2_distance"] for r in rows} == {0.0}
    assert len({(r["val_error"], r["test_error"], r["val_loss"]) for r in rows}) == 1
    # the other copy's order differs from the first's and from the run's own (seed 0)
    orders = [StepBatches(300, 60, s).minibatch(0) for s in (0, *seeds)]
    assert not any(torch.equal(orders[i], orders[j]) for i, j in ((0, 1), (0, 2), (1, 2)))
    c = stability.train_copy(branch, 1, start, data, seeds[1])
    assert stability.l2_distance(a, c) > 0.1


def cosine(t: int, warmup: int = 0) -> float:
    """lr 0.1 on a cosine to 0.1 × lr over a 10-step round, with a linear warmup of `warmup` steps."""
    warm = min(1.0, (t + 1) / warmup) if warmup else 1.0
    return 0.1 * warm * (0.1 + 0.9 * (1 + math.cos(math.pi * min(t, 10) / 10)) / 2)


SCHEDULED = {  # run overrides, and per round the rates of its copies' 10 steps, by hand
    "θ0, cosine with warmup: from t = 0": (["lr_schedule.warmup=2it"], {1: [0, 10]}),
    "θk (k = 1ep = 5 steps): from t = 5, round 0 too (it starts at θk)": (
        ["pruning.reset.to=1ep"],
        {0: [5, 15], 1: [5, 15]},
    ),
    "no reset, the schedule continued: round 1 at t = 10..19": (
        ["pruning=finetune"],
        {1: [10, 20]},
    ),
}


@pytest.mark.parametrize("case", SCHEDULED)
def test_the_copies_replay_the_runs_learning_rate_schedule(data_root, tmp_path, case):
    """SGD at 0.1 on a cosine (final 0.1) over 2-epoch rounds of 5 steps an epoch: each copy's
    step rates are the hand-computed schedule from where the run's round started it, and the
    same as the run's own steps of that round where the run started there too (round 1)."""
    from tests.test_recipe import StepRates

    extra, chosen = SCHEDULED[case]
    warmup = 2 if "lr_schedule.warmup=2it" in extra else 0
    overrides = [*TINY[:3], "pruning.round_length=2ep", "pruning.rounds=1", "optimizer=sgd"]
    overrides += ["optimizer.lr=0.1", "lr_schedule=cosine", "lr_schedule.final=0.1", *extra]
    with initialize_config_dir(CONF_DIR, version_base="1.3"):
        cfg = compose(
            "train", overrides=[f"data.root={data_root}", "progress_bar=null", *overrides]
        )
    run_rates = StepRates()
    train(cfg, tmp_path, callbacks=[run_rates])
    branch = stability.load_branch(tmp_path, None)
    data = branch.data(0)
    data.setup()
    for round_, (first, end) in chosen.items():
        start = branch.network(data.num_classes, data.in_shape)
        stability.start_point(branch, round_, start)
        copy_rates = StepRates()
        stability.train_copy(branch, round_, start, data, 1, callbacks=[copy_rates])
        by_hand = [cosine(t, warmup) for t in range(first, end)]
        assert copy_rates.rates == pytest.approx(by_hand, rel=1e-12)
        if round_:
            assert copy_rates.rates == run_rates.rates[10:20]
    assert run_rates.rates[:10] == pytest.approx([cosine(t, warmup) for t in range(10)], rel=1e-12)


def hand_path(a: dict, b: dict, x: torch.Tensor, y: torch.Tensor, alpha: float):
    """LeNet-300-100 at (1 − α)a + αb, in float64 with plain matrix products: loss, errors."""
    p = {n: (1 - alpha) * a[n].double() + alpha * b[n].double() for n in a}
    h = x.flatten(1).double()
    h = torch.relu(h @ p["fc1.weight"].T + p["fc1.bias"])
    h = torch.relu(h @ p["fc2.weight"].T + p["fc2.bias"])
    logits = h @ p["out.weight"].T + p["out.bias"]
    return F.cross_entropy(logits, y).item(), int((logits.argmax(1) != y).sum())


def test_the_path_and_barrier_match_a_hand_computation(ticket, measured):
    rows = read_csv(measured / stability.FILE)
    assert [int(r["round"]) for r in rows] == [0] * 11 + [2] * 11
    rounds = read_csv(measured / results.ROUNDS)
    branch = stability.load_branch(ticket[0], None)
    seeds = stability.copy_seeds(0)
    data = branch.data(seeds[0])
    data.setup()
    for round_ in (0, 2):
        mine = [r for r in rows if int(r["round"]) == round_]
        assert mine[0]["weights_remaining"] == rounds[round_]["weights_remaining"]
        start = branch.network(data.num_classes, data.in_shape)
        stability.start_point(branch, round_, start)
        a, b = (parameters(stability.train_copy(branch, round_, start, data, s)) for s in seeds)
        errors = {"val": [], "test": []}
        for row in mine:
            alpha = float(row["alpha"])
            for split in ("val", "test"):
                pairs = data.splits[split]
                loss, wrong = hand_path(a, b, pairs.x, pairs.y, alpha)
                assert float(row[f"{split}_loss"]) == pytest.approx(loss, rel=1e-5)
                assert round(float(row[f"{split}_error"]) * len(pairs.y)) == wrong
                errors[split].append(wrong / len(pairs.y))
        for split, errs in errors.items():
            by_hand = max(errs) - (errs[0] + errs[-1]) / 2
            assert float(mine[0][f"{split}_barrier"]) == pytest.approx(by_hand, abs=1e-12)
        distance = sum(float((a[n].double() - b[n].double()).square().sum()) for n in a) ** 0.5
        assert float(mine[0]["l2_distance"]) == pytest.approx(distance, rel=1e-12)
        assert distance > 0


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(root.iterdir())
        if p.is_file()
    }


def test_killed_branch_resumes_to_identical_files_and_a_rerun_skips(ticket, measured, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(ticket[0], run)
    command = [sys.executable, "-m", "prune_ready.stability", str(run), "--rounds", "0,2"]
    env = cli_env(find_data_root())
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if (run / stability.FILE).exists():  # round 0 written, round 2 training
                break
            time.sleep(0.005)
        assert proc.poll() is None, "the branch ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert {r["round"] for r in read_csv(run / stability.FILE)} == {"0"}
    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "round 0" not in resumed.stdout and "round 2" in resumed.stdout  # only round 2
    assert (run / stability.FILE).read_bytes() == (measured / stability.FILE).read_bytes()
    before = snapshot(run)
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "skipped" in again.stderr + again.stdout
    assert snapshot(run) == before


def test_the_branch_under_prune_ready_train_resumes_after_sigkill_and_skips(measured, tmp_path):
    """pruning.control=stability over a grid of finished runs (seeds 0 and 1), found as the
    controls find their tickets: killed while it measures seed 0's round 2, the same command
    measures what is left, and seed 0's stability.csv is byte-identical to the command's
    (`measured`: the same config and seed); a third launch skips both runs and touches nothing,
    and no directory of the branch is left."""
    root = find_data_root()
    grid = ["-m", "seed=0,1", *TINY]
    trained = in_process(*grid, data_root=root, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr[-2000:]
    study = tmp_path / "outputs/default/lenet_300_100-mnist/xavier_normal/imp"
    (variant,) = study.iterdir()
    runs = [variant / f"seed={seed}" for seed in (0, 1)]
    branch = [*grid, "pruning.control=stability", "stability.rounds=[0,2]"]
    command = [sys.executable, "-m", "prune_ready.train", *branch]
    proc = subprocess.Popen(command, cwd=tmp_path, env=cli_env(root), stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if (runs[0] / stability.FILE).exists():  # round 0 written, round 2 training
                break
            time.sleep(0.005)
        assert proc.poll() is None, "the branch ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert {r["round"] for r in read_csv(runs[0] / stability.FILE)} == {"0"}
    resumed = cli(*branch, data_root=root, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert (runs[0] / stability.FILE).read_bytes() == (measured / stability.FILE).read_bytes()
    assert [r["round"] for r in read_csv(runs[1] / stability.FILE)] == ["0"] * 11 + ["2"] * 11
    assert [d.name for d in study.iterdir()] == [variant.name]  # no pruning.control=stability
    before = [snapshot(run) for run in runs]
    again = in_process(*branch, data_root=root, cwd=tmp_path)
    logged = again.stdout + again.stderr
    assert again.returncode == 0 and logged.count("rounds [0, 2] measured already") == 2
    assert [snapshot(run) for run in runs] == before
    assert [d.name for d in study.iterdir()] == [variant.name]


@pytest.mark.parametrize(
    "setting,message",
    [
        ("stability.points=2", "stability.points=2: must be at least 3 (both ends and between)"),
        (
            "stability.points=11",
            "pruning.control=stability needs its ticket run at {ticket}: train the ticket first "
            "(the same command without pruning.control=stability)",
        ),
    ],
)
def test_the_branch_under_prune_ready_train_refuses_in_one_line(tmp_path, setting, message):
    """Too few points, or no ticket run: one line, and the directory Hydra made is removed."""
    out = cli("pruning.control=stability", setting, *TINY, data_root=find_data_root(), cwd=tmp_path)
    ticket = tmp_path / (
        "outputs/default/lenet_300_100-mnist/xavier_normal/imp/data.test_subset=1000,"
        "data.train_subset=300,data.val_size=1000,pruning.control=none,pruning.round_length=1ep,"
        "pruning.rounds=2/seed=0"
    )
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [f"error: {message.format(ticket=ticket)}"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args,message",
    [
        (["--rounds", "3"], "--rounds 3: round 3 is not in 0..2"),
        (["--rounds", "a,b"], "--rounds 'a,b': write all or a comma list of rounds, e.g. 0,4,8"),
        (["--points", "2"], "--points 2: must be at least 3 (both ends and between)"),
    ],
)
def test_bad_input_is_one_line_and_leaves_nothing(ticket, args, message, capsys):
    run = ticket[0]
    before = snapshot(run)
    with pytest.raises(SystemExit) as exit_:
        stability.main([str(run), *args])
    assert exit_.value.code == f"error: {message}"
    assert snapshot(run) == before


def test_an_unfinished_run_is_refused(ticket, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(ticket[0], run)
    rows = read_csv(run / results.ROUNDS)[:2]
    results.write_csv_atomic(run / results.ROUNDS, rows)
    (run / manifest.MANIFEST).unlink()  # as a run killed in its last round: no manifest yet
    manifest.begin(run)
    with pytest.raises(SystemExit) as exit_:
        stability.main([str(run)])
    assert exit_.value.code == f"error: {run} is unfinished: 2 of 3 rounds: let it finish first"
    assert not (run / stability.FILE).exists() and not (run / stability.LOCK).exists()


def test_the_rewind_sweep_reuses_the_theta0_runs_and_its_late_arm_is_valid(data_root):
    from hydra.utils import instantiate

    from prune_ready.rundir import run_variant

    assert run_variant(["pruning.reset.to=0", "init.scale=1.0"]) == ""  # the default run
    assert run_variant(["pruning.reset.to=1ep"]) == "pruning.reset.to=1ep/"
    with initialize_config_dir(CONF_DIR, version_base="1.3"):
        cfg = compose("train", overrides=[f"data.root={data_root}", "+experiment=stability_lenet"])
        late = compose("train", overrides=["+experiment=stability_lenet", "pruning.reset.to=1ep"])
    assert (cfg.name, cfg.pruning.rounds, cfg.pruning.round_length) == (
        "init_study_lenet",
        13,
        "5ep",
    )
    assert str(instantiate(late.pruning).reset.to) == "1ep"  # θk at an evaluation of round 0


def test_the_analysis_describes_the_barriers_over_seeds_and_draws_them(tmp_path):
    """Two lines × two seeds, constructed: the per-round barrier is each run's, its mean and t CI
    over the seeds are the hand-computed ones, and the registry draws the figure."""
    import dataclasses

    import pandas as pd
    from scipy import stats as scipy_stats

    from prune_ready.analyze import analyse, draw
    from tests.constructed import sweep_of

    runs = [(init, seed) for init in ("kaiming_normal", "xavier_normal") for seed in (0, 1)]
    rounds = pd.DataFrame(
        [
            {"run": f"{init}/seed={seed}", "model": "lenet_300_100", "data": "mnist"}
            | {"init": init, "pruning": "imp", "seed": seed, "round": r}
            | {"weights_remaining_pct": pct, "test_acc": 0.97}
            for init, seed in runs
            for r, pct in ((0, 100.0), (1, 80.0))
        ]
    )
    sweep = sweep_of(rounds, ["model", "data", "init", "pruning"], tmp_path)
    barrier = {("kaiming_normal", 0): 0.01, ("kaiming_normal", 1): 0.03}
    rows = pd.DataFrame(
        [
            {"run": f"{init}/seed={seed}", "status": "finished", "model": "lenet_300_100"}
            | {"data": "mnist", "init": init, "pruning": "imp", "seed": seed, "round": 1}
            | {"weights_remaining_pct": 80.0, "rewind": "0", "alpha": alpha}
            | {"test_error": 0.02 + (0.01 if alpha == 1 else 0), "val_error": 0.02}
            | {"val_barrier": 0.0, "test_barrier": barrier.get((init, seed), 0.005)}
            | {"l2_distance": 1.5}
            for init, seed in runs
            for alpha in (0.0, 0.5, 1.0)
        ]
    )
    (part,) = analyse(dataclasses.replace(sweep, stability=rows)).parts()
    table = part.table("stability").set_index("init")
    kaiming = table.loc["kaiming_normal"]
    assert kaiming["n"] == 2 and kaiming["test_barrier_mean"] == pytest.approx(0.02)
    half = scipy_stats.t.ppf(0.975, 1) * 0.01  # std 0.02/√2 over 2 seeds: standard error 0.01
    assert kaiming["test_barrier_ci_high"] - 0.02 == pytest.approx(half)
    assert table.loc["xavier_normal", "test_barrier_mean"] == pytest.approx(0.005)
    assert kaiming["end_test_error_mean"] == pytest.approx(0.025)  # (0.02 + 0.03) / 2
    assert kaiming["weights_remaining_pct_mean"] == 80.0
    slugs = [spec.slug for spec, _, _ in draw(part)]
    assert slugs[-1] == "barrier-vs-weights"
    assert "barrier-vs-weights" not in [spec.slug for spec, _, _ in draw(sweep_part(tmp_path))]


def sweep_part(tmp_path: Path):
    """A constructed sweep without stability.csv: the barrier figure is left out."""
    import pandas as pd

    from prune_ready.analyze import analyse
    from tests.constructed import sweep_of

    rounds = pd.DataFrame(
        [
            {"run": f"a/seed={seed}", "model": "lenet_300_100", "data": "mnist", "init": "a"}
            | {"pruning": "imp", "seed": seed, "round": 0, "weights_remaining_pct": 100.0}
            | {"test_acc": 0.97}
            for seed in (0, 1)
        ]
    )
    (part,) = analyse(
        sweep_of(rounds, ["model", "data", "init", "pruning"], tmp_path / "b")
    ).parts()
    return part


def test_a_rewind_sweep_gets_barrier_and_accuracy_against_the_rewind_point(tmp_path):
    """θ0 and θ1ep arms of one init, two seeds each (constructed): the table pairs each arm's
    barrier with its ticket's accuracy at the measured round, and the figure orders θ0 first."""
    import dataclasses

    import pandas as pd

    from prune_ready.analyze import analyse, draw
    from tests.constructed import sweep_of

    factors = ["model", "data", "init", "pruning", "pruning.reset.to"]
    arms = [(to, seed) for to in ("1ep", "0") for seed in (0, 1)]  # θk first: sorted by the code
    accuracy = {("0", 0): 0.95, ("0", 1): 0.97, ("1ep", 0): 0.98, ("1ep", 1): 0.98}
    rounds = pd.DataFrame(
        [
            {"run": f"{to}/seed={seed}", "model": "lenet_300_100", "data": "mnist"}
            | {"init": "kaiming_normal", "pruning": "imp", "pruning.reset.to": to, "seed": seed}
            | {"round": r, "weights_remaining_pct": pct, "test_acc": accuracy[(to, seed)]}
            for to, seed in arms
            for r, pct in ((0, 100.0), (1, 80.0))
        ]
    )
    sweep = sweep_of(rounds, factors, tmp_path)
    measured = pd.DataFrame(
        [
            {"run": f"{to}/seed={seed}", "round": 1, "weights_remaining_pct": 80.0}
            | {"rewind": to, "alpha": alpha, "test_error": 0.03, "val_error": 0.03}
            | {"val_barrier": 0.0, "test_barrier": 0.04 if to == "0" else 0.0}
            | {"l2_distance": 1.0}
            for to, seed in arms
            for alpha in (0.0, 0.5, 1.0)
        ]
    )
    rows = sweep.runs[sweep.id_columns].merge(measured, on="run")
    (part,) = analyse(dataclasses.replace(sweep, stability=rows)).parts()
    table = part.table("stability_rewind")
    by_arm = table.assign(arm=table["pruning.reset.to"].astype(str)).set_index("arm")
    assert by_arm.loc["0", "test_acc_mean"] == pytest.approx(0.96)
    assert by_arm.loc["1ep", "test_acc_mean"] == pytest.approx(0.98)
    assert by_arm.loc["0", "test_barrier_mean"] == pytest.approx(0.04)
    assert by_arm.loc["1ep", "test_barrier_mean"] == 0.0
    assert set(by_arm["round"]) == {1} and set(by_arm["n"]) == {2}
    fig = next(f for spec, f, _ in draw(part) if spec.slug == "barrier-vs-rewind")
    barrier_axes = fig.axes[0]
    assert [t.get_text() for t in barrier_axes.get_xticklabels()] == ["θ0", "θ(1 ep)"]
    (line,) = [ln for ln in barrier_axes.get_lines() if ln.get_label() == "kaiming_normal"]
    assert list(line.get_ydata()) == pytest.approx([4.0, 0.0])  # pp, θ0 then θ1ep


def test_a_run_another_launch_is_measuring_is_skipped(ticket, tmp_path, caplog):
    """Two launches split the runs: one that finds a run's stability lock held leaves it."""
    import fcntl
    import logging

    run = tmp_path / "run"
    shutil.copytree(ticket[0], run)
    with open(run / stability.LOCK, "a") as held:  # as if another launch were measuring it
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with caplog.at_level(logging.INFO, logger="prune_ready.stability"):
            stability.main([str(run), "--rounds", "0"])
    assert f"skipped {run}: another process is measuring it" in caplog.text
    assert not (run / stability.FILE).exists()


def test_barrier_differences_and_the_barrier_as_a_predictor_match_scipy(tmp_path):
    """Two inits × seeds 0-7 (constructed), measured at round 0 (dense, from the rewind point)
    and round 1: the barrier differences are paired by seed as differences.csv's are (the same
    numbers as scipy's paired and Welch t-tests), and round 0's barrier predicts the tickets'
    accuracy with Spearman's ρ chosen on seeds 0-3 and confirmed on 4-7 (scipy's ρ)."""
    import dataclasses

    import numpy as np
    import pandas as pd
    from scipy import stats as scipy_stats

    from prune_ready.analyze import analyse
    from tests.constructed import sweep_of

    inits, seeds = ("kaiming_normal", "xavier_normal"), range(8)
    rng = np.random.default_rng(5)
    barrier = {(i, s, r): float(rng.uniform(0, 0.05)) for i in inits for s in seeds for r in (0, 1)}
    # the tickets' accuracy falls with the dense barrier; the validation barrier is noise
    accuracy = {(i, s): 0.99 - barrier[(i, s, 0)] for i in inits for s in seeds}
    noise = {(i, s): float(rng.uniform(0, 0.05)) for i in inits for s in seeds}
    rounds = pd.DataFrame(
        [
            {"run": f"{i}/seed={s}", "model": "lenet_300_100", "data": "mnist", "init": i}
            | {"pruning": "imp", "seed": s, "round": r, "weights_remaining_pct": pct}
            | {"test_acc": 0.98 if r == 0 else accuracy[(i, s)]}
            for i in inits
            for s in seeds
            for r, pct in ((0, 100.0), (1, 0.5))
        ]
    )
    sweep = sweep_of(rounds, ["model", "data", "init", "pruning"], tmp_path)
    measured = pd.DataFrame(
        [
            {"run": f"{i}/seed={s}", "round": r, "weights_remaining_pct": pct, "rewind": "0"}
            | {"alpha": alpha, "test_error": 0.02, "val_error": 0.02}
            | {"test_barrier": barrier[(i, s, r)], "val_barrier": noise[(i, s)] + r}
            | {"l2_distance": 1.0}
            for i in inits
            for s in seeds
            for r, pct in ((0, 100.0), (1, 0.5))
            for alpha in (0.0, 0.5, 1.0)
        ]
    )
    rows = sweep.runs[sweep.id_columns].merge(measured, on="run")
    (part,) = analyse(dataclasses.replace(sweep, stability=rows)).parts()

    table = part.table("stability_differences")
    assert list(table.columns) == ["metric", *part.table("differences").columns]
    k, x = ([barrier[(i, s, 1)] for s in seeds] for i in inits)
    reference, line = ("kaiming_normal", x) if np.mean(k) > np.mean(x) else ("xavier_normal", k)
    other = k if line is x else x
    (row,) = table[(table["metric"] == "test_barrier") & (table["round"] == 1)].itertuples()
    assert (row.reference, row.test, row.n_pairs) == (reference, "paired", 8)
    assert row.diff == pytest.approx(np.mean(np.subtract(line, other)), rel=1e-12)
    assert row.p == pytest.approx(scipy_stats.ttest_rel(line, other).pvalue, rel=1e-9)
    welch = scipy_stats.ttest_ind(line, other, equal_var=False).pvalue
    assert row.welch_p == pytest.approx(welch, rel=1e-9)
    assert set(table["metric"]) == {"test_barrier", "val_barrier"} and len(table) == 4

    predictors = part.table("stability_predictors")
    assert set(predictors["statistic"]) == {"val_barrier", "test_barrier", "l2_distance"}
    assert predictors.loc[predictors["statistic"] == "l2_distance", "rho"].isna().all()  # constant
    at = predictors[(predictors["target"] == "test_acc") & (predictors["round"] == 1)]
    for split, chosen in (("choose", range(4)), ("confirm", range(4, 8))):
        runs = [(i, s) for i in inits for s in chosen]
        for statistic, values in (
            ("test_barrier", [barrier[(i, s, 0)] for i, s in runs]),
            ("val_barrier", [noise[(i, s)] for i, s in runs]),
        ):
            (found,) = at[(at["split"] == split) & (at["statistic"] == statistic)].itertuples()
            rho = scipy_stats.spearmanr(values, [accuracy[r] for r in runs]).statistic
            assert found.rho == pytest.approx(rho, abs=1e-12)
            assert found.n_runs == 8 and found.chosen == (statistic == "test_barrier")
    assert at.loc[at["statistic"] == "test_barrier", "rho"].tolist() == [-1.0, -1.0]
