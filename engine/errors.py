"""Errors that carry a message meant for the user, not a traceback."""
from __future__ import annotations


class SparsityLabError(Exception):
    """Base class: ``str(err)`` is a sentence a user can act on."""


class ConfigError(SparsityLabError, ValueError):
    """An experiment's settings are invalid; raised before anything runs."""


class DataError(SparsityLabError, ValueError):
    """Input data (an upload, a file at a path) cannot be used as given."""


class RunDiverged(SparsityLabError, RuntimeError):
    """Training produced NaN/inf; the run stops and keeps what it reported."""


class StoreError(SparsityLabError, RuntimeError):
    """The run store cannot be read or written (locked, full disk, bad file)."""
