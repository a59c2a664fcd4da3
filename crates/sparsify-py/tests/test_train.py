"""sparsify.train against the n-feature reference trajectories (tests/fixtures/nfeature)."""

import csv
import json

import numpy as np
import pytest

import sparsify
from conftest import NFEATURE


@pytest.mark.parametrize("case", ["traj_n8_m16_adamw", "traj_n8_m16_sgd_l1"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_train_matches_reference_trajectory(case, order):
    meta = json.loads((NFEATURE / case / "meta.json").read_text())
    w0 = np.load(NFEATURE / case / "w0.npy")
    hyper = meta["optimizer_hyperparameters"]
    r = sparsify.train(
        w0=np.asarray(w0, order=order),
        lam=meta["l1"],
        steps=meta["steps"],
        optimizer=meta["optimizer"],
        lr=hyper["lr"],
        dtype="f64",
        save_weights=[1, 10, 100, 300],
        record_every=100,
    )
    # The same tolerance as tests/it/nfeature.rs: a float64 port differs from numpy only in
    # the summation order inside the products (~1e-16 relative per step), far below 1e-12
    # over 300 contracting steps, while a wrong term moves entries by > 1e-6.
    assert sorted(r.saved) == [1, 10, 100, 300]
    for k, w in r.saved.items():
        want = np.load(NFEATURE / case / f"w_step{k}.npy")
        assert w.shape == want.shape and w.dtype == np.float64
        assert np.max(np.abs(w - want)) < 1e-12, (case, k)
    with open(NFEATURE / case / "loss.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(r.loss["step"])
    for name in ("mse", "l1_term", "total"):
        want = np.array([float(row[name]) for row in rows])
        assert np.all(np.abs(r.loss[name] - want) <= 1e-12 * np.maximum(np.abs(want), 1e-3)), name
    assert np.array_equal(r.w0, w0)


def test_float32_training_returns_float32():
    r = sparsify.train(n=8, m=16, instances=3, steps=20, seed=1)
    assert r.w_final.dtype == np.float32 and r.w_final.shape == (3, 8, 16)
    assert r.w0.dtype == np.float32
    assert len(r.counts["polysemantic"]) == 3
    assert len(r.loss["step"]) == 21
    assert r.summary["complete"] and r.summary["dtype"] == "f32"
