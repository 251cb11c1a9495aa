"""Upper bounds on size-like settings, from a memory and time estimate for the machine the lab runs on.

The lab serves a class (20-30 people) from one small machine: **2 CPU cores and 24 GB of memory**,
with at most two runs training at once beside the app server. A setting that cannot finish there,
or that would take the memory of everyone else, is refused when the config is built (arithmetic
only: nothing is allocated, no torch is imported), so the app and the CLI refuse it before a run
is recorded and before any worker starts.

Derivation
----------
Memory. A run may use ``MEMORY_BUDGET`` = 4 GiB: two of them, the app server (~0.6 GB) and the
operating system fit in 24 GB with half of it left. Training a network of ``P`` weights in float32
keeps about eight copies of them: the weights, their gradients, Adam's two moments, the masks, the
best/rewind copy kept for early stopping or lottery-ticket rewinding, and the score and snapshot
buffers: ``BYTES_PER_WEIGHT`` = 8 x 4 B = 32 B. Activations add ``batch x Σ widths x 4 B x 3``
(forward values, their gradients, the ReLU masks). So at most 4 GiB / 32 B ≈ 134 million weights.

Time. Two cores run float32 matrix products at about ``FLOPS`` = 2·10¹⁰ operations per second
(AVX2, ~10 GFLOP/s a core: an optimistic rate, so only settings that are surely too long are
refused). One training step costs about ``6 x multiply-adds`` per sample (forward 2, backward 4;
Kaplan et al. 2020), so a run costs ``6 · MACs · samples · epochs / FLOPS`` seconds. A run may take
``TIME_BUDGET`` = 24 hours of that estimate; a sweep, the sum of its runs.

The fixed per-setting caps below keep every single number far inside these budgets (and far from
integer overflow in numpy/torch) even when the other settings are at their defaults; the estimate
then checks the combination.

>>> model_bytes(1_000_000)
32000000
>>> round(train_seconds(macs_per_sample=1e6, samples=10_000, epochs=50), 1)
150.0
>>> check_budget(macs_per_sample=1e6, weights=1e6, samples=10_000, epochs=50, what="this run")
>>> check_budget(macs_per_sample=1e9, weights=1e9, samples=60_000, epochs=50, what="this run")
Traceback (most recent call last):
...
engine.errors.ConfigError: This run is too large for this machine: its weights alone need about 29.8 GiB (at most 4 GiB per run: 32 bytes per weight for the weights, gradients, optimiser state and masks). Use smaller widths or fewer layers.
"""
from __future__ import annotations

from engine.config import require

MEMORY_BUDGET = 4 * 2**30  # bytes one run may use (24 GB machine, two runs beside the app)
BYTES_PER_WEIGHT = 32  # float32 weights + grads + Adam moments + masks + best/rewind copy + buffers
FLOPS = 2e10  # float32 operations per second on 2 cores (optimistic: refuses only surely-too-long runs)
TIME_BUDGET = 24 * 3600.0  # seconds of estimated compute one run (or one sweep) may take

# Fixed caps per setting (each far inside the budgets at default values of the others).
MAX_WIDTH = 8192  # units of one MLP hidden layer / autoencoder layer
MAX_LAYERS = 16  # hidden layers of an MLP
MAX_CHANNELS = 512  # channels of one CNN block
MAX_BLOCKS = 6  # CNN blocks
MAX_EPOCHS = 5000  # training (and fine-tuning) epochs
MAX_BATCH = 65536  # samples per batch
MAX_SAMPLES = 1_000_000  # generated 2-D points
MAX_TRAIN = 60_000  # MNIST training images kept (the whole set)
MAX_LEVELS = 50  # sparsity levels of a sweep / sensitivity grid
MAX_SEEDS = 20  # seeds of a sweep
MAX_RECURRENT = 2048  # GRU hidden units (StackVAE-G): 3 gates of hidden² weights each
MAX_EMBED = 1024  # latent size, node-embedding size


def bounded(label: str, value: int, low: int, high: int, why: str = "") -> None:
    """ConfigError unless ``low <= value <= high``; the message states the range (and why, if given).

    >>> bounded("epochs", 10**9, 1, MAX_EPOCHS)
    Traceback (most recent call last):
    ...
    engine.errors.ConfigError: epochs must be a whole number from 1 to 5,000, got 1,000,000,000.
    """
    require(isinstance(value, int) and not isinstance(value, bool), f"{label} must be a whole number, got {value!r}.")
    require(low <= value <= high,
            f"{label} must be a whole number from {low:,} to {high:,}, got {value:,}." + (f" ({why})" if why else ""))


def bounded_list(label: str, values: tuple, low: int, high: int, max_len: int) -> None:
    """Every entry of ``values`` within [low, high] and at most ``max_len`` entries.

    >>> bounded_list("hidden widths", (256, 10_000_000), 1, MAX_WIDTH, MAX_LAYERS)
    Traceback (most recent call last):
    ...
    engine.errors.ConfigError: hidden widths: each must be a whole number from 1 to 8,192, got 10,000,000.
    """
    require(1 <= len(values) <= max_len, f"{label}: give 1 to {max_len} values, got {len(values):,}.")
    for v in values:
        require(isinstance(v, int) and not isinstance(v, bool), f"{label}: each must be a whole number, got {v!r}.")
        require(low <= v <= high, f"{label}: each must be a whole number from {low:,} to {high:,}, got {v:,}.")


