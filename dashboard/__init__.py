"""Sparsity Lab's Streamlit UI: pages (orchestration), components (widgets, figure builders), jobs."""
