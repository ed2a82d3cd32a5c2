"""Gradients of the reverse sweep against central finite differences of the exact simulation."""
import numpy as np
import pytest

import sparseprop as spp
from sparseprop.connectivity import CSR

N, K, SPIKES = 30, 5, 120


def _setup(name, seed=0):
    base = spp.fixed_outdegree(K, -0.1, seed=3).build(N)
    rng = np.random.default_rng(seed)
    weights = rng.uniform(-0.2, 0.05, base.nnz)          # mostly inhibitory, some excitation
    phase = rng.uniform(0, spp.load_model(name).compile().period(), N)
    return base, rng, weights, phase


def _run(name, base, weights, phase, engine, stop, params=None):
    net = spp.Network(name, N, CSR(N, base.indptr, base.indices, weights.copy()), initial_phase=phase)
    if params:
        net.set_parameters(**params)
    return net, net.run(engine=engine, record_tape=True, **stop)


def _fd(loss, x, base_order):
    """4th-order central difference with the largest step that keeps the spike order."""
    for h in (1e-5 * max(abs(x), 1), 1e-6 * max(abs(x), 1)):
        values, orders = zip(*(loss(x + m * h) for m in (-2, -1, 1, 2)))
        if all(np.array_equal(o, base_order) for o in orders):
            return (8 * (values[2] - values[1]) - (values[3] - values[0])) / (12 * h)
    pytest.skip("the spike order changes under every step tried")


@pytest.mark.parametrize("engine", ["sparse", "reference"])
@pytest.mark.parametrize("name,stop", [("lif", {"max_spikes": SPIKES}), ("lif", {"duration": 60.0}),
                                       ("qif", {"max_spikes": SPIKES}),
                                       ("theta", {"max_spikes": SPIKES})])
def test_gradients_match_finite_differences(name, stop, engine):
    base, rng, weights, phase = _setup(name)
    net, result = _run(name, base, weights, phase, engine, stop)
    c, d = rng.normal(size=result.n_spikes), rng.normal(size=N)

    def loss(weights=weights, phase=phase, params=None):
        _, r = _run(name, base, weights, phase, engine, stop, params)
        if r.n_spikes != result.n_spikes:
            return np.nan, None
        return float(c @ r.t + d @ r.final_phase), r.i

    g = result.backward(c, dloss_dphase=d)
    pairs = []
    for s in rng.choice(base.nnz, 8, replace=False):
        def of_weight(v, s=s):
            w = weights.copy()
            w[s] = v
            return loss(weights=w)
        pairs.append((g.weight[s], _fd(of_weight, weights[s], result.i)))
    for i in rng.choice(N, 6, replace=False):
        def of_phase(v, i=i):
            p = phase.copy()
            p[i] = v
            return loss(phase=p)
        pairs.append((g.initial_phase[i], _fd(of_phase, phase[i], result.i)))
    for p, value in net.parameters.items():
        pairs.append((g.parameters[p], _fd(lambda v, p=p: loss(params={p: v}), value, result.i)))
    analytic, numeric = np.array(pairs).T
    floor = 1e-3 * np.abs(numeric).max()                 # entries this small count as ~0
    rel = np.abs(analytic - numeric) / np.maximum(np.abs(numeric), floor)
    assert rel.max() <= 1e-5, f"max relative error {rel.max():.2e}"


def test_tape_memory_per_spike():
    net = spp.Network("lif", 2000, spp.fixed_outdegree(100, -0.1, seed=1), seed=2)
    result = net.run(max_spikes=5000, record_tape=True)
    per_spike = (result.tape.nbytes + result.i.nbytes + result.t.nbytes) / result.n_spikes
    assert per_spike <= (100 + 2) * 12


def test_sparse_and_reference_gradients_agree():
    base, rng, weights, phase = _setup("lif", seed=1)
    grads = []
    for engine in ("sparse", "reference"):
        _, result = _run("lif", base, weights, phase, engine, {"max_spikes": 300})
        grads.append(result.backward(np.ones(result.n_spikes)))
    np.testing.assert_allclose(grads[0].weight, grads[1].weight, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(grads[0].initial_phase, grads[1].initial_phase, rtol=1e-9, atol=1e-9)


def test_backward_without_tape_is_a_clear_error():
    result = spp.Network("lif", 20, spp.fixed_outdegree(3, -0.1, seed=1), seed=1).run(duration=20.0)
    with pytest.raises(spp.ModelError, match="record_tape=True"):
        result.backward(np.zeros(result.n_spikes))


def test_backward_with_a_wrong_shape_is_a_clear_error():
    result = spp.Network("lif", 20, spp.fixed_outdegree(3, -0.1, seed=1), seed=1).run(
        duration=20.0, record_tape=True)
    with pytest.raises(spp.ModelError, match="shape"):
        result.backward(np.zeros(result.n_spikes + 1))
    with pytest.raises(spp.ModelError, match="shape"):
        result.backward(np.zeros(result.n_spikes), dloss_dphase=np.zeros(3))


def test_tape_from_another_network_is_a_clear_error():
    conn = spp.fixed_outdegree(3, -0.1, seed=1)
    one, other = (spp.Network("lif", 20, conn, seed=1) for _ in range(2))
    result = one.run(duration=20.0, record_tape=True)
    with pytest.raises(spp.ModelError, match="another network"):
        other.backward(result, np.zeros(result.n_spikes))
    one.set_weights(np.full(one.csr.nnz, -0.05))
    with pytest.raises(spp.ModelError, match="changed since"):
        result.backward(np.zeros(result.n_spikes))
