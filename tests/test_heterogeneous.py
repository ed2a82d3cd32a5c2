"""Heterogeneous networks: per-neuron parameters run by the time-keyed engine."""
import logging

import numpy as np
import pytest

import sparseprop as spp
from oracle import lif_spikes

N = 400


def _drives(n, seed=0, centre=2.0, spread=0.4):
    return centre * (1 + spread * np.random.default_rng(seed).uniform(-1, 1, n))


def test_time_keyed_equals_phase_engine_on_a_homogeneous_network():
    conn = spp.fixed_outdegree(50, -0.1, seed=1)
    shared = spp.Network("lif", N, conn, seed=2).run(max_spikes=10_000)
    per_neuron = spp.Network("lif", N, conn, seed=2, parameters={"I": np.full(N, 1.1)})
    assert per_neuron.heterogeneous
    keyed = per_neuron.run(max_spikes=10_000)
    np.testing.assert_array_equal(keyed.i, shared.i)
    np.testing.assert_allclose(keyed.t, shared.t, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", ["lif", "qif"])
def test_heterogeneous_drives_and_time_constants_match_the_reference(name):
    base = spp.load_model(name)
    drives = _drives(N, centre=base.parameters["I"] * (2.0 if name == "lif" else 1.0))
    taus = 10.0 * (1 + 0.2 * np.random.default_rng(1).uniform(-1, 1, N))
    weights = np.random.default_rng(2).uniform(-0.15, 0.03, N * 20)   # E and I synapses
    conn = spp.fixed_outdegree(20, weights, seed=3)
    runs = [spp.Network(name, N, conn, seed=4, parameters={"I": drives, "tau": taus}).run(
        max_spikes=10_000 if name == "lif" else 200, engine=engine)
        for engine in ("sparse", "reference")]
    np.testing.assert_array_equal(runs[0].i, runs[1].i)
    np.testing.assert_allclose(runs[0].t, runs[1].t, rtol=1e-12, atol=0)


def test_heterogeneous_lif_against_scipy_with_excitation_and_inhibition():
    """10 LIF neurons with their own drives and time constants, excitatory and inhibitory
    synapses; an input that crosses threshold fires the neuron at once (smaller index first)."""
    n = 10
    rng = np.random.default_rng(5)
    I, tau = _drives(n, seed=6), 10.0 * (1 + 0.3 * rng.uniform(-1, 1, n))
    pre, post = np.repeat(np.arange(n), 3), (np.repeat(np.arange(n), 3) + np.tile([1, 3, 6], n)) % n
    w = np.where(rng.uniform(size=pre.size) < 0.3, 0.08, -0.2)
    net = spp.Network("lif", n, spp.from_edges(pre, post, w), seed=7,
                      parameters={"I": I, "tau": tau})
    v = I * (1 - np.exp(-net.phase / tau))
    result = net.run(max_spikes=100)
    spikes_i, spikes_t = lif_spikes(I, tau, v, pre, post, w, 100)
    np.testing.assert_array_equal(result.i, spikes_i)
    np.testing.assert_allclose(result.t, spikes_t, rtol=0, atol=1e-8)


def test_gradients_with_respect_to_per_neuron_drives():
    n = 30
    conn = spp.fixed_outdegree(4, -0.1, seed=1)
    drives = _drives(n, seed=2)
    phase = np.random.default_rng(3).uniform(0, 5.0, n)     # fixed: independent of the drives

    def run(I):
        net = spp.Network("lif", n, conn, initial_phase=phase, parameters={"I": I})
        return net, net.run(max_spikes=120, record_tape=True)

    net, result = run(drives)
    c = np.random.default_rng(4).normal(size=result.n_spikes)
    g = result.backward(c)
    assert g.parameters["I"].shape == (n,) and g.parameters["tau"].shape == (n,)
    for k in (0, 7, 19, 28):
        h = 1e-6
        up, down = drives.copy(), drives.copy()
        up[k] += h
        down[k] -= h
        (_, ru), (_, rd) = run(up), run(down)
        assert np.array_equal(ru.i, result.i) and np.array_equal(rd.i, result.i)
        fd = (c @ ru.t - c @ rd.t) / (2 * h)
        assert g.parameters["I"][k] == pytest.approx(fd, rel=1e-5, abs=1e-6 * abs(c @ result.t))


def test_auto_engine_says_which_case(caplog):
    net = spp.Network("lif", 50, spp.fixed_outdegree(5, -0.1, seed=1), seed=1,
                      parameters={"I": _drives(50)})
    with caplog.at_level(logging.INFO, logger="sparseprop"):
        net.run(duration=10.0)
    assert "time-keyed" in caplog.text


@pytest.mark.parametrize("parameters,match", [
    ({"I": np.ones(3) * 1.5}, "shape"), ({"I": np.full(N, np.nan)}, "non-finite"),
    ({"J": 1.0}, "not a parameter"), ({"I": np.linspace(0.5, 1.5, N)}, "never reaches threshold"),
])
def test_bad_per_neuron_parameters(parameters, match):
    with pytest.raises(spp.ModelError, match=match):
        spp.Network("lif", N, spp.fixed_outdegree(5, -0.1, seed=1), parameters=parameters)


@pytest.mark.parametrize("engine", ["sparse", "reference"])
def test_an_excitatory_cascade_that_does_not_end_is_an_error_not_a_hang(engine):
    pre, post = np.array([0, 1]), np.array([1, 0])          # two neurons exciting each other
    net = spp.Network("lif", 2, spp.from_edges(pre, post, 5.0), initial_phase=[1.0, 2.0])
    with pytest.raises(spp.ModelError, match="cascade"):
        net.run(duration=100.0, engine=engine)
    assert net.t == 0.0


def test_simultaneous_spikes_fire_in_index_order_after_the_spike_that_caused_them():
    pre, post = np.array([2, 2]), np.array([3, 0])          # neuron 2 pushes 3 and 0 over
    for engine in ("sparse", "reference"):
        net = spp.Network("lif", 4, spp.from_edges(pre, post, 0.9),
                          initial_phase=[20.0, 1.0, 23.0, 20.0])
        result = net.run(max_spikes=3, engine=engine)
        assert result.i.tolist() == [2, 0, 3] and result.t[0] == result.t[1] == result.t[2]


def test_many_simultaneous_spikes_from_excitation_match_the_reference():
    """Strong excitation: neurons pushed over threshold at one instant get a key of exactly
    'now', so they fire in index order in both engines (no rounding in the tie)."""
    weights = np.random.default_rng(2).uniform(-0.2, 0.1, N * 20)
    runs = [spp.Network("lif", N, spp.fixed_outdegree(20, weights, seed=3), seed=4,
                        parameters={"I": _drives(N)}).run(max_spikes=10_000, engine=engine)
            for engine in ("sparse", "reference")]
    assert np.sum(np.diff(runs[1].t) == 0) > 100         # many simultaneous spikes
    np.testing.assert_array_equal(runs[0].i, runs[1].i)
    np.testing.assert_allclose(runs[0].t, runs[1].t, rtol=1e-12, atol=0)
