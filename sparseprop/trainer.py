"""Training a spiking classifier on a data set: epochs of shuffled mini-batches, each a batch of
exact runs and reverse sweeps (sparseprop.batch), a loss of the outputs' first spike times
(sparseprop.losses), Adam steps, validation accuracy per epoch, checkpoints that resume to the
same weights."""
import json
import math
import numbers
import sys
import time
import zipfile
from dataclasses import asdict, dataclass, field

import numpy as np

from .batch import Batch, _population
from .connectivity import CSR
from .errors import ModelError
from .files import file_path, write_atomically
from .losses import _labels, first_spike_cross_entropy, predict, spike_count_regulariser
from .train import Adam, clip_by_norm

CHECKPOINT = "sparseprop-checkpoint"
_SETTINGS = ("duration", "tau0", "tau1", "alpha", "lr", "lr_decay", "batch_size", "clip",
             "patience", "seed", "keep_signs", "bump", "count_neurons", "count_target",
             "count_strength")   # saved in a checkpoint, as given
_LATER = {"count_neurons": None, "count_target": 1.0, "count_strength": 0.0}   # (added since)


@dataclass
class EpochHistory:
    """Per epoch: mean training loss and accuracy (of the batches as they were run), validation
    loss and accuracy (NaN without validation data), learning rate and wall time (s)."""
    loss: list = field(default_factory=list)
    accuracy: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    seconds: list = field(default_factory=list)

    def plot(self, ax=None):
        """Loss and accuracy curves per epoch (matplotlib); returns the Axes."""
        from .plot import epochs
        return epochs(self, ax)


