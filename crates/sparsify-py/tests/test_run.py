"""sparsify.run against the published reference and the `sparsify run` binary."""

import json

import numpy as np
import pytest

import sparsify
from conftest import REFERENCE, assert_columns_bitwise, cli, read_csv

PUBLISHED = dict(m=100000, lam=1e-5, h=0.5, rng="numpy", seed=0)


@pytest.fixture(scope="module")
def published():
    return sparsify.run(**PUBLISHED)


def test_published_run_is_the_reference_bit_for_bit(published):
    _, checkpoints = read_csv(REFERENCE / "paper_m1e5_l1e-5.checkpoints.csv")
    _, deaths = read_csv(REFERENCE / "paper_m1e5_l1e-5.deaths.csv")
    assert_columns_bitwise(published.trajectory, checkpoints, "trajectory")
    assert_columns_bitwise(published.deaths, deaths, "deaths")
    assert published.summary["stop_reason"] == "one_left"


def test_published_run_is_the_cli_csv_bit_for_bit(published, sparsify_bin, tmp_path):
    traj, deaths, summary = tmp_path / "t.csv", tmp_path / "d.csv", tmp_path / "s.json"
    code, err = cli(
        sparsify_bin, "run", "--m", "1e5", "--lambda", "1e-5", "--step", "0.5", "--rng", "numpy",
        "--seed", "0", "--trajectory", traj, "--deaths", deaths, "--summary", summary,
    )
    assert code == 0, err
    header, want = read_csv(traj)
    assert list(published.trajectory) == header
    assert_columns_bitwise(published.trajectory, want, "trajectory")
    _, want_deaths = read_csv(deaths)
    assert_columns_bitwise(published.deaths, want_deaths, "deaths")
    # The summary is the CLI's, but for timing and the output paths (no file here).
    theirs = json.loads(summary.read_text())
    ours = published.summary
    for key in ("wall_seconds", "setup_seconds", "outputs"):
        theirs.pop(key), ours.pop(key)
    assert ours == theirs


@pytest.mark.parametrize("method", ["direct", "reduced", "adaptive"])
def test_w0_array_is_init_file(method, sparsify_bin, tmp_path):
    rng = np.random.default_rng(7)
    w0 = np.abs(rng.standard_normal(2000)) * 0.9 / np.sqrt(2000)
    path = tmp_path / "w0.npy"
    np.save(path, w0)
    traj, deaths = tmp_path / "t.csv", tmp_path / "d.csv"
    code, err = cli(
        sparsify_bin, "run", "--init-file", path, "--lambda", "1e-3", "--method", method,
        "--trajectory", traj, "--deaths", deaths,
    )
    assert code == 0, err
    r = sparsify.run(w0=w0, lam=1e-3, method=method)
    assert_columns_bitwise(r.trajectory, read_csv(traj)[1], "trajectory")
    assert_columns_bitwise(r.deaths, read_csv(deaths)[1], "deaths")
    # Exact conversions give the same run: float32 values, a strided view, a list.
    w32 = w0.astype(np.float32)
    np.save(path, w32)
    code, err = cli(sparsify_bin, "run", "--init-file", path, "--lambda", "1e-3", "--method", method, "--trajectory", traj)
    assert code == 0, err
    assert_columns_bitwise(sparsify.run(w0=w32, lam=1e-3, method=method).trajectory, read_csv(traj)[1], "float32")


def test_w0_conversions_are_exact_or_refused():
    w = np.linspace(1.0, 2.0, 64) / 10
    base = sparsify.run(w0=w, lam=1e-2).trajectory
    strided = np.empty(128)
    strided[::2] = w
    for variant in (strided[::2], list(w), w[::-1].copy()):
        got = sparsify.run(w0=variant, lam=1e-2).trajectory
        assert_columns_bitwise(got, base, "converted")
    ints = np.array([1, 2], dtype=np.int64)
    assert_columns_bitwise(
        sparsify.run(w0=ints, lam=1e-2, h=0.1).trajectory,
        sparsify.run(w0=[1.0, 2.0], lam=1e-2, h=0.1).trajectory,
        "int64",
    )
    with pytest.raises(ValueError, match="need a 1-D array"):
        sparsify.run(w0=w.reshape(8, 8))
    with pytest.raises(TypeError, match="complex128"):
        sparsify.run(w0=w.astype(np.complex128))
    with pytest.raises(TypeError, match="bool"):
        sparsify.run(w0=w > 0.15)
    with pytest.raises(ValueError, match="not exact in float64"):
        sparsify.run(w0=np.array([2**53 + 1, 3], dtype=np.int64))
    bad = w.copy()
    bad[5] = np.nan
    with pytest.raises(ValueError, match="w0: invalid weight nan at index 5"):
        sparsify.run(w0=bad)
    with pytest.raises(ValueError, match="at least 2"):
        sparsify.run(w0=np.array([0.5]))


def test_float64_w0_is_read_in_place():
    w = np.abs(np.random.default_rng(0).standard_normal(1000))
    address, borrowed = sparsify.w0_source(w)
    assert borrowed and address == w.ctypes.data
    # A strided view is borrowed too (gathered once into the solver's vector); float32 is not.
    view = np.empty(2000)[::2]
    assert sparsify.w0_source(view)[1]
    assert not sparsify.w0_source(w.astype(np.float32))[1]


def test_recorded_weights():
    w = np.linspace(0.001, 0.02, 300)
    r = sparsify.run(w0=w, lam=1e-2, record=[0, 10, 10**9])
    assert np.array_equal(r.weights_at(0), np.sort(w)[::-1])
    m10 = r.trajectory["m_prime"][r.trajectory["step"] == 10]
    assert len(m10) == 1 and len(r.weights_at(10)) == m10[0]
    assert r.recorded_steps == [0, 10]
    assert not r.weights_at(10).flags.writeable
    with pytest.raises(KeyError):
        r.weights_at(11)
    with pytest.raises(ValueError, match="adaptive"):
        sparsify.run(w0=w, lam=1e-2, method="adaptive", record=[1])


def test_to_pandas():
    r = sparsify.run(m=100, lam=1e-2)
    try:
        import pandas
    except ImportError:
        with pytest.raises(ImportError, match="needs pandas"):
            r.to_pandas()
        return
    frame = r.to_pandas()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == list(r.trajectory)
