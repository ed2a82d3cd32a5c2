"""Populations: rectangular connectivity, build_network against a hand-built network, population
queries on results, save/load, and every user mistake."""
import math

import numpy as np
import pytest

import sparseprop as spp
from sparseprop import Population, Projection, build_network
from sparseprop.connectivity import (CSR, erdos_renyi, fixed_indegree, fixed_outdegree,
                                     from_edges, from_networkx)
from sparseprop.errors import ModelError
from sparseprop.population import label
from sparseprop.result import Result, load_result

N_E, N_I = 40, 10
DRIVE_E, DRIVE_I = 1.1, 1.3          # LIF threshold 1: both fire on their own


@pytest.fixture(scope="module")
def lif():
    model = spp.load_model("lif")
    model.compile()
    return model


def ei_projections():
    """E -> E, E -> I, I -> E, I -> I with four different recipes; E > 0, I < 0."""
    return [Projection("E", "E", fixed_indegree(4, 0.02, seed=1)),
            Projection("E", "I", fixed_outdegree(2, 0.03, seed=2)),
            Projection("I", "E", fixed_indegree(3, -0.1, seed=3)),
            Projection("I", "I", erdos_renyi(0.3, -0.08, seed=4))]


def ei_network(lif, seed=5):
    return build_network(lif, [Population("E", N_E, parameters={"I": DRIVE_E}),
                               Population("I", N_I, parameters={"I": DRIVE_I})],
                         ei_projections(), seed=seed)


def hand_built(lif, seed=5):
    """The same network without populations: each projection's block built on its own, shifted
    to global indices by hand, concatenated in projection order (unsorted), from_edges."""
    start = {"E": 0, "I": N_E}
    size = {"E": N_E, "I": N_I}
    pre, post, weight = [], [], []
    for q in ei_projections():
        block = q.connectivity.build_between(size[q.pre], size[q.post], q.pre == q.post)
        p, o, w = block.synapses()
        pre.append(p + start[q.pre])
        post.append(o + start[q.post])
        weight.append(w)
    drives = np.concatenate([np.full(N_E, DRIVE_E), np.full(N_I, DRIVE_I)])
    conn = from_edges(np.concatenate(pre), np.concatenate(post), np.concatenate(weight))
    return spp.Network(lif, N_E + N_I, conn, initial_phase="uniform", seed=seed,
                       parameters={"I": drives})


def sorted_synapses(net):
    pre, post, w = net.synapses()
    return sorted(zip(pre.tolist(), post.tolist(), w.tolist()))


# ----------------------------------------------------------------------------- build_network

def test_population_network_equals_hand_built_network(lif):
    net, hand = ei_network(lif), hand_built(lif)
    assert net.n == hand.n == 50
    assert sorted_synapses(net) == sorted_synapses(hand)
    np.testing.assert_array_equal(net.parameters["I"], hand.parameters["I"])
    np.testing.assert_array_equal(net.phase, hand.phase)
    a, b = net.run(max_spikes=600), hand.run(max_spikes=600)
    assert a.n_spikes == b.n_spikes == 600
    np.testing.assert_array_equal(a.i, b.i)
    np.testing.assert_array_equal(a.t, b.t)
    assert a.populations == {"E": slice(0, 40), "I": slice(40, 50)} and b.populations is None


def test_models_that_differ_only_by_name_are_one_model(lif):
    """Populations whose models have the same equations under other names (and other default
    values) make one model with per-neuron values, not a set of models: the same spikes as the
    network of one model with the values given per population."""
    def renamed(name, drive):
        return spp.NeuronModel(lif.equations, lif.threshold, lif.reset, on_pre=lif.on_pre,
                               parameters=dict(lif.parameters, I=drive), name=name)

    pops = [Population("E", N_E, model=renamed("excitatory_lif", DRIVE_E)),
            Population("I", N_I, model=renamed("inhibitory_lif", DRIVE_I))]
    net = build_network(None, pops, ei_projections(), seed=5)
    assert net.model.name == "excitatory_lif" and net.model.spec() == lif.spec()
    np.testing.assert_array_equal(net.parameters["I"], [DRIVE_E] * N_E + [DRIVE_I] * N_I)
    a, b = net.run(max_spikes=300), ei_network(lif).run(max_spikes=300)
    np.testing.assert_array_equal(a.i, b.i)
    np.testing.assert_array_equal(a.t, b.t)


