"""Gradients of the reverse sweep through delayed deliveries and input spikes, against central
finite differences of the exact simulation: dL/d weight, d delay, d input spike time,
d parameters, d initial state, d PoissonInput weight, and through one shared delay; both
engines' gradients agree.

The loss is L = sum_k c_k t_k over the neuron spikes of a run (dloss_dt = c). A finite
difference is taken only where the spike order (neurons' and sources', result.tape.senders) is
the same at every point of the stencil; else that parameter is skipped.
"""
import numpy as np
import pytest
from rows import delay_gaps

from sparseprop import (PoissonInput, Population, Projection, SpikeSource, build_network,
                        fixed_outdegree)

N_A, N_B, M = 12, 8, 3            # refractory population A, population B, stim sources
SPIKES = 150                      # neurons' and sources' spikes per run (max_spikes)
RTOL = 1e-5
STEPS = (1e-5, 1e-6)              # relative steps tried, largest first (4-point stencil)
NOISE = 1e-7                      # FD rounding noise allowed (|L| ~ 1e3, eps ~ 1e-16 / step)
PROJECTIONS = [("A", "A", 4), ("A", "B", 3), ("B", "A", 4), ("stim", "A", 4), ("stim", "B", 3)]
WEIGHTS = {"AA": (-0.15, 0.05), "AB": (-0.1, 0.1), "BA": (-0.2, 0.0), "stimA": (0.0, 0.2),
           "stimB": (-0.1, 0.15)}


class Setup:
    """A 20-neuron LIF network (I = 1.2 shared; A refractory 1 ms), per-synapse delays (about
    20 % zero), a SpikeSource of 25 spikes over 3 sources feeding it with delays, initial
    state v0; optionally one shared delay and a PoissonInput into A."""

    def __init__(self, seed=5, shared_delay=None, drive=None):
        rng = np.random.default_rng(seed)
        self.stim_t = np.sort(rng.uniform(0, 60, 25))
        self.stim_i = rng.integers(0, M, 25)
        self.v0 = rng.uniform(0, 0.9, N_A + N_B)
        self.shared_delay, self.drive = shared_delay, drive
        sizes = {"A": N_A, "B": N_B, "stim": M}
        self.conns = []
        for pre, post, k in PROJECTIONS:
            size = sizes[pre] * k
            low, high = WEIGHTS[pre + post]
            delay = rng.uniform(0.2, 2.0, size)
            delay[rng.uniform(size=size) < 0.2] = 0.0
            self.conns.append((pre, post, k, rng.uniform(low, high, size), delay))
        self.c = None

    def make(self, times=None, v=None, delay=None, drive=None):
        """The network (initial state v0 or v, stim times or `times`, the shared delay or
        `delay`, the PoissonInput weight or `drive`)."""
        pops = [Population("A", N_A, {"I": 1.2, "refractory": 1.0}),
                Population("B", N_B, {"I": 1.2}),
                SpikeSource("stim", M, self.stim_i, self.stim_t if times is None else times)]
        shared = delay if delay is not None else self.shared_delay
        projections = [Projection(pre, post, fixed_outdegree(
            k, w, seed=s, delay=d if shared is None else shared))
            for s, (pre, post, k, w, d) in enumerate(self.conns)]
        weight = drive if drive is not None else self.drive
        inputs = [PoissonInput("A", 20, 50.0, weight)] if weight is not None else None
        return build_network("lif", pops, projections, seed=3, inputs=inputs,
                             initial_state={"v": self.v0 if v is None else v})

    def run(self, net, engine="sparse", stop=None):
        return net.run(engine=engine, record_tape=True, **(stop or {"max_spikes": SPIKES}))

    def loss(self, net, stop=None):
        """(L, the spike order) of a run of `net`."""
        result = self.run(net, stop=stop)
        value = float(self.c @ result.t) if result.n_spikes == self.c.size else np.nan
        return value, result.tape.senders.copy()


