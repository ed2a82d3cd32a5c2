"""The queue of spikes in flight alone (per-synapse delays): nanoseconds per delivery on a
synthetic trace like the per-synapse-delay benchmark's at N = 10^5 (K = 100 delays per row,
uniform in [0.5, 3] ms, a new spike every `gap` ms into one of `rows` rows: about 9000 spikes in
flight for gap = 1/3 us), medians of `repeat`. Rows = 100 keeps them cached (the queue's own
cost); rows = 10^5 adds the cache misses of reading the rows.

    python benchmarks/spike_queue.py [--rows 100,100000] [--gap 0.000333] [--repeat 5]
"""
import argparse
import statistics
import time

import numba
import numpy as np

from sparseprop.connectivity import CSR
from sparseprop.engine.queue import (QSIZE, new_queue, no_entries, queue_pop, queue_push,
                                     queue_replace, queue_root, queue_time, refill)
from sparseprop.engine.status import COUNTERS
from sparseprop.engine.synapses import synapses

ONE_SYNAPSE = synapses(CSR(1, [0, 1], [0], weight=0.0))   # (what refill reads targets from)

K = 100


@numba.njit(_nrt=False)
def _trace(queue, counters, delays, spikes, gap, seed):
    """Emit `spikes` spikes (exponential gaps), deliver every synapse in time order; returns
    the deliveries."""
    np.random.seed(seed)
    seq, deliveries, upcoming = 0, 0, 0.0
    while seq < spikes:
        if upcoming <= queue_time(queue, counters, False):
            row = np.random.randint(0, delays.size // K)
            queue_push(queue, counters, False, upcoming + delays[row * K], seq, row * K,
                       (row + 1) * K, row, upcoming, 0)
            seq += 1
            upcoming += np.random.exponential(gap)
        else:
            g = queue.entry[queue_root(queue, counters, False)]
            e = g.syn + 1
            if e < g.stop:
                queue_replace(queue, counters, g.sent + delays[e], e, 0)
            else:
                queue_pop(queue, counters, False)
            deliveries += 1
    return deliveries


def measure(rows, gap, repeat, log=print):
    """(ns per delivery, spikes in flight at the end) on `rows` rows."""
    delays = np.sort(np.random.default_rng(1).uniform(0.5, 3.0, (rows, K)), axis=1).ravel()
    queue, counters = new_queue(1 << 15), np.zeros(len(COUNTERS), np.int64)
    refill(queue, counters, no_entries(), ONE_SYNAPSE)
    _trace(queue, counters, delays, 1000, gap, 0)
    times = []
    for seed in range(repeat):
        refill(queue, counters, no_entries(), ONE_SYNAPSE)
        start = time.perf_counter()
        deliveries = _trace(queue, counters, delays, 100_000, gap, seed)
        times.append((time.perf_counter() - start) / deliveries)
    cost = statistics.median(times)
    log(f"rows {rows}: {cost * 1e9:.0f} ns per delivery ({int(counters[QSIZE])} spikes in flight)")
    return cost, int(counters[QSIZE])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="100,100000")
    parser.add_argument("--gap", type=float, default=1 / 3000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for rows in args.rows.split(","):
        measure(int(float(rows)), args.gap, args.repeat)


if __name__ == "__main__":
    main()
