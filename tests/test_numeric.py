"""Numeric phase maps (issue 6): EIF and any 1-D model without a closed-form phase.

Oracles: scipy solve_ivp with event location (shares nothing with sparseprop but the network's
synapses), scipy quad, and the closed-form LIF forced down the numeric path."""
import logging
import math

import numpy as np
import pytest
from scipy.integrate import quad, solve_ivp

import sparseprop as spp
from sparseprop import ModelError, NeuronModel
from sparseprop.connectivity import fixed_outdegree
from sparseprop.network import Network

EIF_I, EIF_DELTA, EIF_TAU, CUTOFF, RESET = 0.1, 0.1, 10.0, 20.0, -1.0
LEVEL = 2.5           # where the oracle's event is located (see _scipy_spikes)


def eif_f(v):
    """The EIF's dv/dt at the shipped values (the oracle's own copy)."""
    return (-v + EIF_DELTA * np.exp(v / EIF_DELTA) + EIF_I) / EIF_TAU


def numeric_copy(model, **changes):
    """The same model forced down the numeric path."""
    values = dict(model.parameters, **changes)
    return NeuronModel(model.equations, model.threshold, model.reset, model.on_pre, values,
                       model.name + "_numeric", method="numeric")


@pytest.fixture(scope="module")
def eif():
    model = spp.load_model("eif")
    model.compile()
    return model


@pytest.fixture(scope="module")
def lif_numeric():
    model = numeric_copy(spp.load_model("lif"))
    model.compile()
    return model


def _state_of_phase(phases):
    """v after `phase` ms of free evolution from the reset, by solve_ivp (independent of the tables)."""
    order = np.argsort(phases)
    sol = solve_ivp(lambda s, y: eif_f(y), (0.0, float(np.max(phases))), [RESET],
                    t_eval=np.asarray(phases)[order], rtol=1e-13, atol=1e-14, method="DOP853")
    v = np.empty(len(phases))
    v[order] = sol.y[0]
    return v


def _scipy_spikes(v, pre, post, weight, count):
    """Spike times of dv/dt = f(v), v += w at inputs, spike and reset at the cut-off.

    No ODE solver can follow the blow-up to v = 20 (the last stretch takes tau*exp(-25) ms
    from v = 2.5, below the time resolution), so the event is located at v = LEVEL and the
    remaining time to the cut-off, quad(1/f, LEVEL, 20), is added, the others integrated along."""
    t, spikes_i, spikes_t = 0.0, [], []
    event = (lambda s, y: np.max(y) - LEVEL)
    event.terminal, event.direction = True, 1
    rest = quad(lambda x: 1.0 / eif_f(x), LEVEL, CUTOFF, epsabs=1e-18, epsrel=1e-13,
                points=[3.0, 4.0], limit=200)[0]
    while len(spikes_t) < count:
        sol = solve_ivp(lambda s, y: eif_f(y), (t, t + 1000.0), v, events=event,
                        rtol=1e-12, atol=1e-12, method="DOP853")
        v = sol.y_events[0][0].copy()
        j = int(np.argmax(v))
        others = np.arange(v.size) != j
        if others.any():
            v[others] = solve_ivp(lambda s, y: eif_f(y), (0.0, rest), v[others], rtol=1e-12,
                                  atol=1e-12, method="DOP853").y[:, -1]
        t = sol.t_events[0][0] + rest
        spikes_i.append(j)
        spikes_t.append(t)
        for s in np.flatnonzero(pre == j):
            v[post[s]] += weight[s]
        v[j] = RESET
    return np.array(spikes_i), np.array(spikes_t)


def test_eif_single_neuron_against_scipy(eif):
    net = Network(eif, 1, fixed_outdegree(0, 0.0, seed=1), initial_phase=[0.0])
    result = net.run(max_spikes=100)
    _, times = _scipy_spikes(np.array([RESET]), np.empty(0, int), np.empty(0, int),
                             np.empty(0), 1)
    period = times[0]
    np.testing.assert_allclose(result.t, period * np.arange(1, 101), rtol=0, atol=1e-8)
    assert abs(net.period - period) <= 1e-10 * period


def test_eif_network_against_scipy_event_location(eif):
    """50 inhibitory EIF neurons: the first 100 spikes within 1e-8 ms of solve_ivp's."""
    net = Network(eif, 50, fixed_outdegree(5, -0.05, seed=1), seed=2)
    v = _state_of_phase(net.phase)
    pre, post, weight = net.synapses()
    result = net.run(max_spikes=100)
    spikes_i, spikes_t = _scipy_spikes(v, pre, post, weight, 100)
    np.testing.assert_array_equal(result.i, spikes_i)
    np.testing.assert_allclose(result.t, spikes_t, rtol=0, atol=1e-8)
    reference = Network(eif, 50, fixed_outdegree(5, -0.05, seed=1), seed=2).run(
        max_spikes=100, engine="reference")
    np.testing.assert_allclose(reference.t, result.t, rtol=1e-12)


