"""Training: losses of spike times, Adam, gradient clipping and a fit loop."""
import math
import numbers
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .errors import ModelError


def _kth_spike_times(result, network, neurons, k):
    """Time of the k-th spike (1-based) of each neuron, and where it is missing the predicted
    free-running time t_end + (T - final phase) + (missing - 1) * T, with a flag per neuron."""
    times, positions, missing = np.empty(len(neurons)), np.full(len(neurons), -1), []
    periods = np.broadcast_to(network.period, (network.n,))
    for n, neuron in enumerate(neurons):
        where = np.flatnonzero(result.i == neuron)
        if where.size >= k:
            positions[n] = where[k - 1]
            times[n] = result.t[where[k - 1]]
        else:
            if network.linear:
                raise ModelError(
                    f"neuron {neuron} has no spike {k} in this run, and {network.model.name} "
                    f"(several state variables) has no phase from which to predict one; run "
                    f"longer, or train times of spikes that happen")
            period = periods[neuron]
            if not np.isfinite(period):
                raise ModelError(
                    f"neuron {neuron} does not fire on its own (subthreshold) and has no spike "
                    f"{k} in this run, so it has no predicted spike time to score; run longer, "
                    f"or train times of neurons that fire")
            extra = k - where.size - 1
            times[n] = result.t_end + period - result.final_phase[neuron] + extra * period
            missing.append(int(neuron))
    return times, positions, missing


def _gradients_of_times(result, network, neurons, positions, dtimes):
    """Spread dL/d(time) over dloss_dt (real spikes) and dloss_dphase (predicted ones)."""
    dloss_dt, dloss_dphase = np.zeros(result.n_spikes), np.zeros(network.n)
    for neuron, position, d in zip(neurons, positions, dtimes):
        if position >= 0:
            dloss_dt[position] += d
        else:                                   # predicted time = ... - final phase
            dloss_dphase[neuron] -= d
    return dloss_dt, (None if network.linear else dloss_dphase)


def _check_neurons(neurons, network):
    neurons = np.asarray(neurons)
    if neurons.ndim != 1 or neurons.size == 0 or not np.issubdtype(neurons.dtype, np.integer) \
            or neurons.min() < 0 or neurons.max() >= network.n:
        raise ModelError(f"neurons must be a non-empty list of indices in [0, {network.n})")
    return neurons


class SpikeTimeLoss:
    """Mean squared error of chosen neurons' k-th spike times against targets (ms^2).

    A neuron without a k-th spike in the run is scored by its predicted free-running spike time
    (t_end + T - its final phase, plus T per further missing spike); its gradient then flows
    through its final phase, pushing it to fire. A warning names such neurons. (A linear
    model's neurons have no phase: a missing spike is a ModelError.)"""

    def __init__(self, neurons, targets, k=1):
        try:
            self.neurons, self.targets = list(neurons), np.asarray(targets, float)
        except (TypeError, ValueError):
            raise ModelError(f"neurons must be indices and targets times (ms), got {neurons!r:.40}"
                             f" and {targets!r:.40}") from None
        if self.targets.shape != (len(self.neurons),):
            raise ModelError(f"give one target time per neuron: {len(self.neurons)} neurons, "
                             f"targets of shape {self.targets.shape}")
        if not np.all(np.isfinite(self.targets)):
            k = int(np.argmin(np.isfinite(self.targets)))
            raise ModelError(f"target {k} (of neuron {self.neurons[k]}) is {self.targets[k]}; "
                             f"targets must be finite times in ms")
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ModelError(f"k = {k!r}: give the spike to score as an integer >= 1 (1: first)")
        self.k = int(k)

    def __call__(self, result, network):
        """(loss value, dloss_dt, dloss_dphase) for a recorded run."""
        neurons = _check_neurons(self.neurons, network)
        times, positions, missing = _kth_spike_times(result, network, neurons, self.k)
        if missing:
            warnings.warn(f"neurons {missing} have no spike {self.k} in the run; scored by their "
                          f"predicted free-running spike time", RuntimeWarning, stacklevel=2)
        error = times - self.targets
        dtimes = 2 * error / error.size
        return float(np.mean(error ** 2)), *_gradients_of_times(result, network, neurons,
                                                                 positions, dtimes)


