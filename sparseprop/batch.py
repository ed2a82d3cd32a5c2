"""Batches of samples: one network run once per sample from one start state, each sample with
its own spikes of one SpikeSource (a classifier's input), in compiled calls over many samples
(sparseprop/templates/engine_batch.py.j2), with their reverse sweeps likewise; threads
take fixed chunks of samples, so no Python work is done per sample and every core is used.

Sums over samples (the gradients) are taken per chunk of _CHUNK samples, then over the chunks
in order: they do not depend on the number of threads.
"""
import math
import numbers
import os
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from .engine.driver import Run
from .engine.inputs import LIST, STEP
from .engine.queue import new_queue
from .engine.status import STOP_CASCADE, STOP_FULL, STOP_NAN, STOP_RANGE, STOP_TIME
from .engine.synapses import synapses
from .connectivity import _real_array
from .errors import ModelError
from .gradients import Gradients, check_autapses, period_gradients
from .memory import Blocks, require
from .train import _check_neurons

_CHUNK = 16     # samples per compiled call
_FAULTS = {STOP_CASCADE: "an excitatory cascade that does not end (more than N spikes at one "
                         "instant)",
           STOP_RANGE: "an input moved a state out of the model's range",
           STOP_NAN: "an input made a state NaN"}


class Samples:
    """Input spikes of many samples, packed: sample b's are indices[ptr[b]:ptr[b + 1]] and
    times[...] (ms from the start of its run), by time, then index. Build it from a list of
    (indices, times) pairs (as sparseprop.datasets' encoders return) with `Samples(pairs, n)`,
    n the number of inputs; `take(rows)` selects samples without checking them again."""

    def __init__(self, pairs, n):
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ModelError(f"n = {n!r:.40}: give the number of inputs, an integer >= 1")
        if isinstance(pairs, Samples):
            if pairs.n != n:
                raise ModelError(f"these samples have {pairs.n} inputs; the source has {n}")
            self.ptr, self.indices, self.times, self.n = pairs.ptr, pairs.indices, pairs.times, n
            return
        try:
            pairs = list(pairs)
        except TypeError:
            raise ModelError(f"samples = {pairs!r:.60}: give a list of (indices, times) pairs, "
                             f"one per sample") from None
        if not pairs:
            raise ModelError("samples is empty: give at least one (indices, times) pair")
        index, time, sizes = [], [], np.empty(len(pairs), np.int64)
        for b, pair in enumerate(pairs):
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise ModelError(f"sample {b} is {pair!r:.60}: give an (indices, times) pair")
            i, t = np.asarray(pair[0]), np.asarray(pair[1])
            if i.ndim != 1 or t.shape != i.shape:
                raise ModelError(f"sample {b}: indices and times must be 1-D of equal length; "
                                 f"got shapes {i.shape} and {t.shape}")
            if i.size and i.dtype.kind not in "iu":
                raise ModelError(f"sample {b}: indices must be integers (input numbers), got "
                                 f"{i.dtype}")
            if t.size and t.dtype.kind not in "iuf":
                raise ModelError(f"sample {b}: times must be numbers of ms, got {t.dtype}")
            index.append(i.astype(np.int64, copy=False))
            time.append(t.astype(np.float64, copy=False))
            sizes[b] = i.size
        indices, times = np.concatenate(index), np.concatenate(time)
        ptr = np.zeros(len(pairs) + 1, np.int64)
        np.cumsum(sizes, out=ptr[1:])
        owner = np.repeat(np.arange(len(pairs)), sizes)
        bad = np.flatnonzero((indices < 0) | (indices >= n))
        if bad.size:
            raise ModelError(f"sample {owner[bad[0]]}: input index {indices[bad[0]]} is not in "
                             f"[0, {n}) (the source has {n} inputs)")
        bad = np.flatnonzero(~np.isfinite(times) | (times < 0))
        if bad.size:
            raise ModelError(f"sample {owner[bad[0]]}: spike time {times[bad[0]]} is not a "
                             f"finite number of ms >= 0 (NaN in the features?)")
        order = np.lexsort((indices, times, owner))
        self.ptr, self.indices, self.times, self.n = ptr, indices[order], times[order], n

    def __len__(self):
        return self.ptr.size - 1

    def take(self, rows):
        """The samples `rows` (integer indices), in that order."""
        rows = np.asarray(rows, np.int64)
        sizes = self.ptr[rows + 1] - self.ptr[rows]
        ptr = np.zeros(rows.size + 1, np.int64)
        np.cumsum(sizes, out=ptr[1:])
        at = np.repeat(self.ptr[rows] - ptr[:-1], sizes) + np.arange(ptr[-1])
        out = Samples.__new__(Samples)
        out.ptr, out.indices, out.times, out.n = ptr, self.indices[at], self.times[at], self.n
        return out