def test_phase_map_error_between_nodes(eif):
    """phase(x) at points between the fit nodes of every piece, against scipy quad."""
    k, table = eif.compile(), eif.derive().numeric
    T = k.period()
    nodes = table.phase_coeffs.shape[1] - 1
    between = np.cos(np.pi * (np.arange(1, nodes) + 0.0) / nodes)   # between first-kind nodes
    a, b = table.phase_breaks[:-1], table.phase_breaks[1:]
    points = np.unique(np.concatenate([(0.5 * (a + b)[:, None] + 0.5 * (b - a)[:, None]
                                        * between[None, ::3]).ravel(), [RESET]]))
    points = points[points >= -30]            # the deep extension is checked below, coarsely
    k0 = int(np.searchsorted(points, RESET))
    reference = np.zeros(points.size)
    g = lambda v: 1.0 / eif_f(v)  # noqa: E731
    for i in range(k0 + 1, points.size):
        reference[i] = reference[i - 1] + quad(g, points[i - 1], points[i], epsabs=1e-15,
                                               epsrel=1e-13)[0]
    for i in range(k0 - 1, -1, -1):
        reference[i] = reference[i + 1] - quad(g, points[i], points[i + 1], epsabs=1e-15,
                                               epsrel=1e-13)[0]
    error = np.max(np.abs(k.phase(points) - reference)) / T
    assert error <= 1e-10, error
    deep = quad(g, RESET, -200.0, epsabs=1e-15, epsrel=1e-13, limit=200)[0]
    assert abs(k.phase(-200.0) - deep) <= 1e-10 * T
    period = quad(g, RESET, CUTOFF, epsabs=1e-15, epsrel=1e-13, points=[0.0, 1.0], limit=200)[0]
    assert abs(T - period) <= 1e-10 * T
    # the inverse, between the nodes of the state table: phase(state(p)) = p
    sa, sb = table.state_breaks[:-1], table.state_breaks[1:]
    ps = (0.5 * (sa + sb)[:, None] + 0.5 * (sb - sa)[:, None] * between[None, :]).ravel()
    assert np.max(np.abs(k.phase(k.state(ps)) - ps)) <= 1e-10 * T
    # monotone on a dense grid (past v ~ 3 the phase equals T to rounding: non-decreasing)
    xs = np.linspace(table.lower, CUTOFF, 20001)
    assert np.all(np.diff(k.phase(xs)) >= 0)
    assert np.all(np.diff(k.phase(xs[xs < 2.0])) > 0)
    assert np.all(np.diff(k.state(np.linspace(-5.0, T, 20001))) > 0)


def test_lif_numeric_reproduces_the_closed_form(lif_numeric):
    """The shipped LIF forced down the numeric path: the same spikes to 1e-9 over 10^4."""
    conn = fixed_outdegree(100, -0.1, seed=1)
    analytic = Network("lif", 1000, conn, seed=2).run(max_spikes=10_000)
    numeric = Network(lif_numeric, 1000, conn, seed=2).run(max_spikes=10_000)
    assert numeric.n_spikes == analytic.n_spikes == 10_000
    np.testing.assert_array_equal(numeric.i, analytic.i)
    np.testing.assert_allclose(numeric.t, analytic.t, rtol=0, atol=1e-9)


def test_numeric_derivatives_match_the_closed_form(lif_numeric):
    """Every kernel of the numeric LIF, derivatives w.r.t. phase, w and parameters included."""
    exact, approx = spp.load_model("lif").compile(), lif_numeric.compile()
    T = exact.period()
    phases = np.linspace(-3.0, 0.999 * T, 41)
    for w in (-0.3, -0.05, 0.05):
        got, want = approx.ptc_grads(phases, w), exact.ptc_grads(phases, w)
        below = want["ptc"] < T        # over threshold both fire (past it the maps differ)
        assert np.all(got["ptc"][~below] >= T)
        for name in want:
            np.testing.assert_allclose(got[name][below], want[name][below], rtol=1e-8,
                                       atol=1e-9 * T, err_msg=name)
    got, want = approx.dperiod_dparams(), exact.dperiod_dparams()
    for name in want:
        assert abs(got[name] - want[name]) <= 1e-8 * abs(want[name]), name
    for name in ("state", "dstate_dphase"):
        np.testing.assert_allclose(getattr(approx, name)(phases), getattr(exact, name)(phases),
                                   rtol=1e-9, atol=1e-12)
    got, want = approx.dstate_dparams(phases), exact.dstate_dparams(phases)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-7, atol=1e-10)


def test_eif_parameter_derivatives_against_finite_differences(eif):
    """d period/d p and d PTC/d p from the parameter tables, against rebuilt maps."""
    k = eif.compile()
    grads = k.dperiod_dparams()
    phase, w = 0.6 * k.period(), -0.05
    dptc = k.dptc_dparams(phase, w)
    for name, value in eif.parameters.items():
        h = 1e-5 * max(abs(value), 1.0)
        up, down = (numeric_copy(eif, **{name: value + s * h}).derive().numeric
                    for s in (1, -1))
        fd = (up.period - down.period) / (2 * h)
        assert abs(grads[name] - fd) <= 1e-5 * max(abs(fd), 1.0), (name, grads[name], fd)
        assert name in dptc and math.isfinite(dptc[name])


