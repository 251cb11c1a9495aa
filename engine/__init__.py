"""Sparsity Lab's engine: experiments, algorithms and the run store.

Nothing here imports Streamlit or Plotly; the dashboard composes these pieces.
"""