def test_merged_table_is_sorted_without_autapses(lif):
    csr = ei_network(lif).csr
    csr.validate()
    pre, post, w = csr.synapses()
    same_row = pre[1:] == pre[:-1]
    assert np.all(post[1:][same_row] > post[:-1][same_row])      # ascending, no repeats
    assert not np.any(pre == post)
    assert csr.weights is not None                                # four different weights
    e_pre = pre < N_E
    assert np.all(w[e_pre] > 0) and np.all(w[~e_pre] < 0)
    # E -> E and I -> E: every E neuron receives from 4 E and 3 I neurons (fixed in-degree)
    to_e = post < N_E
    assert np.all(np.bincount(post[to_e & e_pre], minlength=N_E) == 4)
    assert np.all(np.bincount(post[to_e & ~e_pre], minlength=N_E) == 3)
    # E -> I: every E neuron reaches 2 I neurons (fixed out-degree)
    assert np.all(np.bincount(pre[e_pre & ~to_e], minlength=N_E) == 2)


def test_every_neuron_fires_on_its_own(lif):
    net = build_network(lif, [Population("E", N_E, parameters={"I": DRIVE_E}),
                              Population("I", N_I, parameters={"I": DRIVE_I})], [], seed=1)
    assert net.csr.nnz == 0
    result = net.run(duration=30.0)              # periods 24.0 ms (E) and 14.7 ms (I)
    assert np.all(result.counts >= 1)
    T = net.period
    assert T[0] == pytest.approx(10 * math.log(1.1 / 0.1), rel=1e-12)
    assert T[-1] == pytest.approx(10 * math.log(1.3 / 0.3), rel=1e-12)


def test_sparse_and_reference_engines_agree(lif):
    sparse = ei_network(lif).run(max_spikes=1000, engine="sparse")
    reference = ei_network(lif).run(max_spikes=1000, engine="reference")
    np.testing.assert_array_equal(sparse.i, reference.i)
    np.testing.assert_allclose(sparse.t, reference.t, rtol=1e-12, atol=0)
    np.testing.assert_allclose(sparse.final_phase, reference.final_phase, rtol=0, atol=1e-9)
    assert sparse.populations == reference.populations


def test_homogeneous_populations_keep_one_shared_row_and_weight(lif):
    net = build_network(lif, [Population("A", 30, parameters={"I": 1.2}),
                              Population("B", 20, parameters={"I": 1.2})],
                        [Projection("A", "B", fixed_outdegree(5, -0.05, seed=1)),
                         Projection("B", "A", fixed_indegree(5, -0.05, seed=2))], seed=3)
    assert not net.heterogeneous and net.parameters["I"] == 1.2
    assert net.csr.weights is None and net.csr.weight == -0.05 and net.csr.nnz == 30 * 5 * 2
    plain = build_network(lif, [Population("A", 10)], [], seed=1)
    assert not plain.heterogeneous
    assert {k: plain.parameters[k] for k in lif.parameters} == lif.parameters


def test_a_parameter_left_out_takes_the_model_value(lif):
    tau = np.linspace(8.0, 12.0, 5)
    net = build_network(lif, [Population("E", 5, parameters={"I": 1.3, "tau": tau}),
                              Population("I", 3)], [], seed=1)
    assert net.parameters["I"].tolist() == [1.3] * 5 + [lif.parameters["I"]] * 3
    assert net.parameters["tau"].tolist() == tau.tolist() + [lif.parameters["tau"]] * 3


