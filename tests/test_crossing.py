"""The first threshold crossing of a sum of exponentials (sparseprop.engine.crossing), against
independent oracles: solve_ivp with event location on a current-based LIF neuron, a dense grid
refined by brentq on random sums (a crossing the grid misses must be a real one, checked in
50-digit arithmetic), and brief crossings around a peak placed 1e-9 above or below threshold."""
import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from sparseprop.engine.crossing import first_crossing, lower_bound, workspace

WORK = workspace(4, 2)


def crossing(rates, coef):
    coef = np.asarray(coef, float)
    coef = coef.reshape(len(rates), -1)
    padded = np.zeros((len(rates), 3))
    padded[:, :coef.shape[1]] = coef
    return first_crossing(np.asarray(rates, float), padded, *WORK)


def g_float(rates, coef, t):
    coef = np.asarray(coef, float).reshape(len(rates), -1)
    t = np.asarray(t, float)
    return sum(np.polyval(coef[j][::-1], t) * np.exp(rates[j] * t) for j in range(len(rates)))


def g_mp(rates, coef, t):
    with mpmath.workdps(50):
        coef = np.asarray(coef, float).reshape(len(rates), -1)
        t = mpmath.mpf(float(t))
        return sum(sum(mpmath.mpf(float(c)) * t ** d for d, c in enumerate(coef[j]))
                   * mpmath.exp(mpmath.mpf(float(rates[j])) * t) for j in range(len(rates)))


def lif_exp(v0, i0, drive, tau_m, tau_s):
    """Rates and coefficients of v(t) - 1 for dv/dt = (drive + I - v)/tau_m, dI/dt = -I/tau_s."""
    d = i0 * tau_s / (tau_s - tau_m)
    return [-1 / tau_m, -1 / tau_s, 0.0], [v0 - drive - d, d, drive - 1.0]


@pytest.mark.parametrize("v0, i0, drive", [(0.0, 0.0, 1.5), (0.2, 3.0, 0.0), (0.9, -2.0, 1.2),
                                           (0.5, 0.4, 0.9), (0.0, 1.2, 0.5)])
def test_lif_exp_against_solve_ivp(v0, i0, drive):
    tau_m, tau_s = 10.0, 2.0
    rates, coef = lif_exp(v0, i0, drive, tau_m, tau_s)

    def event(t, x):
        return x[0] - 1.0
    event.terminal, event.direction = True, 1
    sol = solve_ivp(lambda t, x: [(drive + x[1] - x[0]) / tau_m, -x[1] / tau_s], (0, 200),
                    [v0, i0], events=event, rtol=1e-12, atol=1e-14)
    ours = crossing(rates, coef)
    if sol.t_events[0].size:
        assert ours == pytest.approx(sol.t_events[0][0], abs=1e-8)
    else:
        assert ours == math.inf or ours > 200


def _peak(epsilon):
    """a (e^(-t/10) - e^(-t/2)) - 1 with its maximum at 1 + epsilon (and a slow third term)."""
    tau_m, tau_s = 10.0, 2.0
    t_peak = math.log(tau_m / tau_s) * tau_m * tau_s / (tau_m - tau_s)
    shape = math.exp(-t_peak / tau_m) - math.exp(-t_peak / tau_s)
    a = (1.0 + epsilon) / shape
    return [-1 / tau_m, -1 / tau_s, 0.0], [a, -a, -1.0], t_peak


def test_a_crossing_shorter_than_a_microsecond_is_found():
    rates, coef, t_peak = _peak(1e-9)
    t = crossing(rates, coef)
    assert t < t_peak + 1e-6
    assert g_mp(rates, coef, t) >= -1e-15                  # over threshold there (to
    assert g_mp(rates, coef, np.nextafter(t, 0)) < 1e-15   # rounding), not one float before
    curvature = abs(sum(c * r * r * math.exp(r * t_peak) for r, c in zip(rates, coef)))
    width = 2 * math.sqrt(2 * 1e-9 / curvature)            # how long v stays over threshold
    assert width < 1e-3                                    # (ms): under a microsecond
    assert t_peak - width / 2 - 1e-9 <= t <= t_peak


def test_a_peak_just_below_threshold_is_not_a_crossing():
    rates, coef, _ = _peak(-1e-9)
    assert crossing(rates, coef) == math.inf


def _oracle(rates, coef, horizon=60.0, points=6001):
    grid = np.linspace(0.0, horizon, points)
    values = g_float(rates, coef, grid)
    over = np.flatnonzero(values >= 0)
    if over.size == 0:
        return None, grid
    k = over[0]
    if k == 0:
        return 0.0, grid
    return brentq(lambda t: g_float(rates, coef, t), grid[k - 1], grid[k], xtol=1e-15,
                  rtol=1e-15), grid


