"""A method's parameter schema, read from its class: the keyword-only constructor is the schema.

Each method class (``engine.sparse.methods``) declares its settings as keyword-only constructor
arguments, one per line, each with its paper's default and a trailing one-line comment (the paper's
symbol and what it does)::

    def __init__(self, *, sparsity: float = 0.9,
                 drop_fraction: float = 0.3,  # α: fraction of active weights dropped at the first update
                 decay: Literal["cosine", "constant"] = "cosine",  # f(t): decay of the drop fraction
                 ) -> None:

:func:`params_of` turns that into :class:`Param` records (name, default, type, choices, help) that
the CLI flags, the form's widgets and the validation of ``SparseConfig.method_params`` are built
from; ``sparsity`` is not a method parameter (it is ``SparseConfig.sparsity``, the sweep's axis).
Torch-free, like the method classes themselves.
"""
from __future__ import annotations

import functools
import inspect
import re
import typing
from dataclasses import dataclass
from typing import Any

from engine.errors import ConfigError

_COMMENT = re.compile(r"^\s*(?:def\s+__init__\s*\(\s*self\s*,\s*\*\s*,\s*)?(\w+)\s*:[^#]*=[^#]*#\s*(.+?)\s*$")


@dataclass(frozen=True)
class Param:
    """One setting of a method: name, default, Python type, allowed values (or None) and help text."""

    name: str
    default: Any
    kind: type
    choices: tuple | None
    help: str

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def coerce(self, value: Any, method: str) -> Any:
        """``value`` as this parameter's type (CLI strings included); ConfigError with a sentence otherwise.

        >>> Param("rounds", 5, int, None, "").coerce("3", "imp")
        3
        >>> Param("scope", "layer", str, ("global", "layer"), "").coerce("all", "gmp")
        Traceback (most recent call last):
        ...
        engine.errors.ConfigError: gmp: 'scope' must be one of global, layer (got 'all').
        """
        try:
            if self.kind is bool:
                if isinstance(value, str):
                    if value.strip().lower() not in ("1", "0", "true", "false", "yes", "no"):
                        raise ValueError
                    value = value.strip().lower() in ("1", "true", "yes")
                value = bool(value)
            elif self.kind is int:
                as_float = float(value)
                if as_float != int(as_float):
                    raise ValueError
                value = int(as_float)
            elif self.kind is float:
                value = float(value)
            else:
                value = str(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{method}: '{self.name}' must be a {self.kind.__name__} (got '{value}').") from None
        if self.choices is not None and value not in self.choices:
            raise ConfigError(f"{method}: '{self.name}' must be one of {', '.join(map(str, self.choices))} (got '{value}').")
        return value


def _comments(cls) -> dict[str, str]:
    try:
        src = inspect.getsource(cls.__init__)
    except (OSError, TypeError):  # pragma: no cover - no source available (frozen app)
        return {}
    out = {}
    for line in src.splitlines():
        m = _COMMENT.match(line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


@functools.lru_cache(maxsize=None)
def params_of(cls) -> tuple[Param, ...]:
    """The method's settings, in constructor order (``sparsity`` excluded).

    >>> from engine.sparse.methods.registry import method_class
    >>> [(p.name, p.default, p.choices) for p in params_of(method_class("gmp"))][:2]
    [('scope', 'layer', ('layer', 'global')), ('begin', 0.1, None)]
    """
    sig = inspect.signature(cls.__init__)
    hints = typing.get_type_hints(cls.__init__, vars(inspect.getmodule(cls)))
    notes = _comments(cls)
    out = []
    for name, p in sig.parameters.items():
        if name in ("self", "sparsity") or p.kind is not inspect.Parameter.KEYWORD_ONLY:
            continue
        if p.default is inspect.Parameter.empty:
            raise TypeError(f"{cls.__name__}.{name} needs a default (the paper's value).")
        hint = hints.get(name, type(p.default))
        choices = None
        if typing.get_origin(hint) is typing.Literal:
            choices = typing.get_args(hint)
            kind = type(choices[0])
        else:
            kind = hint if hint in (bool, int, float, str) else type(p.default)
        out.append(Param(name, p.default, kind, choices, notes.get(name, "")))
    return tuple(out)


def uses_sparsity(cls) -> bool:
    """Whether the method's constructor takes ``sparsity`` (dense and N:M methods do not)."""
    return "sparsity" in inspect.signature(cls.__init__).parameters


def resolve(cls, given: dict[str, Any] | None) -> dict[str, Any]:
    """``given`` checked against the schema and completed with the defaults (ConfigError on bad input).

    >>> from engine.sparse.methods.registry import method_class
    >>> resolve(method_class("imp"), {"rounds": "3"})["rounds"]
    3
    >>> resolve(method_class("rigl"), {"rounds": 3})
    Traceback (most recent call last):
    ...
    engine.errors.ConfigError: rigl has no setting 'rounds'. Its settings: distribution, update_every, drop_fraction, end, decay, sparse_init.
    """
    specs = {p.name: p for p in params_of(cls)}
    given = dict(given or {})
    unknown = [k for k in given if k not in specs]
    if unknown:
        names = ", ".join(specs) or "none"
        raise ConfigError(f"{cls.name} has no setting '{unknown[0]}'. Its settings: {names}.")
    return {k: (p.coerce(given[k], cls.name) if k in given else p.default) for k, p in specs.items()}


def describe(cls) -> str:
    """A short Markdown card of the method, built from its class: title, paper, family, what its
    sparsity counts, its targets, and each setting with its default and the paper's symbol.

    >>> from engine.sparse.methods.registry import method_class
    >>> print(describe(method_class("synflow")).splitlines()[0])
    **synflow** — SynFlow: iterative synaptic-flow pruning, data-free (Tanaka et al. 2020)
    """
    counts = "hidden **units** removed" if cls.counts == "units" else "**weights** removed"
    targets = ("each layer has its own target" if cls.per_layer_targets
               else "only the total is defined (no per-layer target)")
    lines = [f"**{cls.name}** — {cls.title}", ""]
    if cls.paper:
        lines.append(f"*Paper:* {cls.paper}.  ")
    lines.append(f"*Family:* {cls.family}; *sparsity counts:* {counts}; {targets}.")
    specs = params_of(cls)
    if specs:
        lines.append("")
        for p in specs:
            choices = f" ({' / '.join(map(str, p.choices))})" if p.choices else ""
            lines.append(f"- `{p.name}` = `{p.default}`{choices}: {p.help}")
    return "\n".join(lines)
