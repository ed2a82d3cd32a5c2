"""An indexed binary min-heap on flat arrays (numba).

key[i]  : the key of neuron i (the engines use the next spike time)
heap[h] : the neuron at heap position h (heap[0] is the root: the smallest key)
pos[i]  : the heap position of neuron i
Ties are broken by neuron index: the smaller index comes first. Any key can change and be
restored in O(log N) by `update`.
"""
import numba
import numpy as np


@numba.njit(cache=True, inline="always")
def _before(key, a, b):
    """Neuron a comes before neuron b: smaller key, or equal key and smaller index."""
    return key[a] < key[b] or (key[a] == key[b] and a < b)


@numba.njit(cache=True)
def sift_up(key, heap, pos, h):
    """Move the entry at heap position h towards the root until the order holds."""
    i = heap[h]
    while h > 0:
        parent = (h - 1) >> 1
        p = heap[parent]
        if not _before(key, i, p):
            break
        heap[h] = p
        pos[p] = h
        h = parent
    heap[h] = i
    pos[i] = h


@numba.njit(cache=True)
def sift_down(key, heap, pos, h):
    """Move the entry at heap position h towards the leaves until the order holds."""
    n = heap.size
    i = heap[h]
    while True:
        child = 2 * h + 1
        if child >= n:
            break
        c = heap[child]
        if child + 1 < n and _before(key, heap[child + 1], c):
            child += 1
            c = heap[child]
        if not _before(key, c, i):
            break
        heap[h] = c
        pos[c] = h
        h = child
    heap[h] = i
    pos[i] = h


@numba.njit(cache=True)
def update(key, heap, pos, i):
    """Restore the heap after key[i] changed: O(log N)."""
    h = pos[i]
    if h > 0 and _before(key, i, heap[(h - 1) >> 1]):
        sift_up(key, heap, pos, h)
    else:
        sift_down(key, heap, pos, h)


@numba.njit(cache=True)
def build(key, heap, pos):
    """Fill heap and pos for all neurons from key: O(N)."""
    n = key.size
    for i in range(n):
        heap[i] = i
        pos[i] = i
    for h in range(n // 2 - 1, -1, -1):
        sift_down(key, heap, pos, h)


def new_heap(key):
    """(heap, pos) arrays built from key."""
    heap = np.empty(key.size, dtype=np.int32)
    pos = np.empty(key.size, dtype=np.int32)
    build(key, heap, pos)
    return heap, pos
