"""The engines with synaptic delays and inputs from outside the network: sparse against the
reference loop, both against the event-loop oracle tests/oracle.py (lif_events), runs cut and
continued, store/restore, Poisson statistics, bad input, and initial_state.

Conventions checked here (see sparseprop.engine.queue and tests/oracle.py): a spike's inputs
arrive at t + delay; at one instant deliveries come first (by emission number, then synapse),
then source spikes (by source), then due neurons (smallest index first).
"""
import math

import numpy as np
import pytest

from expect import expect
from oracle import lif_events
from sparseprop import (Network, PoissonInput, PoissonSource, Population,
                        Projection, SpikeSource, build_network)
from sparseprop.connectivity import CSR, fixed_outdegree, from_edges

ENGINES = ("sparse", "reference")


def random_delays(rng, size, zero=0.2, high=3.0):
    """Per-synapse delays uniform on (0.1, high) ms, a fraction `zero` of them 0. Continuous
    values: two causal chains of different synapses never add up to the same time in exact
    arithmetic (rounded delays, e.g. multiples of 1 us, make such ties common, and which of
    two spikes tied up to rounding comes first then depends on the engine's frame)."""
    d = rng.uniform(0.1, high, size)
    d[rng.uniform(size=size) < zero] = 0.0
    return d