def test_refractory_passes_through_per_population(lif):
    default = lif.refractory
    net = build_network(lif, [Population("E", 3, parameters={"refractory": 2.0}),
                              Population("I", 2, parameters={"I": 1.3})], [], seed=1)
    assert net.refractory.tolist() == [2.0] * 3 + [default] * 2
    both = build_network(lif, [Population("E", 3, parameters={"refractory": 2.0}),
                               Population("I", 2, parameters={"refractory": 2.0})], [], seed=1)
    assert both.refractory == 2.0 and not both.heterogeneous


def test_initial_phases_per_population(lif):
    given = np.linspace(0.0, 20.0, N_E)
    pops = [Population("E", N_E, parameters={"I": DRIVE_E}, initial_phase=given),
            Population("I", N_I, parameters={"I": DRIVE_I}, initial_phase="uniform")]
    net = build_network(lif, pops, [], seed=7)
    np.testing.assert_array_equal(net.phase[:N_E], given)
    uniform = build_network(lif, [Population("E", N_E, parameters={"I": DRIVE_E}),
                                  Population("I", N_I, parameters={"I": DRIVE_I})], [], seed=7)
    np.testing.assert_array_equal(net.phase[N_E:], uniform.phase[N_E:])   # drawn from the seed
    assert np.all(uniform.phase < net.period)
    again = build_network(lif, pops, [], seed=7)
    np.testing.assert_array_equal(again.phase, net.phase)


def test_parallel_projections_and_local_edges(lif):
    # two projections between the same pair: both sets of synapses, rows still ascending
    pops = [Population("A", 3), Population("B", 2)]
    net = build_network(lif, pops, [
        Projection("A", "B", from_edges([0, 2, 0], [1, 0, 0], [0.1, 0.2, 0.3])),
        Projection("A", "B", from_edges([0], [1], -0.4)),
        Projection("B", "B", from_edges([1], [1], 0.5))], seed=1)    # from_edges: autapse kept
    assert net.csr.indptr.tolist() == [0, 3, 3, 4, 4, 5]
    assert net.synapses()[1].tolist() == [3, 4, 4, 3, 4]
    assert net.synapses()[2].tolist() == [0.3, 0.1, -0.4, 0.2, 0.5]


# ----------------------------------------------------------------------------- results

def test_population_queries(lif):
    result = ei_network(lif).run(duration=200.0)
    assert result.populations == {"E": slice(0, N_E), "I": slice(N_E, N_E + N_I)}
    assert [result.population_of(i) for i in (0, 39, 40, 49)] == ["E", "E", "I", "I"]
    assert result.population_of(np.int64(45)) == "I"
    counts = np.bincount(result.i, minlength=50)
    assert np.all(counts > 0)
    seconds = result.duration / 1000.0
    rate_e, rate_i = counts[:N_E].sum() / N_E / seconds, counts[N_E:].sum() / N_I / seconds
    assert result.rate_of("E") == pytest.approx(rate_e, rel=1e-12)
    assert result.rate_of("I") == pytest.approx(rate_i, rel=1e-12)
    assert result.rates() == {"E": result.rate_of("E"), "I": result.rate_of("I")}
    assert list(result.rates()) == ["E", "I"]
    assert (N_E * rate_e + N_I * rate_i) / 50 == pytest.approx(result.rate, rel=1e-12)
    local, times = result.spikes_of("I")
    assert local.dtype == np.int32 and times.dtype == np.float64
    assert local.size == counts[N_E:].sum() and local.min() >= 0 and local.max() < N_I
    mask = result.i >= N_E
    np.testing.assert_array_equal(local + N_E, result.i[mask])
    np.testing.assert_array_equal(times, result.t[mask])
    assert np.all(np.diff(times) >= 0)
    e_local, _ = result.spikes_of("E")
    assert e_local.size + local.size == result.n_spikes
    text = repr(result)
    assert "E: 40 neurons" in text and "I: 10 neurons" in text and "Hz" in text


