"""Memory the machine can give, checked before the large allocations (synapse tables, the
engine's per-neuron arrays), so that a network too large for the machine is a ModelError
naming the estimate and what would fit, not an out-of-memory kill.

Linux lets numpy reserve more than there is (overcommit): np.empty(40 GB) succeeds and the
process is killed when the pages are touched. So the builders estimate their peak first and
compare it with `available()`: MemAvailable of /proc/meminfo, lowered to what a cgroup's limit
leaves and to the address-space limit (RLIMIT_AS) when they are smaller. The check depends on
the machine's state, so it may only ever raise an error; it never changes a result.

Blocks: memory for arrays made again and again (a batch's outputs and tapes), reused once
nothing made from it is alive.
"""
import os
import sys

import numpy as np

from .errors import ModelError

GB = 1e9


def _meminfo():
    """MemAvailable in bytes, or None."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def _cgroup():
    """A cgroup v2 limit minus its current usage, in bytes, or None (no limit)."""
    try:
        with open("/sys/fs/cgroup/memory.max") as handle:
            limit = handle.read().strip()
        if limit == "max":
            return None
        with open("/sys/fs/cgroup/memory.current") as handle:
            return max(0, int(limit) - int(handle.read().strip()))
    except (OSError, ValueError):
        return None


def _address_space():
    """What RLIMIT_AS leaves (bytes), or None (unlimited or unknown)."""
    try:
        import resource
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY:
            return None
        with open("/proc/self/statm") as handle:
            used = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        return max(0, soft - used)
    except (ImportError, OSError, ValueError, IndexError):
        return None


def available():
    """Bytes this process can still use (None when the machine does not say)."""
    known = [b for b in (_meminfo(), _cgroup(), _address_space()) if b is not None]
    return min(known) if known else None


def require(nbytes, what, fits):
    """ModelError unless `nbytes` (an estimate of a peak) fits in the available memory.
    what: what needs it ('fixed_outdegree(k=100) for 10^9 neurons'); fits(bytes) -> text
    saying what would fit in that many bytes."""
    free = available()
    if free is None or nbytes <= free:
        return
    raise ModelError(f"{what} needs about {nbytes / GB:.3g} GB, and this machine has "
                     f"{free / GB:.3g} GB available; {fits(free)}")


class Blocks:
    """Arrays carved from a few blocks of memory that are reused once no array made from them
    is alive any more: memory the process has not written yet costs a page fault per 4 KB page
    (about 15 us each on this machine: 0.1 ms per sample of a trained Yin-Yang batch, whose
    tapes were fresh np.empty arrays at every run). A numpy view keeps the block it was cut
    from as its base, so a block whose only holders are this object is free: reuse cannot
    overwrite an array someone still has. At most `keep` blocks are kept."""

    def __init__(self, keep=3):
        self._blocks, self._keep = [], keep

    def _free_block(self, nbytes):
        for block in self._blocks:
            # held by the list, the loop variable and getrefcount's argument: nothing else
            if block.size >= nbytes and sys.getrefcount(block) == 3:
                return block
        return None

    def arrays(self, *specs):
        """One new array per (shape, dtype) in specs, uninitialised (np.empty's contract),
        in one free block or a new one."""
        nbytes = [int(np.prod(shape)) * np.dtype(dtype).itemsize for shape, dtype in specs]
        sizes = [-(-b // 64) * 64 for b in nbytes]     # (each array on a cache line)
        block = self._free_block(sum(sizes))
        if block is None:   # (the oldest is forgotten: its arrays, if alive, keep it)
            block = np.empty(max(sum(sizes), 64), np.uint8)
            self._blocks = self._blocks[len(self._blocks) + 1 - self._keep:] + [block]
        out, at = [], 0
        for (shape, dtype), b, size in zip(specs, nbytes, sizes):
            out.append(block[at:at + b].view(dtype).reshape(shape))
            at += size
        return out


__all__ = ["Blocks", "available", "require"]
