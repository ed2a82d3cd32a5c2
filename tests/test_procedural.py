"""Procedural connectivity (fixed_outdegree(..., procedural=True)): the drawn table against its
materialised copy (same spikes, bit for bit), the sparse engine against the reference engine,
gradients against finite differences, the draw's statistics, and the errors."""
import math

import numpy as np
import pytest

import sparseprop as spp
from sparseprop import ModelError
from sparseprop.connectivity import Procedural

LIF = {"I": 1.1, "tau": 10.0}


def _net(table, n, engine_seed=1, **kw):
    return spp.Network("lif", n, table, seed=engine_seed, parameters=LIF, **kw)


# -- the draw ---------------------------------------------------------------------------------

def test_the_draw_is_k_targets_per_row_among_the_others_and_reproducible():
    table = spp.fixed_outdegree(50, -0.1, seed=7, procedural=True).build(400)
    assert isinstance(table, Procedural) and table.nnz == 400 * 50
    stored = table.stored()
    rows = stored.indices.reshape(400, 50)
    assert np.array_equal(np.diff(stored.indptr), np.full(400, 50))
    assert rows.min() >= 0 and rows.max() < 400
    assert not np.any(rows == np.arange(400)[:, None])                  # no autapses
    again = spp.fixed_outdegree(50, -0.1, seed=7, procedural=True).build(400).stored()
    assert np.array_equal(again.indices, stored.indices)                # same seed, same draw
    other = spp.fixed_outdegree(50, -0.1, seed=8, procedural=True).build(400).stored()
    assert np.mean(other.indices == stored.indices) < 0.01


def test_the_draw_is_uniform_with_the_expected_repeats():
    n, k = 1000, 100
    rows = spp.fixed_outdegree(k, 1.0, seed=1, procedural=True).build(n).stored().indices
    counts = np.bincount(rows, minlength=n)                             # in-degrees
    chi2 = float(np.sum((counts - k) ** 2 / k))                         # n - 1 dof, sd ~ 45
    assert abs(chi2 - (n - 1)) < 6 * math.sqrt(2 * (n - 1))
    repeats = sum(k - np.unique(r).size for r in rows.reshape(n, k))
    expected = n * k * (k - 1) / (2 * (n - 1))                          # ~4955, sd ~ 70
    assert abs(repeats - expected) < 6 * math.sqrt(expected)


def test_between_populations_targets_stay_in_the_post_population():
    e, i = spp.Population("E", 300, parameters=LIF), spp.Population("I", 100, parameters=LIF)
    net = spp.build_network("lif", [e, i], [spp.Projection("E", "I", spp.fixed_outdegree(
        20, 0.05, seed=2, procedural=True))], seed=1)
    stored = net.csr.stored()
    assert np.array_equal(np.diff(stored.indptr), np.r_[np.full(300, 20), np.zeros(100)])
    assert stored.indices.min() >= 300 and stored.indices.max() < 400


# -- the engines ------------------------------------------------------------------------------

@pytest.mark.parametrize("delay", [0.0, 1.5])
def test_drawn_and_stored_tables_give_the_same_spikes(delay):
    recipe = spp.fixed_outdegree(100, -0.1, seed=3, delay=delay, procedural=True)
    drawn = _net(recipe, 2000)
    stored = _net(drawn.csr.stored(), 2000)
    a, b = drawn.run(150.0), stored.run(150.0)
    assert a.n_spikes > 1000
    assert np.array_equal(a.i, b.i) and np.array_equal(a.t, b.t)
    a, b = drawn.run(50.0), stored.run(50.0)                            # continued
    assert np.array_equal(a.i, b.i) and np.array_equal(a.t, b.t)


@pytest.mark.parametrize("n,delay", [(1000, 0.0), (10_000, 0.7)])
def test_sparse_and_reference_engines_agree_on_a_procedural_network(n, delay):
    recipe = spp.fixed_outdegree(100, -0.1, seed=5, delay=delay, procedural=True)
    sparse = _net(recipe, n).run(max_spikes=10_000)
    reference = _net(recipe, n).run(max_spikes=10_000, engine="reference")
    assert sparse.n_spikes == reference.n_spikes == 10_000
    assert np.array_equal(sparse.i, reference.i)
    np.testing.assert_allclose(sparse.t, reference.t, rtol=1e-12)