def test_population_query_mistakes(lif):
    result = ei_network(lif).run(max_spikes=10)
    with pytest.raises(ModelError, match=r"'X' is not a population of this result; its "
                                         r"populations are E, I"):
        result.spikes_of("X")
    with pytest.raises(ModelError, match="not a population"):
        result.rate_of("X")
    for bad in (50, -1, 1.5, True):
        with pytest.raises(ModelError, match=r"in \[0, n\) = \[0, 50\)"):
            result.population_of(bad)
    plain = spp.Network(lif, 5, fixed_outdegree(1, -0.1, seed=1), seed=2).run(max_spikes=5)
    assert plain.populations is None and "neurons," not in repr(plain)
    for call in (lambda: plain.rates(), lambda: plain.spikes_of("E"),
                 lambda: plain.population_of(0)):
        with pytest.raises(ModelError, match="this result has no populations"):
            call()
    empty = Result([], [], 50, 0.0, 0.0, np.zeros(50), "sparse", 0.0, populations=result.populations)
    assert math.isnan(empty.rate_of("E"))


def test_save_and_load_keep_populations(lif, tmp_path):
    result = ei_network(lif).run(duration=50.0)
    path = tmp_path / "ei.npz"
    result.save(path)
    back = load_result(path)
    assert back.populations == result.populations
    np.testing.assert_array_equal(back.i, result.i)
    np.testing.assert_array_equal(back.t, result.t)
    assert back.rates() == result.rates()
    assert [p.name for p in tmp_path.iterdir()] == ["ei.npz"]     # no temporary left behind
    plain = spp.Network(lif, 5, fixed_outdegree(1, -0.1, seed=1), seed=2).run(max_spikes=5)
    plain.save(tmp_path / "plain.npz")
    with np.load(tmp_path / "plain.npz") as data:
        assert "population_names" not in data.files          # an old-style file
    assert load_result(tmp_path / "plain.npz").populations is None
    with np.load(path) as data:
        fields = dict(data)
    fields["population_bounds"] = np.array([[0, 40], [40, 60]])
    np.savez(tmp_path / "bad.npz", **fields)
    with pytest.raises(ModelError, match="population bounds do not fit 50 neurons"):
        load_result(tmp_path / "bad.npz")


# ----------------------------------------------------------------------------- label

def test_label():
    assert label(1000, {"E": 800, "I": 200}) == {"E": slice(0, 800), "I": slice(800, 1000)}
    assert label(5, {"all": 5}) == {"all": slice(0, 5)}
    with pytest.raises(ModelError, match=r"add up to 950 neurons \(E 800 \+ I 150\), the "
                                         r"network has n = 1000"):
        label(1000, {"E": 800, "I": 150})
    with pytest.raises(ModelError, match="non-empty dict"):
        label(10, {})
    with pytest.raises(ModelError, match="non-empty dict"):
        label(10, [("E", 10)])
    with pytest.raises(ModelError, match="identifier"):
        label(10, {"E 1": 10})
    for size in (0, -2, 2.5, True):
        with pytest.raises(ModelError, match="population 'E': its size must be an integer > 0"):
            label(10, {"E": size, "I": 10})


# ----------------------------------------------------------------------------- rectangular

def check_block(block, n_pre, n_post):
    assert isinstance(block, CSR) and (block.n, block.n_post) == (n_pre, n_post)
    assert block.indptr.dtype == np.int64 and block.indptr.shape == (n_pre + 1,)
    assert block.indices.dtype == np.int32 and block.indices.shape == (block.nnz,)
    assert block.indptr[0] == 0 and block.indptr[-1] == block.nnz
    assert np.all(np.diff(block.indptr) >= 0)
    if block.nnz:
        assert block.indices.min() >= 0 and block.indices.max() < n_post
    pre, post, _ = block.synapses()
    same_row = pre[1:] == pre[:-1]
    assert np.all(post[1:][same_row] > post[:-1][same_row])     # ascending, no repeats
    return pre, post


@pytest.mark.parametrize("n_pre,n_post,k", [(10, 4, 3), (10, 4, 4), (3, 50, 7), (200, 30, 2),
                                            (7, 7, 7), (1, 1, 1), (5, 100, 0)])
