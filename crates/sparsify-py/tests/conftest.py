"""Shared helpers of the Python module's tests: the repository's fixtures and the CLI binary.

The tests compare the module with the `sparsify` binary built from the same checkout
(`SPARSIFY_BIN`, or `target/debug/sparsify`) and with the committed reference fixtures; they
never read anything outside the repository.
"""

import csv
import os
import pathlib
import subprocess

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
REFERENCE = REPO / "tests" / "fixtures" / "reference"
NFEATURE = REPO / "tests" / "fixtures" / "nfeature"


def read_csv(path):
    """A CSV as (header, columns): every column as float64 ('' as NaN, exact for integers)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    columns = {
        name: np.array([float(r[i]) if r[i] != "" else np.nan for r in body], dtype=np.float64)
        for i, name in enumerate(header)
    }
    return header, columns


def assert_columns_bitwise(got, want, label):
    """Every column of `want` equals `got`'s bit for bit (NaN where NaN), lengths first."""
    for name, expected in want.items():
        actual = got[name]
        assert actual.dtype == np.float64, f"{label}: {name} dtype {actual.dtype}"
        assert len(actual) == len(expected), f"{label}: {name}: {len(actual)} vs {len(expected)} rows"
        same = (actual.view(np.uint64) == expected.view(np.uint64)) | (
            np.isnan(actual) & np.isnan(expected)
        )
        bad = np.flatnonzero(~same)
        assert bad.size == 0, f"{label}: {name} differs first at row {bad[:1]}: {actual[bad[:1]]} vs {expected[bad[:1]]}"


@pytest.fixture(scope="session")
def sparsify_bin():
    """The `sparsify` binary of this checkout."""
    path = pathlib.Path(os.environ.get("SPARSIFY_BIN", REPO / "target" / "debug" / "sparsify"))
    if not path.exists():
        pytest.fail(f"no sparsify binary at {path}: run `cargo build -p sparsify-cli` or set SPARSIFY_BIN")
    return path


def cli(binary, *args):
    """Runs the binary; returns (exit code, stderr)."""
    done = subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True, timeout=300)
    return done.returncode, done.stderr
