"""Block spins: the majority rule that takes an L x L configuration to a coarser lattice (Kadanoff; Swendsen's
Monte Carlo renormalisation group, PRL 42, 859 (1979)).

A block of b x b spins becomes one spin, the sign of their sum; a tie (even b) takes the sign of the block's
top-left spin. Iterated, the rule maps a configuration of size ``L = L0 b_1 b_2 ...`` to one of size L0. At T_c
the distribution of the blocked configurations is (up to corrections that fall off with the number of steps) the
same for every L: the block-spin picture of scale invariance. Any fixed function of the L0 x L0 blocked
configuration, such as the output of a network trained at L0, is then a dimensionless observable whose mean
over sizes crosses near T_c and obeys finite-size scaling, F((T - T_c) L^(1/nu)), whatever the function learned.

Steps: a factor 3 first (at most one, for the triangular lattice's sizes that are multiples of 3), then 2s.
Spins: int8 ±1, shape (n, L, L).
"""
from __future__ import annotations

import numpy as np


def block_steps(L: int, L0: int) -> list[int] | None:
    """The block factors, applied in order, that take size ``L`` to ``L0`` (``[]`` when equal): at most one 3,
    first, then 2s; None when ``L`` is no such multiple of ``L0``."""
    if L < L0 or L % L0:
        return None
    factor, steps = L // L0, []
    if factor % 3 == 0:
        steps.append(3)
        factor //= 3
    while factor % 2 == 0:
        steps.append(2)
        factor //= 2
    return steps if factor == 1 else None


def majority_rule(spins: np.ndarray, b: int) -> np.ndarray:
    """One block-spin step: (n, L, L) -> (n, L/b, L/b), each b x b block to the sign of its sum (ties: the block's
    top-left spin). ``L`` must be a multiple of ``b``."""
    spins = np.asarray(spins)
    n, L, _ = spins.shape
    if L % b:
        raise ValueError(f"The lattice size must be a multiple of the block size {b}. Got L = {L} instead.")
    sums = spins.reshape(n, L // b, b, L // b, b).sum(axis=(2, 4), dtype=np.int32)
    blocked = np.sign(sums).astype(np.int8)
    ties = blocked == 0
    blocked[ties] = spins[:, ::b, ::b][ties]
    return blocked


def block_spins(spins: np.ndarray, L0: int) -> np.ndarray:
    """Spins (n, L, L) blocked down to (n, L0, L0) by :func:`block_steps` of majority rule."""
    steps = block_steps(np.shape(spins)[-1], L0)
    if steps is None:
        raise ValueError(f"The lattice size must be L0 = {L0} times a power of 2 (times 3 at most once). "
                         f"Got L = {np.shape(spins)[-1]} instead.")
    for b in steps:
        spins = majority_rule(spins, b)
    return np.asarray(spins, dtype=np.int8)