def finite_difference(loss, x, order):
    """dL/dx by the 4-point central stencil with the largest step that keeps the spike order
    `order` at every point; None when every step changes it."""
    for step in STEPS:
        h = step * max(abs(x), 1.0)
        values, orders = zip(*(loss(x + m * h) for m in (-2, -1, 1, 2)))
        if all(np.array_equal(o, order) for o in orders):
            return (8 * (values[2] - values[1]) - (values[3] - values[0])) / (12 * h)
    return None


def check(pairs, minimum):
    """Every (name, analytic, numeric) pair with a numeric value agrees to RTOL (plus the
    finite differences' rounding noise); at least `minimum` pairs were comparable and some
    gradient is not zero."""
    done = [(name, a, n) for name, a, n in pairs if n is not None]
    assert len(done) >= minimum, f"only {len(done)} of {len(pairs)} comparable"
    assert any(abs(n) > 1e-3 for _, _, n in done)
    bad = [(name, a, n) for name, a, n in done if abs(a - n) > RTOL * abs(n) + NOISE]
    assert not bad, f"analytic vs numeric: {bad}"


@pytest.fixture(scope="module", params=[{"max_spikes": SPIKES}, {"duration": 120.0}],
                ids=["max_spikes", "duration"])
def recorded(request):
    """The setup, its base network, the run (sparse engine) with its gradients, and the
    reference engine's gradients of the same loss."""
    setup = Setup()
    stop = request.param
    net = setup.make()
    result = setup.run(net, stop=stop)
    assert result.n_spikes > 80 and result.source_i.size > 10
    setup.c = np.random.default_rng(9).normal(size=result.n_spikes)
    other = setup.make()
    result_reference = setup.run(other, engine="reference", stop=stop)
    np.testing.assert_array_equal(result_reference.tape.senders, result.tape.senders)
    return setup, stop, net, result, result.backward(setup.c), result_reference.backward(setup.c)


def test_weight_gradients(recorded):
    setup, stop, net, result, g, _ = recorded
    pre, _, w0 = net.synapses()
    pairs = []
    for s in np.random.default_rng(1).choice(w0.size, 8, replace=False):
        def loss(x, s=s):
            other = setup.make()
            w = w0.copy()
            w[s] = x
            other.set_weights(w)
            return setup.loss(other, stop)
        pairs.append((f"weight[{s}]", g.weight[s], finite_difference(loss, w0[s],
                                                                     result.tape.senders)))
    check(pairs, 6)


def test_delay_gradients(recorded):
    """Synapses whose delay is not 0 and differs from its row neighbours' by more than the
    steps, so that set_delays keeps the row order."""
    setup, stop, net, result, g, _ = recorded
    d0 = net.delays()
    indptr = net.csr.indptr
    gap_before, gap_after = delay_gaps(d0, indptr)
    movable = np.flatnonzero((d0 > 0) & (gap_before > 1e-3) & (gap_after > 1e-3))
    pairs = []
    for s in np.random.default_rng(2).choice(movable, 8, replace=False):
        def loss(x, s=s):
            other = setup.make()
            d = d0.copy()
            d[s] = x
            other.set_delays(d)
            return setup.loss(other, stop)
        pairs.append((f"delay[{s}]", g.delay[s], finite_difference(loss, d0[s],
                                                                   result.tape.senders)))
    check(pairs, 6)
    # a zero-delay synapse's gradient: its delivery moves with its spike (one-sided check)
    zero = np.flatnonzero(d0 == 0.0)
    assert zero.size and np.all(np.isfinite(g.delay[zero]))


def test_input_spike_time_gradients(recorded):
    """Moving one SpikeSource spike (the network rebuilt with the new times); the spikes' times
    are distinct, so result.source_t is stim_t in order."""
    setup, stop, net, result, g, _ = recorded
    np.testing.assert_allclose(result.source_t, setup.stim_t[:result.source_t.size], rtol=1e-15)
    assert g.source_t.shape == result.source_t.shape
    pairs = []
    for k in (0, 3, 7, 12, 16, 20):
        def loss(x, k=k):
            times = setup.stim_t.copy()
            times[k] = x
            return setup.loss(setup.make(times=times), stop)
        pairs.append((f"source_t[{k}]", g.source_t[k], finite_difference(
            loss, setup.stim_t[k], result.tape.senders)))
    check(pairs, 4)


