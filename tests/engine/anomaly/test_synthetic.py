"""Synthetic series with a known channel graph: structure, anomalies, and graph recovery."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.anomaly.datasets import prepared
from engine.anomaly.interpret import adjacency_auroc
from engine.anomaly.synthetic import make_synthetic, max_anomalies
from engine.errors import ConfigError


def test_channels_of_a_group_move_together_and_groups_do_not():
    d = make_synthetic(n_channels=9, n_groups=3, train_length=600, test_length=300, n_anomalies=0, seed=1)
    c = np.corrcoef(d.train, rowvar=False)
    same = d.true_graph
    other = ~same & ~np.eye(9, dtype=bool)
    assert np.abs(c[same]).min() > np.abs(c[other]).max()
    assert adjacency_auroc(c, d.true_graph) == 1.0


def test_anomalies_are_labelled_with_their_kind_and_channels():
    d = make_synthetic(n_channels=8, n_groups=2, train_length=300, test_length=600, n_anomalies=4, seed=0)
    assert [s.kind for s in d.segments] == ["sensor", "system", "sensor", "system"]
    for s in d.segments:
        assert d.labels[s.start:s.end].all()
        if s.kind == "sensor":
            assert len(s.channels) == 1
        else:  # a system fault hits a whole group
            assert set(s.channels) == set(np.flatnonzero(d.groups == d.groups[s.channels[0]]).tolist())
    assert d.labels.sum() == sum(s.end - s.start for s in d.segments)


def test_as_many_anomalies_as_fit_and_no_more():
    assert max_anomalies(120) == 1
    d = make_synthetic(train_length=120, test_length=120, n_anomalies=1)
    assert len(d.segments) == 1
    with pytest.raises(ConfigError, match="At most 1 anomalies"):
        make_synthetic(train_length=120, test_length=120, n_anomalies=2)


@pytest.mark.slow
def test_training_moves_the_learned_adjacency_towards_the_true_groups():
    """Tiny case: the AUROC of |A~| against the true graph rises with training (mean over seeds).

    The full-size figure (issue target AUROC >= 0.9) is measured in bench/stackvaeg_synthetic.py;
    with the released graph loss it falls short (about 0.8 at 12 channels, see the stackvae_g
    docstring), which is why this test asks only for a rise and a modest level."""
    from engine.anomaly.stackvae_g import StackVAEG

    torch.set_num_threads(1)
    gains, finals = [], []
    for seed in (0, 1, 2):
        d = prepared(make_synthetic(n_channels=8, n_groups=2, train_length=400, test_length=200,
                                    n_anomalies=0, seed=seed), 16)
        params = dict(window=16, hidden=32, latent=8, k=4, batch_size=32, lr=3e-3, seed=seed)
        before = adjacency_auroc(StackVAEG(**params, epochs=0).fit(d.train).adjacency_, d.true_graph)
        after = adjacency_auroc(StackVAEG(**params, epochs=15).fit(d.train).adjacency_, d.true_graph)
        gains.append(after - before)
        finals.append(after)
    assert np.mean(gains) >= 0.08 and np.mean(finals) >= 0.7
