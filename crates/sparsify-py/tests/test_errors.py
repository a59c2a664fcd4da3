"""Every bad argument raises: ValueError with the command line's own message, or TypeError."""

import numpy as np
import pytest

import sparsify
from conftest import cli

# (keyword arguments of sparsify.run, the same request as flags of `sparsify run`).
BAD_RUN = [
    (dict(lam=-1), ["--lambda", "-1"]),
    (dict(lam=float("nan")), ["--lambda", "NaN"]),
    (dict(h=0), ["--step", "0"]),
    (dict(m=1), ["--m", "1"]),
    (dict(m=2.5), ["--m", "2.5"]),
    (dict(m=float("inf")), ["--m", "inf"]),
    (dict(m=2**60), ["--m", str(2**60)]),
    (dict(seed=-1), ["--seed", "-1"]),
    (dict(seed=2**64), ["--seed", str(2**64)]),
    (dict(rng="numpy", seed=2**33), ["--rng", "numpy", "--seed", str(2**33)]),
    (dict(method="euler"), ["--method", "euler"]),
    (dict(dynamics="foo"), ["--dynamics", "foo"]),
    (dict(dynamics="lp"), ["--dynamics", "lp"]),
    (dict(dynamics="lp", params={"p": 2.0}, method="adaptive"), ["--dynamics", "lp", "--param", "p=2", "--method", "adaptive"]),
    (dict(dynamics="l1-l2", params={"nu": 1.0}), ["--dynamics", "l1-l2", "--param", "nu=1"]),
    (dict(dynamics="lp", params={"p": 0.5}, method="reduced"), ["--dynamics", "lp", "--param", "p=0.5", "--method", "reduced"]),
    (dict(rtol=1e-3), ["--rtol", "1e-3"]),
    (dict(method="adaptive", rtol=1.5), ["--method", "adaptive", "--rtol", "1.5"]),
    (dict(method="adaptive", atol=0), ["--method", "adaptive", "--atol", "0"]),
    (dict(method="reduced", sum="pairwise"), ["--method", "reduced", "--sum", "pairwise"]),
    (dict(sum="kahan"), ["--sum", "kahan"]),
    (dict(init="uniform"), ["--init", "uniform"]),
    (dict(sigma=-0.1), ["--sigma", "-0.1"]),
    (dict(max_steps=0), ["--max-steps", "0"]),
    (dict(max_steps=2.5), ["--max-steps", "2.5"]),
    (dict(lam=1e-12, max_steps=1000), ["--lambda", "1e-12", "--max-steps", "1000"]),
    (dict(parallel_init=True, rng="numpy"), ["--parallel-init", "--rng", "numpy"]),
    (dict(parallel_init=True, init="quantile"), ["--parallel-init", "--init", "quantile"]),
    (dict(abs=True), ["--abs"]),
    (dict(w0=np.ones(4), m=4), ["--init-file", "W0", "--m", "4"]),
    (dict(w0=np.ones(4), seed=1), ["--init-file", "W0", "--seed", "1"]),
]


@pytest.mark.parametrize("kwargs,flags", BAD_RUN, ids=[" ".join(f) for _, f in BAD_RUN])
def test_bad_run_argument_raises_the_cli_message(kwargs, flags, sparsify_bin, tmp_path):
    w0 = tmp_path / "w0.txt"
    w0.write_text("1\n1\n1\n1\n")
    flags = [str(w0) if f == "W0" else f for f in flags]
    code, err = cli(sparsify_bin, "run", *flags, "--summary", tmp_path / "s.json")
    assert code == 2, err
    want = err.strip().splitlines()[0].removeprefix("error: ")
    with pytest.raises(ValueError) as caught:
        sparsify.run(**kwargs)
    got = str(caught.value)
    if "for '--rng <RNG>'" in want or "[possible values" in want:
        # clap adds a "did you mean" tip of its own; the message proper must agree.
        want = want.split("; tip:")[0].removesuffix(" (see --help)")
        got = got.removesuffix(" (see --help)")
    assert got == want


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(lam="big"),
        dict(h=None, m="100"),
        dict(m=True),
        dict(seed=1.0),
        dict(params={"mu": "a"}, dynamics="l1-l2"),
        dict(params={1: 0.5}, dynamics="lp"),
        dict(method=3),
        dict(record=["a"]),
        dict(w0="abc"),
        dict(w0=np.array(["a", "b"])),
        dict(w0=np.ones(3, dtype=np.complex64)),
        dict(nonsense=1),
    ],
)
def test_wrong_types_raise_type_error(kwargs):
    with pytest.raises(TypeError):
        sparsify.run(**kwargs)


def test_bad_train_arguments_raise():
    for kwargs, fragment in [
        (dict(n=8), "--m: required"),
        (dict(n=0, m=4), "--n <N>"),
        (dict(n=8, m=16, lr=-1), "--lr"),
        (dict(n=8, m=16, optimizer="sgd", beta1=0.5), "--beta1: only --optimizer adamw"),
        (dict(n=8, m=16, optimizer="flow", lr=0.1), "--lr: the gradient flow"),
        (dict(n=8, m=16, noise="gaussian"), "--noise: needs --sigma"),
        (dict(n=8, m=16, sigma=0.1), "--sigma: given without --noise"),
        (dict(n=8, m=16, steps=10, save_weights=[11]), "--save-weights: step 11"),
        (dict(n=8, m=16, record_every=0), "--record-every"),
        (dict(n=8, m=16, dtype="f16"), "--dtype"),
        (dict(n=8, m=16, optimizer="adam"), "--optimizer"),
        (dict(w0=np.zeros((2, 3, 4)), n=5), "--n: 5 disagrees with w0"),
        (dict(w0=np.full((1, 2, 2), np.inf)), "need finite numbers"),
        (dict(w0=np.zeros((2, 3))), "3-D"),
    ]:
        with pytest.raises(ValueError) as caught:
            sparsify.train(**kwargs)
        assert fragment in str(caught.value), (kwargs, str(caught.value))
    with pytest.raises(TypeError):
        sparsify.train(n="8", m=16)
