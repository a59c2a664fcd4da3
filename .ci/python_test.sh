#!/usr/bin/env bash
# The Python module (crates/sparsify-py): a fresh venv with maturin, pytest and numpy from the
# registry, the module built from this checkout and installed as a user would
# (`pip install ./crates/sparsify-py`), then its pytest suite.
#
# The wheel is built with the workspace's dev profile (MATURIN_PEP517_ARGS) into the
# workspace's target/, so after `cargo test --workspace` only pyo3, numpy and the module itself
# are compiled again (maturin builds them as an extension module, without libpython): about a
# minute on 2 cores, instead of a release build of every dependency. The tests compare with
# the `sparsify` binary of the same build (SPARSIFY_BIN).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${SPARSIFY_PY_VENV:-target/py-venv}"
python3 -m venv --clear "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check maturin pytest numpy
cargo build --quiet -p sparsify-cli --bin sparsify
export SPARSIFY_BIN="$PWD/target/debug/sparsify"
PATH="$PWD/$venv/bin:$PATH" MATURIN_PEP517_ARGS="--profile dev --strip" \
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-build-isolation \
    ./crates/sparsify-py
# From the tests' own directory, so that `import sparsify` is the installed module.
cd crates/sparsify-py/tests
"../../../$venv/bin/python" -m pytest -q -p no:cacheprovider
