"""Network: a model, n neurons, connectivity and a state; run() simulates it exactly."""
import contextlib
import logging
import math
import numbers
import signal
import sys
import threading
import time

import numpy as np

from .engine import heap
from .engine.status import COUNTERS, STOP_CASCADE, STOP_NAN, STOP_RANGE, STOP_TIME
from .errors import Interrupted, ModelError
from .gradients import Tape
from .population import label
from .result import Result, _check_populations

ENGINES = ("auto", "sparse", "reference")
REFRACTORY = "refractory"   # a per-neuron value beside the model parameters
log = logging.getLogger("sparseprop")
_CHUNK = 1 << 17          # at most this many spikes per call into the compiled loop
_PROGRESS_AFTER = 3.0     # seconds of wall time before a progress line appears


def _state_name(name):
    """The name of a stored state: a string (ModelError otherwise)."""
    if not isinstance(name, str):
        raise ModelError(f"a stored state's name must be a string such as 'default'; got "
                         f"{name!r:.60}")
    return name


def check_run_arguments(duration, max_spikes, engine):
    """ModelError unless run(duration, max_spikes, engine) is well-formed (also used by the
    command line before it builds a network)."""
    if not isinstance(engine, str) or engine not in ENGINES:
        raise ModelError(f"engine {engine!r} is not known; use one of {', '.join(ENGINES)}")
    if duration is None and max_spikes is None:
        raise ModelError("give duration (ms) and/or max_spikes, e.g. run(duration=1000)")
    if duration is not None and (isinstance(duration, bool) or not (isinstance(
            duration, numbers.Real) and duration >= 0 and math.isfinite(duration))):
        raise ModelError(f"duration = {duration!r}: give a finite number of ms >= 0")
    if max_spikes is not None and (isinstance(max_spikes, bool) or not isinstance(
            max_spikes, numbers.Integral) or max_spikes < 0):
        raise ModelError(f"max_spikes = {max_spikes!r}: give an integer >= 0")


@contextlib.contextmanager
def _interrupt():
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