class FirstSpikeCrossEntropy:
    """Time-to-first-spike classification: output neuron c scores -t_c / tau (the earliest
    spike wins); the loss is the cross-entropy of softmax(scores) with the label. Missing first
    spikes are predicted as in SpikeTimeLoss."""

    def __init__(self, outputs, label, tau=1.0):
        self.outputs = list(outputs)
        if isinstance(label, bool) or not isinstance(label, numbers.Integral) or not (
                0 <= label < len(self.outputs)):
            raise ModelError(f"label = {label!r}: give the index of the correct output, an "
                             f"integer in [0, {len(self.outputs)})")
        self.label, self.tau = int(label), _positive(tau, "tau", "1.0 (ms)")

    def __call__(self, result, network):
        """(loss value, dloss_dt, dloss_dphase) for a recorded run."""
        neurons = _check_neurons(self.outputs, network)
        times, positions, missing = _kth_spike_times(result, network, neurons, 1)
        if missing:
            warnings.warn(f"output neurons {missing} did not spike; scored by their predicted "
                          f"first spike time", RuntimeWarning, stacklevel=2)
        scores = -times / self.tau
        scores -= scores.max()
        p = np.exp(scores) / np.exp(scores).sum()
        loss = -math.log(max(p[self.label], 1e-300))
        dscores = p.copy()
        dscores[self.label] -= 1.0
        return loss, *_gradients_of_times(result, network, neurons, positions, -dscores / self.tau)


class SGD:
    """Plain gradient descent on a dict of named arrays: steps proportional to the gradient."""

    def __init__(self, lr=1e-3):
        self.lr = lr

    def step(self, values, grads):
        """New values (dict name -> array) after one step along grads."""
        return {name: values[name] - self.lr * g for name, g in grads.items()}


class Adam:
    """Adam (Kingma & Ba 2015) on a dict of named arrays."""

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m, self.v, self.steps = {}, {}, 0

    def step(self, values, grads):
        """New values (dict name -> array) after one step along grads."""
        self.steps += 1
        out = {}
        for name, g in grads.items():
            m = self.m[name] = self.beta1 * self.m.get(name, 0.0) + (1 - self.beta1) * g
            v = self.v[name] = self.beta2 * self.v.get(name, 0.0) + (1 - self.beta2) * g * g
            m_hat = m / (1 - self.beta1 ** self.steps)
            v_hat = v / (1 - self.beta2 ** self.steps)
            out[name] = values[name] - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        return out


def clip_by_norm(grads, max_norm):
    """Scale a dict of gradient arrays so that their joint Euclidean norm is at most max_norm."""
    norm = math.sqrt(sum(float(np.sum(np.square(g))) for g in grads.values()))
    if max_norm is None or norm <= max_norm or norm == 0:
        return grads, norm
    return {k: g * (max_norm / norm) for k, g in grads.items()}, norm


@dataclass
class History:
    """What fit() did: loss and gradient norm per step."""
    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)

    def plot(self, ax=None):
        """Loss and gradient norm per step (matplotlib); returns the Axes."""
        from .plot import history
        return history(self, ax)


