"""The queue of spikes in flight (DESIGN.md 3.6): one entry per spike whose deliveries are not
all done, O(1) memory per spike in flight.

An entry (a record of `entry`, one 64-byte cache line) is (seq, syn, stop, sender, target,
sent): the next delivery of the spike that `sender` emitted at time `sent` as the seq-th spike
of the run (its emission number) goes through synapse `syn` (to neuron `target`, kept so that
the loop can prefetch what it will touch) and every later synapse of the sender's row, which
ends before synapse `stop`, with the same delay (rows are sorted by delay). Delivering that
group moves the entry on to the next delay of the row (`queue_replace`: the entry keeps its
place in memory and sifts down once). Its arrival time is in `node`.

Two layouts over one set of arrays of length `capacity`:
- ring (one delay shared by every synapse): arrivals come in emission order, so a FIFO ring
  buffer suffices: O(1) per spike, no comparison. Entry k sits at position (head + k) % capacity
  of both arrays (counters[QHEAD], counters[QSIZE]).
- heap (a delay per synapse): a 4-ary min-heap of `node` records (time, slot) ordered by time;
  the entries stay in a pool at their slot; free slots are a stack (`free`, counters[QFREE] of
  them). O(log Q) per group of synapses with one delay. The four children of node h, 4h + 1 ..
  4h + 4, fill one cache line (16-byte nodes, the array placed so that each group starts on a
  line) and the earliest is chosen without branches. Ties: the entries whose time equals the
  root's form a subtree at the root; before a delivery (`queue_root`), the one of the earliest
  spike (a spike has one entry: its emission number breaks every tie) trades slots with the
  root, which keeps the heap ordered.
At one instant deliveries come in the order of their spikes' emission, then of their synapses:
the same rule in both layouts, in both engines and in the oracle of the tests.
"""
from collections import namedtuple

import numba
import numpy as np

from .status import COUNTERS
from .synapses import row_ends, row_start, target, targets

QSIZE, QHEAD, QFREE = COUNTERS["QSIZE"], COUNTERS["QHEAD"], COUNTERS["QFREE"]

ARITY = 4
LINE = 64   # bytes in a cache line
NODE = np.dtype([("time", np.float64), ("slot", np.int64)])
ENTRY = np.dtype([("seq", np.int64), ("syn", np.int64), ("stop", np.int64),
                  ("sender", np.int64), ("target", np.int64), ("sent", np.float64),
                  ("unused", np.int64, 2)])   # (one line per entry)
Queue = namedtuple("Queue", "node entry free stack")


def _on_lines(count, dtype, lead=0):
    """An array of `count` records of `dtype` whose record number -lead starts a cache line."""
    raw = np.zeros((count + lead) * dtype.itemsize + LINE, np.uint8)
    skip = -raw.ctypes.data % LINE
    return raw[skip:skip + (count + lead) * dtype.itemsize].view(dtype)[lead:]


def new_queue(capacity):
    """An empty queue with room for `capacity` spikes in flight (call `refill` to set its
    counters)."""
    return Queue(_on_lines(capacity, NODE, lead=ARITY - 1), _on_lines(capacity, ENTRY),
                 np.empty(capacity, np.int64), np.empty(capacity, np.int64))


def capacity(queue):
    """How many spikes the queue can hold in flight."""
    return queue.node.size


Entries = namedtuple("Entries", "time seq syn sender sent")


def entries(queue, counters, ring):
    """The entries in delivery order (Entries of copies)."""
    size, head = int(counters[QSIZE]), int(counters[QHEAD])
    if ring:
        at = (head + np.arange(size)) % max(queue.node.size, 1)
        time = queue.node["time"][at]
    else:
        at, time = queue.node["slot"][:size], queue.node["time"][:size]
        order = np.lexsort((queue.entry["seq"][at], time))
        at, time = at[order], time[order]
    return Entries(time.copy(), *(queue.entry[field][at] for field in ("seq", "syn", "sender",
                                                                        "sent")))


def no_entries():
    """Nothing in flight."""
    return Entries(np.empty(0), np.empty(0, np.int64), np.empty(0, np.int64),
                   np.empty(0, np.int64), np.empty(0))


def refill(queue, counters, content, syn):
    """Put `content` (Entries in delivery order) into `queue` (its capacity must hold them):
    slots 0..size-1, as a ring from position 0 or as a heap (sorted order is a valid heap);
    `syn`: the loops' Synapses (sparseprop.engine.synapses)."""
    size, capacity = content.time.size, queue.node.size
    computed = np.empty((2, size), np.int64)
    targets(syn, content.syn, computed[0])
    row_ends(syn, content.sender, computed[1])
    queue.entry["target"][:size], queue.entry["stop"][:size] = computed
    queue.node["time"][:size] = content.time
    queue.node["slot"][:size] = np.arange(size)
    for field in ("seq", "syn", "sender", "sent"):
        queue.entry[field][:size] = getattr(content, field)
    queue.free[:capacity - size] = np.arange(capacity - 1, size - 1, -1)
    counters[QSIZE], counters[QHEAD], counters[QFREE] = size, 0, capacity - size


@numba.njit(cache=True, inline="always", _nrt=False)
def _earlier(a, ta, b, tb):
    """Heap position a (its time ta) or b (tb), whichever is earlier (a when equal), without a
    branch."""
    earlier = tb < ta
    return (b if earlier else a), (tb if earlier else ta)


