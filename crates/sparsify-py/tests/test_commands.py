"""predict, verify and sweep: the command line in-process, its files read back."""

import numpy as np
import pytest

import sparsify
from conftest import assert_columns_bitwise, cli, read_csv


def test_predict_is_the_cli_table(sparsify_bin, tmp_path):
    out = tmp_path / "p.csv"
    code, err = cli(sparsify_bin, "predict", "--m", "2000", "--lambda", "1e-3", "--rng", "numpy", "--out", out)
    assert code == 0, err
    got = sparsify.predict(m=2000, lam=1e-3, rng="numpy")
    assert_columns_bitwise(got["table"], read_csv(out)[1], "predict")
    assert got["summary"]["lambda"] == 1e-3
    # From given weights, as --init-file.
    w0 = np.abs(np.random.default_rng(3).standard_normal(500)) / 30
    np.save(tmp_path / "w0.npy", w0)
    code, err = cli(sparsify_bin, "predict", "--init-file", tmp_path / "w0.npy", "--lambda", "1e-3", "--out", out)
    assert code == 0, err
    assert_columns_bitwise(sparsify.predict(w0=w0, lam=1e-3)["table"], read_csv(out)[1], "predict w0")


def test_predict_refuses_with_the_cli_message():
    with pytest.raises(ValueError, match=r"^--lambda: invalid lambda = -1"):
        sparsify.predict(lam=-1)
    with pytest.raises(TypeError):
        sparsify.predict(lam=[1])


def test_verify_returns_one_record_per_claim():
    records = sparsify.verify(profile="fast", claims=["1"])
    assert len(records) == 1
    (claim,) = records
    assert claim["id"] == 1 and claim["pass"] is True
    assert {"name", "statement", "measured", "tolerance", "detail"} <= set(claim)
    with pytest.raises(ValueError, match="--profile"):
        sparsify.verify(profile="slowest")


def test_sweep_plan_run_merge_from_a_dict(tmp_path):
    spec = {"kind": "run", "params": {"m": 300, "lambda": 1e-3, "step": 0.5}, "axes": {"seed": [1, 2]}}
    out = str(tmp_path / "sweep")
    sparsify.sweep.plan(spec, out)
    sparsify.sweep.run(out, jobs=2)
    assert "2 done" in sparsify.sweep.status(out)
    merged = sparsify.sweep.merge(out)
    table = merged["table"]
    assert len(table["seed"]) == 2 and table["status"] == ["done", "done"]
    # Each cell is the run of its parameters.
    for seed, steps in zip(table["seed"], table["steps"]):
        assert sparsify.run(m=300, lam=1e-3, seed=int(seed)).summary["steps"] == steps
    with pytest.raises(ValueError):
        sparsify.sweep.plan({"kind": "run", "params": {"m": 2.5}}, str(tmp_path / "bad"))
