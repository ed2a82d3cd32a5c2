"""Network: the definition of a network (a model, n neurons, a parameter table, synapses,
sources, Poisson inputs, populations) and its state (sparseprop.engine.state.State); run()
simulates it exactly through sparseprop.engine.driver."""
import logging
import math
import numbers
import sys

import numpy as np

from . import memory, units
from .engine.driver import Run, inputs_of
from .engine.queue import no_entries
from .engine.state import State, no_refractory
from .errors import Interrupted, ModelError
from .gradients import Tape
from .monitor import Monitor
from .result import Result, _check_populations, label
from .shard import check_shard, global_senders
from .sources import check_inputs, check_sources, streams
from .driven import PORT, driven

ENGINES = ("auto", "sparse", "reference")
REFRACTORY = "refractory"   # a per-neuron value beside the model parameters
log = logging.getLogger("sparseprop")


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


class Network:
    """A network of `n` neurons of one model, with optional input sources.

    model: a NeuronModel or the name of a shipped model.
    connectivity: a recipe from sparseprop.connectivity (fixed_outdegree, ..., each with a
        delay) or a built CSR; with sources, a CSR of n + (number of sources) rows (neurons,
        then sources) into n neurons (sparseprop.build_network makes it).
    initial_phase: None or "uniform" (uniform on [0, T_i) from `seed`), or an array of n phases
        (time since reset, in [0, T_i)).
    initial_state: instead of initial_phase, the state variable of every neuron, e.g.
        {"v": 0.5} or {"v": array of n values} (as Brian2's G.v = ...).
    seed: seed of the initial state and of the Poisson trains (the connectivity has its own).
    parameters: model parameter values that differ from the model's, each a number or an array
        of n values (one per neuron: a heterogeneous network, run by the time-keyed engine);
        "refractory" (ms) may be given too.
    populations: optional name -> number of neurons, adding up to n, laid out in that order
        (results then say which population a neuron belongs to); see also build_network.
    sources: SpikeSource and PoissonSource objects (sparseprop.sources), senders n, n+1, ...
        in order; inputs: PoissonInput objects (Poisson drive into a population or every
        neuron) and Stimulus objects (a parameter that changes at given times: it becomes a
        state variable of the model, sparseprop.driven).
    Neurons whose parameters keep them below threshold (e.g. LIF with I < 1) fire only when
    inputs push them over; their initial state is uniform between reset and threshold, or the
    state reached a given time (initial_phase) after a reset.
    shard: a sparseprop.shard.Shard when this network is one process's part of a distributed
    network (sparseprop.distributed builds it): n neurons hi - lo, a table with rows for the
    whole network's senders (sparseprop.shard), initial draws and Poisson inputs those of the
    whole network restricted to this part.
    """

    def __init__(self, model, n, connectivity, initial_phase=None, seed=None, parameters=None,
                 populations=None, sources=None, inputs=None, initial_state=None, shard=None):
        from .connectivity import CSR, Connectivity, _check_seed
        from .library import load_model
        from .linear_model import LinearModel
        from .model import NeuronModel
        from .model_set import ModelSet
        if isinstance(model, str):
            model = load_model(model)
        if not isinstance(model, (NeuronModel, LinearModel, ModelSet)):
            raise ModelError(f"model = {model!r:.60}: give a NeuronModel, a LinearModel, a "
                             f"ModelSet or the name of a shipped model "
                             f"(sparseprop.list_models())")
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n <= 0:
            raise ModelError(f"n = {n!r}: the number of neurons must be a positive integer")
        _check_seed(seed, "Network")
        self.n = int(n)
        self._require_memory(model)
        # name -> slice of neuron indices (see sparseprop.population.build_network)
        self.populations = label(self.n, populations) if populations is not None else None
        self.shard = check_shard(shard, self.n)
        self.sources = check_sources(sources)
        self.poisson_inputs, self.stimuli = check_inputs(
            inputs, self.populations if shard is None else shard.populations)
        parameters = dict(parameters) if isinstance(parameters, dict) else (
            parameters if parameters is not None else {})
        self._driven_start = {}   # a driven parameter's values before its first change
        if self.stimuli:   # driven parameters become state variables (sparseprop.driven)
            names = [s.parameter for s in self.stimuli]
            if isinstance(parameters, dict):   # (a driven model has no value for them)
                given = units.parameter_values(model, {p: parameters.pop(p) for p in names
                                                       if p in parameters})
                self._driven_start = {p: given[p] if p in given else model.parameters[p]
                                      for p in names if p in given or p in model.parameters}
            model = driven(model, names)
        # several state variables, or several models: the linear engine
        self.linear = isinstance(model, (LinearModel, ModelSet))
        self.mixed = isinstance(model, ModelSet)
        self.model = model
        self.kernels = model.compile()
        self._set_rows(parameters)
        self._require_memory(model, self._table, self._sub)
        self.n_sources = sum(s.n for s in self.sources)
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
        self._check_table(self.csr)
        model_units = getattr(model, "units", None)
        if isinstance(connectivity, Connectivity):
            units.check_weight(model_units, None, getattr(connectivity, "weight_dims", None),
                               connectivity.kind)
        for p in self.poisson_inputs:
            units.check_weight(model_units, None, getattr(p, "weight_dims", None), repr(p))
        self._steps = [self._step(s) for s in self.stimuli]
        self._streams = self._make_streams(self.sources, seed)
        self.revision = 0         # counts changes of weights and parameters (tapes record it)
        self._stored = {}         # name -> State, see store()
        self.current = self._start(initial_phase, initial_state, seed)

    def _require_memory(self, model, rows=None, sub=None):
        """ModelError unless the state and a run's arrays fit in the available memory: a
        model with d state variables about 8 (12 + 3 d) bytes per neuron; a 1-D model 24 (the
        phases 8, the heap 16; at the run's end the next phases take the heap's place when
        memory is short), with per-neuron parameters 16 per column more (the table and the
        run's copy), with refractory or subthreshold neurons 40 more (refractory ends,
        states). Called before the parameter table is made (as if shared) and after, with
        its rows and the subthreshold mask."""
        variables = getattr(model, "variables", None)   # (a LinearModel's or ModelSet's)
        if variables is not None:
            per_neuron = 8 * (12 + 3 * len(variables))
        else:
            rows = np.zeros((1, 0)) if rows is None else rows
            per_neuron = 24 + (16 * rows.shape[1] if rows.shape[0] > 1 else 0) + (
                40 if sub is not None or np.any(rows[:, -2:-1] > 0) else 0)
        memory.require(self.n * per_neuron, f"a network of {self.n:,} neurons",
                       lambda free: f"at most about {free // per_neuron:,} neurons fit")

    def _make_streams(self, sources, seed):
        """The input streams of `sources` and the inputs (sparseprop.sources.streams)."""
        if self.shard is None:
            return streams(self.n, sources, self.poisson_inputs, self.populations, seed,
                           self._steps)
        shard = self.shard
        return streams(shard.total, sources, self.poisson_inputs, shard.populations, seed,
                       self._steps, local=(shard.lo, shard.hi))

    def _uniform(self, seed):
        """Each neuron's uniform number in [0, 1) of the initial state drawn from `seed` (a
        shard: its part of the whole network's)."""
        if self.shard is None:
            return np.random.default_rng(seed).uniform(0.0, 1.0, self.n)
        return np.random.default_rng(seed).uniform(0.0, 1.0, self.shard.total)[
            self.shard.lo:self.shard.hi]

    def _step(self, stimulus):
        """A Stimulus as sparseprop.sources.streams takes it: (neurons, port, times, values
        of shape (times, neurons)); ModelError for a target neuron whose model lacks the
        parameter."""
        shard = self.shard   # (a shard: the target neurons among its own, numbered locally)
        lo, hi, total = (shard.lo, shard.hi, shard.total) if shard else (0, self.n, self.n)
        populations = self.populations if shard is None else shard.populations
        block = populations[stimulus.target] if stimulus.target is not None else slice(
            0, total)
        a, b = max(lo, block.start), min(hi, block.stop)
        neurons = np.arange(a - lo, max(a, b) - lo, dtype=np.int64)
        changes = stimulus.times.size * neurons.size   # 8 bytes each of time, neuron, value
        memory.require(48 * changes, f"{stimulus!r}: {changes:,} changes (times x neurons)",
                       lambda free: f"at most about {free // 48:,} fit: give fewer times or "
                                    f"target neurons")
        p, port = stimulus.parameter, PORT.format(stimulus.parameter)
        if self.mixed:
            which = self.model_index[neurons]
            index = 1 + self.model.port_names.index(port)
            lacking = np.flatnonzero(~self.model.accepts()[which, index])
            if lacking.size:
                k = int(neurons[lacking[0]])
                raise ModelError(f"{stimulus!r}: neuron {k} is a "
                                 f"{self.model.models[which[lacking[0]]].name} neuron, whose "
                                 f"model has no parameter '{p}'")
        else:
            index = self.model.ports.index(port)
        values = stimulus.values_for(self.model, block.stop - block.start)
        return neurons, index, stimulus.times, values[:, a - block.start:max(a, b) - block.start]

    def _check_table(self, csr):
        senders = self.n + self.n_sources
        if self.shard is not None:   # (rows of the other processes' neurons too)
            senders = self.shard.total + self.n_sources
        if not (csr.n == senders and csr.n_post == self.n):
            raise ModelError(f"the connectivity connects {csr.n} to {csr.n_post} neurons; the "
                             f"network has {self.n} neurons" + (
                                 f" and {self.n_sources} sources, so it needs {senders} rows "
                                 f"(neurons, then sources) into {self.n} neurons"
                                 if self.n_sources else ""))
        ports = getattr(self.model, "ports", ("pre",))
        if csr.ports is not None and int(csr.ports.max()) >= len(ports):
            s = int(np.argmax(csr.ports >= len(ports)))
            raise ModelError(f"synapse {s} uses input port {int(csr.ports[s])}, but "
                             f"{self.model.name} has {len(ports)} port(s) "
                             f"({', '.join(ports)}: indices 0..{len(ports) - 1})")
        if self.mixed and csr.ports is not None:   # each target's model must have the port
            which = self.model_index[csr.indices]
            wrong = np.flatnonzero(~self.model.accepts()[which, csr.ports])
            if wrong.size:
                s = int(wrong[0])
                member = self.model.models[which[s]]
                raise ModelError(f"synapse {s} goes to input port "
                                 f"'{self.model.ports[csr.ports[s]]}' of neuron "
                                 f"{int(csr.indices[s])}, a {member.name} neuron, whose ports "
                                 f"are {', '.join(member.ports)}")

    def _start(self, initial_phase, initial_state, seed, t=0.0):
        """The state at time t: phases or states from initial_phase / initial_state, nothing
        in flight, every input stream at its first event."""
        from .engine.inputs import inputs_start
        if initial_state is not None and initial_phase is not None:
            raise ModelError("give initial_phase or initial_state, not both")
        if self.linear:
            phase, sub_state = np.zeros(self.n), self._with_driven(
                self._linear_state(initial_phase, initial_state, seed), initial_state, t)
        elif initial_state is not None:
            phase, sub_state = self._from_state_values(initial_state)
        else:
            phase, sub_state = self._initial_state(initial_phase, seed)
        constant = self._streams
        inputs = inputs_of(constant, constant.next, constant.who, constant.ptr, constant.rng)
        inputs_start(inputs, t)    # every stream's first event at or after t
        return State(t=float(t), phase=phase, sub_state=sub_state,
                     t_free=no_refractory(self.n), queue=no_entries(), emitted=0,
                     next_input=inputs.next, input_who=inputs.who, input_ptr=inputs.ptr,
                     input_rng=inputs.rng)

    def _linear_state(self, initial_phase, values, seed):
        """The (n, variables) states of a linear model's neurons: from values ({variable: number
        or n values}, the others 0, as Brian2), or by default ("uniform") every variable 0 but
        the first clamped one the threshold tests (v), uniform between its reset value and the
        threshold (from `seed`; LinearModel.uniform_state)."""
        names = self.model.variables
        values = units.state_values(self.model, values)
        x = np.zeros((self.n, len(names)))
        if values is None:
            if initial_phase is not None and not (isinstance(initial_phase, str)
                                                  and initial_phase == "uniform"):
                raise ModelError(f"{self.model.name} has several state variables and no phase; "
                                 f"give initial_state={{'{names[0]}': ...}} instead of "
                                 f"initial_phase")
            u = self._uniform(seed)
            P = np.broadcast_to(self._table, (self.n, self._table.shape[1]))
            return self.model.uniform_state(
                {p: P[:, c] for c, p in enumerate(self.kernels.parameter_names)}, u)
        if not isinstance(values, dict) or not values or not set(values) <= set(names):
            raise ModelError(f"initial_state must be a dict {{variable: number or {self.n} "
                             f"values}} with variables among {', '.join(names)} (the others "
                             f"start at 0); got {values!r:.60}")
        for name, value in values.items():
            try:
                v = np.array(value, dtype=np.float64)
            except (TypeError, ValueError):
                raise ModelError(f"initial_state['{name}'] must be a number or {self.n} "
                                 f"numbers") from None
            if v.shape not in ((), (self.n,)) or not np.all(np.isfinite(v)):
                raise ModelError(f"initial_state['{name}'] has shape {v.shape} or non-finite "
                                 f"values; give a finite number or {self.n} finite numbers")
            x[:, names.index(name)] = v
        return x

    def _with_driven(self, x, values, t):
        """State rows x with each driven parameter's column at its value at time t (before
        any change at t): its last change before t, or its value before any change; unless
        `values` (initial_state) gives it."""
        given = set(values) if isinstance(values, dict) else set()
        for p, start in self._driven_start.items():
            if p not in given:   # (in a network of several models: the neurons it drives)
                rows = self.model.accepts()[self.model_index, 1 + self.model.port_names.index(
                    PORT.format(p))] if self.mixed else slice(None)
                x[rows, self.model.variables.index(p)] = np.broadcast_to(start, (self.n,))[rows]
        for s, (neurons, _, times, table) in zip(self.stimuli, self._steps):
            k = int(np.searchsorted(times, t, side="left")) - 1
            if s.parameter not in given and k >= 0:
                x[neurons, self.model.variables.index(s.parameter)] = table[k]
        return x

    def _check_state(self, state):
        """ModelError unless `state` (net.current, perhaps replaced or changed by hand) has the
        shapes and types this network's engines need."""
        def bad(what):
            return ModelError(f"net.current is not a state of this network ({what}); set it "
                              f"with set_state(...) or restore(...), not by hand")
        if not isinstance(state, State):
            raise bad(f"a {type(state).__name__}, not a sparseprop.engine.state.State")
        if isinstance(state.t, bool) or not isinstance(state.t, numbers.Real) \
                or not math.isfinite(state.t):
            raise bad(f"t = {state.t!r:.40}")
        n, streams = (self.n,), self._streams.kind.shape
        arrays = [("phase", state.phase, n, "f"), ("t_free", state.t_free, n, "f"),
                  ("next_input", state.next_input, streams, "f"),
                  ("input_who", state.input_who, streams, "i"),
                  ("input_ptr", state.input_ptr, streams, "i"),
                  ("input_rng", state.input_rng, streams, "u")]
        if self._sub is not None:
            arrays.append(("sub_state", state.sub_state, n, "f"))
        q = state.queue
        if not (isinstance(q, tuple) and len(q) == 5):
            raise bad("queue is not the entries of a queue")
        arrays += [(f"queue.{name}", field, q.time.shape if isinstance(q.time, np.ndarray)
                    else None, "f" if name in ("time", "sent") else "i")
                   for name, field in zip(("time", "seq", "syn", "sender", "sent"), q)]
        for name, array, shape, kind in arrays:
            if not (isinstance(array, np.ndarray) and array.shape == shape
                    and array.dtype.kind == kind and array.ndim == 1):
                raise bad(f"{name} must be a 1-D array of shape {shape}, kind {kind!r}")
        if q.time.size and (q.syn.min() < 0 or q.syn.max() >= self.csr.nnz
                            or not np.all(np.isfinite(q.time))):
            raise bad("queue entries outside the synapse table")
        if not np.all(np.isfinite(state.phase)):
            raise bad("phases must be finite")
        if self.linear:
            shape = (self.n, len(self.model.variables))
            x = state.sub_state
            if not (isinstance(x, np.ndarray) and x.shape == shape and x.dtype.kind == "f"
                    and np.all(np.isfinite(x))):
                raise bad(f"sub_state must be a finite float array of shape {shape}")

    def inputs(self, state):
        """The loops' input streams at `state` (sparseprop.engine.inputs.Inputs, copies)."""
        return inputs_of(self._streams, state.next_input, state.input_who, state.input_ptr,
                         state.input_rng)

    def sender_name(self, j):
        """'neuron j' or 'source k of <name>' for sender j of the synapse table (a shard's:
        neurons by their number in the whole network)."""
        if j < self.n:
            return f"neuron {j + (self.shard.lo if self.shard is not None else 0)}"
        k = j - self.n
        for s in self.sources:
            if k < s.n:
                return f"source {k} of '{s.name}'"
            k -= s.n
        if self.shard is not None:
            return f"neuron {int(global_senders(self.shard, self.n_sources, [j])[0])}"
        return f"sender {j}"

    def _parameter_rows(self, values):
        """The engines' rows: parameters, refractory period, then the period (inf for a neuron
        that does not fire on its own); one shared row or one per neuron. Also returns the mask
        of subthreshold neurons (or None when there is none)."""
        if not isinstance(values, dict):
            raise ModelError("parameters must be a dict of name -> number or array of n values")
        values = units.parameter_values(self.model, values)
        names = self.kernels.parameter_names + (REFRACTORY,)
        unknown = [k for k in values if k not in names]
        if unknown:
            driven_by = [s for s in self.stimuli if s.parameter == unknown[0]]
            raise ModelError(f"'{unknown[0]}' is not a parameter of {self.model.name}; its "
                             f"parameters are {', '.join(names)}" + (
                                 f" ({driven_by[0]!r} drives it: it is a state variable of "
                                 f"this network, set with set_state(state=...))"
                                 if driven_by else ""))
        current = self._table[:, :-1] if hasattr(self, "_table") else np.append(
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
        if self.mixed:   # column 0: each neuron's model, an index into model.models
            which = np.ravel(columns[0])
            bad = np.flatnonzero((which != np.round(which)) | (which < 0)
                                 | (which >= len(self.model.models)))
            if bad.size:
                raise ModelError(f"parameter 'model' = {float(which[bad[0]])!r}" + (
                    f" for neuron {int(bad[0])}" if columns[0].ndim else "") + ": a neuron's "
                    f"model is an index into {self.model!r}, an integer in [0, "
                    f"{len(self.model.models)})")
        if np.any(columns[-1] < 0):
            k = int(np.argmax(np.ravel(columns[-1]) < 0))
            raise ModelError(f"refractory = {float(np.ravel(columns[-1])[k])!r}" + (
                f" for neuron {k}" if columns[-1].ndim else "") + ": the refractory period must "
                "be a number of ms >= 0")
        rows = self.n if any(c.ndim for c in columns) else 1   # any array: one row per neuron
        P = np.empty((rows, len(names)))
        for c, column in enumerate(columns):
            P[:, c] = column if rows > 1 else column.flat[0]
        if self.linear:   # keyed by their next crossing: no period ("inf")
            unique, first = np.unique(P[:, :-1], axis=0, return_index=True)
            for row, k in zip(unique, first):
                problem = self.kernels.check(params=row)
                if problem is not None:
                    values = ", ".join(f"{name}={row[c]:g}" for c, name in enumerate(names[:-1]))
                    raise ModelError(f"{'neuron ' + str(k) + ' ' if rows > 1 else ''}({values}): "
                                     f"the flow of {self.model.name} fails its check there "
                                     f"({problem}); give values that keep the equations "
                                     f"finite (a time constant: a positive number of ms)")
            return np.ascontiguousarray(np.column_stack([P, np.full(rows, np.inf)])), None
        if rows == 1:
            self.kernels.params_with(**dict(zip(names[:-1], P[0, :-1])))   # numeric maps: fixed
        elif self.kernels.numeric_values is not None:
            raise ModelError(f"{self.model.name} has a numeric phase map, built for one set of "
                             f"parameter values; per-neuron values are not supported")
        unique, first, inverse = np.unique(P[:, :-1], axis=0, return_index=True,
                                           return_inverse=True)
        T = np.empty(unique.shape[0])   # compiled; the rows it leaves NaN, or whose signs
        self.kernels.jit.periods_of(np.ascontiguousarray(unique), T)   # differ, in Python
        for j in np.flatnonzero(np.isnan(T) | self.kernels.check_signs(unique)):
            T[j] = self._period_or_inf(unique[j], rows > 1 and int(first[j]))
        T = T[inverse.ravel()]
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
        self._table, self._sub = rows, sub

    @property
    def table(self):
        """The engines' parameter table, read-only (change it with set_parameters): one shared
        row, or one row per neuron, columns named by `table_columns`."""
        view = self._table.view()
        view.flags.writeable = False
        return view

    @property
    def table_columns(self):
        """The names of the columns of `table`, the engines' parameter table (one shared row,
        or one row per neuron): the model parameters, "refractory", then "period" (inf for a
        neuron that does not fire on its own)."""
        return self.kernels.parameter_names + (REFRACTORY, "period")

    @property
    def heterogeneous(self):
        """True when parameters differ from neuron to neuron (the time-keyed case)."""
        return self._table.shape[0] > 1

    @property
    def subthreshold(self):
        """Boolean mask of the neurons that do not fire on their own (all False if none)."""
        return self._sub.copy() if self._sub is not None else np.zeros(self.n, dtype=bool)

    @property
    def period(self):
        """The free period: a number, or one per neuron in a heterogeneous network (inf for a
        neuron that does not fire on its own)."""
        return float(self._table[0, -1]) if not self.heterogeneous else self._table[:, -1].copy()

    def _row(self, k):
        return self._table[k if self.heterogeneous else 0]

    def _initial_state(self, initial_phase, seed):
        """Phases (neurons that fire on their own) and states (subthreshold neurons) at t."""
        T = np.broadcast_to(self._table[:, -1], (self.n,))
        sub = self.subthreshold
        if initial_phase is None or (isinstance(initial_phase, str) and initial_phase == "uniform"):
            u = self._uniform(seed)
            if self._sub is None:   # (in place: 8 bytes per neuron)
                u *= T
                return u, None
            phase = np.where(sub, 0.0, u * np.where(sub, 1.0, T))
            state = np.empty(self.n)       # uniform between reset and threshold
            self.kernels.jit.sub_states_of(self._table, u, phase, state)
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
        state = np.empty(self.n)           # time since reset: the state the flow reaches
        self.kernels.jit.sub_states_of(self._table, np.empty(0), phase, state)
        return np.where(sub, 0.0, phase), state

    def _from_state_values(self, values):
        """Phases and subthreshold states from {state name: number or n values}: a neuron that
        fires on its own gets the phase of its value (at or over threshold: phase T, it fires
        at once), a subthreshold neuron keeps the value itself."""
        name = self.model.state
        values = units.state_values(self.model, values)
        if not isinstance(values, dict) or set(values) != {name}:
            raise ModelError(f"initial_state must be a dict {{'{name}': number or {self.n} "
                             f"values}} ({self.model.name}'s state variable is '{name}'); got "
                             f"{values!r:.60}")
        try:
            v = np.array(values[name], dtype=np.float64)
        except (TypeError, ValueError):
            raise ModelError(f"initial_state['{name}'] must be a number or {self.n} numbers") \
                from None
        if v.shape not in ((), (self.n,)) or not np.all(np.isfinite(v)):
            raise ModelError(f"initial_state['{name}'] has shape {v.shape} or non-finite values; "
                             f"give a finite number or {self.n} finite numbers, one per neuron")
        v = np.ascontiguousarray(np.broadcast_to(v, (self.n,)))
        phase = np.empty(self.n)
        k = self.kernels.jit.phases_of(self._table, v, phase)
        if k >= 0:
            row, jit = self._row(k), self.kernels.jit
            p = jit.phase(v[k], row)
            raise ModelError(f"initial_state['{name}'][{k}] = {v[k]:g} is outside the states "
                             f"{self.model.name} can be in (its phase is {p}); give values the "
                             f"phase map covers, e.g. between reset and threshold")
        if self._sub is None:
            return phase, None
        return phase, np.where(self._sub, v, np.nan)

    # ------------------------------------------------------------------------- the state

    @property
    def t(self):
        """The current time, ms."""
        return self.current.t

    @property
    def phase(self):
        """Every neuron's phase now (time since reset; 0 for a subthreshold neuron; NaN for a
        linear model's neurons, which have no phase: see `state`)."""
        return np.full(self.n, np.nan) if self.linear else self.current.phase

    @phase.setter
    def phase(self, phase):
        """Set the phases of the neurons that fire on their own (in [0, T)); everything else
        in the state (subthreshold states, refractory periods, spikes in flight) stays."""
        if self.linear:
            raise ModelError(f"{self.model.name} has several state variables and no phase; set "
                             f"its state with set_state(state={{...}})")
        phase, _ = self._initial_state(phase, None)
        self.current.phase = np.where(self.subthreshold, self.current.phase, phase)

    @property
    def sub_state(self):
        """The state variable of subthreshold neurons (NaN for the others), or None."""
        return self.current.sub_state

    @property
    def t_free(self):
        """The end of each neuron's refractory period (-inf: none under way), ms."""
        return self.current.t_free

    @property
    def timed(self):
        """The engines need refractory ends: some neuron is refractory or subthreshold."""
        return self._sub is not None or bool(np.any(self._table[:, -2] > 0))

    @property
    def has_subthreshold(self):
        """Some neuron does not fire on its own."""
        return self._sub is not None

    @property
    def model_index(self):
        """A network of several models: each neuron's model (index into model.models)."""
        if not self.mixed:
            raise ModelError(f"this network has one model ({self.model.name}); model_index is "
                             f"for networks of several models")
        column = self._table[:, 0].astype(np.int64)
        return np.broadcast_to(column, (self.n,)) if column.size == 1 else column

    @property
    def state(self):
        """The state variable of every neuron at the current time (reset while refractory); for
        a LinearModel a dict variable -> n values (several models: NaN where a neuron's model
        lacks the variable)."""
        if self.linear:
            x = self.current.sub_state.copy()
            if self.mixed:
                x[~self.model.has_variable(self.model_index)] = np.nan
            return {v: x[:, k].copy() for k, v in enumerate(self.model.variables)}
        now, out = self.current, np.empty(self.n)
        refractory = now.t_free.strides != (0,)   # (else the zero-stride no_refractory view)
        self.kernels.jit.states_of(self._table, now.phase, now.sub_state if self._sub is not None
                                   else out, now.t_free if refractory else out[:0], now.t, out)
        return out

    def synapses(self):
        """(pre, post, weight) arrays, one entry per synapse, in the engine's (CSR) order; pre
        counts neurons 0..n-1, then sources n, n+1, ..."""
        return self.csr.synapses()

    def delays(self):
        """The delay of every synapse (ms), in the order of `synapses()`."""
        return self.csr.delay_array()

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
        csr = self.csr
        self.csr = CSR(csr.n, csr.indptr, csr.indices, weights, n_post=csr.n_post,
                       delays=csr.delays, delay=csr.delay, ports=csr.ports)
        self.revision += 1

    def set_delays(self, delays):
        """Give every synapse its own delay (ms, an array in the order of `synapses()`). The
        table keeps its order, so the delays must not decrease within a row (the engine walks
        each row from shorter to longer delays), else ModelError; build a new network for
        delays in another order."""
        from .connectivity import CSR
        csr = self.csr
        table = CSR(csr.n, csr.indptr, csr.indices, csr.weights, weight=csr.weight,
                    n_post=csr.n_post, delays=delays, ports=csr.ports)   # checks, sorts rows
        given = np.asarray(delays, dtype=np.float64)
        if not np.array_equal(table.delays, given):
            s = int(np.argmax(table.delays != given))
            raise ModelError(f"these delays decrease within a row (first at synapse {s}): rows "
                             f"are kept sorted by delay, so they would reorder the synapses; "
                             f"build a new network for them")
        self.csr = table
        self.revision += 1

    def set_table(self, csr):
        """Replace the synapse table by `csr` (a sparseprop.connectivity.CSR between the same
        neurons and sources): e.g. one whose rows are sorted again after its delays changed,
        which reorders its synapses (set_delays keeps the order). Spikes in flight name
        synapses by position, so neither the current state nor a stored one may have any."""
        from .connectivity import CSR
        if not isinstance(csr, CSR):
            raise ModelError(f"set_table needs a sparseprop.connectivity.CSR, got "
                             f"{type(csr).__name__}")
        for name, state in [("current", self.current), *self._stored.items()]:
            if state.queue.time.size:
                raise ModelError(f"the {name} state has {state.queue.time.size} spikes in "
                                 f"flight, which name synapses by position: replace the table "
                                 f"from a state with none (e.g. before any run)")
        self._check_table(csr.validate())
        self.csr = csr
        self.revision += 1

    def set_parameters(self, **values):
        """Change model parameter values, each a number or n values (no recompilation: they are
        kernel arguments). A numeric phase map is built for fixed values: changing them raises
        ModelError."""
        self._set_rows(values)
        self.revision += 1

    def set_spikes(self, name, indices, times):
        """Give SpikeSource `name` new spikes (as Brian2's SpikeGeneratorGroup.set_spikes):
        from the current time on it emits those at or after it, in the current state and in
        every stored one (a stored state at an earlier time emits them from its own time).
        The other streams go on unchanged. Tapes recorded before are refused by backward."""
        from .sources import SpikeSource
        k = next((k for k, s in enumerate(self.sources) if getattr(s, "name", None) == name),
                 None)
        if k is None or not isinstance(self.sources[k], SpikeSource):
            lists = [s.name for s in self.sources if isinstance(s, SpikeSource)]
            raise ModelError(f"set_spikes: {name!r:.40} is not a SpikeSource of this network; "
                             f"its SpikeSources: {', '.join(lists) or 'none'}")
        new = SpikeSource(name, self.sources[k].n, indices, times)   # (checked)
        sources = list(self.sources)
        sources[k] = new
        old = self._streams
        fresh = self._make_streams(sources, 0)
        fresh = fresh._replace(rng=old.rng)          # (the random streams' seeds, as before)
        for state in [self.current, *self._stored.values()]:
            _move_lists(state, old, fresh, k)
        self.sources, self._streams = sources, fresh
        self.revision += 1

    @property
    def parameters(self):
        """Current model parameter values, name -> number (or array of n, per neuron)."""
        names = self.kernels.parameter_names
        if not self.heterogeneous:
            return dict(zip(names, self._table[0, :-2].tolist()))
        return {name: self._table[:, c].copy() for c, name in enumerate(names)}

    @property
    def refractory(self):
        """The refractory period, ms: a number, or one per neuron in a heterogeneous network."""
        return float(self._table[0, -2]) if not self.heterogeneous else self._table[:, -2].copy()

    def set_state(self, phase=None, t=0.0, state=None):
        """Set every neuron's phase (time since reset, in [0, T); for a subthreshold neuron any
        time >= 0 since reset), or its state variable (state={"v": ...}, as initial_state),
        and the current time; no neuron is refractory afterwards, nothing is in flight, and
        every input stream goes to its first event at or after t."""
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or not math.isfinite(t):
            raise ModelError(f"t = {t!r}: the current time must be a finite number of ms")
        if phase is None and state is None:
            raise ModelError("give phase (n phases) or state ({state name: values})")
        self.current = self._start(phase, state, None, t=float(t))

    def save(self, path):
        """Write the whole network (model equations, parameters, synapses, populations,
        sources, the current and stored states) to an .npz file; sparseprop.load_network
        reads it back and continues with the same spikes (sparseprop.storage)."""
        from .storage import save_network
        if self.shard is not None:
            raise ModelError("this network is one process's part of a distributed network, "
                             "which cannot be saved as a network; save its results "
                             "(result.save) or build the network in one process to save it")
        return save_network(self, path)

    def store(self, name="default"):
        """Remember the current state under `name` (as Brian2's Network.store): the time, the
        phases, the subthreshold neurons' states, the refractory periods under way, the spikes
        in flight and the input streams. Weights and parameters are not part of it."""
        self._stored[_state_name(name)] = self.current.copy()

    def restore(self, name="default"):
        """Go back to the state stored under `name` by store()."""
        if _state_name(name) not in self._stored:
            raise ModelError(f"no state stored under {name!r}; stored: "
                             f"{', '.join(map(repr, self._stored)) or 'none'} (call store first)")
        self.current = self._stored[name].copy()

    def forget(self, name="default"):
        """Drop the state stored under `name` (nothing happens if there is none)."""
        self._stored.pop(_state_name(name), None)

    def run(self, duration=None, max_spikes=None, engine="auto", progress=None,
            record_tape=False, record=None):
        """Simulate from the current state for `duration` ms and/or until `max_spikes` spikes
        (neurons' and sources').

        engine: "sparse" (SparseProp, O(K log N) per spike: each neuron keyed by the time it next
        reaches threshold; with shared parameters this is the phase engine of DESIGN.md 3.2,
        with per-neuron parameters the time-keyed engine of 3.3; spikes in flight and inputs
        from a queue beside it, 3.6), "reference" (conventional O(N) loop) or "auto" (the
        sparse engine; the logger `sparseprop` says which case).
        progress: print a progress line to stderr on runs longer than a few seconds (default:
        when stderr is a terminal). record_tape: keep what the reverse sweep needs (every
        input's target phase before its jump, 8 bytes per synaptic event, and 24 bytes per
        group of inputs; for a model with d state variables, the target's state row before
        each input and each spike, 8 (d + 2) bytes) so that `result.backward(...)` gives
        gradients. record: a state monitor, {variable: neurons, ..., "dt": ms} (samples at
        the run's start and every dt before its end) or {variable: neurons, ..., "times":
        increasing ms}, neurons as indices, a slice, a population name or True (all); each
        sample is the exact state after every event at its time, O(recorded neurons) per
        sample (sparseprop.monitor); result.state[variable] holds (neurons x times), with
        result.state_times and result.state_neurons. A second run continues from the first,
        spikes in flight included. Returns a Result.
        """
        if duration is not None:
            duration = units.time(duration, "duration")
        check_run_arguments(duration, max_spikes, engine)
        for flag, value in (("progress", progress), ("record_tape", record_tape)):
            if not (value is None and flag == "progress" or isinstance(value, (bool, np.bool_))):
                raise ModelError(f"{flag} = {value!r:.60}: give True or False" + (
                    " (or None: when stderr is a terminal)" if flag == "progress" else ""))
        if self.populations is not None:   # set by hand? checked before the run, not after
            self.populations = _check_populations(self.populations, self.n)
        self._check_table(self.csr.validate())
        self._check_state(self.current)
        progress = sys.stderr.isatty() if progress is None else bool(progress)
        t_stop = self.t + duration if duration is not None else math.inf
        budget = max_spikes if max_spikes is not None else math.inf
        if engine == "auto":
            engine = "sparse"
            if log.isEnabledFor(logging.INFO):   # (the longest delay: a pass over the delays)
                log.info("engine auto: sparse, %s%s%s%s", "time-keyed (per-neuron parameters)"
                         if self.heterogeneous else "phase (one period for all neurons)",
                         ", subthreshold neurons by their flow" if self._sub is not None else "",
                         ", refractory periods" if np.any(self._table[:, -2] > 0) else "",
                         ", delays" if self.csr.max_delay > 0 else "")
        monitor = Monitor(self, record, self.t, t_stop) if record is not None else None
        start = self.current
        run = Run(self, start, engine, t_stop, budget, bool(record_tape))
        senders, times, compile_time, wall, interrupted, pieces = run.go(progress, monitor)
        neurons = senders < self.n
        last = times[-1] if times.size else self.t
        if interrupted:   # where the loop stands: its last event (a spike or a delivery)
            t_end = max(run.now(), last)
        elif math.isfinite(t_stop) and senders.size < budget:
            t_end = t_stop
        else:             # max_spikes: the loop stopped right after its last spike
            t_end = last
        at_last_spike = times.size > 0 and t_end == last and not (
            math.isfinite(t_stop) and senders.size < budget and not interrupted)
        end = run.finish(t_end)
        phase = self.final_phase(end)
        result = Result(senders[neurons], times[neurons], self.n, self.t, t_end, phase, engine,
                        wall, populations=dict(self.populations) if self.populations else None)
        result.source_i = (senders[~neurons] - self.n).astype(np.int32)
        result.source_t = times[~neurons]
        result.sources = self.source_slices() or None
        result.compile_time = compile_time
        if monitor is not None:
            result.state, result.state_times = monitor.traces()
            result.state_neurons = {v: w.copy() for v, w in monitor.neurons.items()}
        if record_tape:
            result.tape = Tape(self, start, senders, pieces, ended_at_last_spike=at_last_spike)
        self.current = end
        if interrupted:
            raise Interrupted(result)
        return result

    def final_phase(self, state):
        """Every neuron's phase at `state` (NaN for a neuron that has none: a subthreshold
        neuron, or any neuron of a model with several state variables)."""
        if self._sub is not None:
            return np.where(self.subthreshold, np.nan, state.phase)
        return np.full(self.n, np.nan) if self.linear else state.phase

    def source_slices(self):
        """name -> slice of source indices (0-based among the sources, in order)."""
        slices, start = {}, 0
        for s in self.sources:
            slices[s.name] = slice(start, start + s.n)
            start += s.n
        return slices

    def backward(self, result, dloss_dt, dloss_dphase=None):
        """Gradients of a loss of a recorded run of this network; see Result.backward."""
        from .gradients import backward
        return backward(self, result, dloss_dt, dloss_dphase)


def _move_lists(state, old, new, changed):
    """A state's list positions from the streams `old` to `new` (sparseprop.sources'
    streams): the same position within each list (spikes, stimuli); stream `changed` (a new
    list of spikes) at its first spike at or after the state's time."""
    from .engine.inputs import LIST, STEP
    for s in range(new.kind.size):
        if new.kind[s] not in (LIST, STEP):
            continue
        if s != changed:
            state.input_ptr[s] += new.ptr[s] - old.ptr[s]
            continue
        at = new.ptr[s] + int(np.searchsorted(new.list_t[new.ptr[s]:new.end[s]], state.t,
                                              side="left"))
        state.input_ptr[s] = at
        if at < new.end[s]:
            state.next_input[s], state.input_who[s] = new.list_t[at], new.list_i[at]
        else:
            state.next_input[s], state.input_who[s] = np.inf, -1


def load_network(path):
    """The Network saved by `net.save(path)`, in the saved state (sparseprop.storage); a
    ModelError for a file that is not one, is damaged, or was written by a newer format."""
    from .storage import load_parts
    kwargs, restore = load_parts(path)
    try:
        net = Network(**kwargs)
    except ModelError as exc:
        raise ModelError(f"the network file {path} is inconsistent: {exc}") from None
    return restore(net)
