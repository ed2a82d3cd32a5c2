"""Self-tests of tests/oracle_linear.py (solve_ivp oracle for networks of linear neurons with
several state variables) against closed forms: lif_exp_voltage and brentq, scipy.linalg.expm
of the augmented matrix and brentq. Nothing here imports sparseprop."""
import math

import numpy as np
import pytest
from scipy.linalg import expm
from scipy.optimize import brentq

from oracle_linear import lif_exp_voltage, linear_spikes

TAU_M, TAU_S = 10.0, 5.0
V_RESET = [(0, "set", 0.0)]
NO_SYNAPSES = dict(pre=[], post=[], weight=[], delay=[], port=[])


def lif_exp(Ie):
    """(A, b) of dv/dt = (Ie + I - v)/tau_m, dI/dt = -I/tau_s; state (v, I)."""
    return (np.array([[-1 / TAU_M, 1 / TAU_M], [0.0, -1 / TAU_S]]),
            np.array([Ie / TAU_M, 0.0]))


def lif_exp_net(Ie):
    """A, b per neuron for drives Ie (one per neuron)."""
    pairs = [lif_exp(e) for e in Ie]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def first_root(f, horizon, step=0.05):
    """First upward zero of f on (0, horizon]: a grid scan, then brentq to 1e-15."""
    s0, f0 = 0.0, f(0.0)
    assert f0 < 0
    for s1 in np.arange(step, horizon + step, step):
        f1 = f(s1)
        if f1 >= 0:
            return brentq(f, s0, s1, xtol=1e-15, rtol=4 * np.finfo(float).eps)
        s0, f0 = s1, f1
    raise AssertionError("no crossing")


def lif_exp_crossing(v0, I0, Ie):
    """Time from (v0, I0) to v = 1 by the closed form."""
    return first_root(lambda s: lif_exp_voltage(s, v0, I0, Ie, TAU_M, TAU_S) - 1.0, 200.0)


def lif_exp_train(I0, Ie, refractory, count):
    """Closed-form spike times of one autonomous lif_exp neuron from v = 0, reset v = 0."""
    times, t, v, I = [], 0.0, 0.0, I0
    while len(times) < count:
        s = lif_exp_crossing(v, I, Ie)
        t += s
        times.append(t)
        I *= math.exp(-(s + refractory) / TAU_S)   # decays on through the refractory period
        t, v = t + refractory, 0.0
    return np.array(times)


def test_closed_form_helper():
    # the closed form solves the equations: v(0) = v0 and dv/dt = (Ie + I - v)/tau_m
    v0, I0, Ie, t, h = 0.2, 0.7, 1.5, 3.0, 1e-5
    assert lif_exp_voltage(0.0, v0, I0, Ie, TAU_M, TAU_S) == pytest.approx(v0, abs=1e-15)
    dv = (lif_exp_voltage(t + h, v0, I0, Ie, TAU_M, TAU_S)
          - lif_exp_voltage(t - h, v0, I0, Ie, TAU_M, TAU_S)) / (2 * h)
    v, I = lif_exp_voltage(t, v0, I0, Ie, TAU_M, TAU_S), I0 * math.exp(-t / TAU_S)
    assert dv == pytest.approx((Ie + I - v) / TAU_M, abs=1e-9)


@pytest.mark.parametrize("refractory", [0.0, 2.0])
def test_one_lif_exp_neuron_matches_closed_form(refractory):
    A, b = lif_exp(1.5)
    idx, t = linear_spikes(A, b, [1.0, 0.0], 1.0, V_RESET, [[0.0, 0.3]], **NO_SYNAPSES,
                           port_var=[1], count=6, refractory=refractory)
    expected = lif_exp_train(0.3, 1.5, refractory, 6)
    assert list(idx) == [0] * 6
    assert np.max(np.abs(t - expected)) < 1e-9
    # the numbers themselves: first spike 10 ln 3 minus the push of I0 = 0.3, then intervals
    # that lengthen towards 10 ln 3 + refractory as I decays
    assert 9.0 < t[0] < 10 * math.log(3)
    isi = np.diff(t)
    assert np.all(np.diff(isi) > 0) and abs(isi[-1] - 10 * math.log(3) - refractory) < 1e-3


