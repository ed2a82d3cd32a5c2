"""State monitors: what `net.run(..., record={...})` records (state variables of chosen neurons at
regular or given times) and the traces it collects.

A sample at time t is exact: the run stops at t (after every event at t: spikes, resets,
deliveries), and each recorded neuron's state is computed from what the loop holds (its phase,
or its state and the time it holds at) by the model's closed-form flow; no neuron moves, so
the spikes are those of the same run without a monitor. Cost per sample: one call into the
loop and O(recorded neurons), independent of N.
"""
import math
import numbers

import numpy as np

from . import units
from .errors import ModelError

MAX_VALUES = 1 << 28    # samples x recorded neurons: 2 GiB of float64 traces


class Monitor:
    """The state traces of one run: `variables` (names), `neurons` (name -> neuron indices,
    in the order given), `times` (absolute, ms, increasing) and, once the run is done,
    `traces()`: name -> array (neurons x times taken)."""

    def __init__(self, network, record, t_start, t_stop):
        if not isinstance(record, dict) or not record:
            raise ModelError(f"record = {record!r:.80}: give a dict of state variables and "
                             f"neurons with dt (ms) or times, e.g. record={{'v': [0, 1, 2], "
                             f"'dt': 0.1}}")
        spec = dict(record)
        dt, times = spec.pop("dt", None), spec.pop("times", None)
        names = _variables(network)
        if not spec:
            raise ModelError(f"record = {record!r:.80} names no state variable; record one of "
                             f"{', '.join(names)}, e.g. record={{'{names[0]}': [0, 1], "
                             f"'dt': 0.1}}")
        for name in spec:
            if name not in names:
                raise ModelError(f"record: {name!r:.60} is not a state variable of "
                                 f"{network.model.name}; record one of {', '.join(names)} "
                                 f"(and give 'dt' or 'times')")
        self.variables = list(spec)
        self.neurons = {v: _neurons(network, v, who) for v, who in spec.items()}
        self.times = _times(dt, times, t_start, t_stop)
        size = self.times.size * sum(w.size for w in self.neurons.values())
        if size > MAX_VALUES:
            raise ModelError(f"record: {self.times.size} samples of "
                             f"{size // max(self.times.size, 1)} neurons make {size} values, "
                             f"more than {MAX_VALUES} (2 GiB); record fewer neurons, a larger "
                             f"dt, or run in pieces")
        self.who = np.unique(np.concatenate(list(self.neurons.values())))
        self.columns = np.array([names.index(v) for v in self.variables], np.int64)
        self._where = {v: np.searchsorted(self.who, w) for v, w in self.neurons.items()}
        self._missing = {v: _lacks(network, v, w) for v, w in self.neurons.items()}
        self._values = {v: np.empty((w.size, self.times.size))
                        for v, w in self.neurons.items()}
        self.taken = 0

    def take(self, run):
        """Record the next sample from `run` (a driver.Run stopped at its time)."""
        k = self.taken
        values = run.sample(self.who, self.times[k], self.columns)
        for c, v in enumerate(self.variables):
            column = values[c, self._where[v]]
            column[self._missing[v]] = np.nan
            self._values[v][:, k] = column
        self.taken = k + 1

    def traces(self):
        """name -> array (neurons x samples taken), and the times taken."""
        k = self.taken
        return {v: a[:, :k].copy() for v, a in self._values.items()}, self.times[:k].copy()


def _variables(network):
    """The names of a network's state variables."""
    model = network.model
    return list(model.variables) if network.linear else [model.state]


def _lacks(network, variable, who):
    """Neurons of `who` whose model lacks `variable` (several models in one network)."""
    if not getattr(network, "mixed", False):
        return np.zeros(who.size, bool)
    column = network.model.variables.index(variable)
    return ~network.model.has_variable(network.model_index[who])[:, column]