@numba.njit(cache=True, nogil=True)
def _first_of(senders, count, lo, column, out):
    """out[b, c]: where in row b of senders (count[b] written) the first spike of the neuron
    j with column[j - lo] = c is (-1: it has none); column[j - lo] = -1 for the neurons in
    range that were not asked."""
    out[:] = -1
    for b in range(senders.shape[0]):
        for k in range(count[b]):
            j = senders[b, k] - lo
            if 0 <= j < column.size and column[j] >= 0 and out[b, column[j]] < 0:
                out[b, column[j]] = k


class BatchResult:
    """The runs of a batch: sample b's spikes (neurons and sources, in emission order) are
    senders[b, :count[b]] (neurons 0..n-1, then sources n, n+1, ...) and times[b, :count[b]]
    (ms); `first_spike_times(neurons)` gives each sample's first spike of each neuron."""

    def __init__(self, network, samples, t_start, t_end, senders, times, count, tape):
        self.network, self.samples = network, samples
        self.t_start, self.t_end = t_start, t_end
        self.senders, self.times, self.count = senders, times, count
        self.tape = tape            # (tapes, taped, marks, marked, revision) or None

    def __len__(self):
        return self.count.size

    def spikes(self, b):
        """(neuron indices, times) of the neurons' spikes of sample b."""
        i, t = self.senders[b, :self.count[b]], self.times[b, :self.count[b]]
        neurons = i < self.network.n
        return i[neurons].copy(), t[neurons].copy()

    def written(self):
        """(samples x buffer) mask of the entries of senders and times each run wrote."""
        return np.arange(self.senders.shape[1])[None, :] < self.count[:, None]

    def _first_positions(self, neurons):
        """Where each sample's first spike of each of `neurons` is in its row (-1: none)."""
        unique, inverse = np.unique(neurons, return_inverse=True)
        lo = int(unique[0]) if unique.size else 0   # (a column per neuron from the first)
        column = np.full(int(unique[-1]) + 1 - lo if unique.size else 0, -1, np.int64)
        column[unique - lo] = np.arange(unique.size)
        out = np.empty((self.count.size, unique.size), np.int64)
        _first_of(self.senders, self.count, lo, column, out)
        return out[:, inverse.ravel()]

    def first_spike_times(self, neurons):
        """(samples x len(neurons)) first spike time of each neuron in each sample, ms from the
        start of the run; inf where it did not fire."""
        neurons = _neurons(neurons, self.network)
        where = self._first_positions(neurons)
        rows = np.arange(self.count.size)[:, None]
        return np.where(where >= 0, self.times[rows, np.maximum(where, 0)] - self.t_start,
                        np.inf)

    def spike_counts(self, neurons):
        """(samples x len(neurons)) number of spikes of each neuron in each sample."""
        neurons = _neurons(neurons, self.network)
        valid = self.written()
        return np.stack([np.count_nonzero(valid & (self.senders == k), axis=1)
                         for k in neurons], axis=1)