@numba.njit(cache=True, inline="always", _nrt=False)
def _sift_down(queue, size, t, p):
    """Put (t, p) at the root or below, moving earlier children up. Positions are unsigned
    (no test for negative indices on the path of each level)."""
    node = queue.node
    h, last = np.uint64(0), np.uint64(size)
    while True:
        first = np.uint64(ARITY) * h + np.uint64(1)
        if first + np.uint64(ARITY) <= last:  # four children: two pairs, then their winners
            a, ta = _earlier(first, node[first].time, first + np.uint64(1),
                             node[first + np.uint64(1)].time)
            b = first + np.uint64(2)
            b, tb = _earlier(b, node[b].time, b + np.uint64(1), node[b + np.uint64(1)].time)
            best, bt = _earlier(a, ta, b, tb)
        elif first < last:
            best, bt = first, node[first].time
            for c in range(first + np.uint64(1), last):
                best, bt = _earlier(best, bt, c, node[c].time)
        else:
            break
        if not bt < t:
            break
        node[h].time, node[h].slot = bt, node[best].slot
        h = best
    node[h].time, node[h].slot = t, p


@numba.njit(cache=True, _nrt=False)
def _first_of_ties(queue, size):
    """Among the entries whose time equals the root's (a subtree at the root), move the one of
    the earliest spike to the root by trading slots (equal times: the heap stays ordered)."""
    node, entry = queue.node, queue.entry
    t = node[0].time
    best, top = 0, 1
    queue.stack[0] = 0
    while top:
        top -= 1
        h = queue.stack[top]
        if entry[node[h].slot].seq < entry[node[best].slot].seq:
            best = h
        for c in range(ARITY * h + 1, min(ARITY * h + ARITY + 1, size)):
            if node[c].time == t:
                queue.stack[top] = c
                top += 1
    node[0].slot, node[best].slot = node[best].slot, node[0].slot


@numba.njit(cache=True, inline="always", _nrt=False)
def queue_time(queue, counters, ring):
    """Arrival time of the next delivery (inf when nothing is in flight)."""
    if counters[QSIZE] == 0:
        return np.inf
    return queue.node[counters[QHEAD] if ring else 0].time


@numba.njit(cache=True, inline="always", _nrt=False)
def queue_root(queue, counters, ring):
    """The slot of the next delivery (the queue must not be empty): of the entries that arrive
    first, the one of the earliest spike."""
    if ring:
        return counters[QHEAD]
    size, node = counters[QSIZE], queue.node
    t = node[0].time
    if size > ARITY:  # (all four children: compared without a branch each)
        tie = (node[1].time == t) | (node[2].time == t) | (node[3].time == t) | (
            node[4].time == t)
    else:
        tie = False
        for c in range(1, size):
            tie |= node[c].time == t
    if tie:  # a tie at the root
        _first_of_ties(queue, size)
    return node[0].slot


@numba.njit(cache=True, _nrt=False)
def queue_full(queue, counters):
    """No room for one more spike in flight."""
    return counters[QSIZE] >= queue.node.size


@numba.njit(cache=True, _nrt=False)
def queue_push(queue, counters, ring, time, seq, syn, stop, sender, sent, target):
    """Queue a delivery group (the caller checked queue_full first): synapse syn of sender's
    row, which ends before synapse stop."""
    size = counters[QSIZE]
    counters[QSIZE] = size + 1
    node = queue.node
    if ring:
        p = (counters[QHEAD] + size) % node.size
        node[p].time = time
    else:
        counters[QFREE] -= 1
        p = queue.free[counters[QFREE]]
    e = queue.entry[p]
    e.seq, e.syn, e.stop, e.sender, e.sent, e.target = seq, syn, stop, sender, sent, target
    if ring:
        return
    h = size
    while h > 0:  # sift up: later parents move down into the hole
        parent = (h - 1) // ARITY
        if not time < node[parent].time:
            break
        node[h].time, node[h].slot = node[parent].time, node[parent].slot
        h = parent
    node[h].time, node[h].slot = time, p


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
        s, stop = row_start(syn, j), row_start(syn, j + 1)
        if s < stop:
            time = sent[k] + (syn.delay if ring else syn.delays[s])
            earliest = min(earliest, time)
            queue_push(queue, counters, ring, time, seq0 + k, s, stop, j, sent[k],
                       target(syn, s))
    return earliest


@numba.njit(cache=True, inline="always", _nrt=False)
def queue_pop(queue, counters, ring):
    """Remove the next delivery group (the entry queue_root returned)."""
    size = counters[QSIZE] - 1
    counters[QSIZE] = size
    if ring:
        counters[QHEAD] = (counters[QHEAD] + 1) % queue.node.size
        return
    queue.free[counters[QFREE]] = queue.node[0].slot
    counters[QFREE] += 1
    if size > 0:
        _sift_down(queue, size, queue.node[size].time, queue.node[size].slot)


@numba.njit(cache=True, inline="always", _nrt=False)
def queue_replace(queue, counters, time, syn, target):
    """The next delivery group's spike moves on to synapse `syn` (to neuron `target`),
    arriving at `time` (heap layout only): one sift down instead of a pop and a push."""
    p = queue.node[0].slot
    e = queue.entry[p]
    e.syn, e.target = syn, target
    _sift_down(queue, counters[QSIZE], time, p)


@numba.njit(cache=True, _nrt=False)
def queue_shift(queue, counters, ring, by):
    """Subtract `by` from every queued time (the sparse engine's renormalisation)."""
    size, capacity = counters[QSIZE], queue.node.size
    for k in range(size):
        h = (counters[QHEAD] + k) % capacity if ring else k
        queue.node[h].time -= by
        queue.entry[h if ring else queue.node[h].slot].sent -= by


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
