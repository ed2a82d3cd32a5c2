"""Input from outside the network: spike trains given in advance, Poisson trains drawn on the fly,
Poisson drive merged into every neuron of a population (DESIGN.md 3.6), and stimuli.

    stim = SpikeSource("stim", 3, indices=[0, 2, 1], times=[5.0, 5.0, 12.5])  # Brian2's
    noise = PoissonSource("noise", 100, rate=20.0)          # SpikeGeneratorGroup, PoissonGroup
    drive = PoissonInput("E", 1000, rate=10.0, weight=0.1)  # Brian2's PoissonInput
    step = Stimulus("E", "I", [100.0, 300.0], [1.2, 0.9])   # NEST's step_current_generator

SpikeSource and PoissonSource are populations of senders: `build_network` lays them out after
the neurons and connects them by `Projection` with any recipe and delay; they receive nothing.
PoissonInput is no population: n independent trains of `rate` Hz into every neuron of
population `target` (None: every neuron), merged exactly into one Poisson process per neuron
(rate n * rate) and never stored as synapses. Stimulus is none either: a parameter of the
neurons of `target` that takes given values at given times (sparseprop.driven says how).
Random trains are drawn from the network's seed and reproducible. Rates are in Hz, times in
ms.
"""

import numpy as np

from .connectivity import _check_n, _check_scalar, _integers, _real_array
from .engine.inputs import DRIVE, LIST, POISSON, STEP, Inputs
from . import units
from .errors import ModelError

__all__ = ["SpikeSource", "PoissonSource", "PoissonInput", "Stimulus"]


def _name(name, where):
    if not isinstance(name, str) or not name.isidentifier():
        raise ModelError(f"{where}: a name must be a non-empty identifier such as 'stim'; got "
                         f"{name!r:.60}")
    return name


def event_times(times, where):
    """Times of given events (ms: numbers or quantities of time) as a 1-D float array, each
    finite and >= 0 (ModelError naming `where` and the first that is not)."""
    times = _real_array(units.time(times, f"{where}: times"), f"{where}: times (ms)")
    if times.ndim != 1:
        raise ModelError(f"{where}: times must be 1-D (one per event); got shape {times.shape}")
    bad = np.flatnonzero(~np.isfinite(times) | (times < 0))
    if bad.size:
        raise ModelError(f"{where}: times[{bad[0]}] = {times[bad[0]]}; times must be finite "
                         f"numbers of ms >= 0")
    return times


class SpikeSource:
    """`n` sources that emit exactly the given spikes: source indices[k] fires at times[k] (ms),
    times non-decreasing (as Brian2's SpikeGeneratorGroup and NEST's spike_generator with
    precise times). Several spikes of one source at one instant all count."""

    def __init__(self, name, n, indices, times):
        self.name = _name(name, "SpikeSource")
        where = f"SpikeSource '{self.name}'"
        self.n = _check_n(n, where, "n, the number of sources")
        self.indices = _integers(indices, f"{where}: indices", np.int64)
        self.times = event_times(times, where)
        if self.indices.ndim != 1 or self.times.shape != self.indices.shape:
            raise ModelError(f"{where}: indices and times must be 1-D of equal length (one "
                             f"entry per spike); got shapes {self.indices.shape} and "
                             f"{self.times.shape}")
        bad = np.flatnonzero((self.indices < 0) | (self.indices >= self.n))
        if bad.size:
            raise ModelError(f"{where}: indices[{bad[0]}] = {self.indices[bad[0]]} is not a "
                             f"source; indices must lie in [0, n) = [0, {self.n})")
        back = np.flatnonzero(np.diff(self.times) < 0)
        if back.size:
            k = back[0]
            raise ModelError(f"{where}: times must be sorted (non-decreasing); times[{k}] = "
                             f"{self.times[k]} > times[{k + 1}] = {self.times[k + 1]} (sort "
                             f"indices and times together, e.g. with numpy.argsort(times, "
                             f"kind='stable'))")
        self.indices.flags.writeable = self.times.flags.writeable = False

    def __repr__(self):
        return f"SpikeSource({self.name!r}, n={self.n}, spikes={self.times.size})"


class PoissonSource:
    """`n` sources, each an independent Poisson train of `rate` Hz (Brian2's PoissonGroup,
    NEST's poisson_generator_ps with one generator per source), drawn on the fly from the
    network's seed."""

    def __init__(self, name, n, rate):
        self.name = _name(name, "PoissonSource")
        where = f"PoissonSource '{self.name}'"
        self.n = _check_n(n, where, "n, the number of sources")
        self.rate = _check_scalar(units.rate(rate, f"{where}: rate"), where, "rate")

    def __repr__(self):
        return f"PoissonSource({self.name!r}, n={self.n}, rate={self.rate:g} Hz)"


