"""Exact gradients of a loss of spike times by a reverse sweep over a recorded run (DESIGN 3.5)."""
import hashlib
from dataclasses import dataclass

import numpy as np

from .connectivity import _plain, _real_array
from .engine.synapses import synapses
from .engine.inputs import DRIVE, STEP
from .errors import ModelError


class Tape:
    """What a recorded run keeps for the reverse sweep: every input's target phase before its
    jump (8 bytes per synaptic event) in order of delivery, one mark per group of inputs
    delivered together (24 bytes: the spike that sent it, its first synapse, the spikes before
    it), and the run's senders in emission order (4 bytes per spike, sources included). For a
    linear model with d state variables, `entries` holds rows instead of phases: the target's
    state before each input, and the spiker's before each spike (d + 2 values: its variables,
    the time since they were set, its refractory end since then).
    It also notes what it belongs to: the network, its revision and synapse table, the state
    the run started from, and a digest of its result's spikes (`bind`), so that a backward
    sweep over anything else is refused."""

    def __init__(self, network, start, senders, pieces, ended_at_last_spike):
        self.network = network
        self.revision = network.revision
        self.csr = network.csr
        width = len(network.model.variables) + 2 if network.linear else None
        self.entries = np.concatenate([p[0] for p in pieces]) if pieces else np.empty(
            (0, width) if width else 0)
        self.marks = (np.concatenate([p[1] for p in pieces]) if pieces
                      else np.empty((0, 3), np.int64))
        self.senders = np.ascontiguousarray(senders, dtype=np.int32)
        self.first = start.emitted
        self.start_phase = start.phase.copy()
        self.ended_at_last_spike = ended_at_last_spike
        self.spikes = None

    def bind(self, i, t):
        """Note the spikes (i, t) this tape was recorded with (once: its first result's)."""
        if self.spikes is None:
            self.spikes = _digest(i, t)

    @property
    def nbytes(self):
        """Memory of the tape proper (entries, marks and senders), bytes."""
        return self.entries.nbytes + self.marks.nbytes + self.senders.nbytes


@dataclass
class Gradients:
    """dL/d(everything trainable) of one recorded run.

    weight: one value per synapse, in the order of `network.synapses()`;
    delay: one value per synapse (dL/d delay, ms^-1 units of L);
    initial_phase: one value per neuron (the phases at the start of the run; NaN for a
        linear model's neurons, which have no phase);
    initial_state: one value per neuron, dL/d(state variable at the start) (0 for a
        subthreshold neuron: its state moves no spike time); for a linear model, a dict
        variable name -> one value per neuron;
    parameters: model parameter name -> number (shared parameters) or array of n (per-neuron);
    source_t: one value per source spike of the result (dL/d result.source_t);
    input_weight: one value per PoissonInput of the network (dL/d its weight);
    stimulus: one array per Stimulus of the network (net.stimuli), dL/d its values, shaped
        as they were given (times,) or (times, target neurons)."""
    weight: np.ndarray
    initial_phase: np.ndarray
    parameters: dict
    delay: np.ndarray = None
    initial_state: np.ndarray = None
    source_t: np.ndarray = None
    input_weight: np.ndarray = None
    stimulus: list = None