class Batch:
    """Runs of `network` from its current state, one per sample, each with its own spikes of
    SpikeSource `source` (its other input streams, Poisson inputs and sources, run as from
    that state in every sample), on the sparse engine. The state must have no spikes in
    flight and the network no other SpikeSource or Stimulus. threads: how many samples run at
    once (default: the cores)."""

    def __init__(self, network, source="input", threads=None):
        from .network import Network
        from .sources import SpikeSource
        if not isinstance(network, Network):
            raise ModelError(f"network = {network!r:.60}: Batch runs a sparseprop.Network")
        k = next((k for k, s in enumerate(network.sources) if s.name == source), None)
        if k is None or not isinstance(network.sources[k], SpikeSource):
            names = [s.name for s in network.sources if isinstance(s, SpikeSource)]
            raise ModelError(f"source = {source!r:.40} is not a SpikeSource of this network; "
                             f"its SpikeSources: {', '.join(names) or 'none'}")
        kinds = network._streams.kind
        others = [s for s in range(kinds.size) if s != k and kinds[s] in (LIST, STEP)]
        if others:
            raise ModelError("Batch replaces the spikes of one SpikeSource per sample; this "
                             "network has other SpikeSources or Stimuli; drive them with "
                             "Poisson inputs, or run the samples one by one")
        if threads is None:
            threads = os.cpu_count() or 1
        if isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or threads < 1:
            raise ModelError(f"threads = {threads!r:.40}: give an integer >= 1")
        self.network, self.source, self.stream, self.threads = network, source, k, int(threads)
        self.n_inputs = network.sources[k].n
        self.sender0 = network.n + sum(s.n for s in network.sources[:k])
        self._caps = None    # buffer sizes that sufficed: (spikes, tape rows, marks)
        self._fits = 0       # bytes of the largest buffers that memory.require let through
        self._runs, self._sweeps = Blocks(), Blocks()   # (their memory, reused)
        out = network.csr.out_degree()
        self._fanout = int(out[self.sender0:self.sender0 + self.n_inputs].max(initial=0)) + 1

    def samples(self, pairs):
        """`pairs` (a list of (indices, times), or Samples) as Samples for this source."""
        return Samples(pairs, self.n_inputs)

    def _start(self, t_stop, record_tape):
        """The loops' frame at the network's current state (sparseprop.engine.driver.Run: the
        heap, per-neuron states, input streams), from which every sample starts."""
        net = self.network
        state = net.current
        if state.queue.time.size:
            raise ModelError(f"the network's state has {state.queue.time.size} spikes in "
                             f"flight; a batch runs from a state with none (e.g. the state "
                             f"before any run: net.restore())")
        return Run(net, state, "sparse", t_stop, math.inf, record_tape)

    def run(self, samples, duration, record_tape=False, until=None):
        """Run every sample for `duration` ms from the network's current state (which stays
        as it is). record_tape: keep what backward needs (per sample, a state row per input
        and per spike). until: a population name: a sample's run ends as soon as each of its
        neurons has fired (all a loss of their first spikes needs; later spikes of other
        neurons are then missing). Returns a BatchResult."""
        from .network import check_run_arguments
        if duration is None:
            raise ModelError("give duration, the ms each sample runs for")
        samples = self.samples(samples)
        check_run_arguments(duration, None, "sparse")
        net = self.network
        net._check_table(net.csr.validate())
        state = net.current
        t0, t_stop = state.t, state.t + float(duration)
        start = self._start(t_stop, record_tape)
        watch = _population(net, until) if until is not None else slice(0, 0)
        entry = (len(net.model.variables) + 2,) if net.linear else ()   # a tape entry's shape
        B = len(samples)
        longest = int(np.diff(samples.ptr).max())
        if self._caps is None:   # (grown when a sample needs more, kept for the next runs)
            spikes = 2 * longest + net.n + 16
            self._caps = (spikes, 4 * spikes + 2 * longest * self._fanout, spikes)
        sample_i = samples.indices + self.sender0
        sample_t = samples.times + t0
        while True:
            cap_s, cap_tape, cap_marks = self._caps
            if not record_tape:
                cap_tape = cap_marks = 0
            per_sample = 12 * cap_s + 8 * int(np.prod(entry)) * cap_tape + 24 * cap_marks
            if B * per_sample > self._fits:   # (a request no larger than one let through is)
                require(B * per_sample, f"a batch of {B} samples ({cap_s} spikes, {cap_tape} "
                        f"tape rows each)", lambda free: f"run at most {free // per_sample} "
                        f"samples at a time")
                self._fits = B * per_sample
            out_i, out_t, tapes, marks = self._runs.arrays(
                ((B, cap_s), np.int32), ((B, cap_s), np.float64),
                ((B, cap_tape) + entry, np.float64), ((B, cap_marks, 3), np.int64))
            count, taped, marked = (np.zeros(B, np.int64) for _ in range(3))
            status = np.zeros(B, np.int64)

            def chunk(lo):
                hi = min(lo + _CHUNK, B)
                net.kernels.jit.run_batch(
                    start.PT, start.hkey, start.hidx, start.pos, start.sx, start.tf,
                    net.kernels.workspace() if net.linear else start.ws, t0, state.emitted,
                    start.syn, new_queue(cap_s, span=net.csr.shortest_delay), start.inputs,
                    self.stream,
                    samples.ptr[lo:hi + 1] - samples.ptr[lo], sample_i[samples.ptr[lo]:],
                    sample_t[samples.ptr[lo]:], t_stop, watch.start, watch.stop,
                    out_i[lo:hi], out_t[lo:hi], count[lo:hi], tapes[lo:hi], taped[lo:hi],
                    marks[lo:hi], marked[lo:hi], status[lo:hi])
            self._map(chunk, B)
            fault = np.flatnonzero((status != STOP_TIME) & (status != STOP_FULL))
            if fault.size:
                b = int(fault[0])
                raise ModelError(f"sample {b} of the batch stopped at a fault: "
                                 f"{_FAULTS.get(int(status[b]), 'status ' + str(status[b]))}; "
                                 f"check its input spikes and the weights")
            if np.all(status == STOP_TIME):
                break
            full = status == STOP_FULL   # a buffer was full: larger ones, and again
            self._caps = (2 * cap_s if np.any(count[full] == cap_s) or not record_tape
                          else cap_s,
                          2 * self._caps[1] if record_tape else self._caps[1],
                          2 * self._caps[2] if record_tape else self._caps[2])
        tape = (tapes, taped, marks, marked, net.revision, net.csr) if record_tape else None
        return BatchResult(net, samples, t0, t_stop, out_i, out_t, count, tape)

    def backward(self, result, neurons, dloss_dfirst, dloss_dspikes=None, parameters=True):
        """Gradients of a loss of the first spike times of `neurons` in every sample of a
        recorded batch, given dL/d(first spike time) as (samples x len(neurons)) (0 where a
        neuron did not fire), plus, if given, dloss_dspikes: dL/d(each spike time recorded in
        result.times), of its shape (e.g. spike_count_regulariser's; 0 for the entries the
        runs did not write). Returns a Gradients: weight, delay and parameters summed over
        the samples; source_t a list, per sample, of dL/d(each of its input spikes' times)
        in the order of result.senders[b] (its source entries). parameters=False: no
        parameter derivatives (Gradients.parameters is empty), which saves their share of the
        sweep (for the delta QIF, the arc tangent and the power of every input)."""
        net = self.network
        if not isinstance(result, BatchResult) or result.network is not net:
            raise ModelError("result is not a BatchResult of this batch's network")
        if result.tape is None:
            raise ModelError("this batch result has no tape: run it with record_tape=True")
        tapes, taped, marks, marked, revision, csr = result.tape
        if revision != net.revision or csr is not net.csr:
            raise ModelError("the network's weights or parameters changed since this batch "
                             "was run; run it again with record_tape=True")
        if net.linear:
            check_autapses(net)
        if not isinstance(parameters, (bool, np.bool_)):
            raise ModelError(f"parameters must be True or False (whether to differentiate the "
                             f"neuron parameters); got {parameters!r:.40}")
        neurons = _neurons(neurons, net)
        B = len(result)
        dfirst = _real_array(dloss_dfirst, "dloss_dfirst", copy=False)
        if dfirst.shape != (B, neurons.size) or not np.all(np.isfinite(dfirst)):
            raise ModelError(f"dloss_dfirst must be {B} x {neurons.size} finite numbers (one "
                             f"per sample and neuron); got shape {dfirst.shape}")
        where = result._first_positions(neurons)
        dloss_dt, grad_time = self._sweeps.arrays((result.times.shape, np.float64),
                                                  (result.times.shape, np.float64))
        grad_time[...] = 0.0
        if dloss_dspikes is None:
            dloss_dt[...] = 0.0
        else:
            given = _real_array(dloss_dspikes, "dloss_dspikes", copy=False)
            if given.shape != result.times.shape or not np.all(np.isfinite(given)):
                raise ModelError(f"dloss_dspikes must be finite numbers of the shape of "
                                 f"result.times, {result.times.shape}; got shape "
                                 f"{given.shape}")
            np.copyto(dloss_dt, given)
            dloss_dt[~result.written()] = 0.0
        rows, cols = np.nonzero(where >= 0)
        np.add.at(dloss_dt, (rows, where[rows, cols]), dfirst[rows, cols])
        samples = result.samples
        sample_i = samples.indices + self.sender0
        state = net.current
        syn, table = synapses(net.csr), net.table.copy()
        streams = net.inputs(state)
        chunks = -(-B // _CHUNK)
        grad_w, grad_d = np.zeros((chunks, csr.nnz)), np.zeros((chunks, csr.nnz))
        grad_p = np.zeros((chunks, table.shape[0], table.shape[1] - 2 if parameters else 0))
        dT = None if net.linear else period_gradients(net, table)

        def chunk(lo):
            hi, c = min(lo + _CHUNK, B), lo // _CHUNK
            outputs = (result.senders[lo:hi], result.count[lo:hi], dloss_dt[lo:hi],
                       tapes[lo:hi], taped[lo:hi], marks[lo:hi], marked[lo:hi])
            sums = (grad_w[c], grad_d[c], grad_p[c], grad_time[lo:hi])
            if net.linear:
                net.kernels.jit.backward_batch(
                    table, state.emitted, syn, streams, self.stream,
                    samples.ptr[lo:hi + 1] - samples.ptr[lo], sample_i[samples.ptr[lo]:],
                    samples.times[samples.ptr[lo]:], *outputs,
                    np.zeros((net.n, len(net.model.variables) + 2)), *sums)
            else:
                net.kernels.jit.backward_batch(table, dT, state.emitted, syn, streams.weight,
                                               *outputs, np.zeros(net.n), *sums)
        self._map(chunk, B)
        grad = grad_p.sum(axis=0)
        names = net.kernels.parameter_names
        by_name = {name: (grad[:, c].copy() if table.shape[0] > 1 else float(grad[0, c]))
                   for c, name in enumerate(names[:grad.shape[1]]) if not (net.mixed and c == 0)}
        sources = [grad_time[b, :result.count[b]][result.senders[b, :result.count[b]] >= net.n]
                   for b in range(B)]
        return Gradients(weight=grad_w.sum(axis=0), initial_phase=None, parameters=by_name,
                         delay=grad_d.sum(axis=0), source_t=sources)

    def _map(self, chunk, B):
        starts = range(0, B, _CHUNK)
        if self.threads == 1 or B <= _CHUNK:
            for lo in starts:
                chunk(lo)
            return
        with ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(chunk, starts))


def _population(network, name):
    """The slice of population `name`; ModelError naming the populations for anything else."""
    if not isinstance(name, str) or name not in (network.populations or {}):
        raise ModelError(f"{name!r:.40} is not a population of this network; its populations: "
                         f"{', '.join(network.populations or {}) or 'none'}")
    return network.populations[name]


def _neurons(neurons, network):
    return _check_neurons(neurons, network).astype(np.int64)


__all__ = ["Batch", "BatchResult", "Samples"]
