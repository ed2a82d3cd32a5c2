"""The queue of spikes in flight (DESIGN.md 3.6): one entry per spike whose deliveries are not
all done, O(1) memory per spike in flight.

An entry is (time, seq, syn, sender, sent, target): the next delivery of the spike that
`sender` emitted at time `sent` as the seq-th spike of the run (its emission number) arrives at
`time` through synapse `syn` (to neuron `target`, kept so that the loop can prefetch what it
will touch) and every later synapse of the sender's row with the same delay (rows are sorted
by delay). Delivering that group moves the entry on to the next delay of the row
(`queue_replace`: the entry keeps its place in memory and sifts down once).

Two layouts over one set of arrays of length `capacity`:
- ring (one delay shared by every synapse): arrivals come in emission order, so a FIFO ring
  buffer suffices: O(1) per spike, no comparison. Entry k sits at position (head + k) % capacity
  of every array (counters[QHEAD], counters[QSIZE]).
- heap (a delay per synapse): a 4-ary min-heap of (time, slot) pairs ordered by time; the
  other fields stay in a pool at their slot (seq, syn, sender, sent, target); free slots are a
  stack (`free`, counters[QFREE] of them). O(log Q) per group of synapses with one delay. Four
  children share a cache line or two and the earliest is chosen without branches. Ties: the
  entries whose time equals the root's form a subtree at the root; before a delivery
  (`queue_root`), the one of the earliest spike (a spike has one entry: its emission number
  breaks every tie) trades slots with the root, which keeps the heap ordered.
At one instant deliveries come in the order of their spikes' emission, then of their synapses:
the same rule in both layouts, in both engines and in the oracle of the tests.
"""
from collections import namedtuple

import numba
import numpy as np

from .status import COUNTERS
from .synapses import row_start, target, targets

QSIZE, QHEAD, QFREE = COUNTERS["QSIZE"], COUNTERS["QHEAD"], COUNTERS["QFREE"]

ARITY = 4
Queue = namedtuple("Queue", "time slot seq syn sender sent target free stack")


def new_queue(capacity):
    """An empty queue with room for `capacity` spikes in flight (call `refill` to set its
    counters)."""
    ints = [np.empty(capacity, np.int64) for _ in range(4)]
    return Queue(np.empty(capacity), *ints, np.empty(capacity), np.empty(capacity, np.int64),
                 np.empty(capacity, np.int64), np.empty(capacity, np.int64))


Entries = namedtuple("Entries", "time seq syn sender sent")


def entries(queue, counters, ring):
    """The entries in delivery order (Entries of copies)."""
    size, head = int(counters[QSIZE]), int(counters[QHEAD])
    if ring:
        at = (head + np.arange(size)) % max(queue.time.size, 1)
        time = queue.time[at]
    else:
        at, time = queue.slot[:size], queue.time[:size]
        order = np.lexsort((queue.seq[at], time))
        at, time = at[order], time[order]
    return Entries(time.copy(), queue.seq[at], queue.syn[at], queue.sender[at], queue.sent[at])


def no_entries():
    """Nothing in flight."""
    return Entries(np.empty(0), np.empty(0, np.int64), np.empty(0, np.int64),
                   np.empty(0, np.int64), np.empty(0))


def refill(queue, counters, content, syn):
    """Put `content` (Entries in delivery order) into `queue` (its capacity must hold them):
    slots 0..size-1, as a ring from position 0 or as a heap (sorted order is a valid heap);
    `syn`: the loops' Synapses (sparseprop.engine.synapses)."""
    size, capacity = content.time.size, queue.time.size
    targets(syn, content.syn, queue.target[:size])
    queue.time[:size] = content.time
    queue.slot[:size] = np.arange(size)
    for field in ("seq", "syn", "sender", "sent"):
        getattr(queue, field)[:size] = getattr(content, field)
    queue.free[:capacity - size] = np.arange(capacity - 1, size - 1, -1)
    counters[QSIZE], counters[QHEAD], counters[QFREE] = size, 0, capacity - size


@numba.njit(cache=True, inline="always", _nrt=False)
def _earlier(queue, c, best, bt):
    """Heap position c or `best` (its time bt), whichever is earlier, without a branch."""
    ct = queue.time[c]
    earlier = ct < bt
    return (c if earlier else best), (ct if earlier else bt)


@numba.njit(cache=True, inline="always", _nrt=False)
def _sift_down(queue, size, t, p):
    """Put (t, p) at the root or below, moving earlier children up."""
    h = 0
    while True:
        first = ARITY * h + 1
        if first >= size:
            break
        best, bt = first, queue.time[first]
        if first + ARITY <= size:  # all children (a loop of constant length: unrolled)
            for c in range(first + 1, first + ARITY):
                best, bt = _earlier(queue, c, best, bt)
        else:
            for c in range(first + 1, size):
                best, bt = _earlier(queue, c, best, bt)
        if not bt < t:
            break
        queue.time[h], queue.slot[h] = bt, queue.slot[best]
        h = best
    queue.time[h], queue.slot[h] = t, p


@numba.njit(cache=True, _nrt=False)
def _first_of_ties(queue, size):
    """Among the entries whose time equals the root's (a subtree at the root), move the one of
    the earliest spike to the root by trading slots (equal times: the heap stays ordered)."""
    t = queue.time[0]
    best, top = 0, 1
    queue.stack[0] = 0
    while top:
        top -= 1
        h = queue.stack[top]
        if queue.seq[queue.slot[h]] < queue.seq[queue.slot[best]]:
            best = h
        for c in range(ARITY * h + 1, min(ARITY * h + ARITY + 1, size)):
            if queue.time[c] == t:
                queue.stack[top] = c
                top += 1
    queue.slot[0], queue.slot[best] = queue.slot[best], queue.slot[0]