def _digest(i, t):
    """A digest of spikes (int32 indices, float64 times): O(spikes), about 1 GB/s."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(np.ascontiguousarray(i, dtype=np.int32))
    digest.update(np.ascontiguousarray(t, dtype=np.float64))
    return digest.digest()


def _array(values, shape, what):
    array = _real_array(values, what)
    if array.shape != shape:
        raise ModelError(f"{what} has shape {array.shape}; it must have shape {shape} "
                         f"(one value per {'spike' if 'dt' in what else 'neuron'})")
    if not np.all(np.isfinite(array)):
        raise ModelError(f"{what} contains NaN or infinite values")
    return array


def backward(network, result, dloss_dt, dloss_dphase=None):
    """Gradients of a loss L given dL/dt for every spike of `result` (shape of result.t) and,
    optionally, dL/d(final phase) for every neuron. Exact while the spike order is unchanged.
    A subthreshold neuron fires at the time of the input that pushes it over, so its spike
    time's gradient is that input's; its own parameters and state move no spike time."""
    tape = getattr(result, "tape", None)
    if tape is None:
        raise ModelError("this result has no tape: run with net.run(..., record_tape=True) "
                         "before asking for gradients")
    if not isinstance(tape, Tape):
        raise ModelError(f"result.tape is a {type(tape).__name__}, not a tape recorded by "
                         f"net.run(..., record_tape=True); run again with record_tape=True")
    if tape.network is not network:
        raise ModelError("this result was recorded on another network; call backward on the "
                         "network that ran it (result.backward(...) does)")
    if tape.revision != network.revision or tape.csr is not network.csr:
        raise ModelError("the network's weights or parameters changed since this run was "
                         "recorded; run it again with record_tape=True")
    i, t = _spikes(result, network.n)
    if tape.spikes is not None and _digest(i, t) != tape.spikes:
        raise ModelError("this result's spikes (i, t) are not the ones its tape was recorded "
                         "with (changed by hand, or the tape moved to another result); run "
                         "again with record_tape=True")
    csr = network.csr
    senders = tape.senders
    neurons = senders < network.n
    if np.count_nonzero(neurons) != i.size or not np.array_equal(senders[neurons], i):
        raise ModelError("the tape does not belong to these spikes (its senders do not match)")
    dloss_dt = _array(dloss_dt, t.shape, "dloss_dt")
    if network.linear:
        return _backward_linear(network, tape, neurons, dloss_dt, dloss_dphase)
    table = network.table.copy()             # (a writable copy for the kernels)
    P = table[:, :-2]                           # the model parameters (not refractory, period)
    dT = period_gradients(network, table)
    rows = np.arange(network.n) if P.shape[0] > 1 else np.zeros(network.n, dtype=int)
    adjoint = np.zeros(network.n)
    grad = np.zeros_like(P)
    dt_all = np.zeros(senders.size)             # dL/dt of every spike, sources' 0
    dt_all[neurons] = dloss_dt
    if dloss_dphase is not None:  # final phase = T - key + t_end
        dphase = _array(dloss_dphase, (network.n,), "dloss_dphase")
        dphase[network.subthreshold] = 0.0   # no phase: their final state moves no spike time
        adjoint -= dphase
        np.add.at(grad, rows, dphase[:, None] * dT[rows])
        if tape.ended_at_last_spike and dt_all.size:
            dt_all[-1] += dphase.sum()
    grad_weight, grad_delay = np.zeros(csr.nnz), np.zeros(csr.nnz)
    grad_time = np.zeros(senders.size)
    drive = network.inputs(network.current).weight
    grad_drive = np.zeros(drive.size)
    network.kernels.jit.run_backward(table, dT, senders, dt_all, tape.first, tape.entries,
                                     tape.marks, synapses(csr), drive, adjoint, grad_weight,
                                     grad_delay, grad, grad_time, grad_drive)
    np.add.at(grad, rows, adjoint[:, None] * dT[rows])   # initial key = t0 + T - initial phase
    names = network.kernels.parameter_names
    parameters = {name: (grad[:, c].copy() if P.shape[0] > 1 else float(grad[0, c]))
                  for c, name in enumerate(names)}
    dphase0 = -adjoint
    dstate0 = np.empty(network.n)   # dL/dv0 = dL/dphase0 * dphase/dv at the initial state
    network.kernels.jit.initial_state_grads(table, np.ascontiguousarray(tape.start_phase),
                                            dphase0, dstate0)
    return Gradients(weight=grad_weight, initial_phase=dphase0, parameters=parameters,
                     delay=grad_delay, initial_state=dstate0, source_t=grad_time[~neurons],
                     input_weight=grad_drive[network.inputs(network.current).kind == DRIVE])


def _backward_linear(network, tape, neurons, dloss_dt, dloss_dphase):
    """backward for a linear model (engine_backward_linear.py.j2): the adjoint of every
    neuron's state row carried back through its events."""
    model = network.model
    if dloss_dphase is not None:
        raise ModelError(f"{model.name} has several state variables and no phase: "
                         f"dloss_dphase has no meaning for it; give dloss_dt only")
    check_autapses(network)
    csr = network.csr
    senders = tape.senders
    table = network.table.copy()
    m = table.shape[1] - 2
    d = len(model.variables)
    dt_all = np.zeros(senders.size)
    dt_all[neurons] = dloss_dt
    lam = np.zeros((network.n, d + 2))
    grad = np.zeros((table.shape[0], m))
    grad_weight, grad_delay = np.zeros(csr.nnz), np.zeros(csr.nnz)
    grad_time = np.zeros(senders.size)
    inputs = network._streams    # (the streams' constant fields: kinds, weights, ports, lists)
    grad_drive, grad_step = np.zeros(inputs.kind.size), np.zeros(inputs.list_w.size)
    network.kernels.jit.run_backward_linear(table, senders, dt_all, tape.first, tape.entries,
                                            tape.marks, synapses(csr), inputs, lam, grad_weight,
                                            grad_delay, grad, grad_time, grad_drive, grad_step)
    stimulus = []
    for s, k in zip(network.stimuli, np.flatnonzero(inputs.kind == STEP)):
        per_neuron = grad_step[inputs.ptr[k]:inputs.end[k]].reshape(s.times.size, -1)
        stimulus.append(per_neuron.sum(axis=1) if s.shared else per_neuron.copy())
    names = network.kernels.parameter_names
    parameters = {name: (grad[:, c].copy() if table.shape[0] > 1 else float(grad[0, c]))
                  for c, name in enumerate(names) if not (network.mixed and c == 0)}
    return Gradients(weight=grad_weight, initial_phase=np.full(network.n, np.nan),
                     parameters=parameters, delay=grad_delay,
                     initial_state={v: lam[:, k].copy() for k, v in enumerate(model.variables)},
                     source_t=grad_time[~neurons], input_weight=grad_drive[inputs.kind == DRIVE],
                     stimulus=stimulus)