def test_explain_says_numeric_and_gives_the_error(eif):
    explanation = eif.explain()
    assert explanation.method == "numeric"
    text = explanation.text
    assert "numeric" in text and "forced by method='numeric'" in text   # models/eif.toml asks
    assert "measured error of phase(x), between the fit nodes" in text
    assert "x period" in text and "T = 29.89" in text


def test_method_is_logged_with_the_reason(caplog):
    model = NeuronModel("dv/dt = (-v + 0.1*exp(10*v) + I)/tau : 1", "v >= 5", "v = -1",
                        parameters={"I": 0.2, "tau": 10.0}, name="eif_logged")
    with caplog.at_level(logging.INFO, logger="sparseprop"):
        derivation = model.derive()
    assert derivation.method == "numeric"
    assert "method 'numeric'" in caplog.text and "SymPy found no closed form" in caplog.text


def test_analytic_method_refuses_a_model_without_closed_form():
    model = NeuronModel("dv/dt = (-v + 0.1*exp(10*v) + I)/tau : 1", "v >= 5", "v = -1",
                        parameters={"I": 0.2, "tau": 10.0}, method="analytic")
    with pytest.raises(ModelError, match="no closed form.*method='numeric'"):
        model.derive()


def test_unknown_method():
    with pytest.raises(ModelError, match="method 'symbolic' is not known"):
        NeuronModel("dv/dt = (I - v)/tau : 1", "v >= 1", "v = 0",
                    parameters={"I": 1.1, "tau": 10.0}, method="symbolic")


def test_state_below_the_range_is_an_error_not_a_spike(lif_numeric):
    k = lif_numeric.compile()
    low = k.numeric_range[0]
    assert low == -10.0 and math.isnan(k.phase(low - 1e-9)) and math.isnan(k.ptc(1.0, low - 1))
    net = Network(lif_numeric, 3, fixed_outdegree(2, -20.0, seed=1), seed=1)
    with pytest.raises(ModelError, match="out of the range.*down to -10"):
        net.run(max_spikes=10)
    with pytest.raises(ModelError, match="out of the range"):
        Network(lif_numeric, 3, fixed_outdegree(2, -20.0, seed=1), seed=1).run(
            max_spikes=10, engine="reference")


def test_inputs_above_the_cutoff_fire(eif):
    k = eif.compile()
    T = k.period()
    assert k.ptc(0.5 * T, 30.0) >= T and k.phase(25.0) >= T and k.phase(20.0) == T


def test_numeric_map_refuses_other_parameter_values(lif_numeric):
    k = lif_numeric.compile()
    with pytest.raises(ModelError, match="numeric.*with_parameters"):
        k.ptc(1.0, -0.1, I=1.2)
    assert k.ptc(1.0, -0.1, I=1.1) == k.ptc(1.0, -0.1)
    net = Network(lif_numeric, 10, fixed_outdegree(2, -0.1, seed=1))
    with pytest.raises(ModelError, match="numeric"):
        net.set_parameters(I=1.2)
    other = lif_numeric.with_parameters(I=1.2)
    assert other.method == "numeric"
    assert abs(other.compile().period() - 10.0 * math.log(1.2 / 0.2)) <= 1e-12 * 20


def test_sign_change_is_refused():
    with pytest.raises(ModelError, match="numeric phase map needs a neuron that fires on its own"):
        NeuronModel("dv/dt = (0.5 - v)/tau : 1", "v >= 1", "v = 0", parameters={"tau": 10.0},
                    method="numeric")


def test_numeric_needs_finite_ends():
    model = NeuronModel("dv/dt = (v**2 + I)/tau : 1", "v >= inf", "v = -inf",
                        parameters={"I": 0.1, "tau": 10.0}, method="numeric")
    with pytest.raises(ModelError, match="finite reset and threshold.*cut-off"):
        model.derive()


def test_eif_gradients_against_finite_differences(eif):
    """Result.backward on an EIF network: d(sum of spike times)/d(one weight), against central
    differences of the exact simulation."""
    conn = fixed_outdegree(5, -0.05, seed=1)
    net = Network(eif, 50, conn, seed=2)
    pre, post, weight = net.synapses()
    result = net.run(max_spikes=60, record_tape=True)
    grads = result.backward(np.ones(result.t.size))

    def total(weights):
        other = Network(eif, 50, conn, seed=2)
        other.set_weights(weights)
        r = other.run(max_spikes=60)
        assert np.array_equal(r.i, result.i)
        return r.t.sum()

    for s in (0, 7, 101):
        h = 1e-6
        up, down = weight.copy(), weight.copy()
        up[s] += h
        down[s] -= h
        fd = (total(up) - total(down)) / (2 * h)
        assert abs(grads.weight[s] - fd) <= 1e-5 * max(1.0, abs(fd)), (s, grads.weight[s], fd)