def fit(network, loss, duration, steps=100, train=("weight",), lr=1e-3, decay=1.0, clip=None,
        backtrack=2.0, optimiser="adam", engine="sparse", progress=False):
    """Train `network` so that `loss` falls; each step simulates `duration` ms from the same
    initial state, backpropagates and takes an Adam step (learning rate lr * decay**step,
    gradients clipped to norm `clip` if given). Spike losses jump where the spike order
    changes: a step after which the loss grew more than `backtrack`-fold is undone and the
    learning rate halved (None: never). `train` names what is trained: "weight",
    "initial_phase" (not for a linear model: it has no phase) and/or model parameter names.
    The network keeps the trained values and its initial state. optimiser: "adam" or "sgd"
    (plain gradient descent, whose steps follow the gradient's size: the better choice when
    few synapses matter much and many a little).
    Returns a History (loss and gradient norm per step). An error or Ctrl-C during a step leaves
    the network with the values of the steps before it and its initial state."""
    from .network import Network
    if not isinstance(network, Network):
        raise ModelError(f"network = {network!r:.60}: fit trains a sparseprop.Network")
    if not callable(loss):
        raise ModelError(f"loss = {loss!r:.60}: give a loss such as SpikeTimeLoss(...)")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ModelError(f"steps = {steps!r}: give the number of training steps, an integer >= 1")
    duration, lr, decay = (_positive(duration, "duration", "100.0 (ms)"),
                           _positive(lr, "lr", "1e-3"), _positive(decay, "decay", "0.99"))
    clip = None if clip is None else _positive(clip, "clip", "1.0 (a gradient norm)")
    backtrack = None if backtrack is None else _positive(backtrack, "backtrack", "2.0")
    if isinstance(train, str):
        train = (train,)
    known = {"weight", *network.kernels.parameter_names} | (
        set() if network.linear else {"initial_phase"})
    known.discard("model")   # (a network of several models: each neuron's model index)
    unknown = [t for t in train if t not in known]
    if unknown:
        raise ModelError(f"cannot train '{unknown[0]}'; choose from {', '.join(sorted(known))}")
    if optimiser not in ("adam", "sgd"):
        raise ModelError(f"optimiser {optimiser!r} is not known; use 'adam' or 'sgd'")
    network.store("sparseprop.fit")      # the initial state of every training run
    phased = not network.linear           # (a linear model's neurons have no phase)
    start_phase = network.phase.copy()
    optimiser = Adam(lr=lr) if optimiser == "adam" else SGD(lr=lr)
    history, began = History(), time.perf_counter()
    scale, accepted = 1.0, None          # accepted: (loss, values, grads) of the last good step
    try:   # an error or Ctrl-C (sparseprop.Interrupted) keeps the steps taken so far
        for step in range(steps):
            network.restore("sparseprop.fit")
            if phased:
                start_phase = np.minimum(start_phase, np.nextafter(network.period, 0))
                network.phase = start_phase
            result = network.run(duration=duration, engine=engine, record_tape=True,
                                 progress=False)
            value, dloss_dt, dloss_dphase = loss(result, network)
            history.loss.append(value)
            values = {"weight": network.csr.weight_array(), "initial_phase": start_phase,
                      **{p: np.asarray(v, dtype=np.float64)
                         for p, v in network.parameters.items()}}
            values = {t: values[t] for t in train}
            if backtrack is not None and accepted is not None and value > backtrack * accepted[0]:
                scale *= 0.5                   # undo: back to the last good values, smaller steps
                values, grads = accepted[1], accepted[2]
            else:
                g = result.backward(dloss_dt, dloss_dphase)
                grads = {"weight": g.weight, "initial_phase": g.initial_phase, **g.parameters}
                grads, norm = clip_by_norm({t: np.asarray(grads[t], float) for t in train},
                                           clip)
                history.grad_norm.append(norm)
                accepted = (value, values, grads)
            if progress and (step % max(1, steps // 20) == 0 or step == steps - 1):
                print(f"step {step:5d}  loss {value:.6g}  {time.perf_counter() - began:.1f} s",
                      file=sys.stderr, flush=True)
            optimiser.lr = lr * scale * decay ** step
            start_phase = _apply(network, optimiser.step(values, grads), start_phase)
    finally:
        network.restore("sparseprop.fit")
        if phased:
            network.phase = np.minimum(start_phase, np.nextafter(network.period, 0))
        network.forget("sparseprop.fit")
    return history


def _positive(value, name, example, strict=True):
    """A finite number > 0 (>= 0 unless strict) as a float, or ModelError naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
            math.isfinite(value) and (value > 0 if strict else value >= 0)):
        raise ModelError(f"{name} = {value!r:.40}: give a finite number "
                         f"{'>' if strict else '>='} 0, e.g. {name}={example}")
    return float(value)


def _apply(network, new, start_phase):
    """Put trained values into the network; returns the (possibly trained) initial phases."""
    if "weight" in new:
        network.set_weights(new["weight"])
    parameters = {p: v for p, v in new.items() if p not in ("weight", "initial_phase")}
    if parameters:
        network.set_parameters(**parameters)
    if "initial_phase" in new:
        start_phase = np.clip(new["initial_phase"], 0.0, np.nextafter(network.period, 0))
    return start_phase
