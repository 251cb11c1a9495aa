"""Settings of a sparse training run (the UI's form and the run's record).

``SparseConfig`` holds the data, model, optimiser and training settings, the method's name, the
``sparsity`` asked for (the axis a sweep varies; what it counts — weights or units — is the
method's), and ``method_params``: the chosen method's own settings, validated and completed by the
method class (``engine.sparse.schema``). Importing this module does not import torch.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from engine import limits
from engine.config import Config, require
from engine.sparse.methods.registry import METHODS, method_class
from engine.sparse.shapes import DATASETS, IDX_DATASETS, MODELS, SYNTHETIC_2D, parse_nm, weight_shapes  # noqa: F401  (re-exported)

# Fields of the flat SparseConfig before method_params (runs stored before it are still read).
LEGACY_FIELDS = ("scope", "distribution", "sparse_init", "prune_begin", "prune_end", "prune_every", "imp_rounds",
                 "rewind", "rewind_step", "pai_batches", "synflow_iters", "update_every", "drop_fraction", "dst_end",
                 "drop_decay", "nm", "srste_decay", "nm_schedule", "group_lasso", "soup_size", "soup_vary")


def raise_config(msg: str):
    require(False, msg)


@dataclass(frozen=True)
class SparseConfig(Config):
    """One sparse training run. Epoch counts: ``epochs`` of training; methods that prune a trained
    network (magnitude, gmp, structured) add ``finetune_epochs`` after the final pruning; IMP trains
    ``epochs`` per round; soups retrain ``finetune_epochs`` per ingredient."""

    dataset: str = "digits"  # digits | moons | circles | spirals | mnist | fashion-mnist
    data_path: str = ""  # folder with the four IDX files (mnist / fashion-mnist), or the CSV file (csv)
    label_column: str = ""  # csv: the column of class labels ("" = one named label/target/class/y)
    n_samples: int = 600  # 2-D synthetic sets
    noise: float = 0.2  # 2-D synthetic sets
    max_train: int = 10000  # cap on MNIST training images (0 = all 60,000), keeps CPU runs short
    model: str = "mlp"  # mlp | cnn
    hidden: tuple[int, ...] = (256, 256)  # MLP hidden widths
    channels: tuple[int, ...] = (16, 32)  # CNN channels per conv block
    method: str = "magnitude"
    sparsity: float = 0.9  # fraction removed, on the method's axis (weights; structured: hidden units)
    method_params: dict = field(default_factory=dict)  # the method's own settings (its class's schema)
    epochs: int = 50
    finetune_epochs: int = 10
    lr: float = 5e-3
    optimizer: str = "adam"  # adam | sgd
    momentum: float = 0.9  # sgd only
    weight_decay: float = 0.0
    batch_size: int = 64
    seed: int = 0
    val_frac: float = 0.1
    test_frac: float = 0.2
    # speed meter: time the trained model's inference, dense vs torch CSR vs scipy CSR, batch 1 and 64
    speed_meter: bool = True  # adds result["speed"] (about 0.6 s; sweeps switch it off)

    def __hash__(self) -> int:  # method_params is a dict: hash the JSON record instead
        return hash(self.to_json())

    def __post_init__(self) -> None:
        require(isinstance(self.method_params, dict), "method_params must be a mapping of setting names to values.")
        require(self.method in METHODS, f"Unknown method '{self.method}'. Choose one of: {', '.join(METHODS)}.")
        from engine.sparse import schema

        cls = method_class(self.method)
        params = schema.resolve(cls, cls.upgrade(dict(self.method_params)))
        cls.check_params(params)
        object.__setattr__(self, "method_params", params)
        super().__post_init__()

    def validate(self) -> None:
        require(self.dataset in DATASETS, f"Unknown dataset '{self.dataset}'. Choose one of: {', '.join(DATASETS)}.")
        require(self.model in MODELS, f"Unknown model '{self.model}'. Choose one of: {', '.join(MODELS)}.")
        require(self.model != "cnn" or self.dataset not in SYNTHETIC_2D,
                "The CNN needs images; use the MLP for the 2-D sets (moons, circles, spirals).")
        require(self.dataset != "csv" or (bool(self.data_path.strip()) and self.model == "mlp"), "The csv dataset reads a CSV file of numeric features and a label column: give its path (data path) and use the MLP.")
        require(self.dataset not in IDX_DATASETS or bool(self.data_path.strip()),
                f"{self.dataset} is read from IDX files: give the folder that holds them (data path).")
        require(0.0 <= self.sparsity < 1.0,
                f"Sparsity must be in [0, 1): {self.sparsity} is impossible (1.0 would remove every weight).")
        require(self.epochs >= 1, f"Epochs must be at least 1 (got {self.epochs}).")
        require(self.finetune_epochs >= 0, "Fine-tuning epochs cannot be negative.")
        require(self.lr > 0, f"The learning rate must be positive (got {self.lr}).")
        require(self.optimizer in ("adam", "sgd"), f"Optimizer must be 'adam' or 'sgd', not '{self.optimizer}'.")
        require(self.weight_decay >= 0, "Weight decay cannot be negative.")
        require(self.batch_size >= 1, "Batch size must be at least 1.")
        require(len(self.hidden) >= 1 and all(h >= 1 for h in self.hidden), "Hidden widths must be positive integers.")
        require(len(self.channels) >= 1 and all(c >= 1 for c in self.channels), "CNN channels must be positive integers.")
        require(0 < self.val_frac < 0.5 and 0 < self.test_frac < 0.5, "Validation and test fractions must be in (0, 0.5).")
        require(self.n_samples >= 20, "The 2-D sets need at least 20 samples.")
        check_size(self)

    def data_size(self) -> tuple[int, int, tuple[int, int] | None]:
        """(input size, training samples, image shape) used by the size estimate, from the settings alone.

        A CSV file's width and length are only known by reading it: they count as 1 here (never
        refusing it wrongly); its pre-flight reads it.
        """
        train_share = 1.0 - self.val_frac - self.test_frac
        if self.dataset == "digits":
            return 64, int(1797 * train_share), (8, 8)
        if self.dataset in SYNTHETIC_2D:
            return 2, int(self.n_samples * train_share), None
        if self.dataset in IDX_DATASETS:
            return 784, self.max_train or limits.MAX_TRAIN, (28, 28)
        return 1, 1, None

    # --- derived from the method class -------------------------------------------------------------
    @property
    def method_class(self) -> type:
        return method_class(self.method)

    @property
    def requested(self) -> float:
        """What the method aims at on its axis (N:M: 1 − N/M, dense: 0, else ``sparsity``).

        >>> SparseConfig(method="nm-bdwp", method_params={"nm": "1:4"}).requested, SparseConfig(method="dense").requested
        (0.75, 0.0)
        """
        return self.method_class.requested(self.sparsity, self.method_params)

    @property
    def nm(self) -> str | None:
        """The N:M pattern of an N:M method (None for the others)."""
        return self.method_params.get("nm")

    @property
    def nm_pair(self) -> tuple[int, int]:
        return parse_nm(self.method_params["nm"])

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SparseConfig:
        """Read a config dict: the current layout, or an old flat one (fields listed in ``LEGACY_FIELDS``).

        A key named like one of the method's parameters goes to ``method_params`` (and overrides it:
        CLI flags over a recipe). Old flat keys the method had a setting for become its parameter
        (its class's ``legacy`` table); the others were ignored by that method then and are dropped.

        >>> c = SparseConfig.from_dict({"method": "imp", "imp_rounds": 3, "soup_size": 4, "scope": "layer"})
        >>> c.method_params["rounds"], c.method_params["scope"]
        (3, 'layer')
        """
        from engine.errors import ConfigError
        from engine.sparse import schema

        data = dict(data)
        # a whole stored flat config (every old field present): the method's old behaviour is kept
        old_record = "method_params" not in data and all(k in data for k in ("srste_decay", "soup_vary", "drop_decay"))
        names = {f.name for f in fields(cls)}
        method = data.get("method", cls.method)
        if method not in METHODS:
            raise ConfigError(f"Unknown method '{method}'. Choose one of: {', '.join(METHODS)}.")
        mcls = method_class(method)
        own = {p.name for p in schema.params_of(mcls)}
        params = data.pop("method_params", None) or {}
        if not isinstance(params, dict):
            raise ConfigError(f"method_params must be a mapping of setting names to values, got {params!r:.60}.")
        params = dict(params)
        for key in [k for k in data if k not in names]:
            value = data.pop(key)
            if key in own:  # a flag / key named like the method's parameter overrides method_params
                params[key] = value
            elif key in mcls.legacy:
                params.setdefault(mcls.legacy[key], value)
            elif key not in LEGACY_FIELDS:
                raise ConfigError(f"Unknown setting for a sparse run: {key!r:.60}. The method {method} takes: "
                                  f"{', '.join(sorted(own)) or 'no settings of its own'}.")
        if old_record:
            for k, v in mcls.legacy_fixed.items():
                params.setdefault(k, v)
        try:
            return cls(**data, method_params=params)
        except TypeError as err:
            raise ConfigError(f"Invalid settings for {cls.__name__}: {err}") from None


def check_size(config) -> float:
    """The fixed caps and the memory / time estimate of ``engine.limits`` for a sparse run's settings.

    Time counts ``(epochs + finetune_epochs) x rounds x soup size`` passes (an upper estimate for
    IMP and soups, whose rounds retrain). Arithmetic only: nothing is built. Returns the estimated
    seconds (``engine.limits.train_seconds``).

    >>> round(check_size(SparseConfig()), 2)
    1.91

    """
    from engine import limits

    limits.bounded_list("Hidden widths", config.hidden, 1, limits.MAX_WIDTH, limits.MAX_LAYERS)
    limits.bounded_list("CNN channels", config.channels, 1, limits.MAX_CHANNELS, limits.MAX_BLOCKS)
    limits.bounded("Epochs", config.epochs, 1, limits.MAX_EPOCHS)
    limits.bounded("Fine-tuning epochs", config.finetune_epochs, 0, limits.MAX_EPOCHS)
    limits.bounded("Batch size", config.batch_size, 1, limits.MAX_BATCH)
    limits.bounded("Samples", config.n_samples, 20, limits.MAX_SAMPLES)
    limits.bounded("Training images kept (max train)", config.max_train, 0, limits.MAX_TRAIN)
    n_in, n_train, image = config.data_size()
    shapes = weight_shapes(config.model, n_in=n_in, n_out=10, hidden=config.hidden, channels=config.channels,
                           image_shape=image)
    weights, macs = limits.network_cost(shapes, image)
    params = getattr(config, "method_params", {}) or {}
    repeat = 1
    for key in ("rounds", "size"):
        v = params.get(key)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            repeat *= v
    acts = config.batch_size * (sum(config.hidden) if config.model == "mlp" else
                                sum(c * (image[0] * image[1] if image else 1) for c in config.channels))
    limits.check_budget(macs_per_sample=macs, weights=weights, samples=n_train, activations=acts,
                        epochs=(config.epochs + config.finetune_epochs) * repeat, what="this run")
    return limits.train_seconds(macs_per_sample=macs, samples=n_train,
                                epochs=(config.epochs + config.finetune_epochs) * repeat)


def stored_config(data: dict) -> SparseConfig | None:
    """A stored run's config dict as a SparseConfig (old flat layouts too), or None if it no longer
    validates (e.g. a method or dataset that was removed): a view then shows what it can.

    >>> stored_config({"method": "nm-decay", "nm": "1:4", "nm_schedule": "sdgf"}).requested
    0.75
    >>> stored_config({"method": "obd"}) is None
    True
    """
    from engine.errors import ConfigError

    try:
        return SparseConfig.from_dict({k: v for k, v in dict(data).items()})
    except (ConfigError, TypeError, ValueError):
        return None
