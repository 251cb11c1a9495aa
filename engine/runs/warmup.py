"""What a warm worker rehearses before it waits for a run: the first-use costs a run would pay.

Importing torch is not all of a cold start: the first optimizer built imports ``torch._dynamo``
(measured 4.3 s under load on the 2-core machine), the first data load reads the packaged data
set, the first forward/backward pass initialises kernels. A warm worker calls these functions
(``PRELOAD`` entries ``module:function`` in :mod:`engine.runs.jobs`) once, on throw-away objects,
so the run it takes next starts drawing at once. Nothing here touches the run store.
"""
from __future__ import annotations


def torch_basics() -> None:
    """Build both optimizers the lab uses and take one step (imports torch's lazy modules)."""
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    for opt in (torch.optim.Adam(model.parameters(), lr=1e-3), torch.optim.SGD(model.parameters(), lr=0.1,
                                                                               momentum=0.9)):
        loss = torch.nn.functional.cross_entropy(model(torch.randn(16, 8)), torch.randint(0, 2, (16,)))
        opt.zero_grad()
        loss.backward()
        opt.step()


def sparse_default() -> None:
    """A few steps of a tiny sparse run on the default data (digits): data, model, masks, trainer."""
    from engine.runs.reporter import NullReporter
    from engine.sparse.config import SparseConfig
    from engine.sparse.experiments import run_sparse

    run_sparse(SparseConfig(epochs=1, finetune_epochs=0, hidden=(16,), speed_meter=False), NullReporter(stop_after=3))