def test_refractory_holds_v_and_lets_I_decay():
    # during the 2 ms, v stays exactly 0 and I decays: the state at t_max inside it
    A, b = lif_exp(1.5)
    first = lif_exp_train(0.3, 1.5, 2.0, 1)[0]
    idx, t, x = linear_spikes(A, b, [1.0, 0.0], 1.0, V_RESET, [[0.0, 0.3]], **NO_SYNAPSES,
                              port_var=[1], count=None, refractory=2.0, t_max=first + 1.5,
                              return_state=True)
    assert list(idx) == [0] and abs(t[0] - first) < 1e-9
    assert x[0, 0] == 0.0
    assert x[0, 1] == pytest.approx(0.3 * math.exp(-(first + 1.5) / TAU_S), abs=1e-11)


def test_delayed_input_on_current_matches_piecewise_closed_form():
    # neuron 0 fires on its own; after 1.5 ms its spike adds 2 to I of neuron 1 (Ie 0.9:
    # silent on its own), which then crosses by the closed form from its state at the delivery
    A, b = lif_exp_net([1.5, 0.9])
    idx, t = linear_spikes(A, b, [1.0, 0.0], 1.0, V_RESET, [[0.0, 0.3], [0.2, 0.0]],
                           pre=[0], post=[1], weight=[2.0], delay=[1.5], port=[0],
                           port_var=[1], count=2)
    t0 = lif_exp_crossing(0.0, 0.3, 1.5)
    arrival = t0 + 1.5
    v1 = lif_exp_voltage(arrival, 0.2, 0.0, 0.9, TAU_M, TAU_S)
    t1 = arrival + lif_exp_crossing(v1, 2.0, 0.9)
    assert list(idx) == [0, 1]
    assert abs(t[0] - t0) < 1e-9 and abs(t[1] - t1) < 1e-9
    assert 1.0 < t1 - arrival < 10.0                  # a genuine crossing, not at the delivery


def test_identical_neurons_tie_in_index_order():
    # neurons 1 and 2 have the same state and parameters: the same time, bit for bit, in index
    # order; neuron 0 starts lower and fires later
    A, b = lif_exp_net([1.5, 1.5, 1.5])
    idx, t = linear_spikes(A, b, [1.0, 0.0], 1.0, V_RESET,
                           [[0.0, 0.3], [0.1, 0.4], [0.1, 0.4]], **NO_SYNAPSES,
                           port_var=[1], count=3)
    assert list(idx) == [1, 2, 0]
    assert t[0] == t[1]
    assert abs(t[0] - lif_exp_crossing(0.1, 0.4, 1.5)) < 1e-9
    assert abs(t[2] - lif_exp_crossing(0.0, 0.3, 1.5)) < 1e-9


@pytest.mark.parametrize("delay", [1.5, 0.0])
def test_input_over_threshold_fires_at_the_delivery(delay):
    # neuron 1 (Ie 0.9, silent) gets v += 0.6 from neuron 0's spike: over threshold at once
    A, b = lif_exp_net([0.9, 1.5])
    idx, t = linear_spikes(A, b, [1.0, 0.0], 1.0, V_RESET, [[0.5, 0.0], [0.0, 0.3]],
                           pre=[1], post=[0], weight=[0.6], delay=[delay], port=[0],
                           port_var=[0], count=2)
    assert list(idx) == [1, 0]                         # the cause first, even at one instant
    assert abs(t[0] - lif_exp_crossing(0.0, 0.3, 1.5)) < 1e-9
    assert t[1] == t[0] + delay                        # exactly at the delivery


