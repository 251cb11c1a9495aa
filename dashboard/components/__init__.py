"""Reusable widgets (``show(key) -> value``) and pure figure builders."""
