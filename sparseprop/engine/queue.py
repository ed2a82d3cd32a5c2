"""The queue of spikes in flight (DESIGN.md 3.6): one entry per spike whose deliveries are not
all done, O(1) memory per spike in flight.

An entry is (time, seq, syn, sender, sent): the next delivery of the spike that `sender`
emitted at time `sent` as the seq-th spike of the run (its emission number) arrives at `time`
through synapse `syn` and every later synapse of the sender's row with the same delay (rows
are sorted by delay). Delivering that group moves the entry on to the next delay of the row.

Two layouts, one set of arrays (all of length `capacity`; counters[QSIZE] and counters[QHEAD]
say where the entries are):
- ring (one delay shared by every synapse): arrivals come in emission order, so a FIFO ring
  buffer suffices: O(1) per spike, no comparison;
- heap (a delay per synapse): a binary min-heap ordered by (time, seq, syn): O(log Q) per
  group of synapses with one delay.
At one instant deliveries come in the order of their spikes' emission, then of their synapses:
the same rule in both layouts, in both engines and in the oracle of the tests.
"""
from collections import namedtuple

import numba
import numpy as np

from .status import COUNTERS

QSIZE, QHEAD = COUNTERS["QSIZE"], COUNTERS["QHEAD"]

Queue = namedtuple("Queue", "time seq syn sender sent")


def new_queue(capacity):
    """An empty queue with room for `capacity` spikes in flight."""
    return Queue(np.empty(capacity), np.empty(capacity, np.int64), np.empty(capacity, np.int64),
                 np.empty(capacity, np.int64), np.empty(capacity))


def entries(queue, counters, ring):
    """The entries in delivery order (a Queue of exactly the queued entries, copies)."""
    size, head = int(counters[QSIZE]), int(counters[QHEAD])
    if ring:
        order = (head + np.arange(size)) % max(queue.time.size, 1)
    else:
        order = np.lexsort((queue.syn[:size], queue.seq[:size], queue.time[:size]))
    return Queue(*(field[order].copy() for field in queue))


def refill(queue, counters, content):
    """Put `content` (entries in delivery order, as from `entries`) into `queue` (its capacity
    must hold them); as a ring from position 0, or as a heap (sorted order is a valid heap)."""
    size = content.time.size
    for field, values in zip(queue, content):
        field[:size] = values
    counters[QSIZE], counters[QHEAD] = size, 0


@numba.njit(cache=True, inline="always")
def _before(queue, a, b):
    """Entry a comes before entry b: earlier time, then earlier spike, then earlier synapse."""
    ta, tb = queue.time[a], queue.time[b]
    if ta != tb:
        return ta < tb
    if queue.seq[a] != queue.seq[b]:
        return queue.seq[a] < queue.seq[b]
    return queue.syn[a] < queue.syn[b]


@numba.njit(cache=True, inline="always")
def _swap(queue, a, b):
    queue.time[a], queue.time[b] = queue.time[b], queue.time[a]
    queue.seq[a], queue.seq[b] = queue.seq[b], queue.seq[a]
    queue.syn[a], queue.syn[b] = queue.syn[b], queue.syn[a]
    queue.sender[a], queue.sender[b] = queue.sender[b], queue.sender[a]
    queue.sent[a], queue.sent[b] = queue.sent[b], queue.sent[a]


@numba.njit(cache=True)
def queue_time(queue, counters, ring):
    """Arrival time of the next delivery (inf when nothing is in flight)."""
    if counters[QSIZE] == 0:
        return np.inf
    return queue.time[counters[QHEAD]] if ring else queue.time[0]


@numba.njit(cache=True)
def queue_full(queue, counters):
    """No room for one more spike in flight."""
    return counters[QSIZE] >= queue.time.size


@numba.njit(cache=True)
def queue_push(queue, counters, ring, time, seq, syn, sender, sent):
    """Queue a delivery group (the caller checked queue_full first)."""
    size = counters[QSIZE]
    h = (counters[QHEAD] + size) % queue.time.size if ring else size
    queue.time[h], queue.seq[h], queue.syn[h] = time, seq, syn
    queue.sender[h], queue.sent[h] = sender, sent
    counters[QSIZE] = size + 1
    if ring:
        return
    while h > 0:  # sift up
        parent = (h - 1) >> 1
        if not _before(queue, h, parent):
            break
        _swap(queue, h, parent)
        h = parent


@numba.njit(cache=True)
def queue_pop(queue, counters, ring):
    """Remove the next delivery group; returns (seq, syn, sender, sent) of it."""
    h = counters[QHEAD] if ring else 0
    seq, syn, sender, sent = queue.seq[h], queue.syn[h], queue.sender[h], queue.sent[h]
    size = counters[QSIZE] - 1
    counters[QSIZE] = size
    if ring:
        counters[QHEAD] = (h + 1) % queue.time.size
        return seq, syn, sender, sent
    if size > 0:  # the last entry to the root, then sift down
        _swap(queue, 0, size)
        h = 0
        while True:
            child = 2 * h + 1
            if child >= size:
                break
            if child + 1 < size and _before(queue, child + 1, child):
                child += 1
            if not _before(queue, child, h):
                break
            _swap(queue, h, child)
            h = child
    return seq, syn, sender, sent


@numba.njit(cache=True)
def queue_shift(queue, counters, ring, by):
    """Subtract `by` from every queued time (the sparse engine's renormalisation)."""
    size, cap = counters[QSIZE], queue.time.size
    for k in range(size):
        h = (counters[QHEAD] + k) % cap if ring else k
        queue.time[h] -= by
        queue.sent[h] -= by