@pytest.mark.parametrize("due_inputs, I_after", [("lost", 0.0), ("apply", 5.0)])
def test_inputs_to_a_due_neuron(due_inputs, I_after):
    # a source spike at t = 1 pushes neurons 1 and 2 over threshold (v += 2); neuron 1 fires
    # first and its zero-delay synapse adds 5 to I of neuron 2, which is due: lost or applied
    A, b = lif_exp_net([0.9, 0.9, 0.9])
    idx, t, x = linear_spikes(A, b, [1.0, 0.0], 1.0, V_RESET, np.zeros((3, 2)),
                              pre=[3, 3, 1], post=[1, 2, 2], weight=[2.0, 2.0, 5.0],
                              delay=[0.0, 0.0, 0.0], port=[0, 0, 1], port_var=[0, 1],
                              count=None, sources=([0], [1.0]), t_max=1.0, due_inputs=due_inputs,
                              return_state=True)
    assert list(idx) == [1, 2] and list(t) == [1.0, 1.0]
    assert x[2, 0] == 0.0 and x[2, 1] == I_after


def refractory_run(port, w, t_input, **kwargs):
    """Neuron (Ie 1.5, v 0, I 0.3) pushed over at t = 1 exactly by a source (v += 2), then 5 ms
    refractory; a second source adds w to port (0: v, clamped; 1: I) at t_input."""
    A, b = lif_exp(1.5)
    return linear_spikes(A, b, [1.0, 0.0], 1.0, V_RESET, [[0.0, 0.3]], pre=[1, 2], post=[0, 0],
                         weight=[2.0, w], delay=[0.0, 0.0], port=[0, port], port_var=[0, 1],
                         refractory=5.0, sources=([0, 1], [1.0, t_input]), **kwargs)


def test_refractory_input_on_clamped_variable_is_lost():
    idx, t, x = refractory_run(0, 0.5, 3.0, count=None, t_max=4.0, return_state=True)
    assert list(idx) == [0] and list(t) == [1.0]
    assert x[0, 0] == 0.0
    assert x[0, 1] == pytest.approx(0.3 * math.exp(-4.0 / TAU_S), abs=1e-12)
    idx, t = refractory_run(0, 0.5, 3.0, count=2)
    expected = 6.0 + lif_exp_crossing(0.0, 0.3 * math.exp(-6.0 / TAU_S), 1.5)
    assert list(idx) == [0, 0] and abs(t[1] - expected) < 1e-9


def test_refractory_input_on_current_applies():
    idx, t, x = refractory_run(1, 0.5, 3.0, count=None, t_max=4.0, return_state=True)
    assert x[0, 0] == 0.0
    assert x[0, 1] == pytest.approx(0.3 * math.exp(-4.0 / TAU_S) + 0.5 * math.exp(-1.0 / TAU_S),
                                    abs=1e-12)
    idx, t = refractory_run(1, 0.5, 3.0, count=2)
    I6 = 0.3 * math.exp(-6.0 / TAU_S) + 0.5 * math.exp(-3.0 / TAU_S)
    expected = 6.0 + lif_exp_crossing(0.0, I6, 1.5)
    lost = 6.0 + lif_exp_crossing(0.0, 0.3 * math.exp(-6.0 / TAU_S), 1.5)
    assert list(idx) == [0, 0] and abs(t[1] - expected) < 1e-9
    assert lost - t[1] > 0.5                           # the input made a difference


def test_input_at_the_refractory_end_counts():
    idx, t = refractory_run(0, 0.5, 6.0, count=2)      # v = 0.5 at t = 6 exactly
    expected = 6.0 + lif_exp_crossing(0.5, 0.3 * math.exp(-6.0 / TAU_S), 1.5)
    assert abs(t[1] - expected) < 1e-9
    idx, t = refractory_run(0, 1.0, 6.0, count=2)      # pushed to threshold: fires at 6
    assert list(t) == [1.0, 6.0]


# adaptive neuron: v, I, a
IE, TAU_A, JUMP_A, REFR = 2.0, 100.0, 0.2, 1.0
ALIF_A = np.array([[-1 / TAU_M, 1 / TAU_M, -1 / TAU_M], [0, -1 / TAU_S, 0], [0, 0, -1 / TAU_A]])
ALIF_B = np.array([IE / TAU_M, 0.0, 0.0])


