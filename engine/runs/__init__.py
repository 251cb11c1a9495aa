"""Runs: the reporter protocol, the SQLite run store, and the job runner."""
