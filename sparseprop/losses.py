"""Losses of a batch of classifier runs, from the first spike times of the output neurons
((samples x outputs) arrays, ms from each run's start, inf for an output that did not fire):
each returns the loss per sample and dL/d(first spike times); and a regulariser of how much
neurons fire (spike_count_regulariser), from every spike of a batch's runs.

Silent outputs never raise: an output that did not fire within the run counts as firing at the
run's end (`duration`), and its time has no gradient (there is no spike to move). A sample
whose outputs are all silent has no prediction (-1), and counts as wrong.
"""

import numpy as np

from .batch import BatchResult, _neurons, _population
from .errors import ModelError
from .train import _positive


def _times(times, duration):
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 2 or times.shape[0] == 0 or times.shape[1] == 0:
        raise ModelError(f"first spike times must be a (samples x outputs) array with at least "
                         f"one of each; got shape {times.shape}")
    if np.any(np.isnan(times)) or np.any(times < 0):
        raise ModelError("first spike times must be numbers >= 0 (inf: silent)")
    fired = np.isfinite(times)
    return np.where(fired, times, float(duration)), fired


def _labels(labels, samples, classes):
    labels = np.asarray(labels)
    if labels.shape != (samples,) or (labels.size and labels.dtype.kind not in "iu"):
        raise ModelError(f"labels must be {samples} integers, one per sample; got "
                         f"{labels.dtype} of shape {labels.shape}")
    bad = np.flatnonzero((labels < 0) | (labels >= classes))
    if bad.size:
        raise ModelError(f"label {labels[bad[0]]} (sample {bad[0]}) is not a class: the network "
                         f"has {classes} outputs, so labels must lie in [0, {classes})")
    return labels.astype(np.int64)


def predict(times):
    """The class of each sample: its earliest output (the lowest index among equal times), or -1
    when no output fired."""
    times = np.asarray(times, dtype=np.float64)
    guess = np.argmin(times, axis=1)
    return np.where(np.isfinite(times).any(axis=1), guess, -1)


def first_spike_cross_entropy(times, labels, duration, tau0=0.5, tau1=6.4, alpha=3e-3):
    """Time-to-first-spike cross-entropy with EventProp's regulariser (Wunderlich & Pehle 2021):
    per sample, -log softmax(-t / tau0)[label] + alpha (exp(t_label / tau1) - 1), t the outputs'
    first spike times (silent: `duration`, without gradient). The first term makes the correct
    output fire first, the second makes it fire early. Returns (loss per sample, dL/dt)."""
    duration = _positive(duration, "duration", "40.0 (ms)")
    tau0, tau1 = _positive(tau0, "tau0", "0.5 (ms)"), _positive(tau1, "tau1", "6.4 (ms)")
    alpha = _positive(alpha, "alpha", "3e-3", strict=False)
    t, fired = _times(times, duration)
    labels = _labels(labels, t.shape[0], t.shape[1])
    rows = np.arange(t.shape[0])
    scores = -t / tau0
    scores -= scores.max(axis=1, keepdims=True)
    p = np.exp(scores)
    p /= p.sum(axis=1, keepdims=True)
    t_label = t[rows, labels]
    reg = np.exp(t_label / tau1)
    loss = -np.log(np.maximum(p[rows, labels], 1e-300)) + alpha * (reg - 1.0)
    grad = -p / tau0                      # d(-log p_label)/dt_k = ([k = label] - p_k) / tau0
    grad[rows, labels] += 1.0 / tau0 + alpha * reg / tau1
    return loss, np.where(fired, grad, 0.0)


def first_spike_time_loss(times, targets, duration):
    """Squared error of the outputs' first spike times from target times (ms, shaped like
    times), halved: per sample sum_k (t_k - target_k)^2 / 2 (silent: `duration`, without
    gradient). Returns (loss per sample, dL/dt)."""
    duration = _positive(duration, "duration", "40.0 (ms)")
    t, fired = _times(times, duration)
    targets = np.asarray(targets, dtype=np.float64)
    if targets.shape != t.shape or not np.all(np.isfinite(targets)):
        raise ModelError(f"targets must be finite times of shape {t.shape} (samples x outputs); "
                         f"got shape {targets.shape}")
    diff = t - targets
    return 0.5 * np.sum(diff * diff, axis=1), np.where(fired, diff, 0.0)


def spike_count_regulariser(result, neurons, target, strength):
    """A regulariser of how much `neurons` (indices, or a population name) fire in each run of
    a batch (a sparseprop.batch.BatchResult of runs of duration T): per sample
    strength / 2 * sum_n (c_n - target)^2 / len(neurons), where c_n is neuron n's time-weighted
    spike count, the sum over its spikes of (1 - t / T) (t from the run's start): a spike
    counts 1 at the start and less the later it comes, 0 at the end, so c_n moves continuously
    with the spike times (a spike leaving or entering through the end of the run changes
    nothing) and has an exact gradient. Descending it moves the spikes of a neuron above
    `target` later (out of the run), those of a neuron below earlier. Returns (loss per sample,
    dL/d(every spike time recorded in result.times), shaped like result.times, 0 elsewhere)."""
    if not isinstance(result, BatchResult):
        raise ModelError(f"result = {result!r:.60}: give the BatchResult of a batch run")
    target = _positive(target, "target", "2.0 (weighted spikes per neuron and sample)",
                       strict=False)
    strength = _positive(strength, "strength", "1e-3", strict=False)
    if isinstance(neurons, str):
        block = _population(result.network, neurons)
        neurons = np.arange(block.start, block.stop)
    neurons = _neurons(neurons, result.network)
    T = result.t_end - result.t_start
    valid = result.written()
    since = np.subtract(result.times, result.t_start, out=np.full(valid.shape, T), where=valid)
    weight = 1.0 - since / T   # (0 for the entries the runs did not write)
    index = np.full(result.network.n + 1, -1, np.int64)   # neuron -> its column, or -1
    index[neurons] = np.arange(neurons.size)
    column = index[np.where(valid & (result.senders < result.network.n), result.senders, -1)]
    counts = np.zeros((len(result), neurons.size))
    rows = np.nonzero(column >= 0)
    np.add.at(counts, (rows[0], column[rows]), weight[rows])
    excess = counts - target
    loss = 0.5 * strength * np.sum(excess * excess, axis=1) / neurons.size
    grad = np.zeros(result.times.shape)
    grad[rows] = -strength * excess[rows[0], column[rows]] / (neurons.size * T)
    return loss, grad


__all__ = ["first_spike_cross_entropy", "first_spike_time_loss", "predict",
           "spike_count_regulariser"]
