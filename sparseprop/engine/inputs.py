"""Input streams: events that come from outside the network (DESIGN.md 3.6), for the loops.

A stream is one of
- LIST: a SpikeSource's given spikes, merged over its sources and sorted by (time, source);
- POISSON: a PoissonSource's n independent trains of rate r, drawn as their superposition, one
  Poisson process of rate n r whose every event belongs to a source drawn uniformly (the same
  law as n separate trains, O(1) per event, no heap);
- DRIVE: a PoissonInput, n independent trains of rate r into every one of `count` neurons,
  likewise one process of rate n r count whose events hit a neuron drawn uniformly; its events
  are inputs of a fixed weight, not spikes, and nothing stores them as synapses.
The loops take the stream whose next event is earliest (a ties goes to the stream given first:
streams are ordered by their first source, DRIVE streams last). Random numbers come from one
SplitMix64 generator per stream (state in `rng`), advanced only when that stream's event is
consumed, so a run gives the same events however it is chunked and in both engines.

Times in `next` are in the loop's frame (the sparse engine's is offset by t_base); given spike
times (list_t) are absolute.
"""
from collections import namedtuple

import numba
import numpy as np

LIST, POISSON, DRIVE = 0, 1, 2

Inputs = namedtuple("Inputs", "kind first count rate weight next ptr end list_i list_t rng")


def no_inputs():
    """The empty set of streams."""
    return Inputs(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64),
                  np.empty(0), np.empty(0), np.empty(0), np.empty(0, np.int64),
                  np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0),
                  np.empty(0, np.uint64))


@numba.njit(cache=True, inline="always", _nrt=False)
def _splitmix(rng, s):
    """The next 64 random bits of stream s (SplitMix64, Steele et al. 2014)."""
    z = rng[s] + np.uint64(0x9E3779B97F4A7C15)
    rng[s] = z
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, inline="always", _nrt=False)
def _uniform(rng, s):
    """A uniform number in [0, 1) with 53 random bits."""
    return np.float64(_splitmix(rng, s) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True, _nrt=False)
def inputs_next(inputs):
    """(stream, time) of the earliest next input event; (-1, inf) when there is none."""
    best, when = -1, np.inf
    for s in range(inputs.next.size):
        if inputs.next[s] < when:
            best, when = s, inputs.next[s]
    return best, when


@numba.njit(cache=True, _nrt=False)
def inputs_take(inputs, s, t_base):
    """Consume stream s's next event; returns who it concerns (a sender for LIST and POISSON,
    a neuron for DRIVE) and draws or reads the stream's following event time."""
    kind = inputs.kind[s]
    if kind == LIST:
        k = inputs.ptr[s]
        who = inputs.list_i[k]
        inputs.ptr[s] = k + 1
        inputs.next[s] = inputs.list_t[k + 1] - t_base if k + 1 < inputs.end[s] else np.inf
        return who
    who = inputs.first[s] + min(np.int64(_uniform(inputs.rng, s) * inputs.count[s]),
                                inputs.count[s] - 1)
    inputs.next[s] += -np.log(1.0 - _uniform(inputs.rng, s)) / inputs.rate[s]
    return who


@numba.njit(cache=True, _nrt=False)
def inputs_shift(inputs, by):
    """Subtract `by` from every stream's next time (the sparse engine's renormalisation)."""
    for s in range(inputs.next.size):
        inputs.next[s] -= by



@numba.njit(cache=True, _nrt=False)
def inputs_start(inputs, t0):
    """Draw the first event time after t0 of every random stream (POISSON, DRIVE) with no
    event drawn yet (next is NaN); rate 0: never (inf)."""
    for s in range(inputs.next.size):
        if inputs.kind[s] != LIST and inputs.next[s] != inputs.next[s]:
            inputs.next[s] = t0
            if inputs.rate[s] > 0:
                inputs.next[s] += -np.log(1.0 - _uniform(inputs.rng, s)) / inputs.rate[s]
            else:
                inputs.next[s] = np.inf
