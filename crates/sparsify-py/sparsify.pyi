"""Type stubs of the `sparsify` module (a compiled extension; see crates/sparsify-py)."""

from types import ModuleType
from typing import Any, Dict, Iterable, List, Literal, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str

_Count = Union[int, float]
_Array = npt.ArrayLike

class RunResult:
    """The result of `run`: what `sparsify run` writes to its files."""

    @property
    def trajectory(self) -> Dict[str, npt.NDArray[np.float64]]:
        """Checkpoints: step, t, m_prime, one_norm, sq_norm, w_max, w_min, relative_variance, gamma."""
    @property
    def deaths(self) -> Dict[str, npt.NDArray[np.float64]]:
        """Every change of m': step, t, m_prime."""
    @property
    def summary(self) -> Dict[str, Any]:
        """The `--summary` JSON as a dict."""
    @property
    def recorded_steps(self) -> List[int]:
        """The steps whose weights were recorded (`record=`)."""
    def weights_at(self, step: int) -> npt.NDArray[np.float64]:
        """The surviving weights after `step`, descending (read-only); KeyError if not recorded."""
    def to_pandas(self) -> Any:
        """`.trajectory` as a pandas DataFrame (needs pandas)."""

def run(
    m: Optional[_Count] = None,
    lam: Optional[float] = None,
    h: Optional[float] = None,
    method: Optional[Literal["direct", "reduced", "adaptive"]] = None,
    dynamics: Optional[str] = None,
    params: Optional[Mapping[str, float]] = None,
    seed: Optional[int] = None,
    rng: Optional[Literal["pcg64", "pcg", "numpy"]] = None,
    init: Optional[Literal["half-normal", "quantile"]] = None,
    sigma: Optional[float] = None,
    sum: Optional[Literal["sequential", "pairwise"]] = None,
    rtol: Optional[float] = None,
    atol: Optional[float] = None,
    max_steps: Optional[_Count] = None,
    parallel_init: bool = False,
    w0: Optional[_Array] = None,
    abs: bool = False,
    record: Optional[Sequence[int]] = None,
) -> RunResult:
    """`sparsify run` as a function (None: the flag's default: m=100000, lam=1e-5, h=0.5,
    method="direct", dynamics="l1", seed=0, rng="pcg64")."""

class TrainResult:
    """The result of `train`: what `sparsify train` writes into its directory."""

    w0: npt.NDArray[Union[np.float32, np.float64]]
    w_final: npt.NDArray[Union[np.float32, np.float64]]
    saved: Dict[int, npt.NDArray[Union[np.float32, np.float64]]]
    loss: Dict[str, npt.NDArray[np.float64]]
    trajectory: Dict[str, npt.NDArray[np.float64]]
    counts: Dict[str, npt.NDArray[np.float64]]
    summary: Dict[str, Any]

def train(
    n: Optional[_Count] = None,
    m: Optional[_Count] = None,
    instances: Optional[_Count] = None,
    lam: Optional[float] = None,
    steps: Optional[_Count] = None,
    seed: Optional[int] = None,
    optimizer: Optional[Literal["adamw", "sgd", "flow"]] = None,
    lr: Optional[float] = None,
    weight_decay: Optional[float] = None,
    beta1: Optional[float] = None,
    beta2: Optional[float] = None,
    eps: Optional[float] = None,
    step: Optional[float] = None,
    noise: Optional[Literal["none", "bernoulli", "gaussian"]] = None,
    sigma: Optional[float] = None,
    dtype: Optional[Literal["f32", "f64"]] = None,
    w0: Optional[_Array] = None,
    save_weights: Optional[Iterable[_Count]] = None,
    record_every: Optional[_Count] = None,
) -> TrainResult:
    """`sparsify train` as a function (the n-feature model); W arrays (instances, n, m)."""

def predict(
    m: Optional[_Count] = None,
    lam: Optional[float] = None,
    seed: Optional[int] = None,
    rng: Optional[str] = None,
    init: Optional[str] = None,
    sigma: Optional[float] = None,
    w0: Optional[_Array] = None,
    abs: bool = False,
    continuum: bool = False,
    order: Optional[int] = None,
    h: Optional[float] = None,
    t_min: Optional[float] = None,
    t_max: Optional[float] = None,
    points_per_decade: Optional[_Count] = None,
) -> Dict[str, Any]:
    """`sparsify predict`: {"table": dict of float64 arrays, "summary": dict}."""

def verify(profile: str = "fast", claims: Optional[Sequence[str]] = None) -> List[Dict[str, Any]]:
    """`sparsify verify --json`: one record per claim."""

def w0_source(w0: _Array) -> Tuple[int, bool]:
    """(address, borrowed): where `run` reads w0's values from, and whether in place."""

class _Sweep(ModuleType):
    def plan(self, spec: Mapping[str, Any], out: str) -> None: ...
    def run(
        self,
        dir: str,
        jobs: Optional[int] = None,
        shard: Optional[str] = None,
        retry_failed: bool = False,
    ) -> None: ...
    def status(self, dir: str) -> str: ...
    def merge(self, dir: str, partial: bool = False) -> Dict[str, Dict[str, Any]]: ...

sweep: _Sweep
