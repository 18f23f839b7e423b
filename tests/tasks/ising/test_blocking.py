"""Majority-rule block spins: the steps that take a size to the network's, one step on known blocks, ties."""
import numpy as np
import pytest

from physics.tasks.ising.blocking import block_spins, block_steps, majority_rule


@pytest.mark.parametrize("L, L0, steps", [(8, 8, []), (16, 8, [2]), (64, 8, [2, 2, 2]), (24, 8, [3]),
                                          (96, 8, [3, 2, 2]), (12, 8, None), (40, 8, None), (4, 8, None)])
def test_block_steps(L, L0, steps):
    assert block_steps(L, L0) == steps


def test_majority_of_each_block_and_ties_to_the_top_left_spin():
    spins = np.array([[[1, 1, -1, -1],
                       [1, -1, -1, -1],
                       [-1, 1, 1, -1],
                       [1, -1, -1, 1]]], dtype=np.int8)
    # blocks: (1,1,1,-1) -> +1; (-1,-1,-1,-1) -> -1; (-1,1,1,-1) tie -> top-left -1; (1,-1,-1,1) tie -> +1
    assert majority_rule(spins, 2).tolist() == [[[1, -1], [-1, 1]]]
    three = np.ones((1, 3, 3), np.int8)
    three[0, 0, :2] = -1
    assert majority_rule(three, 3).tolist() == [[[1]]]  # 7 of 9 spins up: +1


def test_blocking_keeps_order_and_shape():
    rng = np.random.default_rng(0)
    ordered = np.ones((3, 64, 64), np.int8)
    assert (block_spins(ordered, 8) == 1).all() and block_spins(ordered, 8).shape == (3, 8, 8)
    random = rng.choice(np.array([-1, 1], np.int8), size=(200, 32, 32))
    blocked = block_spins(random, 8)
    assert blocked.dtype == np.int8 and abs(blocked.mean()) < 0.02  # 12800 blocked spins: SD of the mean ~0.009
    with pytest.raises(ValueError, match="power of 2"):
        block_spins(random, 12)
