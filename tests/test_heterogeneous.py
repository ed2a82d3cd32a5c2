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
    ({"J": 1.0}, "not a parameter"), ({"refractory": -1.0}, "refractory = -1.0"),
    ({"refractory": np.linspace(-1, 1, N)}, "refractory = -1.0 for neuron 0"),
    ({"refractory": np.full(3, 2.0)}, "shape"),
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


# -- subthreshold neurons, refractoriness ------------------------------------------------------

def _ei_network(n, seed, refractory, engine_seed=4, k=20):
    """Drives 1 +- 40% (about half the neurons subthreshold), E and I synapses, refractory."""
    rng = np.random.default_rng(seed)
    I = 1.0 * (1 + 0.4 * rng.uniform(-1, 1, n))
    weights = rng.uniform(-0.15, 0.08, n * k)
    return spp.Network("lif", n, spp.fixed_outdegree(k, weights, seed=3), seed=engine_seed,
                       parameters={"I": I, "refractory": refractory})


@pytest.mark.parametrize("refractory", [0.0, 2.0, "per-neuron"])
def test_subthreshold_and_refractory_neurons_match_the_reference(refractory):
    if refractory == "per-neuron":
        refractory = np.random.default_rng(9).uniform(0.5, 3.0, N)
    runs = [_ei_network(N, 0, refractory).run(max_spikes=10_000, engine=engine)
            for engine in ("sparse", "reference")]
    assert 0.3 < _ei_network(N, 0, refractory).subthreshold.mean() < 0.7
    np.testing.assert_array_equal(runs[0].i, runs[1].i)
    np.testing.assert_allclose(runs[0].t, runs[1].t, rtol=1e-12, atol=0)
    sub = _ei_network(N, 0, refractory).subthreshold
    assert runs[0].counts[sub].sum() > 150         # subthreshold neurons fire, on input


def test_subthreshold_refractory_ei_lif_against_scipy():
    """The acceptance oracle: 10 LIF neurons, population E (0-6, excitatory synapses) and I
    (7-9, inhibitory), with their own drives (7 subthreshold), time constants and refractory
    periods, vs solve_ivp (measured: 2.2e-10 ms over 100 spikes)."""
    n = 10
    rng = np.random.default_rng(5)
    I, tau = 1.0 * (1 + 0.4 * rng.uniform(-1, 1, n)), 10.0 * (1 + 0.3 * rng.uniform(-1, 1, n))
    I[[1, 4, 7]] = [0.7, 0.9, 0.95]
    refractory = rng.uniform(1.0, 3.0, n)
    pre = np.repeat(np.arange(n), 4)
    post = (pre + np.tile([1, 3, 6, 8], n)) % n
    w = np.where(pre < 7, 0.3, -0.2)
    for engine in ("sparse", "reference"):
        net = spp.Network("lif", n, spp.from_edges(pre, post, w), seed=7,
                          parameters={"I": I, "tau": tau, "refractory": refractory},
                          populations={"E": 7, "I": 3})
        assert net.subthreshold.sum() >= 4 and net.heterogeneous
        v = net.state
        result = net.run(max_spikes=100, engine=engine)
        spikes_i, spikes_t = lif_spikes(I, tau, v, pre, post, w, 100, refractory)
        np.testing.assert_array_equal(result.i, spikes_i)
        np.testing.assert_allclose(result.t, spikes_t, rtol=0, atol=1e-8)
        assert np.sum(np.diff(result.t) == 0) > 5      # simultaneous spikes from excitation


def _same_spikes(i, t, want_i, want_t):
    """The same spikes at times equal to 1e-12 relative, in the same order except within an
    instant: a run resumes in a new time frame (times are its start plus offsets), so two
    neurons that fire at one instant of a cascade can come out 1 ulp apart, and in either
    order, after a split."""
    np.testing.assert_allclose(t, want_t, rtol=1e-12)
    instant = np.concatenate([[0], np.cumsum(np.diff(want_t) > 1e-12 * np.abs(want_t[1:]))])
    assert np.array_equal(i[np.lexsort((i, instant))], want_i[np.lexsort((want_i, instant))])


def test_a_run_split_in_pieces_equals_one_run():
    """State carried between runs: subthreshold states, refractory periods, and neurons put
    over threshold by the last spike of a run (they fire first in the next)."""
    whole = _ei_network(100, 1, 2.0).run(max_spikes=3000)
    net = _ei_network(100, 1, 2.0)
    pieces = [net.run(max_spikes=1) for _ in range(300)] + [net.run(max_spikes=2700)]
    _same_spikes(np.concatenate([p.i for p in pieces]), np.concatenate([p.t for p in pieces]),
                 whole.i, whole.t)
    for engine in ("sparse", "reference"):   # and by duration, across engines
        net = _ei_network(100, 1, 2.0)
        first, second = net.run(duration=37.0, engine=engine), net.run(duration=63.0)
        joined = np.concatenate([first.t, second.t])
        _same_spikes(np.concatenate([first.i, second.i]), joined, whole.i[:joined.size],
                     whole.t[:joined.size])


