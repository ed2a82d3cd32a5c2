"""The engine side of a distributed run (DESIGN.md 6): the sparse loop of one process, run one
window at a time.

With every delay >= d_min > 0, no spike emitted in a window shorter than d_min can reach any
neuron before the window ends. So each process runs its neurons to the window's end with its
loop in windowed mode (counters[WINDOWED]: spikes recorded at their offset times, nothing
queued, no renormalisation), the processes exchange the window's spikes
(sparseprop.distributed), and each queues every spike of the window, in one order common to
all, into its own queue (`deliver`). Every process computes in the run's one time frame (its
origin the run's start), so a neuron's arithmetic is the same whatever the number of processes.
"""
import numpy as np

from ..errors import ModelError
from .driver import _CHUNK, Run, chunk_work
from .queue import (Entries, buffer_size, capacity, entries, in_use, new_queue, queue_spikes,
                    refill)
from .status import COUNTERS, STOP_CASCADE, STOP_NAN, STOP_RANGE, STOP_TIME

_WINDOWED, _EMITTED = COUNTERS["WINDOWED"], COUNTERS["EMITTED"]


class Windows:
    """The sparse loop of network `net` (a shard) from its current state, for a run that ends
    at t_stop (absolute ms): `window(t_end)` runs it to t_end and returns the spikes,
    `deliver(...)` queues the window's spikes of every process, `finish(t)` the state."""

    def __init__(self, net, t_stop):
        self.run = run = Run(net, net.current, "sparse", t_stop, np.inf, False)
        run.counters[_WINDOWED] = 1
        # each spike in flight arrives next at its emission time plus the delay of its next
        # synapse, computed in this frame (not carried over from the last run's): the same
        # value whichever of its synapses are in this process
        content = entries(run.queue, run.counters, run.ring)
        time = content.sent + (run.syn.delays[content.syn] if run.syn.delays.size
                               else run.syn.delay)
        order = np.lexsort((content.seq, time))
        refill(run.queue, run.counters, Entries(*(a[order] for a in content))._replace(
            time=time[order]), run.syn)
        self.t_base = float(self.run.clock[0])   # the frame's origin, fixed for the run
        self.work = chunk_work(net.n, "sparse")
        self.out_i, self.out_t = np.empty(_CHUNK, np.int32), np.empty(_CHUNK)
        self.tape, self.marks = self.run._tape(0), np.empty((0, 3), np.int64)

    def compile(self):
        """Compile the loop (a call with empty outputs)."""
        self.run._call(self.out_i[:0], self.out_t[:0], self.tape, self.marks, 0,
                       self.run.t_stop)

    def window(self, t_end):
        """Run to absolute time t_end (events at t_end included): (rows of the senders that
        fired, int64, and their offset times, float64, in the order they fired)."""
        rows, times = [], []
        while True:
            count, status = self.run._call(self.out_i, self.out_t, self.tape, self.marks,
                                           self.work, t_end)
            if status in (STOP_CASCADE, STOP_RANGE, STOP_NAN):
                raise self.run._stop_error(status)
            rows.append(self.out_i[:count].astype(np.int64))
            times.append(self.out_t[:count].copy())
            if status == STOP_TIME:
                break
        return np.concatenate(rows), np.concatenate(times)

    def deliver(self, rows, sent, seq0, t_end):
        """Queue the window's spikes (rows of this table, offset emission times, in the common
        order, numbered from seq0 on). t_end: the window's end, which no delivery may
        precede (a ModelError otherwise: never with delays >= the window)."""
        run = self.run
        size = in_use(run.queue, run.counters, run.ring)
        if size + rows.size > capacity(run.queue):   # room for one entry per spike
            content = entries(run.queue, run.counters, run.ring)
            run.queue = new_queue(max(2 * capacity(run.queue), size + rows.size),
                                  buffer_size(run.queue), run.span)
            refill(run.queue, run.counters, content, run.syn)
        earliest = queue_spikes(run.queue, run.counters, run.syn, rows, sent, seq0)
        run.counters[_EMITTED] = seq0 + rows.size
        if not self.t_base + earliest > t_end:
            raise ModelError(f"a spike would arrive at {self.t_base + earliest!r} ms, not after "
                             f"the end of the window it was sent in ({t_end!r} ms); the window "
                             f"must be shorter than every delay")

    def finish(self, t_end):
        """The state at t_end (absolute times)."""
        return self.run.finish(t_end)