def expm_flow(A, b, x, t):
    """x(t) of x' = A x + b from exp of the augmented matrix [[A, b], [0, 0]]."""
    d = len(b)
    M = np.zeros((d + 1, d + 1))
    M[:d, :d], M[:d, d] = A, b
    return (expm(M * t) @ np.append(x, 1.0))[:d]


def alif_train(x, count):
    """Spike times by expm propagation and brentq; v held at 0 for REFR ms after a spike."""
    held_A, held_b = ALIF_A.copy(), ALIF_B.copy()
    held_A[0], held_b[0] = 0.0, 0.0
    times, t = [], 0.0
    while len(times) < count:
        s = first_root(lambda s: expm_flow(ALIF_A, ALIF_B, x, s)[0] - 1.0, 200.0, step=0.25)
        t += s
        times.append(t)
        x = expm_flow(ALIF_A, ALIF_B, x, s)
        x[0], x[2] = 0.0, x[2] + JUMP_A
        x = expm_flow(held_A, held_b, x, REFR)
        assert x[0] == pytest.approx(0.0, abs=1e-15)
        t += REFR
    return np.array(times)


def test_adaptive_neuron_matches_expm_and_adapts():
    x0 = np.array([0.0, 0.3, 0.0])
    idx, t = linear_spikes(ALIF_A, ALIF_B, [1.0, 0.0, 0.0], 1.0,
                           [(0, "set", 0.0), (2, "add", JUMP_A)], [x0], **NO_SYNAPSES,
                           port_var=[1], count=8, refractory=REFR)
    expected = alif_train(x0, 8)
    assert list(idx) == [0] * 8
    assert np.max(np.abs(t - expected)) < 1e-8
    isi = np.diff(t)
    assert np.all(np.diff(isi) > 0.05)                 # adaptation: the intervals grow
    assert isi[-1] - isi[0] > 1.0


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_one_variable_networks_agree_with_lif_events(seed):
    # d = 1 (tau dv/dt = I - v, reset v = 0, inputs on v): the same spikes as the closed-form
    # event loop tests/oracle.lif_events, with delays (some 0: cascades at one instant), sources,
    # refractory periods and a zero-delay self-synapse of a neuron without refractory period
    from oracle import lif_events
    rng = np.random.default_rng(seed)
    n, m = 6, 31
    I = rng.uniform(0.8, 1.6, n)
    tau = rng.uniform(8.0, 20.0, n)
    refractory = np.append(rng.choice([0.0, 1.0, 2.5], n - 1), 0.0)
    v0 = rng.uniform(0.0, 0.9, n)
    pre = np.append(rng.integers(0, n + 2, m - 1), n - 1)
    post = np.append(rng.integers(0, n, m - 1), n - 1)
    weight = np.append(rng.uniform(-0.3, 0.5, m - 1), 0.5)
    delay = np.append(np.where(rng.random(m - 1) < 0.3, 0.0, rng.uniform(0.2, 3.0, m - 1)), 0.0)
    sources = ([0, 1, 0, 1], [2.0, 3.5, 7.25, 7.25])
    senders, times = lif_events(I, tau, v0, pre, post, weight, delay, None,
                                refractory=refractory, duration=100.0,
                                sources=(n + np.array(sources[0]), sources[1]))
    expected_i, expected_t = senders[senders < n], times[senders < n]
    idx, t = linear_spikes((-1 / tau)[:, None, None], (I / tau)[:, None], [1.0], 1.0,
                           [(0, "set", 0.0)], v0[:, None], pre, post, weight, delay,
                           np.zeros(m, dtype=int), [0], None, refractory=refractory,
                           sources=sources, t_max=100.0)
    assert len(expected_t) > 30 and np.sum(np.diff(expected_t) == 0) > 0
    assert list(idx) == list(expected_i)
    assert np.max(np.abs(t - expected_t)) < 1e-9
