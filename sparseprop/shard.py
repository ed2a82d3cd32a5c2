"""A shard: the part of a network one process simulates in a distributed run
(sparseprop.distributed, DESIGN.md 6).

Process r of R owns the neurons lo..hi-1 of the whole network's `total` (contiguous blocks,
r * total // R on) and the synapses into them. Its synapse table has a row for every sender of
the whole network, numbered locally: its own neurons (0..hi-lo-1, the engine's neurons), then
the sources (every process has all of them), then the other processes' neurons (remote
senders, in global order), whose spikes arrive by exchange.
"""
import os
from collections import namedtuple

import numpy as np

from .connectivity import CSR
from .errors import ModelError

# set by mpiexec in each process it starts: MPICH and Intel MPI (PMI), Open MPI, PMIx, MVAPICH
_LAUNCHERS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MV2_COMM_WORLD_SIZE")

Shard = namedtuple("Shard", "rank size lo hi total populations")
Shard.__doc__ = """Process `rank` of `size` owns neurons lo..hi-1 of `total`; `populations`:
name -> slice of the whole network's neuron indices."""


def check_shard(shard, n):
    """`shard` (None, or a Shard of n neurons with consistent fields, checked again: it may have
    been built by hand), or ModelError."""
    if shard is None:
        return None
    fields = shard[:5] if isinstance(shard, Shard) else ()
    ints = len(fields) == 5 and all(isinstance(v, (int, np.integer)) and not isinstance(
        v, (bool, np.bool_)) for v in fields)
    if not (ints and 0 <= shard.rank < shard.size and 0 <= shard.lo < shard.hi <= shard.total
            and shard.hi - shard.lo == n and isinstance(shard.populations, dict) and all(
                isinstance(s, slice) for s in shard.populations.values())):
        raise ModelError(f"shard = {shard!r:.80}: give a sparseprop.shard.Shard (rank < size, "
                         f"0 <= lo < hi <= total, hi - lo = n = {n}, populations name -> slice) "
                         f"as sparseprop.shard.shard_of makes it, or None")
    return shard


def blocks(total, size):
    """The first neuron of each of `size` processes' blocks, and the end: block r is
    bounds[r]..bounds[r+1]-1 (sizes differ by at most 1)."""
    return np.array([r * total // size for r in range(size + 1)], np.int64)


def shard_of(rank, size, total, populations):
    """Process rank's Shard of a network of `total` neurons."""
    if total < size:
        raise ModelError(f"{size} processes share {total} neurons: each needs one at least; "
                         f"run fewer processes (mpiexec -n {total}) or more neurons")
    bounds = blocks(total, size)
    return Shard(rank, size, int(bounds[rank]), int(bounds[rank + 1]), total, populations)


def local_rows(shard, n_sources):
    """For each sender of the whole network (neurons 0..total-1, then the sources), its row in
    the shard's table (int64)."""
    lo, hi, total = shard.lo, shard.hi, shard.total
    n = hi - lo
    g = np.arange(total, dtype=np.int64)
    rows = np.where(g < lo, n + n_sources + g, np.where(g < hi, g - lo, n_sources + g))
    return np.concatenate([rows, n + np.arange(n_sources, dtype=np.int64)])


def global_senders(shard, n_sources, rows):
    """The whole network's sender numbers (neurons, then sources) of local rows `rows`."""
    lo, hi, total = shard.lo, shard.hi, shard.total
    n = hi - lo
    rows = np.asarray(rows, np.int64)
    remote = rows - n - n_sources
    return np.where(rows < n, rows + lo, np.where(
        rows < n + n_sources, total + rows - n, np.where(remote < lo, remote, remote + n)))


def launched():
    """Whether this process was started by mpiexec (its environment says so)."""
    return any(name in os.environ for name in _LAUNCHERS)


def shard_table(csr, shard, n_sources):
    """The shard's synapse table from `csr`: the whole network's rows (neurons, then sources)
    with the synapses into this shard's neurons only (CSR.columns), reordered as the shard
    numbers its senders (own neurons, sources, the other neurons)."""
    lo, hi, total = shard.lo, shard.hi, shard.total
    parts = [(lo, hi), (total, total + n_sources), (0, lo), (hi, total)]
    ptr = csr.indptr
    indptr = np.zeros(csr.n + 1, np.int64)
    np.cumsum(np.concatenate([np.diff(ptr[a:b + 1]) for a, b in parts]), out=indptr[1:])

    def moved(values):   # the rows' synapses in the new order (four contiguous pieces)
        return None if values is None else np.concatenate(
            [values[ptr[a]:ptr[b]] for a, b in parts])
    return CSR(csr.n, indptr, moved(csr.indices), n_post=hi - lo, weights=moved(csr.weights),
               weight=csr.weight, delays=moved(csr.delays), delay=csr.delay,
               ports=moved(csr.ports))
