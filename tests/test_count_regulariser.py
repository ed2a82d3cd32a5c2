"""spike_count_regulariser: the time-weighted counts against the runs' spikes, its gradient
through a batch's reverse sweep against finite differences, and the Trainer with it."""
import numpy as np
import pytest

import sparseprop as spp
from differences import check_weight_gradients
from sparseprop import datasets
from sparseprop.batch import Batch
from sparseprop.losses import spike_count_regulariser
from sparseprop.trainer import Trainer

PARAMETERS = {"Ie": 0.0, "tau_m": 20.0, "tau_s": 5.0}
HIDDEN, DURATION = 20, 40.0


def _net(seed=1):
    net = spp.layers("lif_exp", [5, HIDDEN, 3], weight=[(6.0, 6.0), (4.0, 4.0)], seed=seed,
                     parameters=PARAMETERS)
    net.set_state(state={"v": 0.0, "I": 0.0})
    return net


def _pairs(n, seed=42):
    x, y = datasets.yin_yang(n, seed=seed)
    return datasets.latency(x, 0.0, 30.0, bias_time=0.0), y


def test_the_counts_are_the_time_weighted_spikes_of_the_chosen_neurons():
    net = _net()
    batch = Batch(net)
    pairs, _ = _pairs(6)
    result = batch.run(pairs, DURATION)
    loss, grad = spike_count_regulariser(result, "hidden1", 1.5, 0.2)
    for b in range(len(result)):
        i, t = result.spikes(b)
        counts = np.array([np.sum(1.0 - t[i == n] / DURATION) for n in range(HIDDEN)])
        assert counts.sum() > 0
        assert loss[b] == pytest.approx(0.1 * np.sum((counts - 1.5) ** 2) / HIDDEN, rel=1e-12)
        entries = result.senders[b, :result.count[b]]
        want = np.where(entries < HIDDEN, -0.2 * (counts[np.minimum(entries, HIDDEN - 1)] - 1.5)
                        / (HIDDEN * DURATION), 0.0)
        np.testing.assert_allclose(grad[b, :result.count[b]], want, rtol=1e-12, atol=0)
        assert np.all(grad[b, result.count[b]:] == 0.0)


def test_its_gradient_through_the_reverse_sweep_equals_finite_differences():
    net = _net()
    batch = Batch(net)
    pairs, _ = _pairs(8)
    samples = batch.samples(pairs)
    outputs = np.arange(HIDDEN, HIDDEN + 3)

    def loss():
        result = batch.run(samples, DURATION, record_tape=True)
        value, grad = spike_count_regulariser(result, "hidden1", 0.5, 1.0)
        return value.sum(), result, grad
    _, result, grad = loss()
    g = batch.backward(result, outputs, np.zeros((len(result), 3)), grad)
    check_weight_gradients(net, lambda: loss()[0], g.weight, 1e-4, 5)
    h, values = 1e-6, []
    for sign in (1, -1):
        net.set_parameters(tau_m=PARAMETERS["tau_m"] + sign * h)
        values.append(loss()[0])
    net.set_parameters(tau_m=PARAMETERS["tau_m"])
    assert (values[0] - values[1]) / (2 * h) == pytest.approx(g.parameters["tau_m"], rel=1e-5)


def _hidden_counts(trainer, samples):
    """The mean over the samples of sum_n c_n^2 / n, c_n the hidden neurons' weighted counts."""
    result, _ = trainer._times(trainer.batch.samples(samples), False, whole=True)
    return spike_count_regulariser(result, "hidden1", 0.0, 2.0)[0].mean()


def test_training_with_the_regulariser_lowers_the_counts_towards_the_target(tmp_path):
    pairs, labels = _pairs(96)
    counts = []
    for strength in (0.0, 50.0):   # (measured: 1.16 without, 0.93 with)
        trainer = Trainer(_net(), duration=DURATION, lr=5e-2, count_neurons="hidden1",
                          count_target=0.0, count_strength=strength, threads=1)
        trainer.fit(pairs, labels, 2)
        counts.append(_hidden_counts(trainer, pairs))
    assert counts[1] < 0.9 * counts[0]
    trainer.save(tmp_path / "c.npz")                          # the settings travel along
    again = Trainer.load(tmp_path / "c.npz", _net(), threads=1)
    assert (again.count_neurons, again.count_target, again.count_strength) == (
        "hidden1", 0.0, 50.0)


def test_bad_input_is_a_model_error():
    net = _net()
    batch = Batch(net)
    result = batch.run(_pairs(2)[0], DURATION, record_tape=True)
    for kwargs, words in [({"target": -1.0}, "target"), ({"strength": np.nan}, "strength"),
                          ({"neurons": "nobody"}, "nobody")]:
        args = {"neurons": "hidden1", "target": 1.0, "strength": 1.0, **kwargs}
        with pytest.raises(spp.ModelError, match=words):
            spike_count_regulariser(result, **args)
    with pytest.raises(spp.ModelError, match="BatchResult"):
        spike_count_regulariser(None, "hidden1", 1.0, 1.0)
    with pytest.raises(spp.ModelError, match="dloss_dspikes"):
        batch.backward(result, np.arange(HIDDEN, HIDDEN + 3), np.zeros((2, 3)), np.zeros(3))
    with pytest.raises(spp.ModelError, match="count_target"):
        Trainer(net, duration=DURATION, count_target=-2.0)
    with pytest.raises(spp.ModelError, match="nobody"):
        Trainer(net, duration=DURATION, count_neurons="nobody")