def _padded(rates, coef):
    coef = np.asarray(coef, float).reshape(len(rates), -1)
    padded = np.zeros((len(rates), 3))
    padded[:, :coef.shape[1]] = coef
    return np.asarray(rates, float), padded


def _check(rates, coef):
    ours = crossing(rates, coef)
    bound, exact = lower_bound(*_padded(rates, coef))   # the engine's cheap key
    if bound == bound:
        assert bound == ours if exact else bound <= ours
    oracle, grid = _oracle(rates, coef)
    if ours < math.inf:
        assert g_mp(rates, coef, ours) >= -1e-12 * (1 + float(np.abs(coef).sum()))
        if ours > 0:
            before = np.nextafter(ours, 0)
            assert g_mp(rates, coef, before) <= 1e-12 * (1 + float(np.abs(coef).sum()))
    earlier = grid[grid < ours - 1e-9]
    assert np.all(g_float(rates, coef, earlier) < 1e-12 * (1 + np.abs(coef).sum()))
    if oracle is not None:
        assert ours <= oracle + 1e-9                        # never later than the grid's
        if ours < oracle - 1e-6:                            # earlier: a brief crossing the
            assert g_mp(rates, coef, ours) >= -1e-12        # grid missed, real
    return ours, oracle


coefficient = st.floats(-3.0, 3.0, allow_nan=False).map(lambda c: round(c, 3))
rate = st.sampled_from([-0.1, -0.2, -0.5, -1.0 / 3.0, -2.0, -0.05])


@settings(max_examples=400, deadline=None)
@given(st.lists(rate, min_size=1, max_size=3, unique=True), st.data())
def test_random_sums_of_exponentials_against_a_grid(rates, data):
    rates = list(rates) + [0.0]
    coef = [data.draw(coefficient) for _ in rates]
    coef[-1] = data.draw(st.floats(-2.0, 0.5).map(lambda c: round(c, 3)))
    _check(rates, coef)


@settings(max_examples=300, deadline=None)
@given(st.lists(rate, min_size=1, max_size=2, unique=True), st.data())
def test_repeated_rates_t_exp_terms_against_a_grid(rates, data):
    rates = list(rates) + [0.0]
    coef = [[data.draw(coefficient) for _ in range(3)] for _ in rates]
    coef[-1] = [data.draw(st.floats(-2.0, 0.5).map(lambda c: round(c, 3))), 0.0, 0.0]
    _check(rates, coef)


def test_integrator_and_growing_terms():
    # v(t) = -1 + 0.01 t: crosses at 100; (t - 3)^2 e^(-t) - 0.1 + ... touching shapes
    assert crossing([0.0], [[-1.0, 0.01, 0.0]]) == pytest.approx(100.0, rel=1e-15)
    assert crossing([0.0], [[-1.0, -0.01, 0.0]]) == math.inf
    assert crossing([0.5, 0.0], [-1e-3, -1.0]) == math.inf          # grows away below
    t = crossing([0.5, 0.0], [1e-3, -1.0])                          # grows over: ln(1000)/0.5
    assert t == pytest.approx(2 * math.log(1000.0), rel=1e-14)
    assert crossing([-1.0, 0.0], [2.0, -1.0]) == 0.0                # already over at t = 0


def test_lower_bound_is_exact_or_below_and_not_far_below_for_an_lif_exp_neuron():
    # g(t) = 0.1 + b e^(-t/10) + c e^(-t/2): v from 0.5, currents of both signs
    rates = [0.0, -0.1, -0.5]
    for current in (-0.4, 0.0, 0.4):
        coef = [0.1, -0.6 - current * 2 / 8 * -1, current * 2 / 8 * -1]
        ours = crossing(rates, coef)
        bound, exact = lower_bound(*_padded(rates, coef))
        assert not exact and 0.3 * ours < bound <= ours   # (tightness: fewer exact searches)
    assert lower_bound(*_padded([0.0, -0.1], [-0.5, 0.2])) == (math.inf, True)    # only falls
    # rises for a while (the current), but v <= 0.9 e^(-t/20) < 1 for every t: never searched
    assert lower_bound(*_padded([0.0, -0.05, -0.2], [-1.0, 0.9, -0.5])) == (math.inf, True)
    bound, exact = lower_bound(*_padded([0.0, -0.05, -0.2], [-1.0, 1.2, -1.0]))
    assert not exact and bound < crossing([0.0, -0.05, -0.2], [-1.0, 1.2, -1.0]) == math.inf
    assert lower_bound(*_padded([0.0, -0.1], [0.5, -0.2])) == (0.0, True)         # over at 0
    assert math.isnan(lower_bound(*_padded([0.5, 0.0], [1e-3, -1.0]))[0])        # grows: search
