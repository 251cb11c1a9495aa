"""Figure builders of the StackVAE-G page: light, faithful to the numbers they draw."""
from __future__ import annotations

import numpy as np

from dashboard.components import anomaly_figures as af


def test_long_score_curves_are_thinned_but_keep_their_peak():
    s = np.ones(50_000)
    s[31_337] = 1e4
    fig = af.score_figure(s, None, 10.0)
    y = np.asarray(fig.data[0].y)
    assert len(y) <= af.MAX_POINTS and y.max() == 1e4


def test_labelled_segments_are_shaded_once_each():
    labels = np.zeros(100, int)
    labels[10:20] = 1
    labels[50:51] = 1
    fig = af.score_figure(np.random.default_rng(0).random(100), labels, 0.5)
    assert len([s for s in fig.layout.shapes if s.type == "rect"]) == 2


def test_graph_edges_are_drawn_with_width_by_weight():
    fig = af.graph_figure([(0, 1, 0.8), (1, 2, 0.2)], ["a", "b", "c"], [0, 1, 2], groups=[0, 0, 1])
    widths = [t.line.width for t in fig.data if t.mode == "lines"]
    assert len(widths) == 2 and widths[0] > widths[1]


def test_contributions_show_the_largest_channels_first_with_truth_in_red():
    fig = af.contribution_figure(np.array([0.1, 0.6, 0.3]), ["a", "b", "c"], truth=[1], top=2)
    assert list(fig.data[0].y) == ["b", "c"] and fig.data[0].marker.color[0] == "#d62728"
