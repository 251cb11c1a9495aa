"""``torch`` and ``torch.nn`` as lazy modules, so the method classes import without torch.

The app's server imports the method classes (their constructors are the forms' schemas, their
attributes the labels), but must not load torch before a run starts. Method modules therefore say
``from engine.sparse._lazy import torch, nn``: the first attribute access (``torch.zeros``,
``nn.Module``) imports the real module, which happens only when a sparsifier actually runs.
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """A stand-in that imports module ``name`` on first attribute access.

    >>> m = LazyModule("json"); m.dumps([1])
    '[1]'
    """

    def __init__(self, name: str) -> None:
        self.__dict__["_name"] = name

    def _module(self) -> ModuleType:
        return importlib.import_module(self.__dict__["_name"])

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._module(), attr)


torch: Any = LazyModule("torch")
nn: Any = LazyModule("torch.nn")
parametrize: Any = LazyModule("torch.nn.utils.parametrize")