class PoissonInput:
    """`n` independent Poisson trains of `rate` Hz into every neuron of population `target`
    (a name; None: every neuron of the network), each spike an input of `weight` (Brian2's
    PoissonInput; the external drive of Brunel 2000). Merged into one process per neuron of
    rate n * rate; no synapses are stored."""

    def __init__(self, target, n, rate, weight):
        if target is not None:
            _name(target, "PoissonInput: target")
        self.target = target
        where = f"PoissonInput into {target or 'every neuron'}"
        self.n = _check_n(n, where, "n, the number of inputs per neuron")
        self.rate = _check_scalar(units.rate(rate, f"{where}: rate"), where, "rate")
        self.weight_dims = units.dims_of(weight, f"{where}: weight")   # (checked by Network)
        if self.weight_dims is not None:
            weight = units.quantity(weight, f"{where}: weight")[0]
        self.weight = _check_scalar(weight, where, "weight")

    def __repr__(self):
        return (f"PoissonInput({self.target!r}, n={self.n}, rate={self.rate:g} Hz, "
                f"weight={self.weight:g})")


class Stimulus:
    """Parameter `parameter` of the neurons of population `target` (a name; None: every neuron)
    takes values[k] from times[k] (ms) on. times: strictly increasing, finite, >= 0. values: one
    number per time (the same for every target neuron) or an array (times, target neurons).
    Before times[0] each neuron has its own value of the parameter."""

    def __init__(self, target, parameter, times, values):
        if target is not None and not (isinstance(target, str) and target.isidentifier()):
            raise ModelError(f"Stimulus: target must be a population's name or None (every "
                             f"neuron); got {target!r:.60}")
        if not (isinstance(parameter, str) and parameter.isidentifier()):
            raise ModelError(f"Stimulus: parameter must be the name of a model parameter such "
                             f"as 'I'; got {parameter!r:.60}")
        self.target, self.parameter = target, parameter
        where = repr(self)
        self.times = event_times(times, where)
        if self.times.size == 0:
            raise ModelError(f"{where}: times is empty; give one or more times (ms)")
        back = np.flatnonzero(np.diff(self.times) <= 0)
        if back.size:
            k = back[0]
            raise ModelError(f"{where}: times must be strictly increasing; times[{k}] = "
                             f"{self.times[k]} >= times[{k + 1}] = {self.times[k + 1]}")
        self.values = values    # as given (perhaps quantities); converted by `values_for`
        try:                    # one value per time for every target neuron?
            self.shared = np.ndim(values) == 1
        except (TypeError, ValueError):   # (ragged: values_for says what is wrong)
            self.shared = False
        self.times.flags.writeable = False

    def values_for(self, model, n_target):
        """The values as plain numbers (converted with the model's units), shape (times,
        n_target); ModelError naming what does not fit."""
        where = f"{self!r}: values"
        convert = units.parameter_values if self.parameter in model.parameters else \
            units.state_values
        given = convert(model, {self.parameter: self.values}, where)[self.parameter]
        values = _real_array(given, where)
        k = self.times.size
        if values.shape == (k,):
            values = np.repeat(values[:, None], n_target, axis=1)
        elif values.shape != (k, n_target):
            raise ModelError(f"{where} has shape {values.shape}; give one value per time "
                             f"({k},) or one per time and target neuron ({k}, {n_target})")
        bad = np.argwhere(~np.isfinite(values))
        if bad.size:
            raise ModelError(f"{where}: value {values[tuple(bad[0])]} at times[{bad[0][0]}] is "
                             f"not finite")
        return values

    def __repr__(self):
        return f"Stimulus({self.target!r}, {self.parameter!r})"


def check_sources(sources):
    """A list of SpikeSource / PoissonSource, each checked again (its attributes may have been
    changed since it was made), names unique."""
    sources = _list(sources, "sources", "SpikeSource or PoissonSource")
    seen = set()
    for k, s in enumerate(sources):
        if isinstance(s, SpikeSource):
            sources[k] = SpikeSource(s.name, s.n, s.indices, s.times)
        elif isinstance(s, PoissonSource):
            sources[k] = PoissonSource(s.name, s.n, s.rate)
        else:
            raise ModelError(f"sources must be SpikeSource or PoissonSource objects; got "
                             f"{type(s).__name__} ({s!r:.60})")
        if s.name in seen:
            raise ModelError(f"two sources are named '{s.name}'; names must be unique")
        seen.add(s.name)
    return sources


