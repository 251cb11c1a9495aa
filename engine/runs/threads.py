"""The one place that decides how many threads torch (and OpenMP/BLAS) may use, for every kind.

The runner runs ``workers`` experiments side by side; each gets ``threads_for(kind, workers)``
threads, so ``workers × threads ≤ cores`` always holds (no oversubscription). Every kind the lab
has today trains tiny models (an MLP on digits, StackVAE-G on a few channels, SSumM in numpy):
their kernels are too small to gain from a second thread, and on a busy 2-core machine two
threads were measured 20–30× slower than one (a StackVAE-G test fit took 78.8 s with 2 threads
and 3.6 s with 1). So each kind is capped at one thread by ``KIND_CAP``; parallelism comes from
running several runs at once. ``SPARSITY_LAB_THREADS`` overrides the cap (still bounded by the
cores a worker may use). StackVAE-G's fast kernels are the exception that uses a second thread
well: they split each batch between two threads that each run single-threaded products, measured
1.8x the one-thread speed on an idle machine (bench/stackvaeg_smd.py --speed --threads 2); its cap
stays 1 all the same, so that in the app one core stays with the server and runs side by side do
not share cores.

The worker applies the policy before it imports torch (environment variables) and again when it
knows its run's kind (``torch.set_num_threads``); the test suite's root fixture applies
``threads_for("test")``.
"""
from __future__ import annotations

import os
import sys

#: Most threads one run of this kind may use (tiny models: one; see the module docstring).
KIND_CAP: dict[str, int] = {
    "sparse": 1, "sweep": 1, "sensitivity": 1,
    "ssumm": 1, "ssumm-sweep": 1,
    "stackvaeg": 1,
    "toy": 1,
    "test": 1,
}
DEFAULT_CAP = 1  # a kind added without a line here gets one thread too
_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def max_workers(requested: int | None = None, n_cores: int | None = None) -> int:
    """Runs side by side: ``cores − 1`` by default (one core stays with the app), at least 1, at most ``cores``.

    >>> max_workers(None, 2), max_workers(None, 16), max_workers(8, 4), max_workers(0, 4)
    (1, 15, 4, 1)
    """
    n = n_cores or cores()
    want = (n - 1) if requested is None else requested
    return max(1, min(int(want), n))


def threads_for(kind: str, workers: int = 1, n_cores: int | None = None) -> int:
    """Threads one run of ``kind`` may use when ``workers`` runs share the cores.

    >>> threads_for("sparse", 1, 2), threads_for("stackvaeg", 15, 16)
    (1, 1)
    >>> import os; os.environ["SPARSITY_LAB_THREADS"] = "8"
    >>> threads_for("sparse", 1, 16), threads_for("sparse", 3, 16), threads_for("sparse", 4, 2)
    (8, 5, 1)
    >>> del os.environ["SPARSITY_LAB_THREADS"]
    """
    n = n_cores or cores()
    share = max(1, n // max(1, workers))
    cap = KIND_CAP.get(kind, DEFAULT_CAP)
    env = os.environ.get("SPARSITY_LAB_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        cap = int(env)
    return max(1, min(cap, share))


def set_env(threads: int) -> None:
    """Cap OpenMP/BLAS pools through the environment (only effective before torch/numpy load them).

    With more than one thread, OpenMP's threads sleep instead of spinning while they wait
    (``OMP_WAIT_POLICY=PASSIVE``, unless the environment says otherwise): on a shared 2-core
    machine spinning made 2 threads 4–10× slower than 1 (``bench/stackvaeg_smd.py --speed``).
    """
    for var in _ENV_VARS:
        os.environ[var] = str(threads)
    if threads > 1:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def apply(threads: int) -> int:
    """Set torch's intra-op thread count if torch is loaded (never imports it); returns ``threads``."""
    set_env(threads)
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads
