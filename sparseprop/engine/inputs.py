"""Input streams: events that come from outside the network (DESIGN.md 3.6), for the loops.

A stream is one of
- LIST: a SpikeSource's given spikes, merged over its sources and sorted by (time, source);
- POISSON: a PoissonSource's n independent trains of rate r, drawn as their superposition, one
  Poisson process of rate n r whose every event belongs to a source drawn uniformly (the same
  law as n separate trains, O(1) per event, no heap);
- DRIVE: a PoissonInput, n independent trains of rate r into every one of `count` neurons,
  likewise one process of rate n r count whose events hit a neuron drawn uniformly; its events
  are inputs of a fixed weight, not spikes, and nothing stores them as synapses;
- STEP: a Stimulus (sparseprop.sources, sparseprop.driven): the given changes of a driven
  parameter, sorted by (time, neuron), each an input of weight list_w[k] to neuron list_i[k]
  on the stream's `port` (whose on_pre sets the parameter to w).
The loops take the stream whose next event is earliest (a tie goes to the stream given first:
streams are ordered by their first source, then DRIVE, then STEP streams). LIST and POISSON
events are spikes of senders; DRIVE and STEP events are inputs to one neuron (kind >= DRIVE).
A random stream's event draws k uniformly among `count` and concerns first + k if k is in
[lo, hi) (0..count: always), else nobody (who -1): in a distributed run
(sparseprop.distributed) a DRIVE stream covers its whole population in every process, whose
loop takes every event and passes those that hit other processes' neurons, so that every
process draws the same events as a single one, in the same frame.
Random numbers come from one SplitMix64 generator per stream (state in `rng`), advanced only
when that stream's event is consumed, so a run gives the same events however it is chunked
and in both engines.

Each stream holds its next event: its time (`next`, in the loop's frame: the sparse engine's
is offset by t_base; given spike times, list_t, are absolute) and whom it concerns (`who`: a
sender, or the neuron a Poisson input hits), so the loops can look at it before taking it.
"""
from collections import namedtuple

import numba
import numpy as np

from .splitmix import GOLDEN, finalise

LIST, POISSON, DRIVE, STEP = 0, 1, 2, 3

Inputs = namedtuple("Inputs", "kind first count rate weight port next who ptr end list_i list_t "
                    "list_w rng lo hi")


@numba.njit(cache=True, inline="always", _nrt=False)
def _splitmix(rng, s):
    """The next 64 random bits of stream s (SplitMix64, Steele et al. 2014)."""
    z = rng[s] + GOLDEN
    rng[s] = z
    return finalise(z)


@numba.njit(cache=True, inline="always", _nrt=False)
def _uniform(rng, s):
    """A uniform number in [0, 1) with 53 random bits."""
    return np.float64(_splitmix(rng, s) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True, inline="always", _nrt=False)
def inputs_next(inputs):
    """(stream, time) of the earliest next input event; (-1, inf) when there is none."""
    best, when = -1, np.inf
    for s in range(inputs.next.size):
        if inputs.next[s] < when:
            best, when = s, inputs.next[s]
    return best, when


@numba.njit(cache=True, inline="always", _nrt=False)
def inputs_effect(inputs, s):
    """What the next event of input stream s (DRIVE or STEP) does: (the neuron it hits, the
    input's weight, its port (a Poisson input's: 0, the first), what the tape's mark keeps of
    it: the neuron, or for STEP the event's index in the lists)."""
    i = inputs.who[s]
    if inputs.kind[s] == STEP:
        k = inputs.ptr[s]
        return i, inputs.list_w[k], inputs.port[s], k
    return i, inputs.weight[s], 0, i


@numba.njit(cache=True, _nrt=False)
def _draw(inputs, s):
    """Stream s's following event after its current one: time and who (a Poisson stream: an
    exponential interval and a uniform source or neuron)."""
    if inputs.kind[s] == LIST or inputs.kind[s] == STEP:
        k = inputs.ptr[s]
        if k < inputs.end[s]:
            inputs.next[s], inputs.who[s] = inputs.list_t[k], inputs.list_i[k]
        else:
            inputs.next[s], inputs.who[s] = np.inf, -1
        return
    inputs.next[s] += -np.log(1.0 - _uniform(inputs.rng, s)) / inputs.rate[s]
    k = min(np.int64(_uniform(inputs.rng, s) * inputs.count[s]), inputs.count[s] - 1)
    inputs.who[s] = inputs.first[s] + k if inputs.lo[s] <= k < inputs.hi[s] else -1


@numba.njit(cache=True, _nrt=False)
def inputs_take(inputs, s, t_base):
    """Consume stream s's next event (inputs.who[s] says whom it concerns: a sender for LIST
    and POISSON, a neuron for DRIVE and STEP) and draw or read the following one (times of
    lists are absolute: t_base puts them in the loop's frame)."""
    if inputs.kind[s] == LIST or inputs.kind[s] == STEP:
        inputs.ptr[s] += 1
        _draw(inputs, s)
        inputs.next[s] -= t_base
    else:
        _draw(inputs, s)


@numba.njit(cache=True, _nrt=False)
def inputs_shift(inputs, by):
    """Subtract `by` from every stream's next time (the sparse engine's renormalisation)."""
    for s in range(inputs.next.size):
        inputs.next[s] -= by



@numba.njit(cache=True, _nrt=False)
def inputs_start(inputs, t0):
    """The first event after t0 of every random stream (POISSON, DRIVE) with none drawn yet
    (next is NaN; rate 0: never, inf), and the first event at or after t0 of every list (LIST,
    STEP) from its position ptr on."""
    for s in range(inputs.next.size):
        if inputs.kind[s] == LIST or inputs.kind[s] == STEP:
            k = inputs.ptr[s]
            while k < inputs.end[s] and inputs.list_t[k] < t0:
                k += 1
            inputs.ptr[s] = k
            _draw(inputs, s)
        elif inputs.next[s] != inputs.next[s]:
            if inputs.rate[s] > 0:
                inputs.next[s] = t0
                _draw(inputs, s)
            else:
                inputs.next[s], inputs.who[s] = np.inf, -1


@numba.njit(cache=True, nogil=True)
def inputs_with_list(streams, stream, list_i, list_t, t_base):
    """The input streams of one sample of a batch (sparseprop.batch): `streams` (their state
    at the start, in the loop's frame), with the list of stream `stream` (LIST, the only list)
    replaced by list_i/list_t (senders, absolute times, sorted; t_base: the frame's origin)."""
    ptr, end = streams.ptr.copy(), streams.end.copy()
    nxt, who = streams.next.copy(), streams.who.copy()
    ptr[stream], end[stream] = 0, list_t.size
    if list_t.size:
        nxt[stream], who[stream] = list_t[0] - t_base, list_i[0]
    else:
        nxt[stream], who[stream] = np.inf, -1
    return Inputs(streams.kind, streams.first, streams.count, streams.rate, streams.weight,
                  streams.port, nxt, who, ptr, end, list_i, list_t, np.zeros(list_t.size),
                  streams.rng.copy(), streams.lo, streams.hi)
