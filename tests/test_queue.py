"""The queue of spikes in flight (per-synapse delays: the 4-ary heap): after any sequence of
pushes, deliveries that move a spike on to a later time, and pops, the next delivery is the
earliest (time, emission number), against a sorted list; with many equal times."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sparseprop.engine.queue import (QSIZE, entries, new_queue, no_entries, queue_pop,
                                     queue_push, queue_replace, queue_root, queue_time, refill)
from sparseprop.connectivity import CSR
from sparseprop.engine.status import COUNTERS
from sparseprop.engine.synapses import synapses

ONE_SYNAPSE = synapses(CSR(1, [0, 1], [0], weight=0.0))   # (what refill reads targets from)

times = st.sampled_from([0.0, 0.5, 0.5, 1.0, 1.0, 1.0, 2.0, 3.5])
# an operation: push a spike arriving `later` after the current time, or deliver the next
# group and move its spike on by `later` (0: arrives again at once; None: its last group)
operations = st.lists(st.tuples(st.booleans(), st.one_of(st.none(), times)), max_size=120)


def _run(initial, ops, capacity=64):
    queue, counters = new_queue(capacity), np.zeros(len(COUNTERS), np.int64)
    refill(queue, counters, no_entries(), ONE_SYNAPSE)
    want, now, seq = [], 0.0, 0   # [time, seq, syn] of every spike in flight
    for t in initial:
        queue_push(queue, counters, False, t, seq, 0, 1, seq, 0.0, 0)
        want.append([t, seq, 0])
        seq += 1
    for push, later in ops:
        if push or not want:
            if counters[QSIZE] == capacity:
                continue
            t = now + (later or 0.0)
            queue_push(queue, counters, False, t, seq, 0, 1, seq, now, 0)
            want.append([t, seq, 0])
            seq += 1
            continue
        assert queue_time(queue, counters, False) == min(want)[0]
        slot = queue_root(queue, counters, False)
        first = min(want)
        assert (queue.node["time"][0], queue.entry["seq"][slot],
                queue.entry["syn"][slot]) == tuple(first)
        now = first[0]
        if later is None:
            queue_pop(queue, counters, False)
            want.remove(first)
        else:
            first[0], first[2] = now + later, first[2] + 1
            queue_replace(queue, counters, now + later, first[2], 0)
        content = entries(queue, counters, False)
        assert list(zip(content.time, content.seq, content.syn)) == sorted(map(tuple, want))
    assert queue_time(queue, counters, False) == (min(want)[0] if want else np.inf)


@settings(max_examples=300, deadline=None)
@given(st.lists(times, max_size=30), operations)
def test_next_delivery_is_the_earliest_time_then_spike(initial, ops):
    _run(initial, ops)


def test_many_ties_in_a_large_queue():
    rng = np.random.default_rng(5)
    initial = list(rng.choice([1.0, 2.0, 3.0], 500))
    ops = [(bool(rng.random() < 0.3), [None, 0.0, 0.5, 1.0][rng.integers(4)])
           for _ in range(3000)]
    _run(initial, ops, capacity=1024)
