"""The loops' view of the synapse table: stored rows (CSR) or procedural rows.

A stored table gives sender j's synapses s = indptr[j] .. indptr[j + 1] - 1 and their targets
indices[s]. A procedural table (sparseprop.connectivity.Procedural: the recipe
fixed_outdegree(..., procedural=True)) stores no synapse: senders pre_lo .. pre_hi - 1 have k
synapses each, numbered row by row (synapse s of local row r = j - pre_lo is s = r k + c), and
the target of synapse s is drawn from a counter-based generator: SplitMix64's output
(sparseprop.engine.splitmix) for the state key + (s + 1) GOLDEN, key a hash of the recipe's
seed; its top 53 bits pick one of m candidates uniformly (post_lo .. post_lo + m - 1, skipping
the sender itself when the projection is within one population). Drawing it again gives the
same target, in the forward loop, in the reverse sweep and when a table is materialised
(`targets`), so nothing per synapse is kept.

The loops call `row_start`, `target` and `sender_of` instead of reading indptr and indices;
the branch on the table's kind is the same at every call, so it costs next to nothing.
"""
from collections import namedtuple

import numba
import numpy as np

from .splitmix import GOLDEN, finalise

Synapses = namedtuple("Synapses", "indptr indices weights weight delays delay ports proc")

# fields of a procedural table's `proc` (int64); a stored table's proc is empty
K, KEY, PRE_LO, PRE_HI, POST_LO, CANDIDATES, SAME = range(7)
_S11, _UNIT = np.uint64(11), 2.0 ** -53


def synapses(csr):
    """The loops' Synapses of a table: a CSR (shared weight/delay: empty per-synapse arrays) or
    a sparseprop.connectivity.Procedural (empty indptr and indices, its draw in `proc`)."""
    empty = np.empty(0)
    proc = getattr(csr, "proc", None)
    stored = proc is None
    return Synapses(csr.indptr if stored else np.empty(0, np.int64),
                    csr.indices if stored else np.empty(0, np.int32),
                    csr.weights if csr.weights is not None else empty,
                    float(csr.weight) if csr.weights is None else 0.0,
                    csr.delays if csr.delays is not None else empty,
                    float(csr.delay) if csr.delays is None else 0.0,
                    csr.ports if csr.ports is not None else np.empty(0, np.uint8),
                    np.empty(0, np.int64) if stored else proc)


@numba.njit(cache=True, nogil=True, _nrt=False, inline="always")
def mix(key, s):
    """The 64 random bits of procedural synapse s (SplitMix64's output number s + 1)."""
    return finalise(np.uint64(key) + np.uint64(s + 1) * GOLDEN)


@numba.njit(cache=True, nogil=True, _nrt=False, inline="always")
def row_start(syn, j):
    """The first synapse of sender j's row (its row ends where row j + 1 starts)."""
    p = syn.proc
    if p.size == 0:
        return syn.indptr[j]
    return min(max(j - p[PRE_LO], 0), p[PRE_HI] - p[PRE_LO]) * p[K]


@numba.njit(cache=True, nogil=True, _nrt=False, inline="always")
def target(syn, s):
    """The postsynaptic neuron of synapse s."""
    p = syn.proc
    if p.size == 0:
        return np.int64(syn.indices[s])
    m = p[CANDIDATES]
    u = min(np.int64(np.float64(np.int64(mix(p[KEY], s) >> _S11)) * (m * _UNIT)), m - 1)
    if p[SAME] and (u + 1) * p[K] > s:   # u >= the sender's local row s // k: skip the
        u += 1                            # sender (one population: it is no candidate)
    return p[POST_LO] + u


@numba.njit(cache=True, nogil=True, error_model="numpy", _nrt=False, inline="always")
def group_end(syn, s, stop):
    """The end of the group of synapses from s on (before `stop`, the row's end) that share
    s's delay: they arrive together. One shared delay: the whole row."""
    if syn.delays.size == 0:
        return stop
    e = s + 1
    while e < stop and syn.delays[e] == syn.delays[s]:
        e += 1
    return e


@numba.njit(cache=True, nogil=True, _nrt=False)
def sender_of(syn, s):
    """The sender whose row holds synapse s."""
    p = syn.proc
    if p.size:
        return p[PRE_LO] + s // p[K]
    lo, hi = 0, syn.indptr.size - 1
    while hi - lo > 1:   # the last row starting at or before s (rows may be empty)
        mid = (lo + hi) // 2
        if syn.indptr[mid] <= s:
            lo = mid
        else:
            hi = mid
    while syn.indptr[lo + 1] <= s:
        lo += 1
    return lo


@numba.njit(cache=True, nogil=True, _nrt=False)
def row_ends(syn, senders, out):
    """out[i] = the end of sender senders[i]'s row (the first synapse after it), for every i."""
    for i in range(senders.size):
        out[i] = row_start(syn, senders[i] + 1)


@numba.njit(cache=True, nogil=True, _nrt=False)
def targets(syn, positions, out):
    """out[i] = the target of synapse positions[i], for every i."""
    for i in range(positions.size):
        out[i] = target(syn, positions[i])


__all__ = ["Synapses", "group_end", "row_ends", "row_start", "sender_of", "synapses", "target",
           "targets"]
