"""The graph-faithful StackVAE-G variant (issue #14): what differs from the released model and what does not."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from engine.anomaly.experiments import StackVAEGConfig
from engine.anomaly.stackvae_g import StackVAEG, StackVAEGModule, leave_one_out_graph
from engine.cli import build_parser, main
from engine.errors import ConfigError


def test_both_variants_keep_151930_parameters_for_38_channels():
    for variant in ("released", "graph"):
        m = StackVAEGModule(38, 100, 200, 20, 30, 10, 3.0, 0.5, variant=variant)
        assert sum(p.numel() for p in m.parameters()) == 151_930, variant


def test_graph_variant_loss_leaves_each_channel_out_of_its_own_reconstruction():
    torch.manual_seed(0)
    m = StackVAEGModule(6, 8, 8, 4, 5, k=3, alpha=3.0, gamma=0.5, variant="graph")
    loo = leave_one_out_graph(m.similarity(), 3.0, 3).detach()
    assert torch.all(torch.diagonal(loo) == 0)
    sums = loo.sum(dim=1)
    assert torch.all(((sums - 1).abs() < 1e-6) | (sums == 0))  # renormalised without the self-loop
    # With the identity graph the released loss is 0 for any x; the leave-one-out loss is not.
    x = torch.randn(4, 6, 8)
    released = StackVAEGModule(6, 8, 8, 4, 5, k=3, alpha=3.0, gamma=0.5)
    g = torch.Generator().manual_seed(0)
    assert m.losses(x, g)["graph"] > 0
    expected = (x - loo @ x).pow(2).sum(dim=(1, 2)).mean()
    assert torch.isclose(m.losses(x, torch.Generator().manual_seed(0))["graph"], expected)
    adj = released.adjacency().detach()
    assert torch.isclose(released.losses(x, g)["graph"], (x - adj @ x).pow(2).sum(dim=(1, 2)).mean())


def test_graph_variant_starts_small_and_released_is_unchanged():
    assert StackVAEG().init_std() == 1.0 and StackVAEG(variant="graph").init_std() == 0.1
    x = np.random.default_rng(0).normal(size=(80, 4)).astype(np.float32)
    tiny = dict(window=8, hidden=8, latent=4, node_dim=5, k=2, epochs=0)
    r = StackVAEG(**tiny).fit(x).module_.node_emb.weight.detach()
    g = StackVAEG(**tiny, variant="graph").fit(x).module_.node_emb.weight.detach()
    assert torch.allclose(g, 0.1 * r)  # the same draw, scaled
    with pytest.raises(ConfigError, match="variant"):
        StackVAEG(**tiny, variant="nope").fit(x)
    with pytest.raises(ConfigError, match="variant"):
        StackVAEGConfig(variant="nope")


def test_graph_variant_recovers_the_true_groups_where_the_released_model_loses_edges():
    from engine.anomaly.datasets import prepared
    from engine.anomaly.interpret import adjacency_auroc
    from engine.anomaly.synthetic import make_synthetic

    data = prepared(make_synthetic(n_channels=8, n_groups=2, train_length=600, test_length=120,
                                   n_anomalies=0, seed=2), 30)
    got = {v: adjacency_auroc(StackVAEG(window=30, epochs=12, seed=2, variant=v).fit(data.train).adjacency_,
                              data.true_graph) for v in ("released", "graph")}
    assert got["graph"] >= 0.95 and got["graph"] > got["released"] + 0.05, got


def test_cli_variant_flag_and_json_graph_auroc(tmp_path):
    args = build_parser().parse_args(["run", "stackvaeg", "--variant", "graph"])
    assert args.build_config(args).variant == "graph"
    args = build_parser().parse_args(["run", "stackvaeg"])
    assert args.build_config(args).variant == "released"
    out = tmp_path / "r.json"
    assert main(["run", "stackvaeg", "--synthetic", "--channels", "4", "--groups", "2", "--length", "200",
                 "--window", "10", "--epochs", "1", "--quiet", "--variant", "graph", "--no-baselines",
                 "--json", str(out), "--db", str(tmp_path / "runs.db")]) == 0
    r = json.loads(out.read_text())
    assert 0.0 <= r["graph_auroc"] <= 1.0 and r["graph_auroc"] == r["synthetic"]["adjacency_auroc"]
    assert {"correlation_auroc", "lasso_auroc", "glasso_auroc"} <= set(r["synthetic"])
    assert np.array(r["graphs"]["glasso"]).shape == (4, 4)