def _count(value, name, low=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ModelError(f"{name} = {value!r:.40}: give an integer >= {low}")
    return int(value)


def _number(value, name, low=0.0, strict=True):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(
            value) or (value <= low if strict else value < low):
        raise ModelError(f"{name} = {value!r:.40}: give a finite number {'>' if strict else '>='}"
                         f" {low:g}")
    return float(value)


class Trainer:
    """Trains `network` (e.g. sparseprop.layers(...)) to classify samples of input spikes given
    to its SpikeSource `source`: the predicted class is the output neuron of population
    `outputs` that fires first. Each sample runs `duration` ms from the network's current state
    (kept as it is).

    loss: "cross_entropy" (first_spike_cross_entropy with tau0, tau1, alpha). lr: Adam's
    learning rate, times lr_decay per epoch. batch_size: samples per step (the last batch of an
    epoch may be smaller). train: "weight", "delay" and/or model parameter names (a delay
    stops at 0; trained delays reorder the synapses of a row, as the table keeps each row
    sorted by delay: Network.set_table; the trainer keeps its values in the table's order at
    construction; `trains_parameters` says whether the reverse sweeps need the parameters'
    derivatives). clip: clip each step's gradient to this norm (None: never).
    keep_signs: keep every weight's sign (Dale's law: a weight that would change sign stops
    at 0). bump: after each step, the input weights of every output that did not fire in some
    sample of the batch, and of every other neuron that fired in none, grow by bump (Göltz et
    al. 2021: a silent neuron has no spike time, so no gradient, and would stay silent).
    patience: stop when the validation accuracy has not improved for this many epochs (None:
    never). seed: the shuffling of each
    epoch comes from (seed, epoch), so a resumed run repeats the uninterrupted one.
    count_strength > 0 adds spike_count_regulariser(count_neurons, count_target,
    count_strength) to the loss (count_neurons: a population name, default every neuron but
    the outputs; count_target: time-weighted spikes per neuron and sample); its runs then
    go on to `duration` instead of ending at the outputs' first spikes."""

    def __init__(self, network, duration, source="input", outputs="output",
                 loss="cross_entropy", tau0=0.5, tau1=6.4, alpha=3e-3, lr=5e-3, lr_decay=1.0,
                 batch_size=32, train=("weight",), clip=None, keep_signs=False, patience=None,
                 seed=0, bump=0.0, count_neurons=None, count_target=1.0, count_strength=0.0,
                 threads=None):
        self.batch = Batch(network, source, threads)
        self.network = network
        block = _population(network, outputs)
        self.outputs = np.arange(block.start, block.stop)
        self.output_name = outputs
        if loss != "cross_entropy":
            raise ModelError(f"loss = {loss!r:.40} is not known; use 'cross_entropy'")
        self.duration = _number(duration, "duration")
        self.tau0, self.tau1 = _number(tau0, "tau0"), _number(tau1, "tau1")
        self.alpha = _number(alpha, "alpha", strict=False)
        self.lr, self.lr_decay = _number(lr, "lr"), _number(lr_decay, "lr_decay")
        self.batch_size = _count(batch_size, "batch_size")
        self.clip = None if clip is None else _number(clip, "clip")
        self.patience = None if patience is None else _count(patience, "patience")
        self.seed = _count(seed, "seed", 0)
        self.bump = _number(bump, "bump", strict=False)
        self.count_neurons = count_neurons
        self.count_target = _number(count_target, "count_target", strict=False)
        self.count_strength = _number(count_strength, "count_strength", strict=False)
        if count_neurons is None:   # every neuron but the outputs
            self._counted = np.setdiff1d(np.arange(network.n), self.outputs)
        else:
            block = _population(network, count_neurons)
            self._counted = np.arange(block.start, block.stop)
        train = (train,) if isinstance(train, str) else tuple(train)
        known = {"weight", "delay", *network.kernels.parameter_names} - {"model"}
        unknown = [t for t in train if t not in known]
        if unknown or not train:
            raise ModelError(f"cannot train {unknown[0] if unknown else 'nothing'!r}; choose "
                             f"from {', '.join(sorted(known))}")
        self.train = train
        self.keep_signs = bool(keep_signs)
        csr = network.csr   # synapse ids: their positions in this table
        self._ids = np.arange(csr.nnz)   # the id of the synapse at each position of the table
        self._synapses = (csr.indices.copy(), None if csr.ports is None else csr.ports.copy())
        self._rows = np.repeat(np.arange(csr.n), np.diff(csr.indptr))   # each id's sender
        self.signs = np.sign(csr.weight_array()) if keep_signs else None   # (by id)
        self.optimiser = Adam(lr=self.lr)
        self.epoch = 0
        self.history = EpochHistory()
        self._best = (-np.inf, 0)     # (best validation accuracy, epoch it was reached)

    @property
    def trains_parameters(self):
        """Whether a neuron parameter is among the trained values (the reverse sweeps then
        compute the parameters' derivatives)."""
        return any(t not in ("weight", "delay") for t in self.train)

    # --- one batch -------------------------------------------------------------------------
    def _times(self, samples, record_tape, whole=False):
        """(the batch's BatchResult, its outputs' first spike times); the runs end at the
        outputs' first spikes unless `whole`."""
        result = self.batch.run(samples, self.duration, record_tape=record_tape,
                                until=None if whole else self.output_name)
        return result, result.first_spike_times(self.outputs)

    def _loss(self, times, labels):
        return first_spike_cross_entropy(times, labels, self.duration, self.tau0, self.tau1,
                                         self.alpha)

    def _by_id(self, per_position):
        """Values given per position of the network's table, in synapse id order."""
        out = np.empty_like(per_position)
        out[self._ids] = per_position
        return out

    def _values(self):
        """The trained values: weights and delays by synapse id, parameters as they are."""
        net = self.network
        tables = {"weight": net.csr.weight_array, "delay": net.csr.delay_array}
        return {t: (self._by_id(tables[t]()) if t in tables
                    else np.asarray(net.parameters[t], dtype=np.float64)) for t in self.train}

    def _step(self, samples, labels, lr):
        counting = self.count_strength > 0
        result, times = self._times(samples, True, whole=counting)
        loss, dtimes = self._loss(times, labels)
        b = len(labels)
        dspikes = None
        if counting:
            extra, dspikes = spike_count_regulariser(result, self._counted, self.count_target,
                                                     self.count_strength)
            loss, dspikes = loss + extra, dspikes / b
        g = self.batch.backward(result, self.outputs, dtimes / b, dspikes,
                                parameters=self.trains_parameters)
        grads = {"weight": self._by_id(g.weight), "delay": self._by_id(g.delay),
                 **g.parameters}
        grads, _ = clip_by_norm({t: np.asarray(grads[t], float) for t in self.train}, self.clip)
        self.optimiser.lr = lr
        new = self.optimiser.step(self._values(), grads)
        if not all(np.all(np.isfinite(v)) for v in new.values()) or not np.all(
                np.isfinite(loss)):
            raise ModelError(f"training diverged at epoch {self.epoch} (loss {loss.mean():g}, "
                             f"or a value not finite after the step); the network keeps its "
                             f"last finite values: lower lr (now {lr:g}) or clip the gradients")
        if self.bump and "weight" in new:   # silent neurons: their input weights grow
            new["weight"] = new["weight"] + self.bump * np.isin(self._synapses[0],
                                                                self._silent(result, times))
        self._apply(new)
        return loss.sum(), np.count_nonzero(predict(times) == labels)

    def _silent(self, result, times):
        """The neurons whose input weights a step bumps: each output that did not fire in
        some sample of the batch, and each other neuron that fired in none (before the
        outputs' first spikes)."""
        n = self.network.n
        fired = np.zeros(n, bool)
        fired[result.senders[result.written() & (result.senders < n)]] = True
        fired[self.outputs] = np.isfinite(times).all(axis=0)
        return np.flatnonzero(~fired)

    def _apply(self, new):
        """Put trained values (weights and delays by synapse id) into the network."""
        net = self.network
        w = new["weight"] if "weight" in new else self._by_id(net.csr.weight_array())
        if self.signs is not None:
            w = np.where(self.signs * w < 0, 0.0, w)
        if "delay" in new:   # rows sorted by delay again (stably, by id among equal delays)
            csr, (indices, ports) = net.csr, self._synapses
            delays = np.maximum(new["delay"], 0.0)
            order = np.lexsort((delays, self._rows))
            net.set_table(CSR(csr.n, csr.indptr, indices[order], w[order], n_post=csr.n_post,
                              delays=delays[order],
                              ports=None if ports is None else ports[order]))
            self._ids = order
        elif "weight" in new:
            net.set_weights(w[self._ids])
        parameters = {p: v for p, v in new.items() if p not in ("weight", "delay")}
        if parameters:
            net.set_parameters(**parameters)

    # --- data sets ------------------------------------------------------------------------
    def evaluate(self, samples, labels):
        """(accuracy, mean loss) on a data set: samples (a list of (indices, times), or
        sparseprop.batch.Samples) and their labels."""
        samples = self.batch.samples(samples)
        labels = _labels(labels, len(samples), self.outputs.size)
        _, times = self._times(samples, False)
        loss, _ = self._loss(times, labels)
        return float(np.mean(predict(times) == labels)), float(loss.mean())

    def predict(self, samples):
        """The predicted class of each sample (-1: no output fired)."""
        _, times = self._times(self.batch.samples(samples), False)
        return predict(times)

    def fit(self, samples, labels, epochs, validation=None, checkpoint=None, progress=False):
        """Train for `epochs` more epochs on samples (a list of (indices, times), or Samples)
        with their labels; validation: (samples, labels) scored after every epoch;
        checkpoint: a path written (atomically) after every epoch, from which
        Trainer.load resumes. Returns the EpochHistory (also self.history). A step whose loss
        or new values are not finite raises ModelError and keeps the values before it."""
        samples = self.batch.samples(samples)
        labels = _labels(labels, len(samples), self.outputs.size)
        epochs = _count(epochs, "epochs")
        if validation is not None:
            if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
                raise ModelError("validation must be a (samples, labels) pair")
            val = self.batch.samples(validation[0])
            val_labels = _labels(validation[1], len(val), self.outputs.size)
        for _ in range(epochs):
            began = time.perf_counter()
            lr = self.lr * self.lr_decay ** self.epoch
            order = np.random.default_rng([self.seed, self.epoch]).permutation(len(samples))
            total, right = 0.0, 0
            for k, lo in enumerate(range(0, order.size, self.batch_size)):
                rows = order[lo:lo + self.batch_size]
                loss, hits = self._step(samples.take(rows), labels[rows], lr)
                total, right = total + loss, right + hits
                if progress:
                    done = (lo + rows.size) / order.size
                    print(f"\repoch {self.epoch + 1}  [{'#' * int(20 * done):20s}] "
                          f"loss {total / (lo + rows.size):.4f}  "
                          f"accuracy {right / (lo + rows.size):.4f}", end="", file=sys.stderr,
                          flush=True)
            h = self.history
            h.loss.append(total / order.size)
            h.accuracy.append(right / order.size)
            h.lr.append(lr)
            if validation is not None:
                accuracy, loss = self.evaluate(val, val_labels)
            else:
                accuracy, loss = math.nan, math.nan
            h.val_accuracy.append(accuracy)
            h.val_loss.append(loss)
            h.seconds.append(time.perf_counter() - began)
            self.epoch += 1
            if progress:
                print(f"  validation {accuracy:.4f}  {h.seconds[-1]:.1f} s", file=sys.stderr)
            if checkpoint is not None:
                self.save(checkpoint)
            if validation is not None and self.patience is not None:
                if accuracy > self._best[0]:
                    self._best = (accuracy, self.epoch)
                elif self.epoch - self._best[1] >= self.patience:
                    break
        return self.history

    # --- checkpoints ----------------------------------------------------------------------
    def save(self, path):
        """Write a checkpoint: the trained values, the optimiser's state, the epoch count, the
        history and the settings (an .npz; Trainer.load resumes from it)."""
        file_path(path, "save the checkpoint to")
        settings = {k: getattr(self, k) for k in _SETTINGS}
        settings.update(train=list(self.train), source=self.batch.source,
                        outputs=self.output_name,
                        epoch=self.epoch, steps=self.optimiser.steps,
                        best=list(self._best), history=asdict(self.history),
                        synapses=int(self.network.csr.nnz), kind=CHECKPOINT)
        arrays = {"header": np.array(json.dumps(settings))}
        for name, value in self._values().items():
            arrays[f"value_{name}"] = value
            if name in self.optimiser.m:
                arrays[f"m_{name}"], arrays[f"v_{name}"] = (self.optimiser.m[name],
                                                            self.optimiser.v[name])
        if self.signs is not None:
            arrays["signs"] = self.signs
        return write_atomically(path, "save the checkpoint to",
                                lambda handle: np.savez(handle, **arrays))

    @classmethod
    def load(cls, path, network, threads=None):
        """The Trainer saved in checkpoint `path`, on `network` (built as the one trained:
        the same synapses), with the saved values put into it; fit() goes on from there."""
        path = file_path(path, "load the checkpoint from")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {f: data[f] for f in data.files}
            settings = json.loads(str(arrays.pop("header")))
            if settings.get("kind") != CHECKPOINT:
                raise ValueError("not a checkpoint")
            values = {name: arrays[f"value_{name}"] for name in settings["train"]}
            synapses, outputs = int(settings["synapses"]), settings["outputs"]
            kwargs = {k: settings[k] if k not in _LATER else settings.get(k, _LATER[k])
                      for k in _SETTINGS + ("source", "train")}
        except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError,
                zipfile.BadZipFile) as exc:
            raise ModelError(f"cannot read the checkpoint {path}: {exc!r:.80}") from None
        if synapses != network.csr.nnz:
            raise ModelError(f"the checkpoint {path} is of a network of {synapses} "
                             f"synapses; this one has {network.csr.nnz}: build the network "
                             f"as it was trained")
        trainer = cls(network, outputs=outputs, threads=threads, **kwargs)
        trainer._apply(values)
        if trainer.signs is not None:
            trainer.signs = arrays["signs"]
        trainer.optimiser.steps = settings["steps"]
        for name in settings["train"]:
            if f"m_{name}" in arrays:
                trainer.optimiser.m[name] = arrays[f"m_{name}"]
                trainer.optimiser.v[name] = arrays[f"v_{name}"]
        trainer.epoch = settings["epoch"]
        trainer._best = tuple(settings["best"])
        trainer.history = EpochHistory(**settings["history"])
        return trainer


__all__ = ["EpochHistory", "Trainer"]