def test_a_linear_model_with_poisson_drive_on_a_procedural_network():
    pop = spp.Population("E", 1500, parameters={"Ie": 0.5})
    drive = spp.PoissonInput("E", 20, 50.0, 0.3)

    def build(projection):
        return spp.build_network("lif_exp", [pop], [projection], seed=4, inputs=[drive])
    drawn = build(spp.Projection("E", "E", spp.fixed_outdegree(50, 0.02, seed=9, delay=1.0,
                                                               procedural=True)))
    stored = spp.Network("lif_exp", 1500, drawn.csr.stored(), seed=4, inputs=[drive],
                         parameters={"Ie": 0.5}, populations={"E": 1500})
    a, b = drawn.run(100.0), stored.run(100.0)
    assert a.n_spikes > 300
    assert np.array_equal(a.i, b.i) and np.array_equal(a.t, b.t)


# -- gradients --------------------------------------------------------------------------------

N, K, SPIKES = 40, 6, 150


def _loss_run(weight, delay, phase, c):
    net = spp.Network("lif", N, spp.fixed_outdegree(K, weight, seed=3, delay=delay,
                                                    procedural=True),
                      initial_phase=phase, parameters=LIF)
    result = net.run(max_spikes=SPIKES, record_tape=True)
    return result, float(c @ result.t)


def test_gradients_with_procedural_connectivity_match_finite_differences():
    rng = np.random.default_rng(0)
    phase = rng.uniform(0.0, 20.0, N)
    c = rng.normal(size=SPIKES)
    weight, delay = -0.08, 0.6
    result, _ = _loss_run(weight, delay, phase, c)
    g = result.backward(c)
    table = spp.fixed_outdegree(K, weight, seed=3, delay=delay, procedural=True).build(N)
    stored = spp.Network("lif", N, table.stored(), initial_phase=phase, parameters=LIF).run(
        max_spikes=SPIKES, record_tape=True)                            # the same synapses
    np.testing.assert_allclose(stored.backward(c).weight, g.weight, rtol=1e-12, atol=1e-15)

    def fd(f, x):
        h = 1e-6 * max(abs(x), 1.0)
        values = []
        for m in (-2, -1, 1, 2):
            r, value = f(x + m * h)
            assert np.array_equal(r.i, result.i), "the spike order changed under the step"
            values.append(value)
        return (8 * (values[2] - values[1]) - (values[3] - values[0])) / (12 * h)

    pairs = [(g.weight.sum(), fd(lambda w: _loss_run(w, delay, phase, c), weight)),
             (g.delay.sum(), fd(lambda d: _loss_run(weight, d, phase, c), delay))]
    for i in rng.choice(N, 4, replace=False):
        def of_phase(v, i=i):
            p = phase.copy()
            p[i] = v
            return _loss_run(weight, delay, p, c)
        pairs.append((g.initial_phase[i], fd(of_phase, phase[i])))
    analytic, numeric = np.array(pairs).T
    rel = np.abs(analytic - numeric) / np.maximum(np.abs(numeric), 1e-3 * np.abs(numeric).max())
    assert rel.max() <= 1e-5, f"max relative error {rel.max():.2e}"


# -- errors -----------------------------------------------------------------------------------

@pytest.mark.parametrize("make,text", [
    (lambda: spp.fixed_outdegree(3, np.ones(30), seed=1, procedural=True), "one number each"),
    (lambda: spp.fixed_outdegree(3, 0.1, seed=1, delay=np.ones(30), procedural=True),
     "one number each"),
    (lambda: spp.fixed_outdegree(3, 0.1, seed=1, procedural="yes"), "True or False"),
    (lambda: spp.fixed_indegree(3, 0.1, seed=1, procedural=True), "fixed_outdegree"),
    (lambda: spp.erdos_renyi(0.1, 0.1, seed=1, procedural=True), "fixed_outdegree"),
])
def test_recipes_refuse_what_cannot_be_drawn(make, text):
    with pytest.raises(ModelError, match=text):
        make()


def test_a_procedural_projection_must_be_the_only_one():
    e, i = spp.Population("E", 40), spp.Population("I", 10)
    with pytest.raises(ModelError, match="only projection"):
        spp.build_network("lif", [e, i], [
            spp.Projection("E", "I", spp.fixed_outdegree(3, 0.1, seed=1, procedural=True)),
            spp.Projection("I", "E", spp.fixed_outdegree(3, -0.1, seed=1))], seed=1)