def check_inputs(inputs, populations):
    """(PoissonInputs, Stimuli) of a list of inputs, each checked again, its target a
    population of `populations` (name -> slice) or None."""
    inputs = _list(inputs, "inputs", "PoissonInput or Stimulus")
    for k, p in enumerate(inputs):
        if not isinstance(p, (PoissonInput, Stimulus)):
            raise ModelError(f"inputs must be PoissonInput or Stimulus objects; got "
                             f"{type(p).__name__} ({p!r:.60})")
        if isinstance(p, PoissonInput):
            inputs[k] = p = PoissonInput(p.target, p.n, p.rate, p.weight)
        else:
            inputs[k] = p = Stimulus(p.target, p.parameter, p.times, p.values)
        if p.target is not None and p.target not in (populations or {}):
            known = ", ".join(populations) if populations else "none (give populations=...)"
            raise ModelError(f"{type(p).__name__}: target '{p.target}' is not a population of "
                             f"the network (its populations: {known}); use None for every "
                             f"neuron")
    return ([p for p in inputs if isinstance(p, PoissonInput)],
            [p for p in inputs if isinstance(p, Stimulus)])


def _list(items, what, kind):
    if items is None:
        return []
    if isinstance(items, (SpikeSource, PoissonSource, PoissonInput, Stimulus)):
        return [items]
    try:
        return list(items)
    except TypeError:
        raise ModelError(f"{what} must be a list of {kind}; got {type(items).__name__}") from None


def streams(n, sources, inputs, populations, seed, steps=(), local=None):
    """The loops' input streams (sparseprop.engine.inputs.Inputs) for `sources` (their senders
    numbered from n on, in order), `inputs` (PoissonInput, after them) and `steps` (the
    changes of each Stimulus, last: (neurons, port, times, values of shape (times, neurons))),
    with a random generator per stream seeded from `seed`. next is NaN and who -1: no event
    drawn or read yet (sparseprop.engine.inputs.inputs_start does); times are absolute.
    local: (lo, hi), the neurons of this process in a distributed run (n and populations
    then describe the whole network; senders of sources are numbered from hi - lo on, and a
    PoissonInput's events keep those that hit neurons lo..hi-1, numbered from 0)."""
    lo, hi = local if local is not None else (0, n)
    kind, first, count, rate, weight, ptr, end = [], [], [], [], [], [], []
    list_i, list_t, list_w, at, sender = [], [], [], 0, hi - lo
    keep = []
    for s in sources:
        first.append(sender)
        count.append(s.n)
        keep.append((0, s.n))
        weight.append(0.0)
        if isinstance(s, SpikeSource):
            order = np.lexsort((s.indices, s.times))   # by time, then source
            list_i.append(s.indices[order] + sender)
            list_t.append(s.times[order])
            list_w.append(np.zeros(s.times.size))
            kind.append(LIST)
            rate.append(0.0)
            ptr.append(at)
            at += s.times.size
            end.append(at)
        else:
            kind.append(POISSON)
            rate.append(s.n * s.rate / 1000.0)     # events per ms
            ptr.append(0)
            end.append(0)
        sender += s.n
    for p in inputs:
        block = populations[p.target] if p.target is not None else slice(0, n)
        own = (max(lo, block.start) - block.start, min(hi, block.stop) - block.start)
        kind.append(DRIVE)
        first.append(block.start - lo)
        count.append(block.stop - block.start)
        keep.append(own)
        rate.append(p.n * p.rate * (block.stop - block.start) / 1000.0)
        weight.append(p.weight)
        ptr.append(0)
        end.append(0)
    ports = [0] * len(kind)
    for neurons, port, times, values in steps:   # by time, then neuron
        if neurons.size == 0:   # (a distributed run: none of its neurons in this process)
            continue
        kind.append(STEP)
        first.append(int(neurons[0]))
        count.append(neurons.size)
        keep.append((0, neurons.size))
        rate.append(0.0)
        weight.append(0.0)
        ports.append(port)
        list_i.append(np.tile(neurons, times.size))
        list_t.append(np.repeat(times, neurons.size))
        list_w.append(np.ravel(values))
        ptr.append(at)
        at += values.size
        end.append(at)
    entropy = np.random.SeedSequence(seed).entropy
    rng = np.array([np.random.SeedSequence([entropy, 0x5EED, k]).generate_state(1, np.uint64)[0]
                    for k in range(len(kind))], dtype=np.uint64)
    return Inputs(np.array(kind, np.int64), np.array(first, np.int64),
                  np.array(count, np.int64), np.array(rate, np.float64),
                  np.array(weight, np.float64), np.array(ports, np.int64),
                  np.full(len(kind), np.nan), np.full(len(kind), -1, np.int64),
                  np.array(ptr, np.int64), np.array(end, np.int64),
                  np.concatenate(list_i).astype(np.int64) if list_i else np.empty(0, np.int64),
                  np.concatenate(list_t) if list_t else np.empty(0),
                  np.concatenate(list_w) if list_w else np.empty(0), rng,
                  np.array([k[0] for k in keep], np.int64), np.array([k[1] for k in keep],
                                                                     np.int64))
