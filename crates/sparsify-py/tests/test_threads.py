"""The GIL is released during runs, and Ctrl-C stops a long one."""

import _thread
import os
import signal
import threading
import time

import numpy as np
import pytest

import sparsify
from conftest import assert_columns_bitwise


def test_two_threads_give_the_sequential_results():
    requests = [dict(m=20000, lam=1e-4, rng="numpy", seed=s) for s in (0, 1)]
    sequential = [sparsify.run(**r) for r in requests]
    results = [None, None]

    def work(i):
        results[i] = sparsify.run(**requests[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    # While both run, this thread holds the GIL freely: a held GIL would block this loop.
    spins = 0
    while any(t.is_alive() for t in threads):
        spins += 1
        time.sleep(0.001)
    for t in threads:
        t.join()
    assert spins > 0
    for got, want in zip(results, sequential):
        assert_columns_bitwise(got.trajectory, want.trajectory, "trajectory")
        assert_columns_bitwise(got.deaths, want.deaths, "deaths")


@pytest.mark.parametrize(
    "long_call",
    [
        # Each runs far longer than the 0.5 s before the interrupt: a call that ended first
        # fails the test (no KeyboardInterrupt, or nothing sent).
        lambda: sparsify.run(m=3_000_000, lam=1e-6),
        lambda: sparsify.run(m=10**6, lam=1e-7, method="reduced", max_steps=1e12),
        lambda: sparsify.train(n=64, m=256, instances=4, steps=10**6),
    ],
    ids=["run-direct", "run-reduced", "train"],
)
@pytest.mark.parametrize("send", ["interrupt_main", "SIGINT"])
def test_ctrl_c_stops_a_long_call(long_call, send):
    before = threading.active_count()
    sent = []

    def interrupt():
        sent.append(time.monotonic())
        if send == "SIGINT":
            # A real signal to the process, as a terminal's Ctrl-C sends it.
            os.kill(os.getpid(), signal.SIGINT)
        else:
            _thread.interrupt_main()

    timer = threading.Timer(0.5, interrupt)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        long_call()
    raised = time.monotonic()
    timer.join()
    assert sent, "the call ended before the interrupt was sent"
    # The module polls signals every 50 ms; 2 s allows for a loaded 2-core CI machine and
    # is far below the call's uninterrupted length.
    assert raised - sent[0] < 2.0
    assert threading.active_count() == before