def test_a_distributed_network_refuses_a_procedural_table():
    with pytest.raises(ModelError, match="procedural=False"):
        spp.build_network("lif", [spp.Population("E", 40)], [spp.Projection(
            "E", "E", spp.fixed_outdegree(3, -0.1, seed=1, delay=1.0, procedural=True))],
            seed=1, distributed=True)


def test_a_table_changed_by_hand_is_refused():
    table = spp.fixed_outdegree(3, -0.1, seed=1, procedural=True).build(20)
    table.proc[0] = 5                                                    # k behind its back
    with pytest.raises(ModelError, match="changed by hand"):
        _net(table, 20)
    with pytest.raises(ModelError, match="weight"):
        Procedural(20, 20, 3, 1, 0, 20, 0, 19, True, math.nan, 0.0)
    with pytest.raises(ModelError, match="out of range"):
        Procedural(20, 20, 3, 1, 0, 20, 0, 20, True, 0.1, 0.0)


def test_materialising_more_than_fits_is_a_model_error(monkeypatch):
    from sparseprop import memory
    table = spp.fixed_outdegree(100, -0.1, seed=1, procedural=True).build(10**6)
    monkeypatch.setattr(memory, "available", lambda: 50 * 2**20)
    with pytest.raises(ModelError, match="keep it procedural"):
        table.stored()
    with pytest.raises(ModelError, match="procedural=True"):
        spp.fixed_outdegree(100, -0.1, seed=1).build(10**6)


def test_the_command_line_simulates_a_procedural_network(capsys):
    from sparseprop.cli import main
    assert main(["simulate", "-n", "3000", "-k", "50", "--duration", "50", "--procedural",
                 "--seed", "4"]) == 0
    text = capsys.readouterr().out
    assert "K = 50 (procedural)" in text
    net = spp.Network("lif", 3000, spp.fixed_outdegree(50, -1 / 50 ** 0.5, seed=4,
                                                       procedural=True), seed=4)
    assert f"spikes: {net.run(50.0).n_spikes} in 50 ms" in text


def test_a_saved_procedural_network_keeps_its_draw_not_its_synapses(tmp_path):
    recipe = spp.fixed_outdegree(40, -0.1, seed=6, delay=0.5, procedural=True)
    net = _net(recipe, 1500)
    net.run(20.0)
    net.save(tmp_path / "net.npz")
    with np.load(tmp_path / "net.npz") as arrays:
        assert "indices" not in arrays and "indptr" not in arrays      # nothing per synapse
    loaded = spp.load_network(tmp_path / "net.npz")
    assert isinstance(loaded.csr, Procedural)
    a, b = net.run(30.0), loaded.run(30.0)                              # spikes in flight too
    assert a.n_spikes > 100 and np.array_equal(a.i, b.i) and np.array_equal(a.t, b.t)


def test_a_network_file_and_a_source_projection_can_be_procedural(tmp_path):
    text = """model = "lif"
duration = "40 ms"
seed = 3
[[populations]]
name = "E"
n = 500
parameters = { I = 0.9 }
[[sources]]
kind = "poisson"
name = "P"
n = 200
rate = "50 Hz"
[[projections]]
pre = "P"
post = "E"
rule = "fixed_outdegree"
k = 30
weight = 0.1
delay = "1 ms"
seed = 4
procedural = true
"""
    (tmp_path / "net.toml").write_text(text)
    from sparseprop.network_file import read_network_file
    drawn, run = read_network_file(tmp_path / "net.toml")
    assert isinstance(drawn.csr, Procedural) and drawn.csr.nnz == 200 * 30
    source = spp.PoissonSource("P", 200, 50.0)
    stored = spp.Network("lif", 500, drawn.csr.stored(), initial_phase="uniform", seed=3,
                         parameters={"I": 0.9}, populations={"E": 500}, sources=[source])
    a, b = drawn.run(40.0), stored.run(40.0)
    assert a.n_spikes > 50 and np.array_equal(a.i, b.i) and np.array_equal(a.t, b.t)
    assert np.array_equal(a.source_t, b.source_t)
    with pytest.raises(ModelError, match="fixed_outdegree"):
        (tmp_path / "bad.toml").write_text(text.replace("fixed_outdegree", "fixed_indegree"))
        read_network_file(tmp_path / "bad.toml")
