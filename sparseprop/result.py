"""Result of a simulation: spikes sorted by time, rates, counts, final state, populations;
save and load."""
import numbers
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .errors import ModelError

_FIELDS = ("i", "t", "n", "t_start", "t_end", "final_phase", "engine", "wall_time")
_POPULATION_FIELDS = ("population_names", "population_bounds")   # optional in a saved file


class Result:
    """Spikes of one run: `.i` (int32 neuron indices) and `.t` (float64 times, ms), sorted by
    time (ties in the order the engine fired them: the smaller index first); the run covered
    [t_start, t_end] ms; `final_phase` holds every neuron's phase at t_end (NaN for a
    subthreshold neuron, which has no phase: see Network.state); `populations` is
    None or name -> slice of neuron indices (a network from sparseprop.build_network)."""

    def __init__(self, i, t, n, t_start, t_end, final_phase, engine, wall_time,
                 populations=None):
        self.i = np.asarray(i, dtype=np.int32)
        self.t = np.asarray(t, dtype=np.float64)
        self.n = int(n)
        self.t_start, self.t_end = float(t_start), float(t_end)
        self.final_phase = np.asarray(final_phase, dtype=np.float64)
        self.engine = str(engine)
        self.wall_time = float(wall_time)   # seconds of the run itself, without JIT compilation
        self.compile_time = 0.0             # seconds numba spent compiling the loop first
        self.tape = None          # a gradients.Tape when run with record_tape=True
        self.populations = populations

    def backward(self, dloss_dt, dloss_dphase=None):
        """Gradients (weights, initial phases, parameters) of a loss L of this run, given dL/dt
        for every spike (shape of .t) and optionally dL/d(final phase); needs record_tape=True."""
        if self.tape is None:
            raise ModelError("this result has no tape: run with net.run(..., record_tape=True) "
                             "before asking for gradients")
        return self.tape.network.backward(self, dloss_dt, dloss_dphase)

    @property
    def n_spikes(self):
        """Number of spikes."""
        return int(self.i.size)

    @property
    def duration(self):
        """Simulated time, ms."""
        return self.t_end - self.t_start

    @property
    def rate(self):
        """Population rate, Hz (spikes per neuron per second; times are in ms)."""
        return self.n_spikes / self.n / (self.duration / 1000.0) if self.duration > 0 else float("nan")

    @property
    def counts(self):
        """Spike count of every neuron (length n)."""
        return np.bincount(self.i, minlength=self.n)

    # ------------------------------------------------------------------------- populations

    def _slices(self):
        if not self.populations:
            raise ModelError("this result has no populations: build the network with "
                             "sparseprop.build_network (or set net.populations) to use them")
        return self.populations

    def _slice(self, name):
        slices = self._slices()
        if name not in slices:
            raise ModelError(f"'{name}' is not a population of this result; its populations "
                             f"are {', '.join(map(str, slices))}")
        return slices[name]

    def population_of(self, i):
        """The name of the population holding neuron `i` (an index in [0, n))."""
        slices = self._slices()
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, numbers.Integral) \
                or not 0 <= i < self.n:
            raise ModelError(f"neuron {i!r} is not a neuron index; give an integer in "
                             f"[0, n) = [0, {self.n})")
        for name, s in slices.items():
            if s.start <= i < s.stop:
                return name
        raise ModelError(f"neuron {i} belongs to no population ("
                         + ", ".join(f"{k} = {s.start}..{s.stop - 1}" for k, s in slices.items())
                         + ")")

    def spikes_of(self, name):
        """(local indices int32, times float64) of the spikes of population `name`, by time;
        local index j is neuron slice.start + j of the network."""
        s = self._slice(name)
        mask = (self.i >= s.start) & (self.i < s.stop)
        return (self.i[mask] - np.int32(s.start)).astype(np.int32), self.t[mask]

    def rate_of(self, name):
        """Rate of population `name`, Hz (its spikes per neuron per second; nan for an empty
        run)."""
        s = self._slice(name)
        if self.duration <= 0:
            return float("nan")
        count = int(np.count_nonzero((self.i >= s.start) & (self.i < s.stop)))
        return float(count / (s.stop - s.start) / (self.duration / 1000.0))

    def rates(self):
        """name -> rate in Hz of every population, in layout order."""
        return {name: self.rate_of(name) for name in self._slices()}

    def __repr__(self):
        pops = ""
        if self.populations:
            pops = " (" + ", ".join(
                f"{name}: {s.stop - s.start} neurons, {self.rate_of(name):.4g} Hz"
                for name, s in self.populations.items()) + ")"
        return (f"<Result {self.n_spikes} spikes of {self.n} neurons in "
                f"[{self.t_start:g}, {self.t_end:g}] ms, {self.rate:.4g} Hz{pops}, "
                f"engine {self.engine}>")

    def save(self, path):
        """Write to an .npz file atomically (a temporary file renamed into place)."""
        path = Path(path)
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp_", suffix=".npz")
            fields = {name: getattr(self, name) for name in _FIELDS}
            if self.populations:
                fields["population_names"] = np.array([str(k) for k in self.populations])
                fields["population_bounds"] = np.array(
                    [(s.start, s.stop) for s in self.populations.values()], dtype=np.int64)
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, **fields)
            os.replace(tmp, path)
        except OSError as exc:
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)
            raise ModelError(f"cannot save the result to {path}: {exc}") from None


