"""Lesson numbers against references: scipy.sparse byte counts, the lab's ERK, the lab's schedules."""
import numpy as np
import pytest
import scipy.sparse as sp

from engine.learn import budgets, storage


@pytest.mark.parametrize("sparsity", [0.3, 0.5, 0.9])
def test_csr_and_coo_bytes_equal_scipys_arrays(sparsity):
    w = storage.toy_weights(seed=2)
    mask = storage.unstructured_mask(w, sparsity)
    csr = sp.csr_matrix((w * mask).astype(np.float32))
    csr.indices, csr.indptr = csr.indices.astype(np.int32), csr.indptr.astype(np.int32)
    coo = csr.tocoo()
    size = storage.storage_bytes(mask)
    assert size["CSR"] == csr.data.nbytes + csr.indices.nbytes + csr.indptr.nbytes
    assert size["COO"] == coo.data.nbytes + coo.row.astype(np.int32).nbytes + coo.col.astype(np.int32).nbytes
    assert size["dense"] == w.astype(np.float32).nbytes


def test_nm_format_only_for_masks_that_satisfy_the_pattern():
    w = storage.toy_weights()
    assert storage.storage_bytes(storage.nm_mask(w, 2, 4), nm=(2, 4))["N:M"] == 128 * 4 + 128 * 2 // 8
    assert storage.storage_bytes(storage.unstructured_mask(w, 0.5), nm=(2, 4))["N:M"] is None


def test_bitmask_is_values_plus_one_bit_per_position():
    mask = storage.structured_mask(storage.toy_weights(), 0.75)
    assert storage.storage_bytes(mask, value_bytes=2)["bitmask"] == int(mask.sum()) * 2 + 256 // 8


@pytest.mark.parametrize("density", [0.02, 0.1, 0.3, 0.7])
def test_erk_equals_the_labs_erk(density):
    from engine.sparse.masks import erk_densities  # imports torch: fine in a test

    shapes = [(2, 32), (32, 32), (32, 32), (32, 1)]
    ours = budgets.erk_densities(shapes, density)
    theirs = erk_densities({str(i): s for i, s in enumerate(shapes)}, density)
    assert ours == pytest.approx([theirs[str(i)] for i in range(len(shapes))])


def test_global_magnitude_keeps_the_largest_weights_overall():
    rng = np.random.default_rng(0)
    ws = [rng.normal(size=(4, 8)), rng.normal(size=(8, 2)) * 0.1]
    masks = budgets.global_magnitude_masks(ws, 0.75)
    kept = np.concatenate([np.abs(w)[m] for w, m in zip(ws, masks)])
    dropped = np.concatenate([np.abs(w)[~m] for w, m in zip(ws, masks)])
    assert kept.size == round(0.25 * 48) and kept.min() >= dropped.max()


def test_budget_study_densities_add_up_to_the_overall_sparsity():
    r = budgets.budget_study(sparsities=(0.5, 0.9), steps=50, finetune=0)
    total = sum(a * b for a, b in r["shapes"])
    for dist in budgets.DISTRIBUTIONS:
        for s, kept in zip(r["sparsities"], r[dist]["kept"]):
            assert abs(sum(kept) - (1 - s) * total) <= len(kept)  # rounding per layer


def test_global_magnitude_collapses_a_layer_at_99_percent():
    r = budgets.budget_study(sparsities=(0.9, 0.99))
    assert r["global"]["collapsed"] == [False, True]
    assert 0 in r["global"]["kept"][1]


def test_ticket_controls_share_the_tickets_size_and_reinit_shares_its_mask():
    import engine.learn.lottery as lt
    from engine.sparse.methods.lottery import round_sparsity

    assert [lt.round_sparsity(0.9, 3, r) for r in (1, 2, 3)] == [round_sparsity(0.9, 3, r) for r in (1, 2, 3)]
    r = lt.lottery_study(sparsity=0.9, rounds=2, steps=60)
    assert r["winning ticket"]["kept"] == r["random mask"]["kept"] == r["same mask, re-initialised"]["kept"]
    assert r["winning ticket"]["kept"][0] == round(0.1 * 32)  # hidden layers at s, output at s/2
    assert r["winning ticket"]["kept"][-1] == round(0.55 * 16)


def test_top_k_graph_equals_the_labs_stackvaeg_graph():
    import torch

    from engine.anomaly.stackvae_g import graph_from_similarity
    from engine.learn.adjacency import graph_from_embeddings

    m = np.random.default_rng(0).normal(size=(9, 5)) / 2
    _, ours = graph_from_embeddings(m, alpha=3.0, k=4)
    theirs = graph_from_similarity(torch.tensor(m @ m.T), 3.0, 4).numpy()
    assert np.allclose(ours, theirs)
