"""The indexed heap: after any sequence of key changes, the root is the smallest (key, index)."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sparseprop.engine import heap

keys = st.sampled_from([0.0, 1.0, 1.0, 2.5, -3.0, 7.0, 1e300, -0.5])


def _check(hkey, hidx, pos, want):
    n = hkey.size
    assert np.array_equal(hidx[pos], np.arange(n))            # pos and hidx are inverse
    assert np.array_equal(heap.keys(hkey, pos), want)         # every neuron keeps its key
    for h in range(1, n):                                     # heap order, ties by index
        p = (h - 1) // 2
        assert (hkey[p], hidx[p]) <= (hkey[h], hidx[h])
    root = min(range(n), key=lambda i: (want[i], i))
    assert hidx[0] == root


@settings(max_examples=200, deadline=None)
@given(st.lists(keys, min_size=1, max_size=40), st.lists(st.tuples(st.integers(0, 39), keys),
                                                         max_size=60))
def test_heap_order_holds_after_any_updates(initial, updates):
    want = np.array(initial)
    hkey, hidx, pos = heap.new_heap(want)
    _check(hkey, hidx, pos, want)
    for i, k in updates:
        i %= want.size
        heap.set_key(hkey, hidx, pos, i, k)
        want[i] = k
        _check(hkey, hidx, pos, want)


@settings(max_examples=200, deadline=None)
@given(st.lists(keys, min_size=1, max_size=40), st.lists(st.tuples(st.integers(0, 39), keys),
                                                         max_size=60))
def test_the_keys_reordered_in_place_are_the_keys_gathered(initial, updates):
    want = np.array(initial) + np.arange(len(initial))        # (distinct: any order shows)
    hkey, hidx, pos = heap.new_heap(want)
    for i, k in updates:
        heap.set_key(hkey, hidx, pos, i % want.size, k + i)
    gathered = heap.keys(hkey, pos)
    heap.to_neuron_order(hkey, hidx)
    assert np.array_equal(hkey, gathered) and np.all(hidx == -1)