def load_result(path):
    """Read a Result written by Result.save; ModelError for a file that is not one (or is
    damaged: every field is checked before the Result is built)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if not hasattr(data, "files"):
                raise ModelError(f"{path} is not a sparseprop result (.npz written by "
                                 f"Result.save): it holds one array, not a set of fields")
            missing = [f for f in _FIELDS if f not in data.files]
            if missing:
                raise ModelError(f"{path} is not a sparseprop result: it lacks '{missing[0]}'")
            fields = {f: data[f] for f in _FIELDS + _POPULATION_FIELDS if f in data.files}
    except ValueError as exc:
        if isinstance(exc, ModelError):
            raise
        raise ModelError(f"cannot read the result file {path}: it is not an .npz file written "
                         f"by Result.save") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelError(f"cannot read the result file {path}: {exc}") from None
    scalars = {f: _scalar(fields[f], f, path) for f in ("n", "t_start", "t_end", "engine",
                                                          "wall_time")}
    if isinstance(scalars["n"], bool) or not isinstance(scalars["n"], numbers.Integral) \
            or scalars["n"] <= 0:
        raise ModelError(f"the result file {path} is inconsistent: n = {scalars['n']!r} is not "
                         f"a number of neurons")
    for f in ("i", "t", "final_phase"):
        if fields[f].ndim != 1 or fields[f].dtype.kind not in "iuf":
            raise ModelError(f"the result file {path} is inconsistent: '{f}' is not a 1-D "
                             f"array of numbers")
    result = Result(fields["i"], fields["t"], final_phase=fields["final_phase"], **scalars)
    if result.i.size != result.t.size or result.final_phase.size != result.n:
        raise ModelError(f"the result file {path} is inconsistent (array lengths differ)")
    if result.i.size and (fields["i"].min() < 0 or fields["i"].max() >= result.n):
        raise ModelError(f"the result file {path} is inconsistent: neuron indices outside "
                         f"[0, n) = [0, {result.n})")
    if not (np.all(np.isfinite(result.t)) and np.all(np.diff(result.t) >= 0)):
        raise ModelError(f"the result file {path} is inconsistent: spike times are not finite "
                         f"and sorted")
    if "population_names" in fields:
        names, bounds = fields["population_names"], fields.get("population_bounds")
        if bounds is None or bounds.shape != (names.size, 2) or np.any(bounds < 0) \
                or np.any(bounds[:, 1] > result.n) or np.any(bounds[:, 0] > bounds[:, 1]):
            raise ModelError(f"the result file {path} is inconsistent (its population bounds "
                             f"do not fit {result.n} neurons)")
        result.populations = {str(name): slice(int(a), int(b))
                              for name, (a, b) in zip(names.tolist(), bounds.tolist())}
    return result


def _scalar(array, name, path):
    """The one value of a saved scalar field (ModelError if it is not one value)."""
    if array.size != 1:
        raise ModelError(f"the result file {path} is inconsistent: '{name}' holds {array.size} "
                         f"values, not one")
    return array.item()