def test_fixed_outdegree_between_two_populations(n_pre, n_post, k):
    block = fixed_outdegree(k, -0.1, seed=3).build_between(n_pre, n_post, False)
    check_block(block, n_pre, n_post)
    assert np.all(block.out_degree() == k) and block.nnz == n_pre * k
    assert block.weights is None and block.weight == -0.1
    if k == n_post:
        assert np.all(block.in_degree() == n_pre)                  # complete bipartite


@pytest.mark.parametrize("n_pre,n_post,k", [(4, 10, 3), (4, 10, 4), (50, 3, 7), (30, 200, 2),
                                            (7, 7, 7)])
def test_fixed_indegree_between_two_populations(n_pre, n_post, k):
    block = fixed_indegree(k, 0.2, seed=4).build_between(n_pre, n_post, False)
    check_block(block, n_pre, n_post)
    assert np.all(block.in_degree() == k) and block.nnz == n_post * k


def test_erdos_renyi_between_two_populations():
    full = erdos_renyi(1.0, 0.5, seed=1).build_between(6, 4, False)
    check_block(full, 6, 4)
    assert full.nnz == 24 and full.indices.tolist() == [0, 1, 2, 3] * 6
    assert erdos_renyi(0.0, 0.5, seed=1).build_between(6, 4, False).nnz == 0
    n_pre, n_post, p = 300, 200, 0.05
    block = erdos_renyi(p, 0.5, seed=2).build_between(n_pre, n_post, False)
    check_block(block, n_pre, n_post)
    mean, sd = n_pre * n_post * p, math.sqrt(n_pre * n_post * p * (1 - p))
    assert abs(block.nnz - mean) < 5 * sd
    one = erdos_renyi(1.0, 0.5, seed=1).build_between(1, 1, False)
    assert one.indices.tolist() == [0]                             # two populations: 0 -> 0 ok
    assert erdos_renyi(1.0, 0.5, seed=1).build_between(1, 1, True).nnz == 0


@pytest.mark.parametrize("recipe", [fixed_outdegree(5, -0.1, seed=9), fixed_indegree(5, 0.1, seed=9),
                                    erdos_renyi(0.2, 0.3, seed=9)])
def test_same_population_has_no_autapses_and_equals_build(recipe):
    block = recipe.build_between(40, 40, True)
    pre, post = check_block(block, 40, 40)
    assert not np.any(pre == post)
    csr = recipe.build(40)
    np.testing.assert_array_equal(block.indptr, csr.indptr)
    np.testing.assert_array_equal(block.indices, csr.indices)
    assert block.weight == csr.weight


@pytest.mark.parametrize("builder", [fixed_outdegree, fixed_indegree])
def test_between_is_deterministic_for_a_seed(builder):
    a = builder(3, 1.0, seed=5).build_between(60, 25, False)
    b = builder(3, 1.0, seed=5).build_between(60, 25, False)
    c = builder(3, 1.0, seed=6).build_between(60, 25, False)
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert not (np.array_equal(a.indptr, c.indptr) and np.array_equal(a.indices, c.indices))
    fresh = builder(3, 1.0)
    x, y = fresh.build_between(60, 25, False), fresh.build_between(60, 25, False)
    assert not (np.array_equal(x.indptr, y.indptr) and np.array_equal(x.indices, y.indices))


def test_between_weight_arrays():
    w = np.arange(30.0)
    out = fixed_outdegree(3, w, seed=1).build_between(10, 4, False)        # n_pre * k
    np.testing.assert_array_equal(out.weights, w)
    np.testing.assert_array_equal(out.weight_array(), w)
    inn = fixed_indegree(3, np.arange(12.0), seed=1).build_between(10, 4, False)   # n_post * k
    assert inn.weights.shape == (12,) and math.isnan(inn.weight)
    with pytest.raises(ModelError, match=r"one weight per synapse, n_pre\*k = 10\*3 = 30; got 12"):
        fixed_outdegree(3, np.arange(12.0), seed=1).build_between(10, 4, False)
    with pytest.raises(ModelError, match=r"n_post\*k = 4\*3 = 12; got 30"):
        fixed_indegree(3, w, seed=1).build_between(10, 4, False)