def test_state_of_every_neuron_mid_run_matches_its_closed_form():
    """Network.state (compiled over all neurons) against LIF's closed form, neuron by neuron,
    after a run stopped at a spike: refractory neurons at reset, subthreshold ones at their
    state, the others at I (1 - exp(-phase / tau)) of their own row."""
    net = _ei_network(N, 1, 2.0)
    result = net.run(max_spikes=2000)
    I, tau, sub = 1.0 * (1 + 0.4 * np.random.default_rng(1).uniform(-1, 1, N)), 10.0, \
        net.subthreshold                          # (the drives of _ei_network(N, seed=1))
    refractory = np.asarray(net.t_free) > net.t
    assert refractory.sum() > 10 and sub.sum() > 50 and result.n_spikes == 2000
    expected = np.where(refractory, 0.0, I * (1 - np.exp(-net.phase / tau)))
    expected[sub & ~refractory] = net.sub_state[sub & ~refractory]
    np.testing.assert_allclose(net.state, expected, rtol=1e-13, atol=1e-15)
    v = net.state                     # and back: initial_state gives every neuron that state
    again = spp.Network("lif", N, spp.fixed_outdegree(1, 0.0, seed=1),
                        parameters={"I": I, "tau": tau}, initial_state={"v": v})
    np.testing.assert_allclose(again.state, v, rtol=1e-12, atol=1e-15)


def test_initial_states_of_subthreshold_neurons_match_their_closed_form():
    """Given phases: a subthreshold LIF neuron starts at I (1 - exp(-phase / tau)) of its own
    row (the state reached from reset); uniform (the default): its state is reset + u (threshold
    - reset) for the same u as the phase of a neuron that fires (u T), so in [0, 1)."""
    rng = np.random.default_rng(3)
    I, tau = rng.uniform(0.5, 1.5, N), rng.uniform(5.0, 15.0, N)
    phase = rng.uniform(0.0, 3.0, N)
    net = spp.Network("lif", N, spp.fixed_outdegree(2, 0.0, seed=1), initial_phase=phase,
                      parameters={"I": I, "tau": tau})
    sub = net.subthreshold
    assert 0.3 < sub.mean() < 0.7
    np.testing.assert_allclose(net.state, I * (1 - np.exp(-phase / tau)), rtol=1e-13)
    uniform = spp.Network("lif", N, spp.fixed_outdegree(2, 0.0, seed=1), seed=4,
                          parameters={"I": I, "tau": tau})
    u = uniform.phase[~sub] / uniform.period[~sub]
    v = uniform.state[sub]
    assert np.all((v >= 0) & (v < 1)) and np.unique(v).size == sub.sum()
    assert abs(v.mean() - 0.5) < 0.1 and abs(u.mean() - 0.5) < 0.1


def test_a_silent_subthreshold_network_settles_at_rest():
    net = spp.Network(spp.load_model("lif", I=0.8), 20, spp.fixed_outdegree(3, -0.1, seed=1),
                      seed=2)
    assert net.subthreshold.all() and not net.heterogeneous
    v0 = net.state
    result = net.run(duration=50.0)
    assert result.n_spikes == 0 and net.t == 50.0
    np.testing.assert_allclose(net.state, 0.8 + (v0 - 0.8) * np.exp(-5.0), rtol=1e-14)
    assert net.run(max_spikes=10).n_spikes == 0        # no spike will ever come: no hang


def test_refractory_neurons_ignore_inputs_and_hold_at_reset():
    """Neurons 0 and 2 (periodic, 1 ms apart) drive the subthreshold neuron 1 over threshold
    at every input that does not find it refractory; the others are lost."""
    model = spp.load_model("lif", I=0.5, refractory=3.0)
    assert model.refractory == 3.0
    pre, post = np.array([0, 2]), np.array([1, 1])
    for engine in ("sparse", "reference"):
        net = spp.Network(model, 3, spp.from_edges(pre, post, 2.0), initial_phase=[0, 0, 1.0],
                          parameters={"I": np.array([1.5, 0.5, 1.5])})
        assert np.all(net.refractory == 3.0)
        result = net.run(duration=40.0, engine=engine)
        spikes_of_1 = result.t[result.i == 1]
        # neuron 1 fires with every input that finds it out of its refractory period
        inputs = np.sort(result.t[result.i != 1])
        accepted = [t for t in inputs if not any(0 <= t - s < 3.0 for s in spikes_of_1 if s < t)]
        np.testing.assert_allclose(spikes_of_1, accepted, rtol=0, atol=0)
        assert len(accepted) < len(inputs)              # some inputs were lost


