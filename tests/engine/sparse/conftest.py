"""Tiny settings shared by the sparse-lab tests, and one torch thread for each of them."""
from __future__ import annotations

import pytest
import torch

from engine.sparse.config import SparseConfig


def tiny(**kw) -> SparseConfig:
    """A tiny run of ``kw["method"]``; method settings may be given flat (they go to method_params
    where the method has them, as ``SparseConfig.from_dict`` reads old flat configs)."""
    base = dict(hidden=(32, 32), epochs=2, finetune_epochs=1, batch_size=128, imp_rounds=2, soup_size=2,
                synflow_iters=10, update_every=3, pai_batches=1)
    base.update(kw)
    return SparseConfig.from_dict(base)


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