def test_from_edges_between_uses_local_indices():
    block = from_edges([2, 0, 2], [0, 6, 3], [1.0, 2.0, 3.0]).build_between(3, 7, False)
    check_block(block, 3, 7)
    assert block.indptr.tolist() == [0, 1, 1, 3] and block.indices.tolist() == [6, 0, 3]
    assert block.weights.tolist() == [2.0, 1.0, 3.0]
    with pytest.raises(ModelError, match=r"pre\[0\] = 3 is not a neuron index; indices must lie "
                                         r"in \[0, n_pre\) = \[0, 3\)"):
        from_edges([3], [0], 1.0).build_between(3, 7, False)
    with pytest.raises(ModelError, match=r"post\[1\] = 7 is not a neuron index; indices must "
                                         r"lie in \[0, n_post\) = \[0, 7\)"):
        from_edges([0, 1], [0, 7], 1.0).build_between(3, 7, False)


def test_between_mistakes():
    with pytest.raises(ModelError, match=r"fixed_outdegree: k must be <= n_post = 4.*got k=5, "
                                         r"n_pre=10, n_post=4"):
        fixed_outdegree(5, 1.0, seed=1).build_between(10, 4, False)
    with pytest.raises(ModelError, match=r"fixed_indegree: k must be <= n_pre = 3.*got k=4"):
        fixed_indegree(4, 1.0, seed=1).build_between(3, 10, False)
    with pytest.raises(ModelError, match=r"k must be < n, since there are no autapses.*k=6, n=6"):
        fixed_outdegree(6, 1.0, seed=1).build_between(6, 6, True)
    fixed_outdegree(6, 1.0, seed=1).build_between(6, 6, False)             # allowed: 6 <= 6
    with pytest.raises(ModelError, match="n_pre must equal n_post; got n_pre=5, n_post=6"):
        fixed_outdegree(1, 1.0).build_between(5, 6, True)
    with pytest.raises(ModelError, match="same must be True .* or False"):
        fixed_outdegree(1, 1.0).build_between(5, 6, 1)
    for n_pre, n_post, which in ((0, 3, "n_pre"), (3, 2.0, "n_post"), (True, 3, "n_pre")):
        with pytest.raises(ModelError, match=f"{which}, the number of .* must be an integer > 0"):
            fixed_outdegree(1, 1.0).build_between(n_pre, n_post, False)
    import networkx as nx
    graph = nx.path_graph(4, create_using=nx.DiGraph)
    assert from_networkx(graph, default=1.0).build_between(4, 4, False).nnz == 3
    with pytest.raises(ModelError, match="defined on 4 neurons.*got n_pre=4, n_post=5"):
        from_networkx(graph, default=1.0).build_between(4, 5, False)


# ----------------------------------------------------------------------------- user mistakes

def test_population_mistakes():
    for name in ("", "1E", "a b", 3, None):
        with pytest.raises(ModelError, match="a population name must be a non-empty identifier"):
            Population(name, 10)
    for n in (0, -5, 2.0, True, "10"):
        with pytest.raises(ModelError, match=r"population 'E': n, the number of neurons, must "
                                             r"be an integer > 0"):
            Population("E", n)
    with pytest.raises(ModelError, match=r"population 'E': parameter 'I' has shape \(3,\); give "
                                         r"a number or 4 values"):
        Population("E", 4, parameters={"I": [1.1, 1.2, 1.3]})
    with pytest.raises(ModelError, match="population 'E': parameter 'I' = nan is not finite"):
        Population("E", 4, parameters={"I": float("nan")})
    with pytest.raises(ModelError, match="population 'E': parameter 'I' = 'high' is not a number"):
        Population("E", 4, parameters={"I": "high"})
    with pytest.raises(ModelError, match="parameters must be a dict"):
        Population("E", 4, parameters=[("I", 1.1)])
    with pytest.raises(ModelError, match=r"population 'E': initial_phase has shape \(3,\); give 4"):
        Population("E", 4, initial_phase=[0.0, 1.0, 2.0])
    with pytest.raises(ModelError, match="initial_phase 'random' is not known"):
        Population("E", 4, initial_phase="random")
    values = np.array([1.1, 1.2])
    pop = Population("E", 2, parameters={"I": values})
    values[:] = 5.0                                 # later edits do not reach the population
    assert pop.parameters["I"].tolist() == [1.1, 1.2]


