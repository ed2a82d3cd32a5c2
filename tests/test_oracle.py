"""The closed-form event oracle `lif_events` (delays, input spikes) checked on its own: against
the solve_ivp oracle without delays, on hand-worked cases, and against the ordering rules."""
import math

import numpy as np
import pytest

from oracle import lif_events, lif_spikes

TAU = 10.0


def _v(I, v, s, tau=TAU):
    """Closed-form LIF voltage s ms after being at v."""
    return I + (v - I) * math.exp(-s / tau)


def _random_network(n, k, seed):
    """n neurons, k distinct random targets each (no self-loops), mixed-sign weights."""
    rng = np.random.default_rng(seed)
    pre = np.repeat(np.arange(n), k)
    post = np.concatenate([rng.choice(np.delete(np.arange(n), j), k, replace=False)
                           for j in range(n)])
    weight = rng.uniform(-0.35, 0.25, n * k)
    return pre, post, weight


# 1. without delays and sources: the same as the independent solve_ivp oracle

@pytest.mark.parametrize("refractory", [0.0, 1.5])
def test_zero_delays_equal_the_solve_ivp_oracle(refractory):
    n, count = 15, 40
    rng = np.random.default_rng(7)
    pre, post, weight = _random_network(n, 4, seed=8)
    I = rng.uniform(0.8, 1.6, n)                      # some neurons (I < 1) fire only when pushed
    assert (I < 1).any() and (I > 1).any()
    tau = rng.uniform(8.0, 12.0, n)
    v = rng.uniform(0.0, 0.95, n)
    senders, times = lif_events(I, tau, v, pre, post, weight, np.zeros(pre.size), count,
                                refractory=refractory)
    expected_i, expected_t = lif_spikes(I, tau, v, pre, post, weight, count,
                                        refractory=refractory)
    assert len(set(senders.tolist())) > 5            # a network, not one neuron
    np.testing.assert_array_equal(senders, expected_i)
    np.testing.assert_allclose(times, expected_t, rtol=0, atol=1e-8)


# 2. hand-worked cases

def test_delayed_source_spike_fires_a_subthreshold_neuron_at_its_arrival():
    I, d = 0.5, 2.5
    needed = 1.0 - _v(I, 0.0, 1.0 + d)                # v(3.5) + w >= 1 fires exactly at 3.5
    source = ([1], [1.0])
    senders, times = lif_events(I, TAU, np.zeros(1), [1], [0], [needed + 1e-9], [d], None,
                                sources=source, duration=100.0)
    np.testing.assert_array_equal(senders, [1, 0])
    np.testing.assert_array_equal(times, [1.0, 3.5])
    senders, times = lif_events(I, TAU, np.zeros(1), [1], [0], [needed - 1e-9], [d], None,
                                sources=source, duration=100.0)
    np.testing.assert_array_equal(senders, [1])       # just short: the neuron stays silent


def _tie(first_weight, second_weight, sources, pre=(1, 2), delays=(2.0, 1.0)):
    """Neuron 0 (I = 0.5, silent alone) gets two inputs arriving together at t = 3."""
    return lif_events(0.5, TAU, np.zeros(1), list(pre), [0, 0],
                      [first_weight, second_weight], list(delays), None, sources=sources,
                      duration=50.0)


def test_deliveries_at_one_instant_follow_emission_order():
    # source 1 (t=1, delay 2) is emitted before source 2 (t=2, delay 1): its input comes first
    both = ([2, 1], [2.0, 1.0])                       # unsorted on purpose
    senders, times = _tie(1.2, -0.5, both)            # excitatory first: due, inhibition lost
    np.testing.assert_array_equal(senders, [1, 2, 0])
    np.testing.assert_array_equal(times, [1.0, 2.0, 3.0])
    senders, times = _tie(-0.5, 1.2, both)            # inhibitory first: 0.7 + v(3) < 1
    np.testing.assert_array_equal(senders, [1, 2])
    # emission order, not sender id: source 2 is emitted first (t = 0.5, delay 2.5)
    early2 = ([1, 2], [1.0, 0.5])
    senders, _ = _tie(1.2, -0.5, early2, delays=(2.0, 2.5))
    np.testing.assert_array_equal(senders, [2, 1])    # inhibition (from 2) came first
    senders, times = _tie(-0.5, 1.2, early2, delays=(2.0, 2.5))
    np.testing.assert_array_equal(senders, [2, 1, 0])
    np.testing.assert_array_equal(times, [0.5, 1.0, 3.0])