@numba.njit(cache=True, inline="always", _nrt=False)
def queue_time(queue, counters, ring):
    """Arrival time of the next delivery (inf when nothing is in flight)."""
    if counters[QSIZE] == 0:
        return np.inf
    return queue.time[counters[QHEAD]] if ring else queue.time[0]


@numba.njit(cache=True, inline="always", _nrt=False)
def queue_root(queue, counters, ring):
    """The slot of the next delivery (the queue must not be empty): of the entries that arrive
    first, the one of the earliest spike."""
    if ring:
        return counters[QHEAD]
    size = counters[QSIZE]
    for c in range(1, min(ARITY + 1, size)):
        if queue.time[c] == queue.time[0]:  # a tie at the root
            _first_of_ties(queue, size)
            break
    return queue.slot[0]


@numba.njit(cache=True, _nrt=False)
def queue_full(queue, counters):
    """No room for one more spike in flight."""
    return counters[QSIZE] >= queue.time.size


@numba.njit(cache=True, _nrt=False)
def queue_push(queue, counters, ring, time, seq, syn, sender, sent, target):
    """Queue a delivery group (the caller checked queue_full first)."""
    size = counters[QSIZE]
    counters[QSIZE] = size + 1
    if ring:
        p = (counters[QHEAD] + size) % queue.time.size
        queue.time[p] = time
    else:
        counters[QFREE] -= 1
        p = queue.free[counters[QFREE]]
    queue.seq[p], queue.syn[p], queue.sender[p], queue.sent[p] = seq, syn, sender, sent
    queue.target[p] = target
    if ring:
        return
    h = size
    while h > 0:  # sift up: later parents move down into the hole
        parent = (h - 1) // ARITY
        if not time < queue.time[parent]:
            break
        queue.time[h], queue.slot[h] = queue.time[parent], queue.slot[parent]
        h = parent
    queue.time[h], queue.slot[h] = time, p


@numba.njit(cache=True, _nrt=False)
def queue_spikes(queue, counters, syn, senders, sent, seq0):
    """Queue the deliveries of spikes given in emission order (a distributed run's window, from
    every process: sparseprop.distributed): senders[k] (a row of `syn`, the loops' Synapses)
    emitted at offset time sent[k] as spike number seq0 + k; a sender without synapses here
    queues nothing. Every delay must be > 0; the caller made room for senders.size entries.
    Returns the earliest arrival time queued (inf: none)."""
    ring = syn.delays.size == 0
    earliest = np.inf
    for k in range(senders.size):
        j = senders[k]
        s = row_start(syn, j)
        if s < row_start(syn, j + 1):
            time = sent[k] + (syn.delay if ring else syn.delays[s])
            earliest = min(earliest, time)
            queue_push(queue, counters, ring, time, seq0 + k, s, j, sent[k], target(syn, s))
    return earliest


@numba.njit(cache=True, inline="always", _nrt=False)
def queue_pop(queue, counters, ring):
    """Remove the next delivery group (the entry queue_root returned)."""
    size = counters[QSIZE] - 1
    counters[QSIZE] = size
    if ring:
        counters[QHEAD] = (counters[QHEAD] + 1) % queue.time.size
        return
    queue.free[counters[QFREE]] = queue.slot[0]
    counters[QFREE] += 1
    if size > 0:
        _sift_down(queue, size, queue.time[size], queue.slot[size])


@numba.njit(cache=True, inline="always", _nrt=False)
def queue_replace(queue, counters, time, syn, target):
    """The next delivery group's spike moves on to synapse `syn` (to neuron `target`),
    arriving at `time` (heap layout only): one sift down instead of a pop and a push."""
    p = queue.slot[0]
    queue.syn[p], queue.target[p] = syn, target
    _sift_down(queue, counters[QSIZE], time, p)


@numba.njit(cache=True, _nrt=False)
def queue_shift(queue, counters, ring, by):
    """Subtract `by` from every queued time (the sparse engine's renormalisation)."""
    size, capacity = counters[QSIZE], queue.time.size
    for k in range(size):
        h = (counters[QHEAD] + k) % capacity if ring else k
        queue.time[h] -= by
        queue.sent[h if ring else queue.slot[h]] -= by


# The functions above that the sparse loop calls once per delivery are inlined into it (a call
# that passes the Queue tuple cost about 55 ns); inlining costs about 2 s of compile time per
# loop, so the reference loop (O(N) work per event anyway) calls these, compiled once here.

@numba.njit(cache=True, _nrt=False)
def queue_time_called(queue, counters, ring):
    """queue_time, for loops that call it."""
    return queue_time(queue, counters, ring)


@numba.njit(cache=True, _nrt=False)
def queue_root_called(queue, counters, ring):
    """queue_root, for loops that call it."""
    return queue_root(queue, counters, ring)


@numba.njit(cache=True, _nrt=False)
def queue_replace_called(queue, counters, time, syn, target):
    """queue_replace, for loops that call it."""
    queue_replace(queue, counters, time, syn, target)


@numba.njit(cache=True, _nrt=False)
def queue_pop_called(queue, counters, ring):
    """queue_pop, for loops that call it."""
    queue_pop(queue, counters, ring)
