#!/usr/bin/env bash
# Speed of `sparsify sweep` (issue 11): driver overhead per cell, --jobs 2 against --jobs 1,
# and merging 1e6 cells. A benchmark, not a test: it prints numbers and asserts nothing.
#
# Usage: tools/bench_sweep.sh [path/to/sparsify]   (default: target/release/sparsify if built,
# else target/debug/sparsify). Needs python3 and bc; writes ~1e6 small files under $TMPDIR.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-}"
if [[ -z "$BIN" ]]; then
    BIN=target/release/sparsify
    [[ -x "$BIN" ]] || BIN=target/debug/sparsify
fi
BIN="$(realpath "$BIN")"
W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l | cut -c1-7; }
echo "binary: $BIN; $(nproc) cores"

# 1. Driver overhead: 10,000 cells of a run at m = 10 (a few hundred reduced Euler steps, a few
# microseconds each).
cat > "$W/tiny.toml" <<'T'
kind = "run"
[params]
m = 10
lambda = 1e-2
step = 0.5
method = "reduced"
[axes]
seed = { from = 0, to = 9999 }
T
t0=$(now); "$BIN" sweep plan "$W/tiny.toml" --out "$W/tiny" >/dev/null; t1=$(now)
"$BIN" sweep run "$W/tiny" --jobs 1 >/dev/null; t2=$(now)
echo "plan, 10000 cells: $(secs "$t0" "$t1") s"
echo "run --jobs 1, 10000 tiny cells: $(secs "$t1" "$t2") s = $(echo "($t2 - $t1) * 1000 / 10000" | bc -l | cut -c1-6) ms/cell (driver overhead)"
t3=$(now); "$BIN" sweep run "$W/tiny" --jobs 1 >/dev/null; t4=$(now)
echo "run again (all 10000 skipped): $(secs "$t3" "$t4") s"

# 2. --jobs 2 against --jobs 1: 24 cells of m = 1e5.
cat > "$W/work.toml" <<'T'
kind = "run"
[params]
m = 1e5
lambda = 1e-5
step = 0.5
method = "reduced"
[axes]
seed = { from = 0, to = 23 }
T
for k in 1 2; do
    "$BIN" sweep plan "$W/work.toml" --out "$W/work$k" >/dev/null
    t0=$(now); "$BIN" sweep run "$W/work$k" --jobs $k >/dev/null; t1=$(now)
    eval "T$k=$(secs "$t0" "$t1")"
    echo "run --jobs $k, 24 cells of m = 1e5: $(secs "$t0" "$t1") s"
done
echo "speed-up of --jobs 2 over --jobs 1: $(echo "$T1 / $T2" | bc -l | cut -c1-5)x"

# 3. Merge of 1e6 cells: plan a 1e6-cell predict sweep, synthesise its done records in the
# layout and format of sweep/store.rs, then status and merge (twice).
cat > "$W/big.toml" <<'T'
kind = "predict"
[params]
m = 2
[axes]
lambda = [1e-3, 2e-3, 3e-3, 4e-3]
seed = { from = 0, to = 249999 }
T
t0=$(now); "$BIN" sweep plan "$W/big.toml" --out "$W/big" >/dev/null; t1=$(now)
echo "plan, 1e6 cells: $(secs "$t0" "$t1") s"
python3 - "$W/big" <<'PY'
import json, os, sys
d = sys.argv[1]
n = 1_000_000
for b in range(n // 1000):
    os.makedirs(f"{d}/cells/{b:03d}", exist_ok=True)
for i in range(n):
    lam = [1e-3, 2e-3, 3e-3, 4e-3][i // 250000]
    seed = i % 250000
    t = 1.0 / lam + seed * 1e-3
    rec = {"index": i, "status": "done",
           "params": [["m", "2"], ["seed", str(seed)], ["lambda", repr(lam)], ["order", "1"],
                      ["rng", "pcg64"], ["init", "half-normal"], ["parallel_init", "false"]],
           "scalars": [repr(t), repr(t), repr(t)], "wall_seconds": 1e-5, "host": "synthetic",
           "sparsify_version": "0.1.0"}
    with open(f"{d}/cells/{i // 1000:03d}/{i:06d}.done.json", "w") as f:
        json.dump(rec, f, separators=(",", ":"))
PY
t0=$(now); "$BIN" sweep status "$W/big"; t1=$(now)
echo "status, 1e6 cells: $(secs "$t0" "$t1") s"
t0=$(now); "$BIN" sweep merge "$W/big" --out "$W/big.csv" >/dev/null; t1=$(now)
echo "merge, 1e6 cells: $(secs "$t0" "$t1") s ($(wc -c < "$W/big.csv") bytes; $(($(wc -l < "$W/big.agg.csv") - 1)) aggregate rows)"
t0=$(now); "$BIN" sweep merge "$W/big" --out "$W/big2.csv" >/dev/null; t1=$(now)
cmp "$W/big.csv" "$W/big2.csv" && echo "merge again: $(secs "$t0" "$t1") s, identical bytes"
