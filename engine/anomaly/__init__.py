"""Anomaly detection in multivariate time series with a learned channel graph (StackVAE-G).

Modules: ``datasets`` (SMD, SMAP, CSV readers and repairs), ``synthetic`` (groups of channels
with a known graph), ``stackvae_g`` (the model, needs torch), ``metrics`` / ``baselines`` /
``interpret`` (evaluation protocols, baselines, explanations), ``experiments`` (the run the app
and the CLI start), ``cli``. Nothing heavy is imported here.
"""