def test_deliveries_of_one_spike_follow_synapse_order():
    one = ([1], [1.0])
    senders, _ = _tie(1.2, -0.5, one, pre=(1, 1), delays=(2.0, 2.0))
    np.testing.assert_array_equal(senders, [1, 0])
    senders, _ = _tie(-0.5, 1.2, one, pre=(1, 1), delays=(2.0, 2.0))
    np.testing.assert_array_equal(senders, [1])


def test_delivery_before_source_spike_at_the_same_instant():
    # delivery (source 1 at 1, delay 2) and source 2's zero-delay inhibition, both at t = 3
    sources = ([1, 2], [1.0, 3.0])
    senders, times = _tie(1.2, -0.5, sources, delays=(2.0, 0.0))
    np.testing.assert_array_equal(senders, [1, 2, 0])
    np.testing.assert_array_equal(times, [1.0, 3.0, 3.0])
    senders, _ = _tie(-0.5, 1.2, sources, delays=(2.0, 0.0))
    np.testing.assert_array_equal(senders, [1, 2])


def test_source_spike_before_a_neuron_due_at_the_same_instant():
    # neuron 0 (I = 2) reaches threshold at T; a source spike at T inhibits it: too late
    T = TAU * math.log(2.0)
    senders, times = lif_events(2.0, TAU, np.zeros(1), [1], [0], [-5.0], [0.0], 2,
                                sources=([1], [T]))
    np.testing.assert_array_equal(senders, [1, 0])
    np.testing.assert_array_equal(times, [T, T])
    # a delivery arriving exactly at T is lost as well (the neuron is due)
    assert 1.0 + (T - 1.0) == T                       # the arrival is exactly T in float64
    senders, times = lif_events(2.0, TAU, np.zeros(1), [1], [0], [-5.0], [T - 1.0], 3,
                                sources=([1], [1.0]))
    np.testing.assert_array_equal(senders, [1, 0, 0])
    np.testing.assert_allclose(times, [1.0, T, 2 * T], rtol=0, atol=1e-12)


def test_zero_delay_cascade_fires_smallest_due_index_first():
    # source 4 at t=1 pushes neurons 3, 1, 2 over (synapse order); neuron 1 pushes neuron 0
    pre, post = [4, 4, 4, 1], [3, 1, 2, 0]
    senders, times = lif_events(0.5, TAU, np.zeros(4), pre, post, [2.0] * 4, [0.0] * 4, None,
                                sources=([4], [1.0]), duration=50.0)
    np.testing.assert_array_equal(senders, [4, 1, 0, 2, 3])
    np.testing.assert_array_equal(times, [1.0] * 5)


def test_input_lost_while_refractory_counts_at_the_end():
    # neuron 0 fires at 1 (refractory 2: free at 3); input at 2 lost, input at 3 counts
    sources = ([1, 2, 3], [1.0, 2.0, 3.0])
    senders, times = lif_events(0.5, TAU, np.zeros(1), [1, 2, 3], [0, 0, 0], [2.0, 2.0, 2.0],
                                [0.0, 0.0, 0.0], None, refractory=2.0, sources=sources,
                                duration=50.0)
    np.testing.assert_array_equal(senders, [1, 0, 2, 3, 0])
    np.testing.assert_array_equal(times, [1.0, 1.0, 2.0, 3.0, 3.0])
    # just before the end: lost
    senders, _ = lif_events(0.5, TAU, np.zeros(1), [1, 2], [0, 0], [2.0, 2.0], [0.0, 0.0], None,
                            refractory=2.0, sources=([1, 2], [1.0, 3.0 - 1e-9]), duration=50.0)
    np.testing.assert_array_equal(senders, [1, 0, 2])
    # a subthreshold input at the end adds to 0 (v is held at 0): 0.6 at t=3, then 0.45 at 4
    w4 = 1.0 - _v(0.5, 0.6, 1.0)                      # exactly enough at t = 4 after 0.6 at 3
    sources = ([1, 2, 3], [1.0, 3.0, 4.0])
    senders, times = lif_events(0.5, TAU, np.zeros(1), [1, 2, 3], [0, 0, 0],
                                [2.0, 0.6, w4 + 1e-9], [0.0] * 3, None, refractory=2.0,
                                sources=sources, duration=50.0)
    np.testing.assert_array_equal(senders, [1, 0, 2, 3, 0])
    np.testing.assert_array_equal(times, [1.0, 1.0, 3.0, 4.0, 4.0])


def test_refractory_period_holds_v_at_zero_then_flows_from_zero():
    I, r = 2.0, 1.5
    T = TAU * math.log(I / (I - 1.0))
    senders, times = lif_events(I, TAU, np.zeros(1), [], [], [], [], 4, refractory=r)
    np.testing.assert_array_equal(senders, [0] * 4)
    expected = [T]
    for _ in range(3):
        expected.append(expected[-1] + r + T)
    np.testing.assert_allclose(times, expected, rtol=0, atol=1e-12)


