"""Result of a simulation: spikes sorted by time, rates, counts, final state, populations;
save and load."""
import glob
import math
import numbers
import operator
import zipfile

import numpy as np

from .connectivity import _check_n, _plain, _real_array
from .errors import ModelError
from .files import file_path, target_of, write_atomically
from .gradients import Tape, backward

_FIELDS = ("i", "t", "n", "t_start", "t_end", "final_phase", "engine", "wall_time")
_POPULATION_FIELDS = ("population_names", "population_bounds")   # optional in a saved file
_SOURCE_FIELDS = ("source_i", "source_t")                          # optional too


class Result:
    """Spikes of one run: `.i` (int32 neuron indices) and `.t` (float64 times, ms), sorted by
    time (ties in the order the engine fired them: the smaller index first); the run covered
    [t_start, t_end] ms; `final_phase` holds every neuron's phase at t_end (NaN for a
    subthreshold neuron, which has no phase: see Network.state); `populations` is
    None or name -> slice of neuron indices (a network from sparseprop.build_network)."""

    def __init__(self, i, t, n, t_start, t_end, final_phase, engine, wall_time,
                 populations=None):
        (self.i, self.t, self.n, self.t_start, self.t_end, self.final_phase, self.engine,
         self.wall_time, self.populations) = _fields(i, t, n, t_start, t_end, final_phase,
                                                     engine, wall_time, populations)
        # wall_time: seconds of the run itself, without JIT compilation
        self.compile_time = 0.0             # seconds numba spent compiling the loop first
        # spikes of the network's sources (SpikeSource, PoissonSource): source index, time
        self.source_i, self.source_t = np.empty(0, np.int32), np.empty(0)
        self.sources = None                 # name -> slice of source indices, or None
        self.tape = None          # a gradients.Tape when run with record_tape=True
        # state monitor (run(..., record=...)): variable -> (neurons x times), the times (ms)
        # and variable -> the neuron indices of its rows
        self.state, self.state_times, self.state_neurons = {}, np.empty(0), {}

    @property
    def tape(self):
        """The gradients.Tape of a run with record_tape=True, else None."""
        return self._tape

    @tape.setter
    def tape(self, tape):
        if tape is not None and not isinstance(tape, Tape):
            raise ModelError(f"a result's tape is a gradients.Tape recorded by "
                             f"net.run(..., record_tape=True) or None; got {type(tape).__name__}")
        if tape is not None:
            tape.bind(self.i, self.t)   # the spikes it goes with (kept by its first result)
        self._tape = tape

    def backward(self, dloss_dt, dloss_dphase=None):
        """Gradients (weights, initial phases, parameters) of a loss L of this run, given dL/dt
        for every spike (shape of .t) and optionally dL/d(final phase); needs record_tape=True."""
        tape = getattr(self, "_tape", None)   # set by hand past the setter? backward says so
        network = tape.network if isinstance(tape, Tape) else None
        return backward(network, self, dloss_dt, dloss_dphase)

    def plot_raster(self, ax=None, sources=False):
        """Spike raster (matplotlib, the `plot` extra); returns the Axes. See sparseprop.plot."""
        from .plot import raster
        return raster(self, ax, sources)

    def plot_rate(self, bin=1.0, ax=None):
        """Population rate in bins of `bin` ms (Hz); returns the Axes. See sparseprop.plot."""
        from .plot import rate
        return rate(self, bin, ax)

    def plot_state(self, variable=None, neurons=None, ax=None):
        """Recorded state traces (run(..., record=...)); returns the Axes."""
        from .plot import state
        return state(self, variable, neurons, ax)

    @property
    def n_spikes(self):
        """Number of spikes."""
        return int(np.size(self.i))

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

    def isi_cv(self, population=None):
        """Coefficient of variation of each neuron's inter-spike intervals (standard deviation
        over mean, the population standard deviation as Elephant's cv): one value per neuron of
        `population` (a name; default every neuron), NaN for a neuron with fewer than 3
        spikes."""
        s = self._slice(population) if population is not None else slice(0, self.n)
        mask = (self.i >= s.start) & (self.i < s.stop)
        i, t = self.i[mask] - s.start, self.t[mask]
        order = np.lexsort((t, i))
        i, t = i[order], t[order]
        same = i[1:] == i[:-1]
        who, isi = i[1:][same], np.diff(t)[same]
        size = s.stop - s.start
        count = np.bincount(who, minlength=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.bincount(who, isi, minlength=size) / count
            var = np.bincount(who, (isi - mean[who]) ** 2, minlength=size) / count
            cv = np.sqrt(var) / mean
        cv[count < 2] = np.nan
        return cv

    def to_neo(self, population=None):
        """The spikes as NEO SpikeTrains (the `neo` extra), one per neuron of `population` (a
        name; default every neuron), times in ms over [t_start, t_end], each annotated with its
        neuron index (and population), for Elephant's analyses."""
        try:
            import neo
            import quantities as pq
        except ImportError:
            raise ModelError("to_neo needs neo: pip install 'sparseprop[neo]' (or pip install "
                             "neo)") from None
        s = self._slice(population) if population is not None else slice(0, self.n)
        mask = (self.i >= s.start) & (self.i < s.stop)
        i, t = self.i[mask], self.t[mask]
        order = np.argsort(i, kind="stable")            # by neuron, each by time
        bounds = np.searchsorted(i[order], np.arange(s.start, s.stop + 1))
        times = t[order]
        trains = []
        for k, neuron in enumerate(range(s.start, s.stop)):
            train = neo.SpikeTrain(times[bounds[k]:bounds[k + 1]] * pq.ms,
                                   t_start=self.t_start * pq.ms, t_stop=self.t_end * pq.ms)
            train.annotate(neuron=neuron)
            if population is not None:
                train.annotate(population=population)
            trains.append(train)
        return trains

    # ------------------------------------------------------------------------- populations

    def _slices(self):
        if not self.populations:
            raise ModelError("this result has no populations: build the network with "
                             "sparseprop.build_network (or set net.populations) to use them")
        return self.populations

    def _slice(self, name):
        slices = self._slices()
        if not isinstance(name, str) or name not in slices:
            raise ModelError(f"{name!r:.60} is not a population of this result; its populations "
                             f"are {', '.join(map(str, slices))}")
        return slices[name]

    def population_of(self, i):
        """The name of the population holding neuron `i` (an index in [0, n))."""
        slices = self._slices()
        try:
            index = None if isinstance(i, (bool, np.bool_)) else operator.index(i)
        except TypeError:
            index = None
        if index is None or not 0 <= index < self.n:
            raise ModelError(f"neuron {i!r:.60} is not a neuron index; give an integer in "
                             f"[0, n) = [0, {self.n})")
        i = index
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
        """Write to an .npz file atomically (a temporary file renamed into place). The fields
        are checked first (a result changed by hand is refused), and nothing is left behind
        when the file cannot be written."""
        target_of(path, "save the result to")      # (a bad path before the fields' checks)
        values = _fields(*(getattr(self, name) for name in _FIELDS), self.populations)
        fields = dict(zip(_FIELDS, values))
        populations = values[-1]
        fields["source_i"], fields["source_t"] = _source_spikes(
            getattr(self, "source_i", None), getattr(self, "source_t", None), self.t_start,
            self.t_end, "Result")
        traces = _traces(getattr(self, "state", {}), getattr(self, "state_times", None),
                         getattr(self, "state_neurons", {}), self.n, self.t_start, self.t_end,
                         "Result")
        if traces[0]:
            fields["state_names"] = np.array(list(traces[0]))
            fields["state_times"] = traces[1]
            for k, name in enumerate(traces[0]):
                fields[f"state_values_{k}"] = traces[0][name]
                fields[f"state_neurons_{k}"] = traces[2][name]
        part = getattr(self, "part", None)   # one process's part of a distributed run
        if part is not None:
            fields["part"] = _check_part(part, self.n, "Result.save")
        if populations:
            fields["population_names"] = np.array(list(populations))
            fields["population_bounds"] = np.array(
                [(s.start, s.stop) for s in populations.values()], dtype=np.int64)
        write_atomically(path, "save the result to", lambda handle: np.savez(handle, **fields))


def load_result(path):
    """Read a Result written by Result.save; ModelError for a file that is not one (or is
    damaged: every field is checked before the Result is built). The parts of a distributed
    run (each process's ShardResult.save(path) writes <stem>.part<r>of<R><suffix>) are read
    back as one Result, sorted by time, then neuron: give the path the processes were given,
    or the list of part files."""
    if isinstance(path, list):
        return _whole([_load(p) for p in path], "load_result of a list")
    target = file_path(path, "read a result from")
    try:
        parts = [] if target.exists() else sorted(target.parent.glob(
            f"{glob.escape(target.stem)}.part*of*{target.suffix}"))
    except (OSError, ValueError):   # (a name too long, ...: _load says so)
        parts = []
    if parts:
        return _whole([_load(p) for p in parts], target)
    return _load(path)


def part_path(path, rank, size):
    """The file of process `rank` of `size`'s part: <stem>.part<rank>of<size><suffix>."""
    target = file_path(path, "save the result to")
    return target.with_name(f"{target.stem}.part{rank}of{size}{target.suffix}")


def _whole(results, where):
    """One Result of the parts of a distributed run (ModelError unless they are one run's
    parts, each once)."""
    parts = [getattr(r, "part", None) for r in results]
    if not results or any(p is None for p in parts):
        raise ModelError(f"{where}: not the parts of a distributed run (each must be written by "
                         f"a process's result.save)")
    size = parts[0][1]
    first = results[0]
    if sorted(p[0] for p in parts) != list(range(size)) or any(p[1] != size for p in parts) \
            or any((r.n, r.t_start, r.t_end) != (first.n, first.t_start, first.t_end)
                   for r in results):
        raise ModelError(f"{where}: the parts are not those of one run of {size} processes "
                         f"(ranks {sorted(p[0] for p in parts)}, each once, with the same "
                         f"network and times)")
    return merged(first, [(r.i, r.t, r.final_phase[lo:hi], lo, hi)
                          for r, (_, _, lo, hi) in zip(results, parts)],
                  max(r.wall_time for r in results))


def merged(first, pieces, wall_time):
    """One Result of a distributed run's pieces (spikes i, t, and final phases of neurons
    lo..hi-1 of each process): spikes sorted by time, then neuron; the run's other fields and
    its source spikes (the same in every process) from `first`, one process's result."""
    i = np.concatenate([p[0] for p in pieces])
    t = np.concatenate([p[1] for p in pieces])
    order = np.lexsort((i, t))
    phase = np.full(first.n, np.nan)
    for _, _, part, lo, hi in pieces:
        phase[lo:hi] = part
    whole = Result(i[order], t[order], first.n, first.t_start, first.t_end, phase,
                   first.engine, wall_time, populations=first.populations)
    whole.source_i, whole.source_t = first.source_i, first.source_t
    whole.sources = getattr(first, "sources", None)
    whole.compile_time = getattr(first, "compile_time", 0.0)
    return whole


def _load(path):
    """One result file (see load_result)."""
    path = file_path(path, "read a result from")
    try:
        special = path.exists() and not path.is_file()
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the result file {path}: {exc}") from None
    if special:     # a directory, or a pipe or device, which np.load would wait on forever
        raise ModelError(f"cannot read the result file {path}: it is not a regular file (a "
                         f"directory, pipe or device); give an .npz file written by Result.save")
    try:
        with np.load(path, allow_pickle=False) as data:
            if not hasattr(data, "files"):
                raise ModelError(f"{path} is not a sparseprop result (.npz written by "
                                 f"Result.save): it holds one array, not a set of fields")
            missing = [f for f in _FIELDS if f not in data.files]
            if missing:
                raise ModelError(f"{path} is not a sparseprop result: it lacks '{missing[0]}'")
            fields = {f: data[f] for f in _FIELDS + _POPULATION_FIELDS + _SOURCE_FIELDS
                      + ("part",) if f in data.files}
            names = data["state_names"] if "state_names" in data.files else np.empty(0, str)
            if names.ndim != 1 or names.dtype.kind != "U" or not all(
                    f"state_{part}_{k}" in data.files for k in range(names.size)
                    for part in ("values", "neurons")) or (names.size and "state_times"
                                                           not in data.files):
                raise ModelError(f"the result file {path} is inconsistent (its state traces "
                                 f"are incomplete)")
            traces = ({str(name): data[f"state_values_{k}"] for k, name in
                       enumerate(names.tolist())},
                      data["state_times"] if names.size else np.empty(0),
                      {str(name): data[f"state_neurons_{k}"] for k, name in
                       enumerate(names.tolist())})
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
    if fields["i"].size != fields["t"].size or fields["final_phase"].size != scalars["n"]:
        raise ModelError(f"the result file {path} is inconsistent (array lengths differ)")
    populations = None
    if "population_names" in fields:
        names, bounds = fields["population_names"], fields.get("population_bounds")
        if names.ndim != 1 or names.dtype.kind != "U" or bounds is None \
                or bounds.shape != (names.size, 2) or bounds.dtype.kind not in "iu" \
                or np.any(bounds < 0) or np.any(bounds[:, 1] > scalars["n"]) \
                or np.any(bounds[:, 0] > bounds[:, 1]):
            raise ModelError(f"the result file {path} is inconsistent (its population bounds "
                             f"do not fit {scalars['n']} neurons)")
        populations = {str(name): slice(int(a), int(b))
                       for name, (a, b) in zip(names.tolist(), bounds.tolist())}
    try:
        result = Result(fields["i"], fields["t"], final_phase=fields["final_phase"],
                        populations=populations, **scalars)
        result.source_i, result.source_t = _source_spikes(
            fields.get("source_i", np.empty(0, np.int32)), fields.get("source_t", np.empty(0)),
            result.t_start, result.t_end, "Result")
        result.state, result.state_times, result.state_neurons = _traces(
            *traces, result.n, result.t_start, result.t_end, "Result")
    except ModelError as exc:
        raise ModelError(f"the result file {path} is inconsistent: {exc}") from None
    if "part" in fields:
        result.part = tuple(int(x) for x in _check_part(
            fields["part"], result.n, f"the result file {path} is inconsistent:"))
    return result


def _check_part(part, n, where):
    """A distributed run's part (rank, size, lo, hi) as an int64 array, or ModelError."""
    try:
        array = np.asarray(part)
    except (TypeError, ValueError):
        array = np.empty(0)
    if not (array.shape == (4,) and array.dtype.kind in "iu" and 0 <= array[0] < array[1]
            and 0 <= array[2] < array[3] <= n):
        raise ModelError(f"{where} part = {part!r:.60} is not a process's (rank, size, first "
                         f"neuron, end) with rank < size and 0 <= first < end <= n = {n}")
    return array.astype(np.int64)


def _scalar(array, name, path):
    """The one value of a saved scalar field (ModelError if it is not one value)."""
    if array.size != 1:
        raise ModelError(f"the result file {path} is inconsistent: '{name}' holds {array.size} "
                         f"values, not one")
    return array.item()


# ----------------------------------------------------------------------------- checks

def _number(value, what, low=-math.inf):
    """A finite float >= low from a real number (ModelError naming `what` otherwise)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ModelError(f"Result: {what} must be a number; got {value!r:.60}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not (math.isfinite(number) and number >= low):
        raise ModelError(f"Result: {what} = {value!r:.60} must be a finite number"
                         + (f" >= {low:g}" if low > -math.inf else ""))
    return number


def _fields(i, t, n, t_start, t_end, final_phase, engine, wall_time, populations):
    """The fields of a Result, checked and converted: O(spikes + n) numpy work, ModelError
    naming the first field that does not fit (indices in [0, n), one time per spike, finite and
    sorted, inside [t_start, t_end], a final phase per neuron, populations as slices in [0, n))."""
    n = _check_n(n, "Result")
    t_start = _number(t_start, "t_start (ms)")
    t_end = _number(t_end, "t_end (ms)")
    if t_end < t_start:
        raise ModelError(f"Result: the run ends before it starts: t_start = {t_start:g}, "
                         f"t_end = {t_end:g} ms")
    index = _plain(i, "Result: i (neuron indices)")
    if index.ndim != 1 or not (index.dtype.kind in "iu" or index.size == 0 or (
            index.dtype.kind == "f" and np.all(index == np.floor(index)))):
        raise ModelError(f"Result: i must be a 1-D array of integer neuron indices; got "
                         f"{index.dtype} of shape {index.shape}")
    if index.size and (index.min() < 0 or index.max() >= n):
        raise ModelError(f"Result: neuron indices outside [0, n) = [0, {n}): i holds "
                         f"{index.min() if index.min() < 0 else index.max()}")
    i = np.ascontiguousarray(index, dtype=np.int32)
    t = _real_array(t, "Result: t (spike times, ms)", copy=False)
    if t.shape != i.shape:
        raise ModelError(f"Result: one spike time per neuron index: i has shape {i.shape}, t "
                         f"has shape {t.shape}")
    if not (np.all(np.isfinite(t)) and np.all(np.diff(t) >= 0)):
        raise ModelError("Result: spike times are not finite and sorted (t must be "
                         "non-decreasing)")
    if t.size and (t[0] < t_start or t[-1] > t_end):
        raise ModelError(f"Result: spike times must lie in the run [t_start, t_end] = "
                         f"[{t_start:g}, {t_end:g}] ms; t runs from {t[0]:g} to {t[-1]:g}")
    final_phase = _real_array(final_phase, "Result: final_phase", copy=False)
    if final_phase.shape != (n,):
        raise ModelError(f"Result: final_phase must hold one phase per neuron, shape ({n},); "
                         f"got shape {final_phase.shape}")
    if not isinstance(engine, str):
        raise ModelError(f"Result: engine must be the name of the engine that ran, e.g. "
                         f"'sparse'; got {engine!r:.60}")
    wall_time = _number(wall_time, "wall_time (s)", low=0.0)
    return (i, t, n, t_start, t_end, final_phase, str(engine), wall_time,
            _check_populations(populations, n))


def _traces(state, times, neurons, n, t_start, t_end, where):
    """A state monitor's traces (name -> (neurons x times) floats, the times, name -> neuron
    indices), checked: ModelError naming what does not fit."""
    if not (isinstance(state, dict) and isinstance(neurons, dict)
            and set(state) == set(neurons) and all(isinstance(k, str) for k in state)):
        raise ModelError(f"{where}: state and state_neurons must be dicts with the same "
                         f"variable names (a state monitor's traces)")
    times = _real_array(times if times is not None else np.empty(0), f"{where}: state_times",
                        copy=False)
    if times.ndim != 1 or not (np.all(np.isfinite(times)) and np.all(np.diff(times) > 0)) or (
            times.size and (times[0] < t_start or times[-1] > t_end)):
        raise ModelError(f"{where}: state_times must be finite, increasing times inside the "
                         f"run [{t_start:g}, {t_end:g}] ms")
    values, rows = {}, {}
    for name in state:
        who = _plain(neurons[name], f"{where}: state_neurons[{name!r}]")
        if who.ndim != 1 or (who.size and (who.dtype.kind not in "iu" or who.min() < 0
                                           or who.max() >= n)):
            raise ModelError(f"{where}: state_neurons[{name!r}] must hold neuron indices in "
                             f"[0, {n})")
        trace = _real_array(state[name], f"{where}: state[{name!r}]", copy=False)
        if trace.shape != (who.size, times.size):
            raise ModelError(f"{where}: state[{name!r}] must be (neurons x times) = "
                             f"({who.size}, {times.size}); got shape {trace.shape}")
        values[name], rows[name] = trace, who.astype(np.int64)
    return values, times, rows


def _source_spikes(i, t, t_start, t_end, where):
    """Source spikes (int32 indices >= 0, float64 times sorted in [t_start, t_end]), checked."""
    index = _plain(i if i is not None else np.empty(0, np.int32), f"{where}: source_i")
    times = _real_array(t if t is not None else np.empty(0), f"{where}: source_t", copy=False)
    if index.ndim != 1 or times.shape != index.shape or index.size and (
            index.dtype.kind not in "iu" or index.min() < 0):
        raise ModelError(f"{where}: source_i and source_t must be 1-D arrays of equal length "
                         f"(source indices >= 0 and their spike times)")
    if times.size and not (np.all(np.isfinite(times)) and np.all(np.diff(times) >= 0)
                           and times[0] >= t_start and times[-1] <= t_end):
        raise ModelError(f"{where}: source spike times must be finite, sorted and inside the "
                         f"run [{t_start:g}, {t_end:g}] ms")
    return np.ascontiguousarray(index, dtype=np.int32), np.ascontiguousarray(times, np.float64)


def _check_populations(populations, n):
    """None, or name -> slice(start, stop) of neuron indices: names strings, 0 <= start < stop
    <= n, no two overlapping (a copy, in layout order)."""
    if populations is None or (isinstance(populations, dict) and not populations):
        return None
    if not isinstance(populations, dict):
        raise ModelError(f"Result: populations must be None or a dict of name -> slice of "
                         f"neuron indices, e.g. {{'E': slice(0, 8), 'I': slice(8, 10)}}; got "
                         f"{type(populations).__name__}")
    bounds = []
    for name, s in populations.items():
        if not isinstance(name, str) or not isinstance(s, slice) or s.step not in (None, 1) \
                or not all(isinstance(x, numbers.Integral) and not isinstance(x, bool)
                           for x in (s.start, s.stop)) or not 0 <= s.start < s.stop <= n:
            raise ModelError(f"Result: population {name!r:.30} -> {s!r:.60}: a population is a "
                             f"name and a slice(start, stop) of neuron indices with 0 <= start "
                             f"< stop <= n = {n}")
        bounds.append((int(s.start), int(s.stop), name))
    ordered = sorted(bounds)
    for (_, stop, a), (start, _, b) in zip(ordered, ordered[1:]):
        if start < stop:
            raise ModelError(f"Result: populations '{a}' and '{b}' overlap; each neuron belongs "
                             f"to one population at most")
    return {name: slice(start, stop) for start, stop, name in bounds}


def label(n, sizes):
    """Check that `sizes` (name -> number of neurons) adds up to `n` and return name -> slice of
    neuron indices, the populations laid out in the order given:
    label(1000, {"E": 800, "I": 200}) == {"E": slice(0, 800), "I": slice(800, 1000)}."""
    n = _check_n(n, "populations")
    if not isinstance(sizes, dict) or not sizes:
        example = (f"{{'E': {n - max(n // 5, 1)}, 'I': {max(n // 5, 1)}}}" if n > 1
                   else "{'E': 1}")
        raise ModelError(f"populations must be a non-empty dict of name -> number of neurons, "
                         f"e.g. {example}; got {sizes!r:.60}")
    slices, start = {}, 0
    for name, size in sizes.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ModelError(f"populations: a population name must be a non-empty identifier "
                             f"such as 'E' or 'inh'; got {name!r}")
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size <= 0:
            raise ModelError(f"population '{name}': its size must be an integer > 0; got "
                             f"{size!r}")
        slices[name] = slice(start, start + int(size))
        start += int(size)
    if start != n:
        parts = " + ".join(f"{name} {size}" for name, size in sizes.items())
        raise ModelError(f"the populations add up to {start} neurons ({parts}), the network "
                         f"has n = {n}; make the sizes sum to {n}")
    return slices
