"""The Python side of the engine: puts a network's state into the compiled loops' frame, calls
them in chunks of bounded work (so that progress lines and Ctrl-C come within a fraction of a
second), grows their buffers, and turns stop codes into errors.

The loops are rendered into each model's kernel module (sparseprop/templates/engine_*.py.j2);
they carry their counters and clock from call to call, and chunk sizes depend only on the
network, so the spikes do not depend on the chunking.
"""
import contextlib
import math
import signal
import sys
import threading
import time
from dataclasses import replace

import numpy as np

from ..errors import ModelError
from ..memory import available
from . import heap
from .queue import (BCUT, BUFFER, MAX_BUFFER, buffer_size, capacity, entries, new_queue,
                    pending, queue_full, refill)
from .synapses import sender_of, synapses
from .status import COUNTERS, STOP_CASCADE, STOP_FULL, STOP_NAN, STOP_RANGE, STOP_TIME

_CHUNK = 1 << 17          # at most this many spikes per call into the compiled loop
_PROGRESS_AFTER = 3.0     # seconds of wall time before a progress line appears
_EMITTED, _CULPRIT, _SYNAPSE = COUNTERS["EMITTED"], COUNTERS["CULPRIT"], COUNTERS["SYNAPSE"]
_TAPED, _MARKED = COUNTERS["TAPED"], COUNTERS["MARKED"]
_RENORM = COUNTERS["RENORM"]   # (events since the last renormalisation: each event counts)
_UNWATCHED = np.zeros(0, np.bool_)   # run_sparse's `seen`: no neuron watched (batches watch)