def test_projection_mistakes():
    with pytest.raises(ModelError, match="a population name must be a non-empty identifier"):
        Projection("", "I", fixed_outdegree(1, 1.0))
    with pytest.raises(ModelError, match=r"projection E -> I: connectivity must be a recipe "
                                         r"such as fixed_indegree\(80, 0.1, seed=1\); got CSR"):
        Projection("E", "I", fixed_outdegree(1, 1.0).build(3))


def test_build_network_mistakes(lif):
    E, I = Population("E", 8), Population("I", 2)
    with pytest.raises(ModelError, match="the population list is empty"):
        build_network(lif, [], [])
    with pytest.raises(ModelError, match="two populations are named 'E'"):
        build_network(lif, [E, Population("E", 3)], [])
    with pytest.raises(ModelError, match="populations must be Population objects; got tuple"):
        build_network(lif, [E, ("I", 2)], [])
    with pytest.raises(ModelError, match=r"projection E -> X: post population 'X' is not one of "
                                         r"the populations \(E, I\)"):
        build_network(lif, [E, I], [Projection("E", "X", fixed_outdegree(1, 0.1))])
    with pytest.raises(ModelError, match="projections must be Projection objects"):
        build_network(lif, [E, I], [fixed_outdegree(1, 0.1)])
    with pytest.raises(ModelError, match=r"projection E -> I: fixed_outdegree: k must be <= "
                                         r"n_post = 2"):
        build_network(lif, [E, I], [Projection("E", "I", fixed_outdegree(3, 0.1, seed=1))])
    with pytest.raises(ModelError, match=r"projection I -> I: fixed_indegree: k must be < n"):
        build_network(lif, [E, I], [Projection("I", "I", fixed_indegree(2, 0.1, seed=1))])
    with pytest.raises(ModelError, match=r"projection I -> E: from_edges: post\[0\] = 8 is not "
                                         r"a neuron index; indices must lie in \[0, n_post\)"):
        build_network(lif, [E, I], [Projection("I", "E", from_edges([0], [8], 0.1))])
    with pytest.raises(ModelError, match=r"projection E -> I: fixed_outdegree: the weight array "
                                         r"must have one weight per synapse, n_pre\*k = 8\*1 = 8"):
        build_network(lif, [E, I], [Projection("E", "I", fixed_outdegree(1, np.ones(2)))])
    with pytest.raises(ModelError, match="model must be a NeuronModel"):
        build_network(3, [E, I], [])


def test_unknown_parameter_names_the_population(lif):
    bad = Population("I", 2, parameters={"Idrive": 1.2})
    for pops in ([bad], [Population("E", 3), bad]):   # given by every population or by one
        with pytest.raises(ModelError, match=r"population 'I' gives parameter 'Idrive', which "
                                             r"lif does not have \(its parameters are I, tau, "
                                             r"and refractory\)"):
            build_network(lif, pops, [])


def test_bad_values_name_the_population(lif):
    from sparseprop.population import _in_context
    pops = [Population("E", 3), Population("I", 4, parameters={"tau": 5.0})]
    slices = {"E": slice(0, 3), "I": slice(3, 7)}
    assert _in_context("neuron 5 (I=0.5) never fires", pops, slices) == \
        "population 'I', its neuron 2 (network neuron 5): neuron 5 (I=0.5) never fires"
    assert _in_context("parameter 'tau' is bad", pops, slices).startswith(
        "population 'I' (parameter 'tau'): ")
    assert _in_context("something else", pops, slices) == "something else"
    late = Population("I", 2, parameters={"I": 1.3}, initial_phase=[1.0, 100.0])
    with pytest.raises(ModelError, match=r"population 'I', its neuron 1 \(network neuron 4\): "
                                         r"initial_phase\[4\] = 100.0 is outside \[0, T\)"):
        build_network(lif, [Population("E", 3), late], [])