def test_parameter_gradients(recorded):
    """I and tau, shared by all neurons, changed by set_parameters after the build (the initial
    phases stay): dL/dI = the sum of the per-neuron gradients (the network is heterogeneous
    through its refractory periods)."""
    setup, stop, net, result, g, _ = recorded
    pairs = []
    for name, value in (("I", 1.2), ("tau", 10.0)):
        def loss(x, name=name):
            other = setup.make()
            other.set_parameters(**{name: x})
            return setup.loss(other, stop)
        assert g.parameters[name].shape == (net.n,)
        pairs.append((name, float(np.sum(g.parameters[name])),
                      finite_difference(loss, value, result.tape.senders)))
    # one neuron's own drive
    for k in (2, 15):
        def loss(x, k=k):
            other = setup.make()
            I = np.full(net.n, 1.2)
            I[k] = x
            other.set_parameters(I=I)
            return setup.loss(other, stop)
        pairs.append((f"I[{k}]", g.parameters["I"][k],
                      finite_difference(loss, 1.2, result.tape.senders)))
    check(pairs, 3)


def test_initial_state_gradients(recorded):
    setup, stop, net, result, g, _ = recorded
    pairs = []
    for k in range(net.n):
        def loss(x, k=k):
            v = setup.v0.copy()
            v[k] = x
            return setup.loss(setup.make(v=v), stop)
        pairs.append((f"v0[{k}]", g.initial_state[k], finite_difference(
            loss, setup.v0[k], result.tape.senders)))
    check(pairs, 15)


def test_both_engines_give_the_same_gradients(recorded):
    _, _, _, _, sparse, reference = recorded
    for field in ("weight", "delay", "initial_phase", "initial_state", "source_t"):
        np.testing.assert_allclose(getattr(sparse, field), getattr(reference, field),
                                   rtol=1e-9, atol=1e-9, err_msg=field)
    for name in sparse.parameters:
        np.testing.assert_allclose(sparse.parameters[name], reference.parameters[name],
                                   rtol=1e-9, atol=1e-9, err_msg=name)


@pytest.mark.parametrize("engine", ["sparse", "reference"])
def test_gradient_through_one_shared_delay(engine):
    """Every synapse has the delay 1.5 ms (one shared value, the ring queue): dL/d(that delay)
    is the sum of the per-synapse delay gradients; rebuilt with 1.5 +- h."""
    setup = Setup(shared_delay=1.5)
    net = setup.make()
    assert net.csr.delays is None and net.csr.delay == 1.5
    result = setup.run(net, engine=engine)
    setup.c = np.random.default_rng(4).normal(size=result.n_spikes)
    g = result.backward(setup.c)
    assert g.delay.shape == (net.csr.nnz,)
    numeric = finite_difference(lambda x: setup.loss(setup.make(delay=x)), 1.5,
                                result.tape.senders)
    check([("shared delay", float(np.sum(g.delay)), numeric)], 1)


def test_poisson_input_weight_gradient():
    """dL/d(weight of a PoissonInput): the same Poisson events (same seed) with weight w +- h.
    Gradients.input_weight holds one value per PoissonInput of the network."""
    setup = Setup(drive=0.02)
    net = setup.make()
    result = setup.run(net)
    setup.c = np.random.default_rng(6).normal(size=result.n_spikes)
    g = result.backward(setup.c)
    assert g.input_weight.shape == (1,)
    numeric = finite_difference(lambda x: setup.loss(setup.make(drive=x)), 0.02,
                                result.tape.senders)
    check([("input weight", float(g.input_weight[-1]), numeric)], 1)
