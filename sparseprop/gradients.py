"""Exact gradients of a loss of spike times by a reverse sweep over a recorded run (DESIGN 3.5)."""
from dataclasses import dataclass

import numpy as np

from .errors import ModelError


class Tape:
    """What a recorded run keeps for the reverse sweep: every target's phase before each jump
    (in firing order, 8 bytes per synaptic event), beside the result's spikes (12 bytes each)."""

    def __init__(self, network, pre_phase, start_phase, ended_at_last_spike):
        self.network = network
        self.revision = network.revision
        self.pre_phase = pre_phase
        self.start_phase = start_phase
        self.ended_at_last_spike = ended_at_last_spike

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


def _array(values, shape, what):
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ModelError(f"{what} must be numbers of shape {shape}") from None
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
    if tape.network is not network:
        raise ModelError("this result was recorded on another network; call backward on the "
                         "network that ran it (result.backward(...) does)")
    if tape.revision != network.revision:
        raise ModelError("the network's weights or parameters changed since this run was "
                         "recorded; run it again with record_tape=True")
    csr = network.csr
    if int(csr.out_degree()[result.i].sum()) != tape.pre_phase.size:
        raise ModelError("the tape does not belong to these spikes (its length does not match)")
    dloss_dt = _array(dloss_dt, result.t.shape, "dloss_dt")
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
    network.kernels.jit.run_backward(network._PT, dT, result.i, dloss_dt, tape.pre_phase,
                                     csr.indptr, csr.indices, weights, weight, adjoint,
                                     grad_weight, grad)
    np.add.at(grad, rows, adjoint[:, None] * dT[rows])   # initial key = t0 + T - initial phase
    names = network.kernels.parameter_names
    parameters = {name: (grad[:, c].copy() if P.shape[0] > 1 else float(grad[0, c]))
                  for c, name in enumerate(names)}
    return Gradients(weight=grad_weight, initial_phase=-adjoint, parameters=parameters)