def _neurons(network, variable, who):
    """The neuron indices to record for `variable`: an int64 array."""
    n = network.n
    what = f"record[{variable!r}] = {who!r:.60}"
    if who is True:
        return np.arange(n, dtype=np.int64)
    if isinstance(who, str):
        pops = network.populations or {}
        if who not in pops:
            raise ModelError(f"{what}: there is no population {who!r:.40} in this network" + (
                f"; its populations: {', '.join(pops)}" if pops else
                " (it has no populations); give neuron indices"))
        s = pops[who]
        return np.arange(s.start, s.stop, dtype=np.int64)
    if isinstance(who, slice):
        return np.arange(n, dtype=np.int64)[who]
    if isinstance(who, (bool, np.bool_)) or isinstance(who, numbers.Integral):
        if isinstance(who, (bool, np.bool_)):
            raise ModelError(f"{what}: give neuron indices, a slice, a population name, or "
                             f"True for every neuron")
        who = [who]
    try:
        array = np.asarray(who)
    except (TypeError, ValueError):
        array = np.empty(0, object)
    if array.ndim != 1 or not (array.dtype.kind in "iu" or array.size == 0):
        raise ModelError(f"{what}: give neuron indices (integers in [0, {n})), a slice, a "
                         f"population name, or True for every neuron")
    if array.size and (array.min() < 0 or array.max() >= n):
        bad = array[(array < 0) | (array >= n)][0]
        raise ModelError(f"{what}: neuron {bad} does not exist; indices go from 0 to {n - 1}")
    return array.astype(np.int64)


def _times(dt, times, t_start, t_stop):
    """The absolute sample times: t_start + k dt before t_stop, or the given times."""
    dt = units.time(dt, "record['dt']") if dt is not None else None
    times = units.time(times, "record['times']") if times is not None else None
    if (dt is None) == (times is None):
        raise ModelError("record: give either 'dt' (ms between samples, from the run's start) "
                         "or 'times' (ms, increasing), not " + ("both" if dt is not None
                                                                else "neither"))
    if dt is not None:
        if isinstance(dt, (bool, np.bool_)) or not isinstance(dt, numbers.Real) \
                or not (dt > 0 and math.isfinite(dt)):
            raise ModelError(f"record['dt'] = {dt!r:.60}: give a finite number of ms > 0")
        if not math.isfinite(t_stop):
            raise ModelError("record['dt'] needs the run's duration (samples from its start "
                             "to its end); give run(duration=...), or record at 'times'")
        count = math.ceil((t_stop - t_start) / dt) + 1
        if count > MAX_VALUES:
            raise ModelError(f"record['dt'] = {dt!r:.60}: {count} samples over "
                             f"{t_stop - t_start:g} ms, more than {MAX_VALUES}; give a larger "
                             f"dt or run in pieces")
        grid = t_start + np.arange(count) * float(dt)
        return grid[grid < t_stop] if t_stop > t_start else grid[:1]
    try:
        array = np.asarray(times, dtype=float)
    except (TypeError, ValueError):
        raise ModelError(f"record['times'] = {times!r:.60}: give an increasing array of "
                         f"times in ms") from None
    if array.ndim != 1 or array.size == 0:
        raise ModelError(f"record['times'] = {times!r:.60}: give a 1-D, non-empty array of "
                         f"times in ms")
    if not np.all(np.isfinite(array)):
        raise ModelError(f"record['times'] holds {array[~np.isfinite(array)][0]!r}: every "
                         f"time must be a finite number of ms")
    if np.any(np.diff(array) <= 0):
        k = int(np.flatnonzero(np.diff(array) <= 0)[0])
        raise ModelError(f"record['times'] is not increasing: {array[k]:g} then "
                         f"{array[k + 1]:g} ms; give each time once, in order")
    if array[0] < t_start or array[-1] > t_stop:
        bad = array[0] if array[0] < t_start else array[-1]
        raise ModelError(f"record['times'] holds {bad:g} ms, outside this run "
                         f"[{t_start:g}, {t_stop:g}] ms")
    return array


__all__ = ["Monitor"]