def test_gradients_with_refractory_periods_match_finite_differences():
    """Inputs lost in a refractory period are NaN on the tape; the reverse sweep skips them."""
    n = 30
    conn = spp.fixed_outdegree(4, 0.0, seed=1).build(n)
    weights = np.random.default_rng(1).uniform(-0.15, 0.1, conn.nnz)
    drives = _drives(n, seed=2, centre=1.5, spread=0.2)
    phase = np.random.default_rng(3).uniform(0, 5.0, n)

    def run(I, weights=weights):
        net = spp.Network("lif", n, spp.connectivity.CSR(n, conn.indptr, conn.indices, weights),
                          initial_phase=phase, parameters={"I": I, "refractory": 1.5})
        return net.run(max_spikes=150, record_tape=True)

    result = run(drives)
    assert np.isnan(result.tape.entries).sum() > 10
    c = np.random.default_rng(4).normal(size=result.n_spikes)
    g = result.backward(c)
    h = 1e-6
    for k in (0, 11, 23):
        up, down = drives.copy(), drives.copy()
        up[k], down[k] = up[k] + h, down[k] - h
        ru, rd = run(up), run(down)
        assert np.array_equal(ru.i, result.i) and np.array_equal(rd.i, result.i)
        fd = (c @ ru.t - c @ rd.t) / (2 * h)
        assert g.parameters["I"][k] == pytest.approx(fd, rel=1e-5, abs=1e-6 * abs(c @ result.t))
    for s in (3, 40, 77):
        up, down = weights.copy(), weights.copy()
        up[s], down[s] = up[s] + h, down[s] - h
        ru, rd = run(drives, up), run(drives, down)
        assert np.array_equal(ru.i, result.i) and np.array_equal(rd.i, result.i)
        fd = (c @ ru.t - c @ rd.t) / (2 * h)
        assert g.weight[s] == pytest.approx(fd, rel=1e-5, abs=1e-6 * abs(c @ result.t))


@pytest.mark.parametrize("engine", ["sparse", "reference"])
def test_gradients_through_subthreshold_neurons_match_finite_differences(engine):
    """A subthreshold neuron fires at the time of the input that pushes it over: its spike
    time's gradient is that input's, and its own drive moves no spike time (gradient 0)."""
    n = 40
    conn = spp.fixed_outdegree(6, 0.0, seed=1).build(n)
    weights = np.random.default_rng(1).uniform(-0.1, 0.25, conn.nnz)
    drives = np.random.default_rng(2).uniform(0.7, 1.5, n)
    phase = np.random.default_rng(3).uniform(0, 5.0, n)

    def run(I=drives, weights=weights):
        net = spp.Network("lif", n, spp.connectivity.CSR(n, conn.indptr, conn.indices, weights),
                          initial_phase=phase, parameters={"I": I, "refractory": 0.5})
        return net, net.run(max_spikes=200, record_tape=True, engine=engine)

    net, result = run()
    sub = net.subthreshold
    assert 5 < sub.sum() < n - 5 and result.counts[sub].sum() > 20
    assert np.isinf(result.tape.entries).sum() > 20          # pushes over threshold
    c = np.random.default_rng(4).normal(size=result.n_spikes)
    g = result.backward(c, dloss_dphase=np.ones(n))
    assert np.all(np.isfinite(g.weight)) and np.all(g.parameters["I"][sub] == 0)

    def loss(r):
        return c @ r.t + np.nansum(r.final_phase)

    h, checked, moved = 1e-7, 0, 0
    for which, k in [("I", k) for k in range(n)] + [("w", s) for s in range(0, conn.nnz, 6)]:
        values = drives if which == "I" else weights
        up, down = values.copy(), values.copy()
        up[k], down[k] = up[k] + h, down[k] - h
        (_, ru), (_, rd) = (run(I=up), run(I=down)) if which == "I" else (
            run(weights=up), run(weights=down))
        if not (np.array_equal(ru.i, result.i) and np.array_equal(rd.i, result.i)):
            continue                                           # the step changed the order
        fd = (loss(ru) - loss(rd)) / (2 * h)
        got = g.parameters["I"][k] if which == "I" else g.weight[k]
        assert got == pytest.approx(fd, rel=1e-5, abs=1e-6 * abs(loss(result))), (which, k)
        checked, moved = checked + 1, moved + (abs(fd) > 1e-3)
    assert checked >= 60 and moved >= 25      # measured: 80 checked, 32 non-zero


