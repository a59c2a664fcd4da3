"""Baselines for `cargo xtask bench`: the published Python loop and a vectorized numpy loop.

usage: python3 loops.py {published,numpy} M LAMBDA H SEED

Both start from the published initialisation (np.random.seed(SEED), |N(0, 0.9/sqrt(M))|,
sorted descending) and time only the loop, like the reference README's measurements.
`published` performs the operations of the published gist's loop body (Python's built-in sum
over numpy arrays, the same scalars, gamma, update and filter, the logging test), without its
prints and plots. `numpy` is the obvious fast translation: BLAS dot products for the sums,
in-place update, and a filter only when the last weight is non-positive (the survivors stay
sorted, so the dropped coordinates are a suffix). Prints one JSON line.
"""
import json
import sys
import time
from math import log, sqrt

import numpy as np


def init(m, seed):
    np.random.seed(seed)
    w = np.abs(np.random.normal(0, .9 / sqrt(m), m))
    return np.sort(w)[::-1].copy()


def published(w, lamb, h):
    gamma = (w[0] - w[1]) / w[0]
    history = []
    cnt = 0
    t = 0.0
    while len(w) > 1:
        sq_norm = sum(w ** 2)
        dw_dt = (1 - sq_norm) * w - lamb
        feature_benefit = 1 - sq_norm
        one_norm = sum(w)
        average = one_norm / len(w)
        total_squared_deviation = sq_norm - one_norm ** 2 / len(w)
        variance = total_squared_deviation / len(w)
        relative_variance = variance / average ** 2
        log_it = int(log(cnt + 1) * 3) != int(log(cnt + 2) * 3)
        gamma += lamb / w[0] * h * gamma
        w += dw_dt * h
        w = w[w > 0.0]
        if log_it or len(w) == 1:
            history.append((t, len(w), one_norm, feature_benefit, relative_variance, gamma))
        cnt += 1
        t += h
    return cnt, len(w)


def vectorized(w, lamb, h):
    cnt = 0
    while len(w) > 1:
        sq_norm = np.dot(w, w)
        w *= 1.0 + h * (1.0 - sq_norm)
        w -= lamb * h
        if w[-1] <= 0.0:
            w = w[w > 0.0]
        cnt += 1
    return cnt, len(w)


def main():
    mode, m, lamb, h, seed = sys.argv[1], int(float(sys.argv[2])), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
    w = init(m, seed)
    start = time.perf_counter()
    steps, final_m = (published if mode == "published" else vectorized)(w, lamb, h)
    seconds = time.perf_counter() - start
    print(json.dumps(dict(mode=mode, m=m, lamb=lamb, h=h, seed=seed, steps=steps,
                          final_m_prime=final_m, seconds=seconds, numpy=np.__version__)))


if __name__ == "__main__":
    main()
