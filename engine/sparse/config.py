"""Settings of a sparse training run (the UI's form and the run's record)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.config import Config, require
from engine.sparse.methods.registry import METHODS, NM_METHODS

# Kept here (not in data.py / models.py) so the UI can import the config without importing torch.
DATASETS = ("digits", "moons", "circles", "spirals", "mnist", "fashion-mnist", "csv")
SYNTHETIC_2D = ("moons", "circles", "spirals")
IDX_DATASETS = ("mnist", "fashion-mnist")
MODELS = ("mlp", "cnn")


def parse_nm(text: str) -> tuple[int, int]:
    """'2:4' -> (2, 4); ConfigError unless 0 < N < M.

    >>> parse_nm("1:16")
    (1, 16)
    """
    try:
        n_str, m_str = str(text).split(":")
        n, m = int(n_str), int(m_str)
    except ValueError:
        raise_config(f"N:M pattern '{text}' must look like 2:4 (two whole numbers separated by a colon).")
    require(n >= 1, f"N:M pattern {text}: N must be at least 1 (N = 0 would prune everything).")
    require(n < m, f"N:M pattern {text}: N must be smaller than M (N ≥ M keeps every weight, or more than exist).")
    return n, m


def raise_config(msg: str):
    require(False, msg)


@dataclass(frozen=True)
class SparseConfig(Config):
    """One sparse training run. Epoch counts: ``epochs`` of training; methods that prune a trained
    network (magnitude, gmp, structured) add ``finetune_epochs`` after the final pruning; IMP trains
    ``epochs`` per round (``imp_rounds`` + 1 times); soups retrain ``finetune_epochs`` per ingredient."""

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
    sparsity: float = 0.9  # fraction of prunable weights removed (structured: of hidden units)
    scope: str = "global"  # global | layer: one threshold for all layers, or the same sparsity per layer
    distribution: str = "erk"  # erk | uniform: initial layer densities of SET / RigL
    sparse_init: str = "dense"  # dense | fan-in: masks drawn at init (random, SNIP, GraSP, SynFlow, SET, RigL)
    # keep the dense init, or rescale kept weights to each unit's sparse fan-in (Evci et al. AAAI 2022)
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
    # gradual magnitude pruning (fractions of the `epochs` training steps)
    prune_begin: float = 0.1
    prune_end: float = 0.7
    prune_every: int = 10  # steps between mask updates
    # lottery ticket / soups
    imp_rounds: int = 5  # prune (1 - (1-s)^(1/rounds)) of the survivors per round
    rewind: str = "early"  # init | early: rewind to the initial weights or to step `rewind_step`
    rewind_step: int = 20
    # pruning at initialisation
    pai_batches: int = 4  # mini-batches whose gradients SNIP / GraSP score with
    synflow_iters: int = 100
    # dynamic sparse training (SET, RigL)
    update_every: int = 25  # ΔT: steps between mask updates
    drop_fraction: float = 0.3  # α: fraction of active weights dropped at the first update
    dst_end: float = 0.75  # stop updating masks after this fraction of training
    drop_decay: str = "cosine"  # cosine | constant
    # N:M
    nm: str = "2:4"
    srste_decay: float = 2e-4  # λ_W of SR-STE (Zhou et al. 2021, Eq. 5)
    nm_schedule: str = "mdgf"  # nm-decay: mdgf (mask values decay) | sdgf (patterns tighten stepwise)
    # structured
    group_lasso: float = 0.0  # λ of the group-lasso regulariser over units (0 = off)
    # sparse model soups
    soup_size: int = 3  # ingredients averaged per round
    soup_vary: str = "seed"  # seed | lr: what differs between ingredients
    # speed meter: time the trained model's inference, dense vs torch CSR vs scipy CSR, batch 1 and 64
    speed_meter: bool = True  # adds result["speed"] (about 0.6 s; sweeps switch it off)

    def validate(self) -> None:
        require(self.dataset in DATASETS, f"Unknown dataset '{self.dataset}'. Choose one of: {', '.join(DATASETS)}.")
        require(self.model in MODELS, f"Unknown model '{self.model}'. Choose one of: {', '.join(MODELS)}.")
        require(self.method in METHODS, f"Unknown method '{self.method}'. Choose one of: {', '.join(METHODS)}.")
        require(self.model != "cnn" or self.dataset not in SYNTHETIC_2D,
                "The CNN needs images; use the MLP for the 2-D sets (moons, circles, spirals).")
        require(self.dataset != "csv" or (bool(self.data_path.strip()) and self.model == "mlp"), "The csv dataset reads a CSV file of numeric features and a label column: give its path (data path) and use the MLP.")
        require(self.dataset not in IDX_DATASETS or bool(self.data_path.strip()),
                f"{self.dataset} is read from IDX files: give the folder that holds them (data path).")
        require(0.0 <= self.sparsity < 1.0,
                f"Sparsity must be in [0, 1): {self.sparsity} is impossible (1.0 would remove every weight).")
        require(self.scope in ("global", "layer"), f"Scope must be 'global' or 'layer', not '{self.scope}'.")
        require(self.distribution in ("erk", "uniform"), f"Distribution must be 'erk' or 'uniform', not '{self.distribution}'.")
        require(self.sparse_init in ("dense", "fan-in"), f"Sparse init must be 'dense' or 'fan-in', not '{self.sparse_init}'.")
        require(self.epochs >= 1, f"Epochs must be at least 1 (got {self.epochs}).")
        require(self.finetune_epochs >= 0, "Fine-tuning epochs cannot be negative.")
        require(self.lr > 0, f"The learning rate must be positive (got {self.lr}).")
        require(self.optimizer in ("adam", "sgd"), f"Optimizer must be 'adam' or 'sgd', not '{self.optimizer}'.")
        require(self.batch_size >= 1, "Batch size must be at least 1.")
        require(len(self.hidden) >= 1 and all(h >= 1 for h in self.hidden), "Hidden widths must be positive integers.")
        require(len(self.channels) >= 1 and all(c >= 1 for c in self.channels), "CNN channels must be positive integers.")
        require(0 < self.val_frac < 0.5 and 0 < self.test_frac < 0.5, "Validation and test fractions must be in (0, 0.5).")
        require(self.n_samples >= 20, "The 2-D sets need at least 20 samples.")
        require(0 <= self.prune_begin < self.prune_end <= 1, "Gradual pruning needs 0 ≤ begin < end ≤ 1 (fractions of training).")
        require(self.prune_every >= 1, "Prune every ≥ 1 step.")
        require(self.imp_rounds >= 1, "IMP needs at least one round.")
        require(self.rewind in ("init", "early"), f"Rewind must be 'init' or 'early', not '{self.rewind}'.")
        require(self.rewind_step >= 0, "The rewind step cannot be negative.")
        require(self.pai_batches >= 1 and self.synflow_iters >= 1, "SNIP/GraSP batches and SynFlow iterations must be ≥ 1.")
        require(self.update_every >= 1, "Update interval ΔT must be at least 1 step.")
        require(0 < self.drop_fraction < 1, "Drop fraction must be in (0, 1).")
        require(0 < self.dst_end <= 1, "The end of mask updates must be a fraction of training in (0, 1].")
        require(self.drop_decay in ("cosine", "constant"), "Drop-fraction decay must be 'cosine' or 'constant'.")
        n, m = parse_nm(self.nm)
        require(self.method not in NM_METHODS or m <= 64, f"N:M with M = {m} is too coarse; use M ≤ 64.")
        require(self.nm_schedule in ("mdgf", "sdgf"), "The N:M decay schedule must be 'mdgf' or 'sdgf'.")
        require(self.srste_decay >= 0 and self.group_lasso >= 0, "Regulariser strengths cannot be negative.")
        require(self.soup_size >= 2, "A soup needs at least 2 ingredients.")
        require(self.soup_vary in ("seed", "lr"), "Soup ingredients vary by 'seed' or 'lr'.")

    @property
    def nm_pair(self) -> tuple[int, int]:
        return parse_nm(self.nm)
