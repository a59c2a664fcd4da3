"""Baseline for the n-feature model's speed: one full-batch AdamW step in numpy.

usage: python3 nfeature_step.py N M INSTANCES DTYPE [REPS]     (DTYPE float32 or float64)

Written from the formulas of the reference README (../shared/reference/nfeature/README.md),
as a numpy user would write the step: P = W W^T (batched matmul), D = 2 (relu(P) - I) [P > 0],
grad = (D + D^T) W + l1 sign(W), then torch's AdamW (weight decay first, bias corrections as
torch writes them), in place. No noise (the collision experiment has none), l1 = 1e-3,
lr = 1e-3 and torch's other defaults. W0 ~ N(0, 1/m) from default_rng(0). Times REPS steps
after two warm-up steps and prints one JSON line with the seconds per step.
"""
import json
import sys
import time

import numpy as np


def main():
    n, m, inst = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    dtype = np.dtype(sys.argv[4])
    reps = int(sys.argv[5]) if len(sys.argv) > 5 else 10
    l1, lr, b1, b2, eps, wd = 1e-3, 1e-3, 0.9, 0.999, 1e-8, 0.01
    rng = np.random.default_rng(0)
    W = (rng.standard_normal((inst, n, m)) / np.sqrt(m)).astype(dtype)
    mom = np.zeros_like(W)
    vel = np.zeros_like(W)
    eye = np.eye(n, dtype=dtype)
    t = 0

    def step():
        nonlocal t
        t += 1
        P = W @ W.transpose(0, 2, 1)
        pos = P > 0
        D = 2 * (np.maximum(P, 0) - eye) * pos
        g = (D + D.transpose(0, 2, 1)) @ W
        g = g + l1 * np.sign(W)
        np.multiply(W, 1 - lr * wd, out=W)
        mom[...] = mom + (1 - b1) * (g - mom)
        vel[...] = b2 * vel + (1 - b2) * g * g
        denom = np.sqrt(vel) / (1 - b2 ** t) ** 0.5 + eps
        W[...] = W - (lr / (1 - b1 ** t)) * mom / denom

    for _ in range(2):
        step()
    t0 = time.perf_counter()
    for _ in range(reps):
        step()
    sec = (time.perf_counter() - t0) / reps
    print(json.dumps({"impl": "numpy", "n": n, "m": m, "instances": inst, "dtype": str(dtype),
                      "seconds_per_step": sec, "reps": reps, "numpy": np.__version__}))


if __name__ == "__main__":
    main()
