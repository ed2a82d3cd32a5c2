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

The buffer (heap layout, sparse loop): delivering one synapse at a time from the heap costs a
sift and a read of a random row per synapse, and leaves nothing known ahead to prefetch. A spike
emitted at time t arrives nowhere before t + d_min (the shortest delay, `span`), so when the
buffer is empty and the queue's next delivery is due at `now`, every delivery group arriving
before now + d_min is already in the heap: `queue_extract` walks their rows (each row's part
in one pass), writes one record per group (`BUFFERED`: time, weight, first synapse, target,
size, slot) and sorts them by (time, emission number, synapse), and the loop delivers them in
that order, prefetching later targets as in a zero-delay row. A record whose group ends its
spike's row carries the slot as -1 - slot: the slot is freed when it is delivered. The buffer
only caches the earliest deliveries; the next delivery is always the earlier of the buffer's
next and the heap's root (equal times: by emission number, then synapse), so nothing depends
on d_min or on the buffer's size (when it is too small the rest stays in the heap; counters
BCUT counts that and the driver enlarges the buffer between calls).
"""
from collections import namedtuple

import numba
import numpy as np

from .prefetch import prefetch
from .status import COUNTERS
from .synapses import group_end, row_ends, row_start, target, targets

QSIZE, QHEAD, QFREE = COUNTERS["QSIZE"], COUNTERS["QHEAD"], COUNTERS["QFREE"]
BCUR, BFILL, BCUT = COUNTERS["BCUR"], COUNTERS["BFILL"], COUNTERS["BCUT"]

ARITY = 4
LINE = 64   # bytes in a cache line
NODE = np.dtype([("time", np.float64), ("slot", np.int64)])
ENTRY = np.dtype([("seq", np.int64), ("syn", np.int64), ("stop", np.int64),
                  ("sender", np.int64), ("target", np.int64), ("sent", np.float64),
                  ("unused", np.int64, 2)])   # (one line per entry)
BUFFERED = np.dtype([("time", np.float64), ("weight", np.float64), ("syn", np.int64),
                     ("target", np.int64), ("count", np.int32), ("slot", np.int32)])
RADIX = 12            # bits per pass of the buffer's radix sort
EXTRACT_AHEAD = 8     # prefetch distance (in spikes) when the buffer is filled
BUFFER = 1 << 10      # the smallest buffer, in records
MAX_BUFFER = 1 << 20  # the largest (the driver doubles it up to this)
Queue = namedtuple("Queue", "node entry free stack buf out keys spare counts span")
_LOW = np.uint64(0xFFFFFFFF)


def _on_lines(count, dtype, lead=0):
    """An array of `count` records of `dtype` whose record number -lead starts a cache line."""
    raw = np.zeros((count + lead) * dtype.itemsize + LINE, np.uint8)
    skip = -raw.ctypes.data % LINE
    return raw[skip:skip + (count + lead) * dtype.itemsize].view(dtype)[lead:]


def new_queue(capacity, buffer=BUFFER, span=np.inf):
    """An empty queue with room for `capacity` spikes in flight and a buffer of `buffer`
    delivery groups, taken `span` ms ahead (the shortest positive delay) (call `refill` to set
    its counters)."""
    return Queue(_on_lines(capacity, NODE, lead=ARITY - 1), _on_lines(capacity, ENTRY),
                 np.empty(capacity, np.int64), np.empty(capacity, np.int64),
                 np.empty(buffer, BUFFERED), np.empty(buffer, BUFFERED),
                 np.empty(buffer, np.uint64), np.empty(buffer, np.uint64),
                 np.empty(1 << RADIX, np.int64), np.array([float(span)]))


def capacity(queue):
    """How many spikes the queue can hold in flight."""
    return queue.node.size


def buffer_size(queue):
    """How many delivery groups the buffer holds."""
    return queue.buf.size


def in_use(queue, counters, ring):
    """How many spikes are in flight (slots taken)."""
    return int(counters[QSIZE] if ring else queue.node.size - counters[QFREE])


def pending(queue, counters, ring, syn, by):
    """How many delivery groups arrive before time `by` (the heap layout; 0 for a ring): what
    a buffer that starts there would take."""
    if ring:
        return 0
    size = int(counters[QSIZE])
    return _pending(queue.node[:size], queue.entry, syn, by)


@numba.njit(cache=True, _nrt=False)
def _pending(node, entry, syn, by):
    count = 0
    for h in range(node.size):
        e = entry[node[h].slot]
        s, t = e.syn, node[h].time
        while s < e.stop and t < by:
            count += 1
            s = group_end(syn, s, e.stop)
            if s < e.stop:
                t = e.sent + syn.delays[s]
    return count


Entries = namedtuple("Entries", "time seq syn sender sent")


def entries(queue, counters, ring):
    """The entries in delivery order (Entries of copies): one per spike in flight, at its
    first synapse not delivered yet (in the buffer, or the heap's entry)."""
    size, head = int(counters[QSIZE]), int(counters[QHEAD])
    if ring:
        at = (head + np.arange(size)) % max(queue.node.size, 1)
        time, syn = queue.node["time"][at], queue.entry["syn"][at]
    else:
        at, time = queue.node["slot"][:size], queue.node["time"][:size]
        syn = queue.entry["syn"][at]
        rest = queue.out[int(counters[BCUR]):int(counters[BFILL])]
        if rest.size:   # a spike's first synapse left: its earliest in the buffer, if any
            slot = rest["slot"].astype(np.int64)
            slot = np.where(slot < 0, -1 - slot, slot)
            at, time = np.concatenate((slot, at)), np.concatenate((rest["time"], time))
            syn = np.concatenate((rest["syn"], syn))
            first = np.lexsort((syn, at))
            first = first[np.r_[True, at[first][1:] != at[first][:-1]]]
            at, time, syn = at[first], time[first], syn[first]
        order = np.lexsort((queue.entry["seq"][at], time))
        at, time, syn = at[order], time[order], syn[order]
    return Entries(time.copy(), queue.entry["seq"][at], syn, queue.entry["sender"][at],
                   queue.entry["sent"][at])


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
    counters[BCUR] = counters[BFILL] = counters[BCUT] = 0


@numba.njit(cache=True, inline="always", _nrt=False)
def _earlier(a, ta, b, tb):
    """Heap position a (its time ta) or b (tb), whichever is earlier (a when equal), without a
    branch."""
    earlier = tb < ta
    return (b if earlier else a), (tb if earlier else ta)


@numba.njit(cache=True, inline="always", _nrt=False)
def _sift_down(queue, size, t, p, start=0):
    """Put (t, p) at heap position `start` (the root) or below, moving earlier children up.
    Positions are unsigned (no test for negative indices on the path of each level)."""
    node = queue.node
    h, last = np.uint64(start), np.uint64(size)
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
    t = np.inf if counters[QSIZE] == 0 else queue.node[counters[QHEAD] if ring else 0].time
    c = counters[BCUR]
    if c < counters[BFILL]:
        t = min(t, queue.out[c].time)
    return t


@numba.njit(cache=True, inline="always", _nrt=False)
def slot_of(tagged):
    """The slot of a buffered record's `slot` field (-1 - slot: the spike's last group)."""
    return tagged if tagged >= 0 else -1 - tagged


@numba.njit(cache=True, inline="always", _nrt=False)
def queue_buffered(queue, counters):
    """Whether the next delivery (the queue's, heap layout) is the buffer's next record rather
    than the heap root's: the earlier, at equal times the earlier spike, then synapse."""
    c = counters[BCUR]
    if c >= counters[BFILL]:
        return False
    if counters[QSIZE] == 0:
        return True
    b, t = queue.out[c], queue.node[0].time
    if b.time != t:
        return b.time < t
    h = queue_root(queue, counters, False)
    mine, other = queue.entry[slot_of(b.slot)].seq, queue.entry[h].seq
    return mine < other or (mine == other and b.syn < queue.entry[h].syn)


@numba.njit(cache=True, inline="always", _nrt=False)
def queue_take(queue, counters):
    """Remove the buffer's next record (its spike's slot is freed with its last group)."""
    c = counters[BCUR]
    counters[BCUR] = c + 1
    tagged = queue.out[c].slot
    if tagged < 0:
        queue.free[counters[QFREE]] = -1 - tagged
        counters[QFREE] += 1


@numba.njit(cache=True, _nrt=False)
def _precedes(queue, a, b):
    """Buffered record a is delivered before record b (positions in queue.buf): by time, then
    the emission number of its spike, then synapse."""
    x, y = queue.buf[a], queue.buf[b]
    if x.time != y.time:
        return x.time < y.time
    sa, sb = queue.entry[slot_of(x.slot)].seq, queue.entry[slot_of(y.slot)].seq
    return sa < sb or (sa == sb and x.syn < y.syn)


@numba.njit(cache=True, _nrt=False)
def _sift_keys(queue, lo, h, m):
    """Heap sort's sift of keys[lo + h] in the max-heap keys[lo:lo + m] (by _precedes)."""
    keys = queue.keys
    while True:
        c = 2 * h + 1
        if c >= m:
            return
        if c + 1 < m and _precedes(queue, keys[lo + c] & _LOW, keys[lo + c + 1] & _LOW):
            c += 1
        if not _precedes(queue, keys[lo + h] & _LOW, keys[lo + c] & _LOW):
            return
        keys[lo + h], keys[lo + c] = keys[lo + c], keys[lo + h]
        h = c


@numba.njit(cache=True, _nrt=False)
def _order(queue, lo, hi):
    """Sort keys[lo:hi] (positions in queue.buf in their low 32 bits) by _precedes: insertion
    sort, nearly sorted input being the rule; heap sort, O(m log m), when it moves too much."""
    keys = queue.keys
    moves = 0
    for k in range(lo + 1, hi):
        v, j = keys[k], k
        while j > lo and _precedes(queue, v & _LOW, keys[j - 1] & _LOW):
            keys[j] = keys[j - 1]
            j -= 1
        keys[j] = v
        moves += k - j
        if moves > 8 * (hi - lo) + 64:
            m = hi - lo
            for h in range(m // 2 - 1, -1, -1):
                _sift_keys(queue, lo, h, m)
            for end in range(m - 1, 0, -1):
                keys[lo], keys[lo + end] = keys[lo + end], keys[lo]
                _sift_keys(queue, lo, 0, end)
            return


@numba.njit(cache=True, _nrt=False)
def _gather(queue, n, at):
    """out[at + k] = buf[keys[k] low bits] for k < n."""
    for k in range(n):
        b, o = queue.buf[queue.keys[k] & _LOW], queue.out[at + k]
        o.time, o.weight, o.syn, o.target, o.count, o.slot = (b.time, b.weight, b.syn,
                                                               b.target, b.count, b.slot)


@numba.njit(cache=True, _nrt=False)
def _sort(queue, n, lo, hi):
    """Sort buf[:n] (times in [lo, hi]) into out[:n]: a radix sort of the times quantised to
    about 16 steps per record (stable: LSD, RADIX bits a pass), then exact order (_precedes)
    within each run of one step."""
    keys, spare, counts = queue.keys, queue.spare, queue.counts
    if n <= 16:   # (few: insertion sort alone)
        for k in range(n):
            keys[k] = k
        _order(queue, 0, n)
        _gather(queue, n, 0)
        return
    lg = 0
    while (1 << lg) < n:
        lg += 1
    bits = min(lg + 4, 32)
    passes = (bits + min(RADIX, lg) - 1) // min(RADIX, lg)   # (no more counts than records)
    top = (1 << bits) - 1
    scale = (2.0 ** bits) / (hi - lo) if hi > lo else 0.0
    if not scale < np.inf:   # (times a few subnormals apart: one quantum)
        scale = 0.0
    for k in range(n):
        q = min(np.int64((queue.buf[k].time - lo) * scale), top)
        keys[k] = (np.uint64(q) << np.uint64(32)) | np.uint64(k)
    width = (bits + passes - 1) // passes
    mask = np.uint64((1 << width) - 1)
    for p in range(passes):
        src, dst = (keys, spare) if p % 2 == 0 else (spare, keys)
        shift = np.uint64(32 + p * width)
        for d in range(1 << width):
            counts[d] = 0
        for k in range(n):
            counts[(src[k] >> shift) & mask] += 1
        total = 0
        for d in range(1 << width):
            c = counts[d]
            counts[d] = total
            total += c
        for k in range(n):
            d = (src[k] >> shift) & mask
            dst[counts[d]] = src[k]
            counts[d] += 1
    if passes % 2:
        for k in range(n):
            keys[k] = spare[k]
    k = 0
    while k < n:
        e, q = k + 1, keys[k] >> np.uint64(32)
        while e < n and keys[e] >> np.uint64(32) == q:
            e += 1
        if e - k > 1:
            _order(queue, k, e)
        k = e
    _gather(queue, n, 0)


@numba.njit(cache=True, _nrt=False)
def queue_extract(queue, counters, syn, horizon):
    """Fill the (empty) buffer with the delivery groups that arrive before `horizon`, sorted,
    as many as it holds (heap layout). The heap nodes due before the horizon (a subtree at the
    root) are found by one scan, their spikes' rows walked one after the other (later entries
    and rows prefetched), each entry moved on to its first group not taken or, when none is
    left, out of the heap; then the heap is put in order from those nodes up."""
    node, entry, buf, taken = queue.node, queue.entry, queue.buf, queue.stack
    size, fill, room = counters[QSIZE], 0, buf.size
    m = 0
    for h in range(size):
        if node[h].time < horizon:
            taken[m] = h
            m += 1
    lo, hi = np.inf, -np.inf
    per_synapse, stored = syn.weights.size > 0, syn.proc.size == 0
    walked, cut = 0, False
    for k in range(m):
        if fill == room:
            cut = True
            break
        if k + 2 * EXTRACT_AHEAD < m:
            prefetch(entry, node[taken[k + 2 * EXTRACT_AHEAD]].slot)
        if k + EXTRACT_AHEAD < m:   # (its entry loaded by now) the next part of its row
            a = entry[node[taken[k + EXTRACT_AHEAD]].slot].syn
            prefetch(syn.delays, a)
            prefetch(syn.delays, a + 8)
            if stored:
                prefetch(syn.indices, a)
            if per_synapse:
                prefetch(syn.weights, a)
        h = taken[k]
        p = node[h].slot
        e = entry[p]
        s, stop, t = e.syn, e.stop, node[h].time
        lo = min(lo, t)
        while True:
            end = group_end(syn, s, stop)
            r = buf[fill]
            r.time, r.syn, r.target, r.count, r.slot = t, s, target(syn, s), end - s, p
            r.weight = syn.weights[s] if per_synapse else syn.weight
            hi = max(hi, t)
            fill += 1
            s = end
            if s == stop:
                break
            t = e.sent + syn.delays[s]
            if not t < horizon:
                break
            if fill == room:
                cut = True
                break
        if s == stop:   # the spike leaves the heap; its last record frees the slot
            buf[fill - 1].slot = -1 - p
            node[h].time = np.inf
        else:
            e.syn, e.target = s, target(syn, s)
            node[h].time = t
        walked = k + 1
    # the heap again: a finished spike's node gets the last node (deepest first, so that the
    # last node is never a finished one), then every walked node sifts down, deepest first
    for k in range(walked - 1, -1, -1):
        h = taken[k]
        if node[h].time == np.inf:
            size -= 1
            if h < size:
                node[h].time, node[h].slot = node[size].time, node[size].slot
    for k in range(walked - 1, -1, -1):
        h = taken[k]
        if h < size:
            _sift_down(queue, size, node[h].time, node[h].slot, h)
    counters[QSIZE] = size
    counters[BCUT] += cut
    _sort(queue, fill, lo, hi)
    counters[BCUR], counters[BFILL] = 0, fill


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


@numba.njit(cache=True, inline="always", _nrt=False)
def queue_full(queue, counters, ring):
    """No room for one more spike in flight."""
    return counters[QSIZE] >= queue.node.size if ring else counters[QFREE] == 0


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
def queue_shift(queue, counters, ring, by, syn):
    """Subtract `by` from every queued time (the sparse engine's renormalisation). Heap
    layout: every arrival time becomes the shifted emission time plus its delay (the same
    value whether the delivery was in the buffer or the heap at this point), then the heap
    and the buffer are put in order again (rounding moved times by different amounts)."""
    size, capacity = counters[QSIZE], queue.node.size
    node, entry, out = queue.node, queue.entry, queue.out
    if ring:
        for k in range(size):
            h = (counters[QHEAD] + k) % capacity
            node[h].time -= by
            entry[h].sent -= by
        return
    for h in range(size):
        e = entry[node[h].slot]
        e.sent -= by
        node[h].time = e.sent + syn.delays[e.syn]
    first, end = counters[BCUR], counters[BFILL]
    for k in range(first, end):
        if out[k].slot < 0:   # (a spike no longer in the heap: shifted here, once)
            entry[-1 - out[k].slot].sent -= by
    for h in range((size - 2) // ARITY, -1, -1):
        _sift_down(queue, size, node[h].time, node[h].slot, h)
    for k in range(first, end):   # the rest of the buffer, from position 0 on, in order
        b, r = out[k], queue.buf[k - first]
        r.time = entry[slot_of(b.slot)].sent + syn.delays[b.syn]
        r.weight, r.syn, r.target, r.count, r.slot = b.weight, b.syn, b.target, b.count, b.slot
        queue.keys[k - first] = k - first
    _order(queue, 0, end - first)
    _gather(queue, end - first, 0)
    counters[BCUR], counters[BFILL] = 0, end - first


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