def period_gradients(network, table):
    """d period / d parameters of a 1-D model, one row per row of `table` (the engines'
    parameter rows); 0 for a subthreshold row (no period, no reset term)."""
    dT = np.empty((table.shape[0], table.shape[1] - 2))
    network.kernels.jit.period_grads(np.ascontiguousarray(table), dT)
    return dT


def check_autapses(network):
    """ModelError for a synapse of a linear model's neuron onto itself with delay 0: its input
    arrives at the instant it fires, where the spike time has no derivative."""
    csr = network.csr
    if csr.n:
        sender = np.repeat(np.arange(csr.indptr.size - 1), np.diff(csr.indptr))
        delay = csr.delays if csr.delays is not None else np.full(csr.nnz, float(csr.delay))
        autapse = np.flatnonzero((csr.indices == sender) & (delay == 0.0))
        if autapse.size:
            j = int(sender[autapse[0]])
            raise ModelError(f"neuron {j} has a synapse onto itself with delay 0: its input "
                             f"arrives at the instant it fires, where the spike time has no "
                             f"derivative; give that synapse a delay > 0 (or remove it) for "
                             f"gradients")


def _spikes(result, n):
    """The result's spikes as (int32 indices in [0, n), float64 times), checked."""
    i = _plain(getattr(result, "i", None), "result.i")
    t = _plain(getattr(result, "t", None), "result.t")
    if i.ndim != 1 or t.shape != i.shape or i.size and (
            i.dtype.kind not in "iu" or t.dtype.kind != "f"):
        raise ModelError(f"result.i and result.t must be 1-D arrays of neuron indices and spike "
                         f"times of equal length; got {i.dtype} {i.shape} and {t.dtype} "
                         f"{t.shape}")
    if i.size and (i.min() < 0 or i.max() >= n):
        raise ModelError(f"result.i holds neuron indices outside [0, n) = [0, {n})")
    return np.ascontiguousarray(i, dtype=np.int32), np.ascontiguousarray(t, dtype=np.float64)