@contextlib.contextmanager
def interrupt():
    """While the block runs, Ctrl-C (SIGINT) only sets a flag, read between chunks, so that a
    run stops at a chunk boundary with a consistent state (main thread only; elsewhere Ctrl-C
    is left to Python)."""
    flag = []
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous is None:
        yield flag
        return
    signal.signal(signal.SIGINT, lambda signum, frame: flag.append(signum))
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def chunk_work(n, engine):
    """Work per call: about 2^20 events and synaptic events (sparse), or 2^22 neuron updates
    (reference, O(N) per event)."""
    if engine == "reference":
        return max(1, (1 << 22) // (n + 1))
    return 1 << 20


class Run:
    """One run of a network from its state: `go()` returns (senders, times, compile seconds,
    run seconds, interrupted, tape pieces); `state` is the state at the end."""

    def __init__(self, network, state, engine, t_stop, budget, record):
        self.net, self.engine, self.t_stop, self.budget = network, engine, t_stop, budget
        self.jit = network.kernels.jit
        self.PT = network.table.copy()   # the loops read it (a writable copy: their type)
        self.sub = network.subthreshold
        self.syn = synapses(network.csr)
        self.ring = self.syn.delays.size == 0
        self.record = record
        self.state = state
        self.counters = np.zeros(len(COUNTERS), np.int64)
        self.counters[_EMITTED] = state.emitted
        self.span = network.csr.shortest_delay if not self.ring else math.inf
        self.queue = new_queue(max(16, 2 * state.in_flight), span=self.span)
        self.inputs = network.inputs(state)   # Inputs with copies of the mutable fields
        sx = state.sub_state.copy() if network.has_subthreshold else np.empty(0)
        tf = state.t_free.copy() if network.timed else np.empty(0)
        self.sx = sx
        self.ws = np.empty(0)
        if network.linear:   # state rows: variables, their time, refractory end, ...
            d = len(network.model.variables)
            sx = np.empty((network.n, d + 3))   # (+ whether the key is exact: start_keys)
            sx[:, :d], sx[:, d], sx[:, d + 1] = state.sub_state, 0.0, state.t_free - state.t
            self.sx, self.ws, tf = sx, network.kernels.workspace(), np.empty(0)
            if engine == "sparse":   # (offset times)
                keys = np.empty(network.n)
                self.jit.start_keys(self.PT, sx, self.ws, keys)
                self.hkey, self.hidx, self.pos = heap.new_heap(keys, overwrite=True)
                shift = state.t
            else:                    # (absolute times; each neuron's next crossing, to search)
                sx[:, d:d + 2] += state.t
                self.cross = np.full(network.n, np.inf)
                self.last = sx[:, :d + 2].copy() if record else np.empty((0, d + 2))
                shift = 0.0
        elif engine == "sparse":
            T = np.broadcast_to(self.PT[:, -1], (network.n,))
            keys = T - state.phase
            if network.has_subthreshold:
                self.jit.subthreshold_keys(self.PT, sx, keys)
            self.hkey, self.hidx, self.pos = heap.new_heap(keys, overwrite=True)
            if tf.size:   # to the offset frame; a subthreshold state holds at max(t, t_free)
                tf = np.where(self.sub, np.maximum(tf, state.t), tf) - state.t
            shift = state.t
        else:
            self.phase = state.phase.copy()
            shift = 0.0
        self.tf = tf
        self.clock = np.array([state.t, 0.0])
        inflight = state.queue
        refill(self.queue, self.counters, inflight._replace(time=inflight.time - shift,
                                                             sent=inflight.sent - shift),
               self.syn)
        if engine == "sparse" and not self.ring and inflight.time.size:
            # a buffer for what the spikes in flight deliver within the first span, twice
            start = float(inflight.time.min()) - shift
            self._resize(2 * pending(self.queue, self.counters, self.ring, self.syn,
                                     start + self.span))
        self.inputs.next[:] -= shift

    def _resize(self, buffer=None):
        """A queue of twice the capacity (buffer None), or with a buffer of about `buffer`
        delivery groups (a power of two in BUFFER .. MAX_BUFFER), holding the same spikes."""
        size = buffer_size(self.queue)
        if buffer is not None:
            size = min(max(BUFFER, 1 << max(int(buffer) - 1, 0).bit_length()), MAX_BUFFER)
        content = entries(self.queue, self.counters, self.ring)
        self.queue = new_queue(capacity(self.queue) * (2 if buffer is None else 1), size,
                               self.span)
        refill(self.queue, self.counters, content, self.syn)

    def _call(self, out_i, out_t, tape, marks, work, t_stop):
        self.counters[_TAPED] = self.counters[_MARKED] = 0
        if self.net.linear and self.engine == "reference":
            count, status = self.jit.run_reference_linear(
                self.PT, self.sx, self.cross, self.clock, self.syn, self.queue, self.inputs,
                self.ws, t_stop, work, out_i, out_t, self.last, tape, marks,
                self.counters)
        elif self.engine == "sparse":
            count, status = self.jit.run_sparse(
                self.PT, self.hkey, self.hidx, self.pos, self.clock, self.syn, self.queue,
                self.inputs, self.sx, self.tf, self.ws, t_stop, work, out_i, out_t, tape,
                marks, self.counters, _UNWATCHED, 0)
        else:
            count, status = self.jit.run_reference(
                self.PT, self.phase, self.clock, self.syn, self.queue, self.inputs, self.sx,
                self.tf, t_stop, work, out_i, out_t, tape, marks, self.counters)
        if status == STOP_FULL and queue_full(self.queue, self.counters, self.ring):
            self._resize()   # twice the room for spikes in flight
        if self.counters[BCUT] and buffer_size(self.queue) < MAX_BUFFER:
            # the buffer was too small: twice, or twice what is due within the next span
            self._resize(2 * max(buffer_size(self.queue), pending(
                self.queue, self.counters, self.ring, self.syn, self.clock[1] + self.span)))
        return count, status

    def _tape(self, rows):
        """A tape of `rows` entries: pre-jump phases, or a linear model's state rows (variables,
        time since the row's time, refractory end since then)."""
        if self.net.linear:
            return np.empty((rows, len(self.net.model.variables) + 2))
        return np.empty(rows)

    def now(self):
        """The loop's current absolute time."""
        return self.clock[0] + (self.clock[1] if self.engine == "sparse" else 0.0)

    def go(self, progress, monitor=None):
        """Call the compiled loop until it stops, and at each of the monitor's sample times
        (a monitor.Monitor, or None) let the monitor take its sample. The first call, with
        empty outputs, only compiles (timed apart)."""
        start = time.perf_counter()
        self._call(np.empty(0, np.int32), np.empty(0), self._tape(0), np.empty((0, 3), np.int64),
                   0, self.t_stop)
        compiled = time.perf_counter()
        pieces_i, pieces_t, tape_pieces = [np.empty(0, np.int32)], [np.empty(0)], []
        net = self.net
        work = chunk_work(net.n, self.engine)
        widest = int(net.csr.out_degree().max()) if self.record and net.csr.n else 0
        total, shown, made_progress = 0, False, True
        t0 = self.state.t
        samples = monitor.times if monitor is not None else np.empty(0)
        # buffers for one call; what a call wrote is copied out before the next
        size = int(min(_CHUNK, self.budget))
        out_i, out_t = np.empty(size, np.int32), np.empty(size, np.float64)
        tape = self._tape(work + widest + 2 if self.record else 0)
        marks = np.empty((work + 1 if self.record else 0, 3), np.int64)
        with interrupt() as interrupted:
            while total < self.budget and not interrupted:
                size = int(min(_CHUNK, self.budget - total))
                k = monitor.taken if monitor is not None else 0
                t_stop = min(samples[k], self.t_stop) if k < samples.size else self.t_stop
                before = (int(self.counters[_EMITTED]), self.now(), int(self.counters[_RENORM]))
                count, status = self._call(out_i[:size], out_t[:size], tape, marks, work,
                                           t_stop)
                if status in (STOP_CASCADE, STOP_RANGE, STOP_NAN):
                    raise self._stop_error(status)
                pieces_i.append(out_i[:count].copy())
                pieces_t.append(out_t[:count].copy())
                if self.record:
                    tape_pieces.append((tape[:self.counters[_TAPED]].copy(),
                                        marks[:self.counters[_MARKED]].copy()))
                total += count
                elapsed = time.perf_counter() - compiled
                if progress and elapsed > _PROGRESS_AFTER:
                    shown = True
                    done = min((self.now() - t0) / (self.t_stop - t0) if math.isfinite(
                        self.t_stop) else total / self.budget, 1.0)
                    eta = elapsed * (1 - done) / done if done > 0 else math.inf
                    print(f"\r  {100 * done:5.1f}%  {total} spikes, {total / elapsed:.3g} "
                          f"spikes/s, {(self.now() - t0) / elapsed:.3g} ms simulated per s, "
                          f"{elapsed:.1f} s, ETA {eta:.0f} s   ", end="", file=sys.stderr,
                          flush=True)
                if status == STOP_TIME:   # at a sample time, or the end
                    while k < samples.size and samples[k] <= t_stop:
                        monitor.take(self)
                        k += 1
                    if t_stop < self.t_stop:
                        continue
                    break
                after = (int(self.counters[_EMITTED]), self.now(), int(self.counters[_RENORM]))
                if after == before and not (self.record and self.counters[_MARKED]):
                    if not made_progress:
                        raise ModelError("the engine made no progress (an event does not fit "
                                         "its buffers); please report this with the network")
                    made_progress = False   # once: the queue may just have grown
                else:
                    made_progress = True
        if shown:
            print(file=sys.stderr)
        return (np.concatenate(pieces_i), np.concatenate(pieces_t), compiled - start,
                time.perf_counter() - compiled, bool(interrupted), tape_pieces)

    def sample(self, who, t, columns):
        """The state variables `columns` (indices into the model's variables; 1-D models: [0])
        of neurons `who` (int64) at absolute time t, the loop stopped there: an array
        (len(columns) x who.size). Reads the loop's arrays, changes nothing."""
        out = np.empty((columns.size, who.size))
        if self.net.linear:
            frame = self.clock[0] if self.engine == "sparse" else 0.0
            self.jit.sample_rows(self.PT, self.sx, who, t - frame, columns, out)
            return out
        hs = 1 if self.PT.shape[0] > 1 else 0
        period = self.PT[who * hs, -1]
        free = self.tf[who] if self.tf.size else np.full(who.size, -np.inf)
        x = self.sx[who] if self.sx.size else np.zeros(who.size)
        with np.errstate(invalid="ignore"):   # (a subthreshold neuron has no phase: inf - inf)
            if self.engine == "sparse":   # offset times; the phase from the key
                now = t - self.clock[0]
                phase = np.minimum(period - self.hkey[self.pos[who]] + now, period)
                since = free
            else:                         # absolute times; phases and states at clock[0]
                now = t
                phase = self.phase[who] + (t - self.clock[0])
                since = np.maximum(free, self.clock[0])
        self.jit.sample_states(self.PT, who, phase, x, since, free, now, out[0])
        return out

    def finish(self, t_end):
        """The state at t_end (the run's end: t_stop, or its last spike). The sparse loop's
        heap is gone afterwards (its memory reused for the phases)."""
        # (arrays the run did not change are shared with the start: states are never changed
        # in place, only replaced)
        state = replace(self.state, t=t_end, emitted=int(self.counters[_EMITTED]))
        net = self.net
        if net.linear:
            t_base = self.clock[0] if self.engine == "sparse" else 0.0
            self.jit.settle(self.PT, self.sx, t_end - t_base)
            d = len(net.model.variables)
            state.sub_state = self.sx[:, :d].copy()
            state.t_free = self.sx[:, d + 1] + t_base
            state.phase = np.zeros(net.n)
            shift = t_base
        elif self.engine == "sparse":
            t_base = self.clock[0]
            now = t_end - t_base
            T = np.broadcast_to(self.PT[:, -1], (net.n,))
            free = available()
            if free is None or free > 10 * net.n:   # the keys, gathered into a new array
                self.hidx = None
                phase = heap.keys(self.hkey, self.pos)
            else:   # memory is short: in place (no bytes more, about 10x the time)
                self.pos = None
                heap.to_neuron_order(self.hkey, self.hidx)
                phase = self.hkey
            self.hkey = self.hidx = self.pos = None
            due = phase <= now          # firing at t_end: phase T exactly, first next run
            with np.errstate(invalid="ignore"):   # (inf - inf: a subthreshold neuron's)
                np.subtract(T, phase, out=phase)
            phase += now
            phase[due] = T[due]
            if net.has_subthreshold:    # subthreshold neurons have no phase (0 here); their
                phase[self.sub] = 0.0   # states to t_end (or reset)
                self.jit.settle(self.PT, self.sx, self.tf, now)
            if self.tf.size:
                state.t_free = self.tf + t_base
            shift = t_base
        else:   # the loop leaves every neuron at its last event: to t_end
            t = self.clock[0]
            self.jit.advance(self.PT, self.phase, self.sx, self.tf, t, t_end - t)
            phase = self.phase
            if self.tf.size:
                state.t_free = self.tf.copy()
            shift = 0.0
        if not net.linear:
            state.phase = phase
        if net.has_subthreshold:
            state.sub_state = self.sx
        inflight = entries(self.queue, self.counters, self.ring)
        state.queue = inflight._replace(time=inflight.time + shift, sent=inflight.sent + shift)
        state.next_input = self.inputs.next + shift
        state.input_who = self.inputs.who.copy()
        state.input_ptr, state.input_rng = self.inputs.ptr.copy(), self.inputs.rng.copy()
        return state

    def _stop_error(self, status):
        """The ModelError for a loop that stopped on a fault: an input (a synapse's, or a
        Poisson input's) made neuron i's state NaN or moved it out of the phase map."""
        net, t = self.net, self.now()
        if status == STOP_CASCADE:
            return ModelError(f"more than {net.n} spikes at one instant ({t:g} ms): an "
                              f"excitatory cascade that does not end; weaken the excitatory "
                              f"weights")
        i, q = int(self.counters[_CULPRIT]), int(self.counters[_SYNAPSE])
        i += net.shard.lo if net.shard is not None else 0   # (a distributed run's number)
        if q >= 0:
            j = int(sender_of(self.syn, q))
            weight = self.syn.weights[q] if self.syn.weights.size else self.syn.weight
            what = f"the input of weight {weight:g} from {net.sender_name(j)} at {t:g} ms to " \
                   f"neuron {i}"
        else:
            weight = self.inputs.weight[-1 - q]
            what = f"the Poisson input of weight {weight:g} at {t:g} ms to neuron {i}"
        model = net.model
        if status == STOP_NAN:
            return ModelError(f"{what} made its state NaN: on_pre '{model.on_pre}' is not "
                              f"defined there; change on_pre (or the weights) so that every "
                              f"input gives a number")
        low = (net.kernels.numeric_range or (None,))[0]
        return ModelError(
            f"{what} moved its state out of the range of the phase map (the PTC is NaN)" + (
                f": the numeric map of {model.name} covers states down to {low:g} only; "
                f"weaken the inhibitory weights" if low is not None else
                f"; keep the inputs within the states {model.name} is defined for"))


def inputs_of(constant, next_input, input_who, input_ptr, input_rng):
    """The loops' Inputs from a network's constant stream description (an Inputs whose next,
    who, ptr and rng are placeholders) and copies of a state's mutable stream fields."""
    return constant._replace(next=next_input.copy(), who=input_who.copy(),
                             ptr=input_ptr.copy(), rng=input_rng.copy())


__all__ = ["Run", "chunk_work", "interrupt", "inputs_of"]
