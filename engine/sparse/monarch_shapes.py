"""Torch-free sizes of a Monarch layer (Dao et al., ICML 2022): block sizes and parameter count."""
from __future__ import annotations

from engine.errors import ConfigError


def monarch_dims(n_in: int, n_out: int, nblocks: int) -> tuple[int, int, int]:
    """Block sizes ``(p, q, s)``: ``R`` has ``b`` blocks of ``q×p``, ``L`` has ``b`` blocks of ``s×q``.

    >>> monarch_dims(256, 256, 4), monarch_dims(64, 256, 4), monarch_dims(256, 64, 4)
    ((64, 64, 64), (16, 16, 64), (64, 16, 16))
    >>> monarch_dims(64, 30, 4)
    Traceback (most recent call last):
    ...
    engine.errors.ConfigError: Monarch: b = 4 blocks must divide the layer's width, but 30 outputs are not a multiple of 4. Choose a block count that divides 64 and 30.
    """
    b = int(nblocks)
    if b < 2:
        raise ConfigError(f"Monarch: the block count b must be at least 2 (got {nblocks}); b = 1 is a dense product.")
    for size, side in ((n_in, "inputs"), (n_out, "outputs")):
        if size % b:
            raise ConfigError(f"Monarch: b = {b} blocks must divide the layer's width, but {size} {side} are not "
                              f"a multiple of {b}. Choose a block count that divides {n_in} and {n_out}.")
    p, s = n_in // b, n_out // b
    return p, (p if n_in <= n_out else s), s


def monarch_params(n_in: int, n_out: int, nblocks: int) -> int:
    """Parameters of a Monarch layer (weights, no bias): ``b·q·p + b·s·q``; ``2n²/b`` when square.

    >>> monarch_params(256, 256, 16) == 2 * 256 ** 1.5, monarch_params(256, 256, 4), monarch_params(64, 256, 4)
    (True, 32768, 5120)
    """
    p, q, s = monarch_dims(n_in, n_out, nblocks)
    return nblocks * (q * p + s * q)