def model_bytes(weights: float) -> int:
    """Bytes a run of ``weights`` float32 weights keeps while it trains (``BYTES_PER_WEIGHT`` each)."""
    return int(weights * BYTES_PER_WEIGHT)


def train_seconds(*, macs_per_sample: float, samples: float, epochs: float) -> float:
    """Estimated seconds of ``epochs`` passes over ``samples`` at 6 operations per multiply-add."""
    return 6.0 * macs_per_sample * samples * epochs / FLOPS


def duration(seconds: float) -> str:
    """``seconds`` in words: ``duration(90000)`` → ``'25 hours'``.

    >>> duration(90000), duration(4e9)
    ('25 hours', '127 years')
    """
    if seconds < 3 * 86400:
        return f"{seconds / 3600:,.0f} hours"
    if seconds < 3 * 365 * 86400:
        return f"{seconds / 86400:,.0f} days"
    return f"{seconds / (365 * 86400):,.0f} years"


def check_budget(*, macs_per_sample: float, weights: float, samples: float, epochs: float, what: str,
                 activations: float = 0.0, runs: int = 1) -> None:
    """ConfigError if a run (or ``runs`` alike) is over ``MEMORY_BUDGET`` or ``TIME_BUDGET``.

    ``activations`` is the number of float32 activation values one batch keeps (x3 for backward).
    """
    need = model_bytes(weights) + activations * 4 * 3
    require(need <= MEMORY_BUDGET,
            f"{what[0].upper() + what[1:]} is too large for this machine: its weights alone need about "
            f"{need / 2**30:,.1f} GiB (at most {MEMORY_BUDGET // 2**30} GiB per run: {BYTES_PER_WEIGHT} bytes "
            "per weight for the weights, gradients, optimiser state and masks). Use smaller widths or fewer layers.")
    secs = runs * train_seconds(macs_per_sample=macs_per_sample, samples=samples, epochs=epochs)
    require(secs <= TIME_BUDGET,
            f"{what[0].upper() + what[1:]} would take about {duration(secs)} on this machine's 2 cores "
            f"(at most {TIME_BUDGET / 3600:.0f} hours; estimate: 6 operations per multiply-add at "
            f"{FLOPS / 1e9:.0f} GFLOP/s). Use fewer epochs, less data or a smaller model.")


def help_text(name: str) -> str:
    """The bound of a setting as a phrase for CLI ``--help`` and the forms' help ('' if it has none).

    >>> help_text("hidden")
    '1 to 8,192 units per layer, at most 16 layers; the model must fit in 4 GiB and 24 hours (see engine/limits.py)'
    """
    return HELP.get(name, "")


_BUDGET = f"the model must fit in {MEMORY_BUDGET // 2**30} GiB and {TIME_BUDGET / 3600:.0f} hours (see engine/limits.py)"
HELP = {
    "hidden": f"1 to {MAX_WIDTH:,} units per layer, at most {MAX_LAYERS} layers; {_BUDGET}",
    "channels": f"1 to {MAX_CHANNELS} channels per block, at most {MAX_BLOCKS} blocks; {_BUDGET}",
    "epochs": f"1 to {MAX_EPOCHS:,}; the run must fit in {TIME_BUDGET / 3600:.0f} hours (see engine/limits.py)",
    "finetune_epochs": f"0 to {MAX_EPOCHS:,}",
    "model_epochs": f"1 to {MAX_EPOCHS:,}",
    "batch_size": f"1 to {MAX_BATCH:,}",
    "n_samples": f"20 to {MAX_SAMPLES:,} points",
    "max_train": f"0 (all) to {MAX_TRAIN:,} images",
    "sparsities": f"at most {MAX_LEVELS} levels",
    "seeds": f"at most {MAX_SEEDS} seeds",
    "width": f"2 to {MAX_WIDTH:,} features",
    "model_hidden": f"1 to {MAX_WIDTH:,} units",
    "hidden_units": f"2 to {MAX_WIDTH:,} units",
    "latent": f"1 to {MAX_EMBED:,}",
    "node_dim": f"1 to {MAX_EMBED:,}",
}


def network_cost(shapes: dict[str, tuple[int, ...]], image_shape: tuple[int, int] | None = None) -> tuple[int, int]:
    """(weights, multiply-adds per sample) of a network given its weight shapes (``engine.sparse.shapes``).

    A 4-D shape is a 3x3 convolution applied at the current resolution, which halves after each
    block while it is at least 2 px (as ``SmallCNN`` pools); a 2-D shape is a dense layer.

    >>> network_cost({"a": (256, 64), "b": (10, 256)})
    (18944, 18944)
    >>> network_cost({"c": (16, 1, 3, 3), "fc": (10, 256)}, (8, 8))
    (2704, 11776)
    """
    weights = macs = 0
    h, w = image_shape or (1, 1)
    for shape in shapes.values():
        n = 1
        for d in shape:
            n *= int(d)
        weights += n
        if len(shape) == 4:
            macs += n * h * w
            if h >= 2 and w >= 2:
                h, w = h // 2, w // 2
        else:
            macs += n
    return weights, macs