def test_chain_with_delays():
    # neuron 0 (I = 2) fires at T; 0 -> 1 (delay 1), 1 -> 2 (delay 2); neurons 1, 2 silent alone
    I = np.array([2.0, 0.5, 0.0])
    T = TAU * math.log(2.0)
    senders, times = lif_events(I, TAU, np.zeros(3), [0, 1], [1, 2], [1.5, 1.5], [1.0, 2.0], 3)
    np.testing.assert_array_equal(senders, [0, 1, 2])
    np.testing.assert_allclose(times, [T, T + 1.0, T + 3.0], rtol=0, atol=1e-12)
    # a weaker link: neuron 1 at v(T + 1) needs w >= 1 - v; just below it stays silent
    v1 = _v(0.5, 0.0, T + 1.0)
    senders, _ = lif_events(I, TAU, np.zeros(3), [0, 1], [1, 2], [1 - v1 - 1e-9, 1.5],
                            [1.0, 2.0], None, duration=T + 5.0)
    np.testing.assert_array_equal(senders, [0])


def test_count_and_duration_stop_the_run():
    I, T = 2.0, TAU * math.log(2.0)
    senders, times = lif_events(I, TAU, np.zeros(1), [1], [0], [-0.1], [0.5], 2,
                                sources=([1, 1], [T, 0.2]))
    np.testing.assert_array_equal(senders, [1, 1])
    np.testing.assert_array_equal(times, [0.2, T])    # inhibited at 0.7: neuron 0 fires after T
    senders, times = lif_events(I, TAU, np.zeros(1), [], [], [], [], None, duration=2 * T)
    assert times.size == 2 and times[-1] <= 2 * T     # a spike at exactly `duration` is kept


# 3. the ordering rules, on a random network with delays, sources and refractoriness

def test_random_run_obeys_the_ordering_rules():
    n, m, k = 30, 5, 5
    rng = np.random.default_rng(11)
    pre, post, weight = _random_network(n, k, seed=12)
    weight = np.where(rng.random(weight.size) < 0.5, 0.6, weight)   # make cascades likely
    src_pre = np.repeat(np.arange(n, n + m), 4)
    src_post = rng.integers(0, n, src_pre.size)
    pre = np.concatenate([pre, src_pre])
    post = np.concatenate([post, src_post])
    weight = np.concatenate([weight, rng.uniform(0.3, 1.2, src_pre.size)])
    # delays on a 0.25 ms grid (exact sums), a third of them 0: many same-instant ties
    delay = np.where(rng.random(pre.size) < 1 / 3, 0.0, 0.25 * rng.integers(1, 8, pre.size))
    src_ids = rng.integers(n, n + m, 60)
    src_t = 0.25 * rng.integers(0, 160, 60)
    I = rng.uniform(0.6, 1.3, n)
    refractory = np.where(np.arange(n) % 2 == 0, 0.0, 1.0)
    senders, times = lif_events(I, TAU, rng.uniform(0, 0.9, n), pre, post, weight, delay,
                                None, refractory=refractory, sources=(src_ids, src_t),
                                duration=40.0)
    is_source = senders >= n
    assert (~is_source).sum() > 50 and len(np.unique(times[~is_source])) < (~is_source).sum()

    assert np.all(np.diff(times) >= 0)
    assert times[-1] <= 40.0
    # every source spike up to the duration, in (time, id) order
    keep = src_t <= 40.0
    expected = sorted(zip(src_t[keep].tolist(), src_ids[keep].tolist()))
    assert list(zip(times[is_source].tolist(), senders[is_source].tolist())) == expected
    # refractory periods respected
    for j in range(n):
        t_j = times[senders == j]
        assert np.all(np.diff(t_j) >= refractory[j])
    ties = 0
    for p in range(1, times.size):
        if times[p] != times[p - 1]:
            continue
        ties += 1
        a, b = senders[p - 1], senders[p]
        if a >= n:                                    # after a source: anything
            continue
        assert b < n, "a source spike after a neuron spike at the same instant"
        if b < a:   # b was not due before a fired (else it would have gone first): a pushed it
            zero = (pre == a) & (post == b) & (delay == 0) & (weight > 0)
            assert zero.any(), f"neuron {b} fired after {a} at {times[p]} unprompted"
    assert ties > 10
    # a neuron with I < 1 fires only at an instant some input reaches it
    arrivals = {(int(post[s]), times[q] + delay[s])
                for q in range(times.size) for s in np.flatnonzero(pre == senders[q])}
    for q in np.flatnonzero(~is_source):
        j = senders[q]
        if I[j] < 1:
            assert (j, times[q]) in arrivals