def mixed_network(shared_delay=None, seed=7, scale=1, stim_spikes=200, stim_end=300.0):
    """E (refractory 1 ms), Inh, S (I = 0.9 < 1: fires only when pushed) populations of 120,
    50 and 30 neurons (divided by `scale`), mixed-sign weights,
    per-synapse delays (about 20 % zero) or one shared delay, a SpikeSource and a
    PoissonSource projecting with delays, and a PoissonInput into S."""
    rng = np.random.default_rng(1)
    nE, nI, nS = 120 // scale, 50 // scale, 30 // scale
    stim = SpikeSource("stim", 5, indices=rng.integers(0, 5, stim_spikes),
                       times=np.sort(rng.uniform(0, stim_end, stim_spikes)))
    pops = [Population("E", nE, parameters={"I": 1.2, "refractory": 1.0}),
            Population("Inh", nI, parameters={"I": 1.1}),
            Population("S", nS, parameters={"I": 0.9}),
            stim, PoissonSource("noise", 20, 30.0)]

    def conn(n_pre, k, low, high, seed):
        size = n_pre * k
        delay = shared_delay if shared_delay is not None else random_delays(rng, size)
        weight = rng.uniform(low, high, size) if low != high else low
        return fixed_outdegree(k, weight, seed=seed, delay=delay)

    projections = [
        Projection("E", "E", conn(nE, 10, -0.02, 0.04, 1)),
        Projection("E", "Inh", conn(nE, 5, 0.0, 0.05, 2)),
        Projection("E", "S", conn(nE, 5, 0.0, 0.08, 3)),
        Projection("Inh", "E", conn(nI, 20 // scale, -0.15, -0.02, 4)),
        Projection("Inh", "S", conn(nI, 5, -0.1, 0.0, 5)),
        Projection("S", "E", conn(nS, 5, -0.1, 0.05, 6)),
        Projection("stim", "E", conn(5, 20 // scale, 0.1, 0.1, 7)),
        Projection("stim", "S", conn(5, 10 // scale, 0.15, 0.15, 8)),
        Projection("noise", "S", conn(20, 5, 0.1, 0.1, 9)),
        Projection("noise", "Inh", conn(20, 5, -0.05, -0.05, 10))]
    return build_network("lif", pops, projections, seed=seed,
                         inputs=[PoissonInput("S", 10, 20.0, 0.05)])


def assert_same_run(a, b, rtol=1e-12):
    """Identical senders (neurons and sources) and times to rtol."""
    np.testing.assert_array_equal(a.i, b.i)
    np.testing.assert_array_equal(a.source_i, b.source_i)
    np.testing.assert_allclose(a.t, b.t, rtol=rtol, atol=0)
    np.testing.assert_allclose(a.source_t, b.source_t, rtol=rtol, atol=0)


def concatenated(results):
    """One result's fields from consecutive runs: (i, t, source_i, source_t)."""
    return tuple(np.concatenate([getattr(r, f) for r in results])
                 for f in ("i", "t", "source_i", "source_t"))


# ----------------------------------------------------------------------------- 1. sparse == reference

@pytest.fixture(scope="module", params=[None, 1.5], ids=["per-synapse-delays", "shared-1.5ms"])
def both_engines(request):
    """The mixed network run for 10^4 spikes (neurons' and sources') by both engines."""
    runs = {}
    for engine in ENGINES:
        net = mixed_network(shared_delay=request.param)
        runs[engine] = (net, net.run(max_spikes=10_000, engine=engine))
    return request.param, runs


def test_sparse_equals_reference_with_delays_and_inputs(both_engines):
    shared, runs = both_engines
    (net, sparse), (_, reference) = runs["sparse"], runs["reference"]
    if shared is None:
        assert net.csr.delays is not None and np.any(net.delays() == 0.0)
        assert np.any(net.delays() > 0.0)
    else:
        assert net.csr.delays is None and net.csr.delay == 1.5
    assert net.heterogeneous and net.subthreshold.sum() == 30
    assert sparse.n_spikes + sparse.source_i.size == 10_000
    assert_same_run(sparse, reference)
    # every kind of sender took part: the three populations and both sources
    counts = np.bincount(sparse.i, minlength=net.n)
    for name, s in net.populations.items():
        assert counts[s].sum() > 100, name
    source_counts = np.bincount(sparse.source_i, minlength=net.n_sources)
    assert source_counts[:5].sum() == 200 and source_counts[5:].sum() > 500


def test_refractory_neurons_do_not_fire_within_their_period(both_engines):
    _, runs = both_engines
    net, result = runs["sparse"]
    for k in range(net.populations["E"].start, net.populations["E"].stop):
        gaps = np.diff(result.t[result.i == k])
        assert gaps.size == 0 or gaps.min() >= 1.0 - 1e-12


# ----------------------------------------------------------------------------- 2. the oracle

def oracle_network(duration_stim=150.0):
    """45 neurons (A: refractory 0.8 ms; B; C: I = 0.8 < 1, refractory 0.5 ms), per-synapse
    delays with about 25 % zero, mixed weights, and a SpikeSource of 100 spikes over 4 sources,
    spikes 40 and 41 at one instant (sources 1 and 3)."""
    rng = np.random.default_rng(11)
    nA, nB, nC, m = 20, 15, 10, 4
    times = np.sort(rng.uniform(0, duration_stim, 100))
    times[41] = times[40]
    indices = rng.integers(0, m, 100)
    indices[40], indices[41] = 3, 1         # given out of source order at the tie
    stim = SpikeSource("stim", m, indices, times)

    def conn(n_pre, k, low, high, seed):
        return fixed_outdegree(k, rng.uniform(low, high, n_pre * k), seed=seed,
                               delay=random_delays(rng, n_pre * k, zero=0.25, high=2.5))

    pops = [Population("A", nA, {"I": 1.15, "refractory": 0.8}), Population("B", nB, {"I": 1.3}),
            Population("C", nC, {"I": 0.8, "refractory": 0.5}), stim]
    projections = [Projection("A", "A", conn(nA, 4, -0.12, 0.06, 1)),
                   Projection("A", "C", conn(nA, 3, 0.0, 0.15, 2)),
                   Projection("B", "A", conn(nB, 5, -0.2, 0.0, 3)),
                   Projection("B", "B", conn(nB, 3, -0.1, 0.05, 4)),
                   Projection("C", "B", conn(nC, 4, -0.15, 0.1, 5)),
                   Projection("stim", "C", conn(m, 6, 0.1, 0.4, 6)),
                   Projection("stim", "A", conn(m, 8, -0.1, 0.2, 7))]
    return build_network("lif", pops, projections, seed=12), stim


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_equal_the_event_loop_oracle(engine):
    """Compared: (1) the full emission sequence, neurons' and sources' spikes merged in the
    engine's emission order (result.tape.senders; the times put back in that order from
    result.t and result.source_t), against the oracle's (sender, time) list: the same senders
    exactly, times to 1e-9 ms; (2) neuron spikes and source spikes separately likewise; (3) the
    source spikes are exactly the SpikeSource's, sorted by (time, source)."""
    net, stim = oracle_network()
    n, duration = net.n, 200.0
    pre, post, weight = net.synapses()
    delay = net.delays()
    v = net.state.copy()                              # before the run
    I, tau, refractory = net.parameters["I"], net.parameters["tau"], net.refractory
    assert np.any(delay == 0.0) and np.any(refractory > 0) and np.any(I < 1)
    result = net.run(duration=duration, engine=engine, record_tape=True)
    senders_o, times_o = lif_events(I, tau, v, pre, post, weight, delay, None,
                                    refractory=refractory, sources=(stim.indices + n, stim.times),
                                    duration=duration)
    assert senders_o.size >= 500
    senders = result.tape.senders.astype(np.int64)
    neurons = senders < n
    times = np.empty(senders.size)
    times[neurons], times[~neurons] = result.t, result.source_t
    np.testing.assert_array_equal(senders, senders_o)
    np.testing.assert_allclose(times, times_o, rtol=0, atol=1e-9)
    # the same, neuron and source spikes apart
    np.testing.assert_array_equal(result.i, senders_o[senders_o < n])
    np.testing.assert_allclose(result.t, times_o[senders_o < n], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(result.source_i + n, senders_o[senders_o >= n])
    order = np.lexsort((stim.indices, stim.times))
    np.testing.assert_array_equal(result.source_i, stim.indices[order])
    # (the sparse engine records times as t_base + offset: equal up to rounding)
    np.testing.assert_allclose(result.source_t, stim.times[order], rtol=1e-15, atol=0)
    # the ordering rules were exercised: events at one instant, subthreshold neurons fired
    assert np.count_nonzero(np.diff(times_o) == 0) >= 5
    assert np.isin(result.i, np.arange(35, 45)).sum() > 50


# ----------------------------------------------------------------------------- 3. cut runs, store

def small_mixed(shared_delay=None):
    return mixed_network(shared_delay=shared_delay, scale=2, stim_spikes=60, stim_end=120.0)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("shared_delay", [None, 1.5], ids=["per-synapse", "shared"])
def test_runs_cut_at_arbitrary_times_continue_exactly(engine, shared_delay):
    whole_net = small_mixed(shared_delay)
    whole = whole_net.run(duration=120.0, engine=engine)
    net = small_mixed(shared_delay)
    first = net.run(duration=50.0, engine=engine)
    assert net.current.in_flight > 0                # spikes in flight carried over
    second = net.run(duration=70.0, engine=engine)
    assert (first.t_end, second.t_start, second.t_end) == (50.0, 50.0, 120.0)
    assert whole.n_spikes > 500 and whole.source_i.size > 100
    for got, want in zip(concatenated([first, second]),
                         (whole.i, whole.t, whole.source_i, whole.source_t)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    np.testing.assert_allclose(net.state, whole_net.state, rtol=0, atol=1e-9)
    # many pieces, cut at odd times
    net = small_mixed(shared_delay)
    cuts = np.diff(np.concatenate([[0.0], np.sort(np.random.default_rng(3).uniform(
        0, 120, 9)), [120.0]]))
    pieces = [net.run(duration=float(c), engine=engine) for c in cuts]
    for got, want in zip(concatenated(pieces), (whole.i, whole.t, whole.source_i, whole.source_t)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("engine", ENGINES)
def test_runs_cut_by_spike_count_continue_exactly(engine):
    """max_spikes stops at a spike, possibly amid events at one instant (zero-delay cascades,
    deliveries at that time): the next run takes the rest of that instant."""
    whole = small_mixed().run(max_spikes=900, engine=engine)
    net = small_mixed()
    pieces = [net.run(max_spikes=k, engine=engine) for k in (1, 2, 97, 150, 250, 400)]
    for got, want in zip(concatenated(pieces), (whole.i, whole.t, whole.source_i, whole.source_t)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_run_stopped_by_max_spikes_ends_at_its_last_spike(engine):
    """Neuron 0 fires on its own at 10 ln 2 ms and pushes subthreshold neuron 1 over threshold
    1 ms later. run(max_spikes=1) ends at the first spike: its state must be the state at that
    time (neuron 1 at v = 0.5 - 0.3 / 2 = 0.35, the input still in flight), and the next run must
    fire neuron 1 at 10 ln 2 + 1, as one run of two spikes does."""
    def make():
        return Network("lif", 2, from_edges([0], [1], 2.0, delay=1.0),
                       parameters={"I": np.array([1.1, 0.5])}, initial_state={"v": [0.9, 0.2]})
    t0 = 10 * math.log(2)
    whole = make().run(max_spikes=2, engine=engine)
    np.testing.assert_allclose(whole.t, [t0, t0 + 1], rtol=1e-12)
    net = make()
    first = net.run(max_spikes=1, engine=engine)
    assert first.i.tolist() == [0] and net.t == first.t[0]
    assert net.current.in_flight == 1
    np.testing.assert_allclose(net.state, [0.0, 0.35], rtol=0, atol=1e-12)
    second = net.run(max_spikes=1, engine=engine)
    assert second.i.tolist() == [1]
    np.testing.assert_allclose(second.t, [t0 + 1], rtol=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_store_and_restore_replay_identically(engine):
    net = small_mixed()
    net.run(duration=50.0, engine=engine)
    assert net.current.in_flight > 0
    net.store("mid")
    first = net.run(duration=70.0, engine=engine)
    net.run(duration=30.0, engine=engine)            # move on, draw more Poisson events
    net.restore("mid")
    assert net.t == 50.0
    again = net.run(duration=70.0, engine=engine)
    for got, want in zip(concatenated([again]), concatenated([first])):
        np.testing.assert_array_equal(got, want)
    assert np.count_nonzero(first.source_i >= 5) > 20  # Poisson trains replayed too


# ----------------------------------------------------------------------------- 4. Poisson statistics

def poisson_source_counts(seed, n=200, rate=50.0, duration=2000.0):
    net = build_network("lif", [Population("P", 1, {"I": 0.5}), PoissonSource("noise", n, rate)],
                        seed=seed)
    result = net.run(duration=duration)
    return result, np.bincount(result.source_i, minlength=n)


def test_poisson_source_counts_are_poisson():
    result, counts = poisson_source_counts(seed=1)
    mean_expected = 50.0 * 2000.0 / 1000.0
    sigma_of_mean = math.sqrt(mean_expected / counts.size)
    assert abs(counts.mean() - mean_expected) < 4 * sigma_of_mean
    assert 0.8 < counts.var(ddof=1) / counts.mean() < 1.2
    assert np.all(np.diff(result.source_t) >= 0) and result.source_t.max() <= 2000.0
    # exponential inter-event intervals of the merged train (rate 10/ms): mean and CV ~ 1
    gaps = np.diff(result.source_t)
    assert abs(gaps.mean() * 10.0 - 1.0) < 4 / math.sqrt(gaps.size)
    assert abs(gaps.std() / gaps.mean() - 1.0) < 0.05


def test_poisson_trains_are_reproducible_from_the_seed():
    a, _ = poisson_source_counts(seed=1, duration=200.0)
    b, _ = poisson_source_counts(seed=1, duration=200.0)
    c, _ = poisson_source_counts(seed=2, duration=200.0)
    np.testing.assert_array_equal(a.source_i, b.source_i)
    np.testing.assert_array_equal(a.source_t, b.source_t)
    assert a.source_t.size != c.source_t.size or not np.array_equal(a.source_t, c.source_t)
    assert not np.array_equal(a.source_i[:50], c.source_i[:50])


@pytest.mark.parametrize("engine", ENGINES)
def test_poisson_trains_are_the_same_in_both_engines(engine):
    a, _ = poisson_source_counts(seed=4, duration=100.0)
    net = build_network("lif", [Population("P", 1, {"I": 0.5}), PoissonSource("noise", 200, 50.0)],
                        seed=4)
    b = net.run(duration=100.0, engine=engine)
    np.testing.assert_array_equal(a.source_i, b.source_i)
    np.testing.assert_allclose(a.source_t, b.source_t, rtol=1e-12, atol=0)


def test_poisson_input_gives_the_shot_noise_mean():
    """n = 100 trains of 10 Hz, weight w, into LIF neurons with I = 0 (never at threshold):
    v is shot noise with mean tau * n * rate * w (Campbell) and variance
    n * rate * w^2 * tau / 2, independent from neuron to neuron."""
    N, n, rate, w, tau = 400, 100, 10.0, 0.01, 10.0
    net = Network("lif", N, fixed_outdegree(0, 0.0), parameters={"I": 0.0, "tau": tau},
                  inputs=[PoissonInput(None, n, rate, w)], seed=3, initial_state={"v": 0.0})
    assert net.subthreshold.all()
    result = net.run(duration=200.0)                 # 20 tau: the start is forgotten
    assert result.n_spikes == 0
    v = net.state
    mean = tau * n * rate / 1000.0 * w
    variance = n * rate / 1000.0 * w ** 2 * tau / 2
    standard_error = math.sqrt(variance / N)
    assert abs(v.mean() - mean) < 4 * standard_error
    assert 0.7 < v.var(ddof=1) / variance < 1.3


def test_poisson_input_targets_only_its_population():
    pops = [Population("A", 20, {"I": 0.0}), Population("B", 20, {"I": 0.0})]
    net = build_network("lif", pops, inputs=[PoissonInput("B", 50, 10.0, 0.02)], seed=1,
                        initial_state={"v": 0.0})
    net.run(duration=50.0)
    v = net.state
    assert np.all(v[:20] == 0.0) and np.all(v[20:] > 0.0)


# ----------------------------------------------------------------------------- 5. bad input

NAN = float("nan")


@pytest.mark.parametrize("delay,shown", [(-1.0, "-1.0"), (NAN, "nan")])
def test_bad_delays(delay, shown):
    expect(lambda: fixed_outdegree(2, 0.1, delay=delay), "delay", shown, ">= 0")
    delays = np.ones(6)
    delays[1] = delay
    expect(lambda: Network("lif", 3, fixed_outdegree(2, 0.1, delay=delays)),
           "delay[1] = " + shown, ">= 0")
    expect(lambda: CSR(2, [0, 1, 2], [1, 0], weight=0.1, delays=[1.0, delay]),
           "delay of synapse 1", shown, ">= 0")
    expect(lambda: CSR(2, [0, 1, 2], [1, 0], weight=0.1, delay=delay), "delay", shown)
    expect(lambda: from_edges([0, 1], [1, 0], 0.1, delay=[delay, 1.0]), "delay[0] = " + shown)


def test_delays_spoilt_by_hand_are_refused_by_run():
    net = Network("lif", 3, CSR(3, [0, 2, 4, 6], [1, 2, 0, 2, 0, 1], weight=0.1,
                                delays=np.ones(6)), seed=1)
    net.csr.delays[3] = NAN
    expect(lambda: net.run(duration=10.0), "delay", "nan")
    assert net.t == 0.0


def test_delay_array_of_the_wrong_length_is_refused_at_build():
    expect(lambda: Network("lif", 3, fixed_outdegree(2, 0.1, delay=np.ones(5))),
           "one delay per synapse", "6", "got 5")
    expect(lambda: build_network("lif", [Population("E", 5)], [
        Projection("E", "E", fixed_outdegree(2, 0.1, delay=np.ones(9)))]),
        "projection E -> E", "one delay per synapse", "got 9")
    expect(lambda: Network("lif", 2, CSR(2, [0, 1, 2], [1, 0], weight=0.1, delays=[1.0])),
           "one value per synapse")


@pytest.mark.parametrize("indices,times,fragments", [
    ([0, 1, 0], [1.0, 0.5, 2.0], ("sorted", "times[0] = 1.0 > times[1] = 0.5")),
    ([0, 1], [1.0, NAN], ("times[1] = nan", "finite")),
    ([0, 2], [1.0, 2.0], ("indices[1] = 2", "[0, 2)")),
    ([-1, 0], [1.0, 2.0], ("indices[0] = -1", "[0, 2)")),
    ([0, 1], [-1.0, 2.0], ("times[0] = -1.0", ">= 0")),
    ([0, 1], [1.0], ("equal length",)),
    ([0.5, 1], [1.0, 2.0], ("indices must be integers",)),
])
def test_bad_spike_source(indices, times, fragments):
    message = expect(lambda: SpikeSource("stim", 2, indices, times), "SpikeSource 'stim'",
                     *fragments)
    assert message.startswith("SpikeSource 'stim'")   # (not a table's name: "CSR: ...")


def test_spike_source_changed_after_it_was_made_is_checked_again():
    stim = SpikeSource("stim", 2, [0, 1], [1.0, 2.0])
    stim.times = np.array([2.0, 1.0])
    expect(lambda: build_network("lif", [Population("E", 3), stim]), "SpikeSource 'stim'",
           "sorted")


@pytest.mark.parametrize("rate,shown", [(-1.0, "-1.0"), (NAN, "nan")])
def test_bad_poisson_rates(rate, shown):
    expect(lambda: PoissonSource("noise", 3, rate), "PoissonSource 'noise'", "rate", shown)
    expect(lambda: PoissonInput(None, 3, rate, 0.1), "PoissonInput", "rate", shown)


def test_bad_poisson_input_weight():
    expect(lambda: PoissonInput("E", 3, 5.0, NAN), "PoissonInput into E", "weight", "nan")


def test_projection_into_a_source_is_refused():
    pops = [Population("E", 5), SpikeSource("stim", 2, [0], [1.0]),
            PoissonSource("noise", 2, 5.0)]
    for target in ("stim", "noise"):
        expect(lambda: build_network("lif", pops, [
            Projection("E", target, fixed_outdegree(1, 0.1, seed=1))]),
            f"'{target}' is a source", "receive nothing")


def test_poisson_input_into_an_unknown_population():
    expect(lambda: build_network("lif", [Population("E", 5)],
                                 inputs=[PoissonInput("X", 2, 1.0, 0.1)]),
           "target 'X'", "not a population", "E")
    expect(lambda: Network("lif", 5, fixed_outdegree(1, 0.1),
                           inputs=[PoissonInput("X", 2, 1.0, 0.1)]), "target 'X'")


@pytest.mark.parametrize("state,fragments", [
    ({"u": 0.1}, ("initial_state", "'v'")),
    ({"v": 0.1, "u": 0.1}, ("initial_state", "'v'")),
    ({"v": np.zeros(4)}, ("initial_state['v']", "shape (4,)", "5")),
    ({"v": [0.0, 0.0, NAN, 0.0, 0.0]}, ("initial_state['v']", "non-finite")),
])
def test_bad_initial_state(state, fragments):
    expect(lambda: Network("lif", 5, fixed_outdegree(1, 0.1), initial_state=state), *fragments)
    expect(lambda: build_network("lif", [Population("E", 5)], initial_state=state), *fragments)


# ----------------------------------------------------------------------------- 6. initial_state

def test_initial_state_sets_every_neuron_state():
    n = 12
    I = np.where(np.arange(n) < 8, 1.3, 0.7)          # the last 4 fire only when pushed
    v0 = np.linspace(0.02, 0.95, n)
    net = Network("lif", n, fixed_outdegree(2, 0.0, seed=1, delay=0.5), parameters={"I": I},
                  initial_state={"v": v0})
    np.testing.assert_allclose(net.state, v0, rtol=1e-12, atol=0)
    # phase -> v of a neuron that fires on its own: v = I (1 - exp(-phase/tau))
    fires = I > 1
    np.testing.assert_allclose(I[fires] * (1 - np.exp(-net.phase[fires] / 10.0)), v0[fires],
                               rtol=1e-12)
    assert np.array_equal(net.subthreshold, ~fires)
    np.testing.assert_array_equal(net.state[~fires], v0[~fires])   # kept as given
    # then each evolves by its flow (no input: the weights are 0)
    net.run(duration=3.0)
    expected = I + (v0 - I) * np.exp(-3.0 / 10.0)
    np.testing.assert_allclose(net.state, expected, rtol=1e-12)


def test_initial_state_at_threshold_fires_at_once():
    net = Network("lif", 3, fixed_outdegree(1, 0.0, seed=1), initial_state={"v": [1.0, 0.5, 1.0]})
    result = net.run(max_spikes=2)
    assert result.i.tolist() == [0, 2] and result.t.tolist() == [0.0, 0.0]


def test_initial_state_through_build_network():
    v0 = np.linspace(0.0, 0.9, 10)
    net = build_network("lif", [Population("A", 6, {"I": 1.2}), Population("B", 4, {"I": 0.5})],
                        initial_state={"v": v0}, seed=1)
    np.testing.assert_allclose(net.state, v0, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(net.state[6:], v0[6:])


def test_set_delays_keeps_the_row_order_or_says_why():
    d0 = np.random.default_rng(4).uniform(0.0, 2.0, 30)
    net = Network("lif", 10, fixed_outdegree(3, 0.1, seed=1, delay=d0), seed=1)
    order = net.synapses()
    d = net.delays()
    net.set_delays(d * 1.5)                       # same order within every row: accepted
    np.testing.assert_array_equal(net.delays(), d * 1.5)
    for a, b in zip(order, net.synapses()):
        np.testing.assert_array_equal(a, b)
    expect(lambda: net.set_delays(d[::-1].copy()), "decrease within a row", "new network")
    expect(lambda: net.set_delays(-d), "delay of synapse 0", ">= 0")
    expect(lambda: net.set_delays(d[:5]), "one value per synapse (30)")


def test_source_spikes_are_saved_and_loaded(tmp_path):
    from sparseprop import load_result
    stim = SpikeSource("stim", 3, [0, 2, 1], [5.0, 5.0, 12.5])
    E = Population("E", 20, parameters={"I": 0.9})
    net = build_network("lif", [E, stim], [
        Projection("stim", "E", fixed_outdegree(5, 0.5, seed=1, delay=1.0))], seed=1)
    result = net.run(duration=20.0)
    np.testing.assert_array_equal(result.source_i, [0, 2, 1])
    np.testing.assert_array_equal(result.source_t, [5.0, 5.0, 12.5])   # the given times
    assert np.all(result.t >= 6.0)                # nothing fires before the first arrival
    result.save(tmp_path / "r.npz")
    back = load_result(tmp_path / "r.npz")
    np.testing.assert_array_equal(back.source_i, result.source_i)
    np.testing.assert_array_equal(back.source_t, result.source_t)
    result.source_t = result.source_t[::-1].copy()
    expect(lambda: result.save(tmp_path / "bad.npz"), "source spike times", "sorted")
    assert not (tmp_path / "bad.npz").exists()


@pytest.mark.parametrize("engine", ENGINES)
def test_the_run_does_not_depend_on_its_chunking(engine, monkeypatch):
    """One event per call into the compiled loop (the queue starts small and grows between
    calls, the streams and counters carry over) gives the same bits as the default chunks."""
    from sparseprop.engine import driver
    whole = small_mixed().run(duration=40.0, engine=engine)
    monkeypatch.setattr(driver, "_CHUNK", 1)
    monkeypatch.setattr(driver, "chunk_work", lambda n, engine: 1)
    cut = small_mixed().run(duration=40.0, engine=engine)
    assert whole.n_spikes > 100 and whole.source_i.size > 10
    for got, want in zip(concatenated([cut]), concatenated([whole])):
        np.testing.assert_array_equal(got, want)


def test_a_state_or_table_changed_by_hand_is_refused():
    net = small_mixed()
    net.run(duration=30.0)
    assert net.current.in_flight > 0
    net.current.queue.syn[0] = 10**9                 # an entry outside the synapse table
    expect(lambda: net.run(duration=5.0), "net.current", "queue entries", "set_state")
    net = small_mixed()
    net.current.phase = np.zeros(3)
    expect(lambda: net.run(duration=5.0), "net.current", "phase", "shape")
    net.current = "a state"
    expect(lambda: net.run(duration=5.0), "net.current", "str")
    with pytest.raises(ValueError, match="read-only"):
        net.table[0, 0] = 5.0                        # parameters change by set_parameters
