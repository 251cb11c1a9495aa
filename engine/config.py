"""Base class for experiment configs: frozen dataclasses that validate on construction.

A config's fields are both the UI's form and the run's record (stored as JSON), so every field
must be JSON-serialisable (numbers, strings, booleans, lists/tuples of those, None).
"""
from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, TypeVar

from engine.errors import ConfigError

C = TypeVar("C", bound="Config")


@dataclasses.dataclass(frozen=True)
class Config:
    """Subclass as ``@dataclass(frozen=True) class XConfig(Config)`` and override ``validate``."""

    def __post_init__(self) -> None:
        # JSON gives lists; keep tuples so configs stay hashable and comparable.
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, list):
                object.__setattr__(self, f.name, tuple(v))
        self._check_types()
        self.validate()

    def _check_types(self) -> None:
        """Checks every config shares, before its own: numbers are numbers, finite, seeds in range.

        A NaN or infinite float, a float where a whole number belongs, a text where a list belongs
        (``tuple[int, ...]`` fields: every item checked), or a seed outside [0, 2³²) would otherwise
        reach numpy, torch or scikit-learn and fail there (or worse, run).
        """
        for f in dataclasses.fields(self):
            v, kind = getattr(self, f.name), str(f.type)
            label = f.name.replace("_", " ")
            if kind == "float":
                require(isinstance(v, (int, float)) and not isinstance(v, bool),
                        f"{label} must be a number, got {v!r}.")
                require(math.isfinite(v), f"{label} must be a finite number, got {v!r}.")
            elif kind == "int":
                require(isinstance(v, int) and not isinstance(v, bool), f"{label} must be a whole number, got {v!r}.")
            elif kind == "bool":
                require(isinstance(v, bool), f"{label} must be true or false, got {v!r}.")
            elif kind.startswith("tuple[") and kind.endswith(", ...]"):
                item = kind[len("tuple["):-len(", ...]")]
                require(isinstance(v, tuple), f"{label} must be a list of values, got {v!r:.60}.")
                for x in v:
                    if item == "float":
                        require(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x),
                                f"{label}: each must be a finite number, got {x!r:.40}.")
                    elif item == "int":
                        require(isinstance(x, int) and not isinstance(x, bool),
                                f"{label}: each must be a whole number, got {x!r:.40}.")
                    elif item == "str":
                        require(isinstance(x, str), f"{label}: each must be text, got {x!r:.40}.")
            if f.name == "seed" and isinstance(v, int):
                require(0 <= v < 2**32, f"The seed must be a whole number from 0 to {2**32 - 1:,}, got {v}.")

    def validate(self) -> None:
        """Raise :class:`ConfigError` with a user-readable message when a setting is invalid."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls: type[C], data: dict[str, Any]) -> C:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"Unknown setting(s) for {cls.__name__}: {', '.join(map(repr, unknown))}")
        try:
            return cls(**data)
        except TypeError as err:  # missing required field, wrong arity
            raise ConfigError(f"Invalid settings for {cls.__name__}: {err}") from None


def require(cond: bool, message: str) -> None:
    """Raise ConfigError(message) unless cond holds: the one-line validator used by configs."""
    if not cond:
        raise ConfigError(message)