def test_a_model_fit_only_for_input_rejects_neurons_that_fire_on_their_own():
    """LIF with I = 0 has no phase map (the drive is below the reset); per-neuron drives that
    fire need a model built at firing values."""
    quiet = spp.load_model("lif", I=0.0)
    with pytest.raises(spp.ModelError, match="fires on its own.*with_parameters"):
        spp.Network(quiet, 5, spp.fixed_outdegree(2, 0.1, seed=1),
                    parameters={"I": np.array([0.0, 0.0, 1.2, 0.0, 0.0])})
    net = spp.Network(quiet, 5, spp.fixed_outdegree(2, 0.6, seed=1), initial_phase=[0, 1, 2, 3, 4])
    assert net.run(duration=10.0).n_spikes == 0


def test_ei_populations_with_everything_match_the_reference():
    """Acceptance: E and I populations (build_network), drives 1 +- 40% (some subthreshold),
    refractory periods, 10^4 spikes: the time-keyed engine gives the reference's spikes."""
    n_e, n_i = 320, 80
    rng = np.random.default_rng(11)
    pops = [spp.Population("E", n_e, parameters={"I": rng.uniform(0.6, 1.4, n_e),
                                                  "refractory": 2.0}),
            spp.Population("I", n_i, parameters={"I": rng.uniform(0.6, 1.4, n_i),
                                                  "refractory": 1.0})]
    projections = [spp.Projection("E", "E", spp.fixed_indegree(16, 0.04, seed=1)),
                   spp.Projection("E", "I", spp.fixed_indegree(16, 0.04, seed=2)),
                   spp.Projection("I", "E", spp.fixed_indegree(4, -0.2, seed=3)),
                   spp.Projection("I", "I", spp.fixed_indegree(4, -0.2, seed=4))]
    runs = []
    for engine in ("sparse", "reference"):
        net = spp.build_network("lif", pops, projections, seed=5)
        runs.append(net.run(max_spikes=10_000, engine=engine))
    assert 0.2 < net.subthreshold.mean() < 0.8
    assert all(rate > 0 for rate in runs[0].rates().values())
    assert runs[0].counts[net.subthreshold].sum() > 100
    assert np.sum(np.diff(runs[0].t) == 0) > 1000     # cascades of simultaneous spikes
    np.testing.assert_array_equal(runs[0].i, runs[1].i)
    # The engines round differently (one flow over many inputs against one per spike), and
    # this excitable network amplifies that about 10x per 1000 spikes (measured: 1.2e-14 at
    # spike 3000, 2.5e-13 at 5000, 2.3e-9 at 10^4); the sequence stays the same throughout.
    np.testing.assert_allclose(runs[0].t[:5000], runs[1].t[:5000], rtol=1e-12, atol=0)
    np.testing.assert_allclose(runs[0].t, runs[1].t, rtol=1e-7, atol=0)


def _random_network(name, seed):
    """A small random network: size, degree, drives (some subthreshold), time constants, E and
    I weights and refractory periods (shared or per neuron) all drawn from `seed`."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 40))
    k = int(rng.integers(1, min(n, 8)))
    base = spp.load_model(name).parameters
    parameters = {"I": base["I"] * rng.uniform(0.5, 1.5, n) if name == "lif"
                  else base["I"] * rng.uniform(-0.5, 1.5, n),
                  "tau": base["tau"] * rng.uniform(0.5, 2.0, n),
                  "refractory": rng.choice([0.0, 1.0, 3.0]) if rng.uniform() < 0.7
                  else rng.uniform(0, 3, n)}
    conn = spp.fixed_outdegree(k, rng.uniform(-0.3, 0.35, n * k), seed=seed)
    return lambda: spp.Network(name, n, conn, seed=seed, parameters=parameters)


@pytest.mark.parametrize("name,seed", [("lif", s) for s in range(30)] +
                         [("pif", s) for s in range(10)])
def test_random_small_networks_give_the_same_spikes_on_both_engines(name, seed):
    """40 random networks (376 subthreshold neurons in all), 1000 spikes each: the same
    sequence, times to 1e-8 (measured worst 1.3e-12; some of these networks are chaotic and
    amplify the engines' different roundings further over longer runs)."""
    make = _random_network(name, seed)
    runs = [make().run(max_spikes=1000, duration=2000.0, engine=engine)
            for engine in ("sparse", "reference")]
    np.testing.assert_array_equal(runs[0].i, runs[1].i)
    np.testing.assert_allclose(runs[0].t, runs[1].t, rtol=1e-8, atol=1e-12)
