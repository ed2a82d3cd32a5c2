"""Exact gradients of a loss of spike times by a reverse sweep over a recorded run (DESIGN 3.5)."""
import hashlib
from dataclasses import dataclass

import numpy as np

from .connectivity import _plain, _real_array
from .errors import ModelError


class Tape:
    """What a recorded run keeps for the reverse sweep: every target's phase before each jump
    (in firing order, 8 bytes per synaptic event), beside the result's spikes (12 bytes each).
    It also notes what it belongs to: the network, its revision and synapse table, and a digest
    of its result's spikes (`bind`), so that a backward sweep over anything else is refused."""

    def __init__(self, network, pre_phase, start_phase, ended_at_last_spike):
        self.network = network
        self.revision = network.revision
        self.csr = network.csr
        self.pre_phase = pre_phase
        self.start_phase = start_phase
        self.ended_at_last_spike = ended_at_last_spike
        self.spikes = None

    def bind(self, i, t):
        """Note the spikes (i, t) this tape was recorded with (once: its first result's)."""
        if self.spikes is None:
            self.spikes = _digest(i, t)

    @property
    def nbytes(self):
        """Memory of the tape proper (pre-jump phases), bytes."""
        return self.pre_phase.nbytes


@dataclass
class Gradients:
    """dL/d(everything trainable) of one recorded run.

    weight: one value per synapse, in the order of `network.synapses()`;
    initial_phase: one value per neuron (the phases at the start of the run);
    parameters: model parameter name -> number (shared parameters) or array of n (per-neuron)."""
    weight: np.ndarray
    initial_phase: np.ndarray
    parameters: dict


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
    if int(csr.out_degree()[i].sum()) != tape.pre_phase.size:
        raise ModelError("the tape does not belong to these spikes (its length does not match)")
    dloss_dt = _array(dloss_dt, t.shape, "dloss_dt")
    P = network._PT[:, :-2]                     # the model parameters (not refractory, period)
    dT = np.empty_like(P)                       # d period / d parameters, rows like P
    for r in range(P.shape[0]):
        network.kernels.jit.dperiod_dparams(P[r], dT[r])
    dT[~np.isfinite(network._PT[:, -1])] = 0.0   # subthreshold rows: no period, no reset term
    rows = np.arange(network.n) if P.shape[0] > 1 else np.zeros(network.n, dtype=int)
    adjoint = np.zeros(network.n)
    grad = np.zeros_like(P)
    if dloss_dphase is not None:  # final phase = T - key + t_end
        dphase = _array(dloss_dphase, (network.n,), "dloss_dphase")
        dphase[network.subthreshold] = 0.0   # no phase: their final state moves no spike time
        adjoint -= dphase
        np.add.at(grad, rows, dphase[:, None] * dT[rows])
        if tape.ended_at_last_spike and dloss_dt.size:
            dloss_dt[-1] += dphase.sum()
    grad_weight = np.zeros(csr.nnz)
    weights = csr.weights if csr.weights is not None else np.empty(0)
    weight = csr.weight if csr.weights is None else 0.0
    network.kernels.jit.run_backward(network._PT, dT, i, dloss_dt, tape.pre_phase,
                                     csr.indptr, csr.indices, weights, weight, adjoint,
                                     grad_weight, grad)
    np.add.at(grad, rows, adjoint[:, None] * dT[rows])   # initial key = t0 + T - initial phase
    names = network.kernels.parameter_names
    parameters = {name: (grad[:, c].copy() if P.shape[0] > 1 else float(grad[0, c]))
                  for c, name in enumerate(names)}
    return Gradients(weight=grad_weight, initial_phase=-adjoint, parameters=parameters)


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