def test_exports():
    for name in ("Population", "Projection", "build_network"):
        assert name in spp.__all__ and getattr(spp, name) is not None


def test_network_labels_populations_that_add_up():
    net = spp.Network("lif", 10, fixed_outdegree(2, -0.1, seed=1), seed=1,
                      populations={"E": 8, "I": 2})
    result = net.run(duration=50.0)
    assert result.populations == {"E": slice(0, 8), "I": slice(8, 10)}
    assert set(result.rates()) == {"E", "I"}
    with pytest.raises(spp.ModelError, match=r"add up to 11 neurons \(E 8 \+ I 3\).*n = 10"):
        spp.Network("lif", 10, fixed_outdegree(2, -0.1, seed=1), populations={"E": 8, "I": 3})


def test_a_projection_table_is_not_a_network_table():
    block = fixed_outdegree(2, 0.1, seed=1).build_between(5, 3, False)
    assert repr(block).startswith("CSR(n=5, n_post=3")
    with pytest.raises(spp.ModelError, match="connects 5 to 3 neurons; the network has 5 neurons"):
        spp.Network("lif", 5, block)


def _stimulated(times, seed=3):
    pops = [Population("E", 30, parameters={"I": 0.9}), spp.SpikeSource("a", 2, [0, 1], [1.0, 2.0]),
            spp.PoissonSource("noise", 3, 40.0), spp.SpikeSource("b", 2, *times)]
    return build_network("lif", pops, [
        Projection("a", "E", spp.fixed_outdegree(10, 0.3, seed=1)),
        Projection("noise", "E", spp.fixed_outdegree(10, 0.2, seed=2, delay=0.5)),
        Projection("b", "E", spp.fixed_outdegree(15, 0.4, seed=4, delay=1.0))],
        seed=seed, inputs=[spp.PoissonInput("E", 5, 20.0, 0.05)])


def test_set_spikes_gives_the_network_built_with_them():
    new = ([1, 0, 1, 0], [3.0, 4.5, 4.5, 12.0])
    net = _stimulated(([0, 1], [5.0, 6.0]))
    net.store()
    net.run(duration=20.0)
    net.restore()
    net.set_spikes("b", *new)
    a = net.run(duration=30.0)
    b = _stimulated(new).run(duration=30.0)
    assert a.n_spikes > 20 and np.array_equal(a.i, b.i) and np.array_equal(a.t, b.t)
    assert np.array_equal(a.source_i, b.source_i) and np.array_equal(a.source_t, b.source_t)
    # mid-run: the new list's spikes from now on only; the other streams go on unchanged
    net.restore()
    net.run(duration=4.0)
    net.set_spikes("b", [0, 1, 0], [2.0, 4.0, 9.0])
    c = net.run(duration=10.0)
    b_spikes = c.source_t[c.source_i >= 5]                 # sources: a (0, 1), noise (2-4), b
    assert list(b_spikes) == [4.0, 9.0]


def test_set_spikes_refuses_what_is_not_a_spike_source():
    net = _stimulated(([0], [5.0]))
    with pytest.raises(spp.ModelError, match="not a SpikeSource.*its SpikeSources: a, b"):
        net.set_spikes("noise", [0], [1.0])
    with pytest.raises(spp.ModelError, match="indices"):
        net.set_spikes("b", [7], [1.0])
    result = net.run(duration=10.0, record_tape=True)
    net.set_spikes("b", [0], [8.0])
    with pytest.raises(spp.ModelError):
        result.backward(np.zeros(result.t.size))
