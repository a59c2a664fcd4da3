#!/usr/bin/env bash
# The real Slurm test of `sparsify sweep` (issue 11, item 4).
#
# Installs Slurm from Debian's packages, starts a one-node cluster on this machine (munged,
# slurmctld, slurmd, as root, with their files in a temporary directory), submits a small
# sweep as a job array with `sbatch --array`, cancels one array task mid-run with `scancel`,
# resubmits it, merges, and checks that the table and the aggregate are byte-identical to
# `sparsify sweep run --jobs 2` on this machine. It stops the daemons it started by their pids.
#
# It never skips silently: without root, network or packages it says so and exits 1.
#
# Usage: .ci/slurm_test.sh [path/to/sparsify]   (default: target/debug/sparsify)
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
    echo "slurm_test: FAILED: $*" >&2
    exit 1
}
say() { echo "slurm_test: $*" >&2; }

SPARSIFY="$(realpath "${1:-target/debug/sparsify}")"
[[ -x "$SPARSIFY" ]] || fail "no sparsify binary at $SPARSIFY (build it first: cargo build -p sparsify-cli)"
[[ "$(id -u)" == 0 ]] || fail "needs root to install and run Slurm (this test is never skipped)"

# 1. Slurm and munge from Debian's packages.
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurmctld slurmd slurm-client munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null 2>&1 || fail "apt-get update failed (no network?): cannot install Slurm"
    apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null 2>&1 \
        || fail "apt-get install slurmctld slurmd slurm-client munge failed: cannot install Slurm"
fi

WORK="$(mktemp -d /tmp/sparsify-slurm.XXXXXX)"
chmod 755 "$WORK"
PIDS=()
cleanup() {
    local status=$?
    # Stop only what this script started, by pid, newest first.
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        kill "${PIDS[$i]}" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    if [[ $status != 0 ]]; then
        for log in "$WORK"/*.log; do
            [[ -f "$log" ]] && { echo "--- $log (last lines)" >&2; tail -n 15 "$log" >&2; }
        done
    fi
    rm -rf "$WORK"
    exit $status
}
trap cleanup EXIT

# 2. munge: a fresh key and a daemon on its own socket.
mkdir -p "$WORK/munge"
chmod 700 "$WORK/munge"
dd if=/dev/urandom of="$WORK/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$WORK/munge/munge.key"
SOCKET="$WORK/munge/munge.socket"
munged --foreground --force --key-file="$WORK/munge/munge.key" --socket="$SOCKET" \
    --pid-file="$WORK/munge/munged.pid" --seed-file="$WORK/munge/munge.seed" \
    --log-file="$WORK/munged.log" >"$WORK/munged.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [[ -S "$SOCKET" ]] && break; sleep 0.1; done
[[ -S "$SOCKET" ]] || fail "munged did not start"

# 3. A one-node slurm.conf naming this host with its CPUs and memory.
HOST="$(hostname -s)"
CPUS="$(nproc)"
MEM_MB="$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)"
mkdir -p "$WORK/state" "$WORK/spool"
export SLURM_CONF="$WORK/slurm.conf"
cat > "$SLURM_CONF" <<EOF
ClusterName=sparsify-ci
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCKET
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=300
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=ci Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -i -f "$SLURM_CONF" >"$WORK/slurmctld.out" 2>&1 &
PIDS+=($!)
slurmd -D -f "$SLURM_CONF" >"$WORK/slurmd.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do
    state="$(sinfo -h -N -o '%T' 2>/dev/null | head -n1 || true)"
    [[ "$state" == idle* ]] && break
    sleep 0.2
done
[[ "${state:-}" == idle* ]] || fail "the node did not come up (sinfo says '${state:-nothing}')"
say "cluster up: node $HOST, $CPUS CPUs, $MEM_MB MB"

# 4. A sweep of 12 cells (about half a second each) in 3 array tasks.
cat > "$WORK/spec.toml" <<'EOF'
kind = "run"
name = "sparsify-ci"
[params]
m = 1e5
step = 0.5
method = "reduced"
[axes]
lambda = [1e-6, 2e-6]
seed = { from = 0, to = 5 }
EOF
"$SPARSIFY" sweep plan "$WORK/spec.toml" --out "$WORK/cluster" >/dev/null
"$SPARSIFY" sweep plan "$WORK/spec.toml" --out "$WORK/local" >/dev/null
"$SPARSIFY" sweep slurm "$WORK/cluster" --array-size 3 --cpus 1 --time 00:10:00 > "$WORK/sweep.sbatch"
JOB="$(sbatch --parsable "$WORK/sweep.sbatch")"
JOB="${JOB%%;*}"
say "submitted job array $JOB (tasks 0-2)"

# Count of finished cells of shard 1 (cells 1, 4, 7, 10).
shard1_done() {
    local n=0
    for id in 01 04 07 10; do [[ -f "$WORK/cluster/cells/0/$id.done.json" ]] && n=$((n + 1)); done
    echo $n
}
wait_queue_empty() {
    for _ in $(seq 600); do
        [[ -z "$(squeue -h -j "$1" 2>/dev/null)" ]] && return 0
        sleep 0.2
    done
    fail "job $1 still in the queue after 120 s"
}

# 5. Cancel task 1 once it is running and has finished a cell, but not all four.
for _ in $(seq 600); do
    n="$(shard1_done)"
    (( n >= 1 )) && break
    sleep 0.05
done
(( n >= 1 && n < 4 )) || fail "could not catch task 1 mid-run ($n of 4 cells done)"
scancel "${JOB}_1"
say "cancelled task ${JOB}_1 with $n of its 4 cells done"
wait_queue_empty "$JOB"
status="$("$SPARSIFY" sweep status "$WORK/cluster")"
say "after the cancel: $status"
[[ "$status" != "12 cells: 12 done"* ]] || fail "the cancelled task finished anyway: $status"

# 6. Resubmit the cancelled task alone; it skips the cells it had finished.
JOB2="$(sbatch --parsable --array=1 "$WORK/sweep.sbatch")"
JOB2="${JOB2%%;*}"
say "resubmitted task 1 as job $JOB2"
wait_queue_empty "$JOB2"
status="$("$SPARSIFY" sweep status "$WORK/cluster")"
[[ "$status" == "12 cells: 12 done, 0 running, 0 failed, 0 missing"* ]] || fail "after the resubmission: $status"
grep -q "were done" "$WORK"/cluster/slurm/"${JOB2}"_1.out || fail "the resubmitted task did not report skipped cells"

# 7. Merge, and compare with one machine, --jobs 2.
"$SPARSIFY" sweep merge "$WORK/cluster" --out "$WORK/cluster.csv" >/dev/null
"$SPARSIFY" sweep run "$WORK/local" --jobs 2 >/dev/null
"$SPARSIFY" sweep merge "$WORK/local" --out "$WORK/local.csv" >/dev/null
cmp "$WORK/cluster.csv" "$WORK/local.csv" || fail "the cluster's table differs from --jobs 2 on one machine"
cmp "$WORK/cluster.agg.csv" "$WORK/local.agg.csv" || fail "the cluster's aggregate differs from --jobs 2"
say "OK: $(($(wc -l < "$WORK/cluster.csv") - 1)) rows, byte-identical to sweep run --jobs 2"