class Network:
    """A network of `n` neurons of one model.

    model: a NeuronModel or the name of a shipped model.
    connectivity: a recipe from sparseprop.connectivity (fixed_outdegree, ...) or a built CSR.
    initial_phase: None or "uniform" (uniform on [0, T_i) from `seed`), or an array of n phases
        (time since reset, in [0, T_i)).
    seed: seed of the initial state (the connectivity has its own).
    parameters: model parameter values that differ from the model's, each a number or an array
        of n values (one per neuron: a heterogeneous network, run by the time-keyed engine);
        "refractory" (ms) may be given too.
    populations: optional name -> number of neurons, adding up to n, laid out in that order
        (results then say which population a neuron belongs to); see also build_network.
    Neurons whose parameters keep them below threshold (e.g. LIF with I < 1) fire only when
    inputs push them over; their initial state is uniform between reset and threshold, or the
    state reached a given time (initial_phase) after a reset.
    """

    def __init__(self, model, n, connectivity, initial_phase=None, seed=None, parameters=None,
                 populations=None):
        from .connectivity import CSR, Connectivity, _check_seed
        from .library import load_model
        from .model import NeuronModel
        if isinstance(model, str):
            model = load_model(model)
        if not isinstance(model, NeuronModel):
            raise ModelError(f"model = {model!r:.60}: give a NeuronModel or the name of a shipped "
                             f"model (sparseprop.list_models())")
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n <= 0:
            raise ModelError(f"n = {n!r}: the number of neurons must be a positive integer")
        _check_seed(seed, "Network")
        self.model, self.n = model, int(n)
        self.kernels = model.compile()
        self._set_rows(parameters if parameters is not None else {})
        if isinstance(connectivity, CSR):
            self.csr = connectivity.validate()
        elif isinstance(connectivity, Connectivity):
            self.csr = connectivity.build(self.n)
            if not isinstance(self.csr, CSR):
                raise ModelError(f"{type(connectivity).__name__}.build returned "
                                 f"{self.csr!r:.60}, not a CSR table")
        else:
            raise ModelError(f"connectivity = {connectivity!r:.60}: give a recipe such as "
                             f"sparseprop.fixed_outdegree(10, -0.1, seed=1) or a "
                             f"sparseprop.connectivity.CSR table")
        if not self.csr.n == self.csr.n_post == self.n:
            raise ModelError(f"the connectivity connects {self.csr.n} to {self.csr.n_post} "
                             f"neurons, the network has {self.n}")
        self.t = 0.0
        self._initial_phase(initial_phase, seed)
        self.revision = 0         # counts changes of weights and parameters (tapes record it)
        self._stored = {}         # name -> state, see store()
        # name -> slice of neuron indices (see sparseprop.population.build_network)
        self.populations = label(self.n, populations) if populations is not None else None

    def _parameter_rows(self, values):
        """The engines' rows: parameters, refractory period, then the period (inf for a neuron
        that does not fire on its own); one shared row or one per neuron. Also returns the mask
        of subthreshold neurons (or None when there is none)."""
        if not isinstance(values, dict):
            raise ModelError("parameters must be a dict of name -> number or array of n values")
        names = self.kernels.parameter_names + (REFRACTORY,)
        unknown = [k for k in values if k not in names]
        if unknown:
            raise ModelError(f"'{unknown[0]}' is not a parameter of {self.model.name}; its "
                             f"parameters are {', '.join(names)}")
        current = self._PT[:, :-1] if hasattr(self, "_PT") else np.append(
            self.kernels.params, self.model.refractory)[None, :]
        columns = []
        for c, name in enumerate(names):
            try:
                column = np.array(values.get(name, current[:, c]), dtype=np.float64)
            except (TypeError, ValueError):
                raise ModelError(f"parameter '{name}' must be a number or {self.n} numbers") from None
            if column.shape == (1,):
                column = column.reshape(())
            if column.shape not in ((), (self.n,)) or not np.all(np.isfinite(column)):
                raise ModelError(f"parameter '{name}' has shape {column.shape} or non-finite "
                                 f"values; give a finite number or {self.n} finite numbers, one "
                                 f"per neuron")
            columns.append(column)
        if np.any(columns[-1] < 0):
            k = int(np.argmax(np.ravel(columns[-1]) < 0))
            raise ModelError(f"refractory = {float(np.ravel(columns[-1])[k])!r}" + (
                f" for neuron {k}" if columns[-1].ndim else "") + ": the refractory period must "
                f"be a number of ms >= 0")
        rows = self.n if any(c.ndim for c in columns) else 1   # any array: one row per neuron
        P = np.empty((rows, len(names)))
        for c, column in enumerate(columns):
            P[:, c] = column if rows > 1 else column.flat[0]
        if rows == 1:
            self.kernels.params_with(**dict(zip(names[:-1], P[0, :-1])))   # numeric maps: fixed
        elif self.kernels.numeric_values is not None:
            raise ModelError(f"{self.model.name} has a numeric phase map, built for one set of "
                             f"parameter values; per-neuron values are not supported")
        unique, first, inverse = np.unique(P[:, :-1], axis=0, return_index=True,
                                           return_inverse=True)
        T = np.array([self._period_or_inf(row, rows > 1 and int(k))
                      for row, k in zip(unique, first)])[inverse.ravel()]
        sub = np.broadcast_to(np.isinf(T), (self.n,)).copy()
        return np.ascontiguousarray(np.column_stack([P, T])), (sub if sub.any() else None)

    def _period_or_inf(self, row, k):
        """The free period of a row of parameter values, or inf for a neuron that never reaches
        threshold on its own (ModelError when such a neuron cannot be simulated)."""
        jit = self.kernels.jit
        names = self.kernels.parameter_names
        where = f"neuron {k} " if k is not False else ""
        values = ", ".join(f"{name}={row[c]:g}" for c, name in enumerate(names))
        if self.kernels.check_signs(row)[0]:   # SymPy assumed other signs: check the kernels
            problem = self.kernels.sign_problem(row)
            if problem is not None:
                raise ModelError(f"{where}({values}): {problem}")
        T = jit.period(row)
        if np.isfinite(T) and T > 0:
            return T
        threshold, reset = jit.threshold(row), jit.reset(row)
        rate = jit.rhs(threshold, row) if np.isfinite(threshold) else np.inf
        if not rate <= 0:
            raise ModelError(
                f"{where}({values}) fires on its own (d{self.model.state}/dt = {rate:g} > 0 at "
                f"threshold) but the phase map of {self.model.name}, derived at "
                f"{self.model._values_text()}, gives period {T}: build the model with values at "
                f"which it fires (e.g. model.with_parameters(...)) and give the others per neuron")
        step = jit.flow(reset, 1.0, row)
        if not np.isfinite(step):
            raise ModelError(
                f"{where}({values}) never reaches threshold on its own, and {self.model.name} has "
                f"no closed-form flow to evolve such a neuron between inputs (flow = {step}); "
                f"keep every neuron's parameters in the range where it fires periodically")
        return np.inf

    def _set_rows(self, values):
        rows, sub = self._parameter_rows(values)
        if hasattr(self, "_sub") and not np.array_equal(
                sub if sub is not None else False, self._sub if self._sub is not None else False):
            raise ModelError("these parameter values change which neurons fire on their own; "
                             "build a new Network for them")
        self._PT, self._sub = rows, sub

    @property
    def heterogeneous(self):
        """True when parameters differ from neuron to neuron (the time-keyed case)."""
        return self._PT.shape[0] > 1

    @property
    def subthreshold(self):
        """Boolean mask of the neurons that do not fire on their own (all False if none)."""
        return self._sub.copy() if self._sub is not None else np.zeros(self.n, dtype=bool)

    @property
    def period(self):
        """The free period: a number, or one per neuron in a heterogeneous network (inf for a
        neuron that does not fire on its own)."""
        return float(self._PT[0, -1]) if not self.heterogeneous else self._PT[:, -1].copy()

    def _row(self, k):
        return self._PT[k if self.heterogeneous else 0]

    def _initial_state(self, initial_phase, seed):
        """Phases (neurons that fire on their own) and states (subthreshold neurons) at t."""
        T = np.broadcast_to(self._PT[:, -1], (self.n,))
        sub = self.subthreshold
        if initial_phase is None or (isinstance(initial_phase, str) and initial_phase == "uniform"):
            u = np.random.default_rng(seed).uniform(0.0, 1.0, self.n)
            phase = np.where(sub, 0.0, u * np.where(sub, 1.0, T))
            if self._sub is None:
                return phase, None
            state = np.full(self.n, np.nan)
            for k in np.flatnonzero(sub):   # uniform between reset and threshold
                row, jit = self._row(k), self.kernels.jit
                state[k] = jit.reset(row) + u[k] * (jit.threshold(row) - jit.reset(row))
            return phase, state
        if isinstance(initial_phase, str):
            raise ModelError(f"initial_phase '{initial_phase}' is not known; use None, 'uniform' "
                             f"or an array of {self.n} phases in [0, T)")
        try:
            phase = np.array(initial_phase, dtype=np.float64)
        except (TypeError, ValueError):
            raise ModelError(f"initial_phase = {initial_phase!r:.60} is not numbers; give "
                             f"{self.n} phases (times since reset, in [0, T))") from None
        if phase.shape != (self.n,):
            raise ModelError(f"initial_phase has shape {phase.shape}; give {self.n} phases")
        bad = ~((phase >= 0) & (phase < T))
        if bad.any():
            k = int(np.argmax(bad))
            raise ModelError(f"initial_phase[{k}] = {phase[k]} is outside [0, T) = [0, {T[k]:g}); "
                             f"phases are times since reset")
        if self._sub is None:
            return phase, None
        state = np.full(self.n, np.nan)
        for k in np.flatnonzero(sub):      # time since reset: the state the flow reaches
            row = self._row(k)
            state[k] = self.kernels.jit.flow(self.kernels.jit.reset(row), phase[k], row)
        return np.where(sub, 0.0, phase), state

    def _initial_phase(self, initial_phase, seed):
        self.phase, self.sub_state = self._initial_state(initial_phase, seed)
        self.t_free = np.full(self.n, -np.inf)   # the end of each neuron's refractory period
        return self.phase

    @property
    def _timed(self):
        """The engines need t_free: some neuron is refractory or subthreshold."""
        return self._sub is not None or self._refractory_any

    @property
    def _refractory_any(self):
        return bool(np.any(self._PT[:, -2] > 0))

    @property
    def state(self):
        """The state variable of every neuron at the current time (reset while refractory)."""
        jit, out = self.kernels.jit, np.empty(self.n)
        for k in range(self.n):
            row = self._row(k)
            if self._sub is not None and self._sub[k]:
                out[k] = self.sub_state[k]
            elif self.t_free[k] > self.t:
                out[k] = jit.reset(row)
            else:
                out[k] = jit.state(self.phase[k], row)
        return out

    def synapses(self):
        """(pre, post, weight) arrays, one entry per synapse, in the engine's (CSR) order."""
        return self.csr.synapses()

    def set_weights(self, weights):
        """Give every synapse its own weight (an array in the order of `synapses()`)."""
        from .connectivity import CSR
        try:
            weights = np.array(weights, dtype=np.float64)
        except (TypeError, ValueError):
            raise ModelError(f"weights must be {self.csr.nnz} numbers, one per synapse") from None
        if weights.shape != (self.csr.nnz,) or not np.all(np.isfinite(weights)):
            raise ModelError(f"weights must be {self.csr.nnz} finite numbers, one per synapse "
                             f"(got shape {weights.shape})")
        self.csr = CSR(self.n, self.csr.indptr, self.csr.indices, weights)
        self.revision += 1

    def set_parameters(self, **values):
        """Change model parameter values, each a number or n values (no recompilation: they are
        kernel arguments). A numeric phase map is built for fixed values: changing them raises
        ModelError."""
        self._set_rows(values)
        self.revision += 1

    @property
    def parameters(self):
        """Current model parameter values, name -> number (or array of n, per neuron)."""
        names = self.kernels.parameter_names
        if not self.heterogeneous:
            return dict(zip(names, self._PT[0, :-2].tolist()))
        return {name: self._PT[:, c].copy() for c, name in enumerate(names)}

    @property
    def refractory(self):
        """The refractory period, ms: a number, or one per neuron in a heterogeneous network."""
        return float(self._PT[0, -2]) if not self.heterogeneous else self._PT[:, -2].copy()

    def set_state(self, phase, t=0.0):
        """Set every neuron's phase (time since reset, in [0, T); for a subthreshold neuron any
        time >= 0 since reset) and the current time; no neuron is refractory afterwards."""
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or not math.isfinite(t):
            raise ModelError(f"t = {t!r}: the current time must be a finite number of ms")
        self._initial_phase(phase, None)
        self.t = float(t)

    def store(self, name="default"):
        """Remember the current state under `name` (as Brian2's Network.store): the time, the
        phases, the subthreshold neurons' states and the refractory periods under way. Weights
        and parameters are not part of it."""
        self._stored[_state_name(name)] = (
            self.t, self.phase.copy(), self.t_free.copy(),
            None if self.sub_state is None else self.sub_state.copy())

    def restore(self, name="default"):
        """Go back to the state stored under `name` by store()."""
        if _state_name(name) not in self._stored:
            raise ModelError(f"no state stored under {name!r}; stored: "
                             f"{', '.join(map(repr, self._stored)) or 'none'} (call store first)")
        t, phase, t_free, sub_state = self._stored[name]
        self.t, self.phase, self.t_free = t, phase.copy(), t_free.copy()
        self.sub_state = None if sub_state is None else sub_state.copy()

    def run(self, duration=None, max_spikes=None, engine="auto", progress=None,
            record_tape=False):
        """Simulate from the current state for `duration` ms and/or until `max_spikes` spikes.

        engine: "sparse" (SparseProp, O(K log N) per spike: each neuron keyed by the time it next
        reaches threshold; with shared parameters this is the phase engine of DESIGN.md 3.2,
        with per-neuron parameters the time-keyed engine of 3.3), "reference" (conventional
        O(N) loop) or "auto" (the sparse engine; the logger `sparseprop` says which case).
        progress: print a progress line to stderr on runs longer than a few seconds (default:
        when stderr is a terminal). record_tape: keep what the reverse
        sweep needs (every target's phase before each jump, 8 bytes per synaptic event) so
        that `result.backward(...)` gives gradients. A second run continues from the first.
        Returns a Result.
        """
        check_run_arguments(duration, max_spikes, engine)
        for flag, value in (("progress", progress), ("record_tape", record_tape)):
            if not (value is None and flag == "progress" or isinstance(value, (bool, np.bool_))):
                raise ModelError(f"{flag} = {value!r:.60}: give True or False" + (
                    " (or None: when stderr is a terminal)" if flag == "progress" else ""))
        if self.populations is not None:   # set by hand? checked before the run, not after
            self.populations = _check_populations(self.populations, self.n)
        progress = sys.stderr.isatty() if progress is None else bool(progress)
        t_stop = self.t + duration if duration is not None else math.inf
        budget = max_spikes if max_spikes is not None else math.inf
        if engine == "auto":
            engine = "sparse"
            log.info("engine auto: sparse, %s%s%s", "time-keyed (per-neuron parameters)"
                     if self.heterogeneous else "phase (one period for all neurons)",
                     ", subthreshold neurons by their flow" if self._sub is not None else "",
                     ", refractory periods" if self._refractory_any else "")
        loop = self._sparse if engine == "sparse" else self._reference
        pieces = [] if record_tape else None     # the tape, chunk by chunk
        i, t, t_end, phase, sub_state, t_free, (compile_time, wall), interrupted = loop(
            t_stop, budget, progress, pieces)
        phase = np.where(self.subthreshold, np.nan, phase) if self._sub is not None else phase
        result = Result(i, t, self.n, self.t, t_end, phase, engine, wall,
                        populations=dict(self.populations) if self.populations else None)
        result.compile_time = compile_time
        if record_tape:
            result.tape = Tape(self, np.concatenate(pieces), self.phase, ended_at_last_spike=not (
                math.isfinite(t_stop) and i.size < budget and not interrupted))
        self.t, self.phase, self.sub_state, self.t_free = t_end, phase, sub_state, t_free
        if interrupted:
            raise Interrupted(result)
        return result

    def backward(self, result, dloss_dt, dloss_dphase=None):
        """Gradients of a loss of a recorded run of this network; see Result.backward."""
        from .gradients import backward
        return backward(self, result, dloss_dt, dloss_dphase)

    # Both loops run the compiled engine in chunks of a bounded amount of work (so that progress
    # lines and Ctrl-C come within a fraction of a second), growing the record between calls.
    # Chunk sizes depend only on the network, and the loops carry their counters from call to
    # call, so the spikes do not depend on the chunking.
    def _chunk_size(self, engine):
        """Spikes per call: about 2^20 synaptic events (sparse) or 2^22 neuron updates
        (reference, O(N) per spike), at most _CHUNK."""
        degree = max(self.csr.nnz / self.n, 1.0)
        work = self.n + degree if engine == "reference" else degree
        return max(1, min(_CHUNK, int((1 << 22 if engine == "reference" else 1 << 20) / work)))

    def _chunks(self, call, engine, t_stop, budget, progress, pieces):
        """Call the compiled loop until it stops; returns (i, t, compile seconds, run seconds,
        interrupted). The first call, with empty outputs, only compiles (timed apart)."""
        start = time.perf_counter()
        call(np.empty(0, np.int32), np.empty(0), np.empty(0))
        compiled = time.perf_counter()
        pieces_i, pieces_t = [np.empty(0, np.int32)], [np.empty(0)]
        total, shown, chunk = 0, False, self._chunk_size(engine)
        degree = int(self.csr.out_degree().max())
        with _interrupt() as interrupted:
            while total < budget and not interrupted:
                size = int(min(chunk, budget - total))
                if pieces is not None:   # tape room for whole spikes, at most 256 MB a chunk
                    size = max(1, min(size, (1 << 25) // max(degree, 1)))
                out_i, out_t = np.empty(size, np.int32), np.empty(size, np.float64)
                tape = np.empty(size * degree if pieces is not None else 0)
                count, taped, status, culprit = call(out_i, out_t, tape)
                if status in (STOP_CASCADE, STOP_RANGE, STOP_NAN):
                    raise self._stop_error(status, out_i[count - 1], out_t[count - 1], culprit)
                pieces_i.append(out_i[:count])
                pieces_t.append(out_t[:count])
                if pieces is not None:
                    pieces.append(tape[:taped].copy())
                total += count
                if progress and time.perf_counter() - compiled > _PROGRESS_AFTER:
                    shown = True
                    done = (out_t[count - 1] - self.t) / (t_stop - self.t) if math.isfinite(
                        t_stop) and count else total / budget
                    print(f"\r  {100 * min(done, 1):5.1f}%  {total} spikes  "
                          f"{time.perf_counter() - compiled:.1f} s", end="", file=sys.stderr,
                          flush=True)
                if status == STOP_TIME:
                    break
                if count == 0:
                    raise ModelError("the engine made no progress (a spike's targets do not fit "
                                     "its output); please report this with the network")
        if shown:
            print(file=sys.stderr)
        return (np.concatenate(pieces_i), np.concatenate(pieces_t), compiled - start,
                time.perf_counter() - compiled, bool(interrupted))

    def _stop_error(self, status, j, t, i):
        """The ModelError for a loop that stopped on a fault, after neuron j's spike at t
        reached neuron i."""
        if status == STOP_CASCADE:
            return ModelError(f"more than {self.n} spikes at one instant ({t:g} ms): an "
                              f"excitatory cascade that does not end; weaken the excitatory "
                              f"weights")
        row = self.csr.indptr[j] + np.flatnonzero(self.csr.indices[
            self.csr.indptr[j]:self.csr.indptr[j + 1]] == i)[:1]
        weight = self.csr.weight_array()[row[0]] if row.size else math.nan
        what = (f"the input of weight {weight:g} from neuron {j} at {t:g} ms to neuron {i}")
        if status == STOP_NAN:
            return ModelError(f"{what} made its state NaN: on_pre '{self.model.on_pre}' is not "
                              f"defined there; change on_pre (or the weights) so that every "
                              f"input gives a number")
        low = (self.kernels.numeric_range or (None,))[0]
        return ModelError(
            f"{what} moved its state out of the range of the phase map (the PTC is NaN)" + (
                f": the numeric map of {self.model.name} covers states down to {low:g} only; "
                f"weaken the inhibitory weights" if low is not None else
                f"; keep the inputs within the states {self.model.name} is defined for"))

    def _csr_args(self):
        csr = self.csr
        weights = csr.weights if csr.weights is not None else np.empty(0)
        weight = csr.weight if csr.weights is None else 0.0
        return csr.indptr, csr.indices, weights, weight

    def _engine_state(self):
        """(sx, tf) for the loops: subthreshold states and refractory ends (absolute), or
        empty arrays when no neuron is refractory or subthreshold."""
        if not self._timed:
            return np.empty(0), np.empty(0)
        sx = self.sub_state.copy() if self._sub is not None else np.empty(0)
        return sx, self.t_free.copy()

    def _sparse(self, t_stop, budget, progress, pieces):
        jit = self.kernels.jit
        T = np.broadcast_to(self._PT[:, -1], (self.n,))
        sub = self.subthreshold
        # each key is the offset time of reaching threshold (inf: never on its own)
        keys = T - self.phase
        sx, tf = self._engine_state()
        if self._sub is not None:
            jit.subthreshold_keys(self._PT, sx, keys)
        hkey, hidx, pos = heap.new_heap(keys)
        if tf.size:   # to the offset frame; a subthreshold state holds at max(t, t_free)
            tf = np.where(sub, np.maximum(tf, self.t), tf) - self.t
        state = {"t_base": self.t, "Phi": 0.0}
        csr, counters = self._csr_args(), np.zeros(len(COUNTERS), np.int64)

        def call(out_i, out_t, tape):
            count, state["t_base"], state["Phi"], taped, status = jit.run_phase(
                self._PT, hkey, hidx, pos, state["t_base"], state["Phi"], *csr, t_stop,
                out_i, out_t, tape, 0, sx, tf, counters)
            return count, taped, status, counters[COUNTERS["CULPRIT"]]

        i, t, *times, interrupted = self._chunks(call, "sparse", t_stop, budget, progress, pieces)
        t_end = t_stop if math.isfinite(t_stop) and i.size < budget and not interrupted else (
            t[-1] if t.size else self.t)
        now = t_end - state["t_base"]
        keys = heap.keys(hkey, pos)
        phase = np.zeros(self.n)                # subthreshold neurons have none (0 here)
        fires = ~sub
        phase[fires] = T[fires] - keys[fires] + now
        due = fires & (keys <= now)   # firing at t_end: phase T exactly, first (by index) next run
        phase[due] = T[due]
        if not tf.size:
            return i, t, t_end, phase, self.sub_state, self.t_free, times, interrupted
        if self._sub is not None:
            jit.settle(self._PT, sx, tf, now)   # subthreshold states to t_end (or reset)
        return (i, t, t_end, phase, (sx if self._sub is not None else None),
                tf + state["t_base"], times, interrupted)

    def _reference(self, t_stop, budget, progress, pieces):
        jit = self.kernels.jit
        phase = self.phase.copy()
        sx, tf = self._engine_state()
        state = {"t": self.t}
        csr, counters = self._csr_args(), np.zeros(len(COUNTERS), np.int64)

        def call(out_i, out_t, tape):
            count, state["t"], taped, status = jit.run_reference(
                self._PT, phase, state["t"], *csr, t_stop, out_i, out_t, tape, 0, sx, tf,
                counters)
            return count, taped, status, counters[COUNTERS["CULPRIT"]]

        i, t, *times, interrupted = self._chunks(call, "reference", t_stop, budget, progress,
                                                 pieces)
        if not tf.size:
            return i, t, state["t"], phase, self.sub_state, self.t_free, times, interrupted
        return (i, t, state["t"], phase, (sx if self._sub is not None else None), tf, times,
                interrupted)
