"""Connectivity builders: exact degrees, no autapses or repeats, determinism, statistics, errors."""
import math
import subprocess
import sys

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats

from sparseprop.connectivity import (CSR, Connectivity, _key_of, erdos_renyi, fixed_indegree,
                                     fixed_outdegree, from_edges, from_networkx)
from sparseprop.engine.splitmix import below, row_state
from sparseprop.errors import ModelError


def check_table(csr, n):
    """Structural invariants every builder's output satisfies."""
    assert isinstance(csr, CSR) and csr.n == n
    assert csr.indptr.dtype == np.int64 and csr.indptr.shape == (n + 1,)
    assert csr.indices.dtype == np.int32 and csr.indices.shape == (csr.nnz,)
    assert csr.indptr[0] == 0 and csr.indptr[-1] == csr.nnz
    assert np.all(np.diff(csr.indptr) >= 0)
    if csr.nnz:
        assert csr.indices.min() >= 0 and csr.indices.max() < n
    if csr.weights is None:
        assert math.isfinite(csr.weight)
    else:
        assert csr.weights.dtype == np.float64 and csr.weights.shape == (csr.nnz,)
        assert math.isnan(csr.weight)


def check_simple_sorted(csr):
    """No autapses; targets strictly ascending within each row (hence no repeats)."""
    pre, post, _ = csr.synapses()
    assert not np.any(pre == post)
    same_row = pre[1:] == pre[:-1]
    assert np.all(post[1:][same_row] > post[:-1][same_row])


SIZES = [(1, 0), (2, 1), (3, 2), (10, 3), (10, 9), (100, 20), (100, 99), (1000, 10),
         (1000, 999), (20000, 100)]


# ----------------------------------------------------------------------------- fixed degree

@pytest.mark.parametrize("n,k", SIZES)
def test_fixed_outdegree_exact_degree_no_autapses_no_repeats(n, k):
    csr = fixed_outdegree(k, -0.1, seed=7).build(n)
    check_table(csr, n)
    check_simple_sorted(csr)
    assert np.all(csr.out_degree() == k)
    assert csr.nnz == n * k
    assert csr.weights is None and csr.weight == -0.1
    if k == n - 1:  # complete graph without autapses
        assert np.all(csr.in_degree() == n - 1)


@pytest.mark.parametrize("n,k", SIZES)
def test_fixed_indegree_exact_degree_no_autapses_no_repeats(n, k):
    csr = fixed_indegree(k, 0.25, seed=11).build(n)
    check_table(csr, n)
    check_simple_sorted(csr)
    assert np.all(csr.in_degree() == k)
    assert csr.nnz == n * k
    assert csr.weights is None and csr.weight == 0.25


def _floyd_with_marks(rows, m, k, exclude_self, key):
    """The plain sampler (a mark per candidate, an array of m): the targets of each row in
    draw order, row i's numbers from its own stream (row_state, below), the reference for
    the hash-set sampler of the kernels."""
    out = np.empty((rows, k), np.int64)
    mark = np.full(max(m, 1), -1, np.int64)
    for i in range(rows):
        shift = i if exclude_self else m
        z = row_state(key, i)
        for c, j in enumerate(range(m - k, m)):
            t, z = below(z, j + 1)
            if mark[t] == i:
                t = j
            mark[t] = i
            out[i, c] = t + (t >= shift)
    return out


_M64 = (1 << 64) - 1


def _splitmix_python(state):
    """SplitMix64's output for a state, in Python integers (the published algorithm)."""
    z = state & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def _below_python(key, row, m, count):
    """`count` draws of row `row`'s stream below m: Lemire's multiply of the top 32 bits by m,
    rejecting products whose low 32 bits fall below 2^32 mod m, in Python integers."""
    golden, n, out = 0x9E3779B97F4A7C15, (row << 32), []
    while len(out) < count:
        n += 1
        product = (_splitmix_python(key + n * golden) >> 32) * m
        if (product & 0xFFFFFFFF) >= (1 << 32) % m:
            out.append(product >> 32)
    return out


def test_row_streams_are_splitmix64_segments_drawn_without_bias():
    import numba
    assert _splitmix_python(0x9E3779B97F4A7C15) == 0xE220A8397B1DCDAF   # published first output

    @numba.njit
    def draws(key, row, m, count):
        z, out = row_state(key, row), np.empty(count, np.int64)
        for c in range(count):
            out[c], z = below(z, m)
        return out

    key = _key_of(3) & _M64
    for row, m in [(0, 1), (5, 7), (123456, 1000003), (2**31, 3 * 2**30 + 1), (7, 2**32)]:
        assert list(draws(_key_of(3), row, m, 300)) == _below_python(key, row, m, 300)
    # m = 3 * 2^30 + 1 rejects a quarter of the numbers; without the rejection every third
    # value would have two of the 2^32 numbers instead of one (multiples of 3: 37.5 %, not 1/3)
    values = draws(_key_of(4), 9, 3 * 2**30 + 1, 200000)
    share = np.bincount(values % 3, minlength=3) / values.size
    assert np.all(np.abs(share - 1 / 3) < 0.01), share


_floyd_reference = None


@pytest.mark.parametrize("n_pre, n_post, same, k", [(300, 300, True, 5), (2000, 2000, True, 100),
                                                    (500, 5000, False, 40),
                                                    (5000, 300, False, 30),
                                                    (4000, 4000, True, 499), (50, 50, True, 49)])
def test_samplers_draw_the_same_networks_as_the_mark_array(n_pre, n_post, same, k):
    # the hash set and the grouped, threaded passes give the plain sampler's network
    global _floyd_reference
    if _floyd_reference is None:
        import numba
        _floyd_reference = numba.njit(cache=True)(_floyd_with_marks)
    seed = 7 + k
    csr = fixed_outdegree(k, 1.0, seed=seed).build_between(n_pre, n_post, same)
    want = _floyd_reference(n_pre, n_post - same, k, same, _key_of(seed))
    assert np.array_equal(csr.indices.reshape(n_pre, k), np.sort(want, axis=1))
    if k > n_pre - same:
        return
    csr = fixed_indegree(k, 1.0, seed=seed).build_between(n_pre, n_post, same)
    sources = _floyd_reference(n_post, n_pre - same, k, same, _key_of(seed))
    pre = np.repeat(np.arange(n_pre), np.diff(csr.indptr))
    got = sorted(zip(pre.tolist(), csr.indices.tolist()))
    assert got == sorted(zip(sources.ravel().tolist(), np.repeat(np.arange(n_post), k).tolist()))


@pytest.mark.parametrize("builder", [fixed_outdegree, fixed_indegree])
def test_tables_do_not_depend_on_the_number_of_threads(builder, monkeypatch):
    import sparseprop.connectivity as connectivity
    recipe = builder(30, np.arange(3000 * 30) * 0.5, seed=2, delay=np.arange(3000 * 30) * 0.01)
    one = recipe.build(3000)
    parts = [recipe.build_between(3000, 3000, True, columns=(a, b))
             for a, b in ((0, 1000), (1000, 2999), (2999, 3000))]
    monkeypatch.setattr(connectivity, "_threads_for", lambda nnz: 3)
    for many in [recipe.build(3000)] + [recipe.build_between(3000, 3000, True, columns=c)
                                         for c in ((0, 1000), (1000, 2999), (2999, 3000))]:
        want = one if many.n_post == 3000 else parts.pop(0)
        for field in ("indptr", "indices", "weights", "delays"):
            assert np.array_equal(getattr(many, field), getattr(want, field)), field


def test_erdos_renyi_does_not_depend_on_the_number_of_threads(monkeypatch):
    import sparseprop.connectivity as connectivity
    recipe = erdos_renyi(0.02, 0.5, seed=6)
    one = [recipe.build(2000), recipe.build_between(2000, 2000, True, columns=(700, 1300))]
    monkeypatch.setattr(connectivity, "_threads_for", lambda nnz: 3)
    many = [recipe.build(2000), recipe.build_between(2000, 2000, True, columns=(700, 1300))]
    for a, b in zip(one, many):
        assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    assert one[0].nnz > 70000


def test_fixed_outdegree_large():
    csr = fixed_outdegree(100, -0.1, seed=1).build(10**5)
    check_table(csr, 10**5)
    check_simple_sorted(csr)
    assert np.all(csr.out_degree() == 100)
    # each neuron is hit by ~Binomial(n-1, k/(n-1)) synapses: mean exactly k, variance ~ k
    indeg = csr.in_degree()
    assert indeg.mean() == 100
    assert 90 < indeg.var() < 110


@pytest.mark.parametrize("builder", [fixed_outdegree, fixed_indegree])
@pytest.mark.parametrize("n,k", [(5, 2), (40, 30), (200, 5)])  # dense (scan), sparse (sort)
def test_fixed_degree_rows_are_uniform_subsets(builder, n, k):
    # the partners of neuron 0 (targets or sources) over many seeds: each of the n-1 others
    # appears equally often
    hits = np.zeros(n, np.int64)
    seeds = 600
    for seed in range(seeds):
        csr = builder(k, 1.0, seed=seed).build(n)
        pre, post, _ = csr.synapses()
        partners = post[pre == 0] if builder is fixed_outdegree else pre[post == 0]
        hits[partners] += 1
    assert hits[0] == 0 and hits.sum() == seeds * k
    assert stats.chisquare(hits[1:]).pvalue > 1e-4


def test_fixed_outdegree_subset_distribution():
    # n=5, k=2: neuron 0 chooses one of the C(4, 2) = 6 pairs uniformly
    counts = {}
    for seed in range(1200):
        row = tuple(fixed_outdegree(2, 1.0, seed=seed).build(5).indices[:2])
        counts[row] = counts.get(row, 0) + 1
    assert len(counts) == 6
    assert stats.chisquare(list(counts.values())).pvalue > 1e-4


@pytest.mark.parametrize("builder", [fixed_outdegree, fixed_indegree])
def test_fixed_degree_deterministic_for_a_seed(builder):
    a = builder(10, 1.0, seed=123).build(500)
    b = builder(10, 1.0, seed=123).build(500)
    c = builder(10, 1.0, seed=124).build(500)
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    assert not np.array_equal(a.indices, c.indices)
    recipe = builder(10, 1.0, seed=123)
    assert np.array_equal(recipe.build(500).indices, recipe.build(500).indices)
    fresh = builder(10, 1.0)  # seed None: fresh randomness at every build
    assert not np.array_equal(fresh.build(500).indices, fresh.build(500).indices)


@pytest.mark.parametrize("builder", [fixed_outdegree, fixed_indegree])
def test_fixed_degree_weight_array_in_csr_order(builder):
    n, k = 30, 4
    w = np.linspace(-1.0, 1.0, n * k)
    recipe = builder(k, w, seed=3)
    w[:] = 0.0  # later edits of the caller's array do not reach the recipe
    csr = recipe.build(n)
    check_table(csr, n)
    assert np.array_equal(csr.weights, np.linspace(-1.0, 1.0, n * k))
    assert np.array_equal(csr.weight_array(), csr.weights)
    same = builder(k, 0.5, seed=3).build(n)
    assert np.array_equal(same.indices, csr.indices)  # weights do not change the graph


# ----------------------------------------------------------------------------- Erdos-Renyi

def test_erdos_renyi_mean_degree_and_no_autapses():
    n, p = 3000, 0.01
    csr = erdos_renyi(p, -0.2, seed=5).build(n)
    check_table(csr, n)
    check_simple_sorted(csr)
    mean = n * (n - 1) * p
    sd = math.sqrt(n * (n - 1) * p * (1 - p))
    assert abs(csr.nnz - mean) < 5 * sd
    # out-degrees ~ Binomial(n-1, p)
    deg = csr.out_degree()
    assert abs(deg.var() - (n - 1) * p * (1 - p)) < 0.15 * (n - 1) * p
    assert csr.weights is None and csr.weight == -0.2


def test_erdos_renyi_pairs_are_independent_with_probability_p():
    n, p, runs = 12, 0.3, 400
    counts = np.zeros((n, n), np.int64)
    for seed in range(runs):
        pre, post, _ = erdos_renyi(p, 1.0, seed=seed).build(n).synapses()
        np.add.at(counts, (pre, post), 1)
    assert np.all(np.diag(counts) == 0)
    off = counts[~np.eye(n, dtype=bool)]
    total = off.sum()
    expected = runs * n * (n - 1) * p
    assert abs(total - expected) < 5 * math.sqrt(expected * (1 - p))
    assert stats.chisquare(off).pvalue > 1e-4  # every ordered pair equally likely


def test_erdos_renyi_extremes_and_determinism():
    assert erdos_renyi(0.0, 1.0, seed=1).build(50).nnz == 0
    full = erdos_renyi(1.0, 1.0, seed=1).build(50)
    check_simple_sorted(full)
    assert full.nnz == 50 * 49 and np.all(full.out_degree() == 49)
    assert erdos_renyi(0.5, 1.0, seed=1).build(1).nnz == 0
    tiny = erdos_renyi(1e-300, 1.0, seed=1).build(1000)
    assert tiny.nnz == 0
    a = erdos_renyi(0.05, 1.0, seed=9).build(400)
    b = erdos_renyi(0.05, 1.0, seed=9).build(400)
    c = erdos_renyi(0.05, 1.0, seed=10).build(400)
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    assert not (np.array_equal(a.indptr, c.indptr) and np.array_equal(a.indices, c.indices))


# ----------------------------------------------------------------------------- explicit edges

def test_from_edges_ordering_and_weights():
    pre = np.array([2, 0, 2, 1, 0, 2], dtype=np.uint8)
    post = np.array([0, 1, 1, 2, 1, 2], dtype=np.int16)  # 0->1 twice; 2->2 is an autapse
    w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    csr = from_edges(pre, post, w).build(4)
    check_table(csr, 4)
    assert csr.indptr.tolist() == [0, 2, 3, 6, 6]
    assert csr.indices.tolist() == [1, 1, 2, 0, 1, 2]       # stable within each neuron
    assert csr.weights.tolist() == [2.0, 5.0, 4.0, 1.0, 3.0, 6.0]
    p, q, ww = csr.synapses()
    assert p.tolist() == [0, 0, 1, 2, 2, 2] and q.tolist() == csr.indices.tolist()
    assert ww.tolist() == csr.weights.tolist()
    scalar = from_edges([1, 0], [0, 1], -0.5).build(2)
    assert scalar.weights is None and scalar.weight == -0.5
    assert scalar.weight_array().tolist() == [-0.5, -0.5]
    empty = from_edges([], [], 1.0).build(3)
    assert empty.nnz == 0 and empty.indptr.tolist() == [0, 0, 0, 0]


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 20).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1),
                                   st.floats(-5, 5)), max_size=60))))
def test_from_edges_roundtrip(case):
    n, edges = case
    pre = [e[0] for e in edges]
    post = [e[1] for e in edges]
    w = [e[2] for e in edges]
    csr = from_edges(np.array(pre, dtype=np.int64), np.array(post, dtype=np.int64),
                     np.array(w)).build(n)
    check_table(csr, n)
    p, q, ww = csr.synapses()
    expected = sorted(zip(pre, range(len(pre))), key=lambda t: t[0])  # stable by pre
    assert p.tolist() == [pre[i] for _, i in expected]
    assert q.tolist() == [post[i] for _, i in expected]
    assert ww.tolist() == [w[i] for _, i in expected]
    assert np.array_equal(csr.out_degree(), np.bincount(pre, minlength=n))


# ----------------------------------------------------------------------------- networkx

def test_from_networkx_directed_with_weights():
    g = nx.DiGraph()
    g.add_nodes_from(range(4))
    g.add_edge(2, 0, weight=0.5)
    g.add_edge(0, 3, weight=-1.0)
    g.add_edge(0, 1, weight=2.0)
    g.add_edge(3, 2)  # no attribute: default
    csr = from_networkx(g, default=9.0).build(4)
    check_table(csr, 4)
    got = sorted(zip(*(a.tolist() for a in csr.synapses())))
    assert got == [(0, 1, 2.0), (0, 3, -1.0), (2, 0, 0.5), (3, 2, 9.0)]


def test_from_networkx_undirected_both_ways():
    g = nx.Graph()
    g.add_edge(0, 1, w=1.5)
    g.add_edge(1, 2, w=-2.0)
    g.add_edge(2, 2, w=3.0)  # self-loop: one synapse
    csr = from_networkx(g, weight="w").build(3)
    got = sorted(zip(*(a.tolist() for a in csr.synapses())))
    assert got == [(0, 1, 1.5), (1, 0, 1.5), (1, 2, -2.0), (2, 1, -2.0), (2, 2, 3.0)]


def test_from_networkx_default_only_and_multigraph():
    g = nx.cycle_graph(5, create_using=nx.DiGraph)
    csr = from_networkx(g, weight=None, default=-0.3).build(5)
    assert csr.weights is None and csr.weight == -0.3
    assert np.array_equal(csr.indices, [1, 2, 3, 4, 0])
    m = nx.MultiDiGraph()
    m.add_nodes_from(range(3))
    m.add_edge(0, 1, weight=1.0)
    m.add_edge(0, 1, weight=2.0)
    csr = from_networkx(m).build(3)
    assert csr.indices.tolist() == [1, 1] and sorted(csr.weights.tolist()) == [1.0, 2.0]


def test_from_networkx_matches_erdos_renyi_roundtrip():
    csr = erdos_renyi(0.1, 1.0, seed=2).build(60)
    g = nx.DiGraph()
    g.add_nodes_from(range(60))
    pre, post, w = csr.synapses()
    g.add_weighted_edges_from(zip(pre.tolist(), post.tolist(), w.tolist()))
    back = from_networkx(g).build(60)
    assert np.array_equal(back.indptr, csr.indptr) and np.array_equal(back.indices, csr.indices)


# ----------------------------------------------------------------------------- CSR, recipes

def test_synapses_consistency_and_dtypes():
    csr = fixed_indegree(5, 0.1, seed=4).build(200)
    pre, post, w = csr.synapses()
    assert pre.dtype == np.int32 and post.dtype == np.int32 and w.dtype == np.float64
    assert len(pre) == len(post) == len(w) == csr.nnz
    for i in (0, 17, 199):
        row = slice(csr.indptr[i], csr.indptr[i + 1])
        assert np.all(pre[row] == i)
        assert np.array_equal(post[row], csr.indices[row])
    assert np.all(w == 0.1)
    assert not post.flags.writeable  # a view of the table, not to be edited through
    assert np.array_equal(csr.out_degree(), np.bincount(pre, minlength=200))
    assert csr.validate() is csr


def test_reprs():
    r = repr(fixed_outdegree(100, -0.1, seed=1))
    assert "fixed_outdegree" in r and "k=100" in r and "seed=1" in r
    assert "weights" in repr(fixed_indegree(2, np.ones(6)))
    assert "erdos_renyi" in repr(erdos_renyi(0.1, 1.0)) and "p=0.1" in repr(erdos_renyi(0.1, 1.0))
    assert isinstance(from_edges([0], [1], 1.0), Connectivity)
    assert repr(fixed_outdegree(1, 2.0, seed=0).build(3)) == "CSR(n=3, nnz=3, weight=2, delay=0)"


def test_csr_constructor():
    csr = CSR(3, [0, 1, 1, 2], [2, 0], weight=-1.0)
    assert csr.indptr.dtype == np.int64 and csr.indices.dtype == np.int32 and csr.nnz == 2
    with pytest.raises(ModelError, match="indptr must have length"):
        CSR(3, [0, 1, 2], [1, 2], weight=1.0)
    with pytest.raises(ModelError, match="one value per synapse"):
        CSR(3, [0, 1, 1, 2], [2, 0], weights=[1.0])
    with pytest.raises(ModelError, match="targets neuron 5, outside \\[0, 3\\)"):
        CSR(3, [0, 1, 1, 2], [2, 5], weight=1.0)


def test_import_does_not_load_networkx():
    code = "import sys, sparseprop; print('networkx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]


# ----------------------------------------------------------------------------- user mistakes

@pytest.mark.parametrize("builder", [fixed_outdegree, fixed_indegree])
def test_k_not_less_than_n(builder):
    with pytest.raises(ModelError, match="k must be < n") as info:
        builder(10, 1.0, seed=1).build(10)
    assert "k=10, n=10" in str(info.value)
    builder(9, 1.0, seed=1).build(10)  # k = n - 1 is fine


@pytest.mark.parametrize("k", [-1, 2.5, "3", True])
def test_k_negative_or_not_integer(k):
    with pytest.raises(ModelError, match="k, the number of synapses per neuron, must be an "
                                         "integer >= 0"):
        fixed_outdegree(k, 1.0)
    with pytest.raises(ModelError, match="must be an integer >= 0"):
        fixed_indegree(k, 1.0)


@pytest.mark.parametrize("p", [1.5, -0.1, float("nan"), "0.5"])
def test_p_outside_unit_interval(p):
    with pytest.raises(ModelError, match=r"p must be a probability, a number in \[0, 1\]"):
        erdos_renyi(p, 1.0)


@pytest.mark.parametrize("weight", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_weight(weight):
    for make in (lambda: fixed_outdegree(3, weight), lambda: erdos_renyi(0.1, weight),
                 lambda: from_edges([0], [1], weight)):
        with pytest.raises(ModelError, match="finite"):
            make()
    with pytest.raises(ModelError, match=r"weight\[1\] = "):
        fixed_indegree(1, [0.5, weight, 0.5])


def test_weight_of_wrong_kind():
    with pytest.raises(ModelError, match="finite number"):
        fixed_outdegree(3, "strong")
    with pytest.raises(ModelError, match="must be 1-D"):
        fixed_outdegree(3, np.ones((2, 3)))
    with pytest.raises(ModelError, match="one finite number shared by all synapses"):
        erdos_renyi(0.1, np.ones(10))


def test_weight_array_wrong_length():
    with pytest.raises(ModelError, match=r"one weight per synapse, n\*k = 10\*3 = 30; got 29"):
        fixed_outdegree(3, np.ones(29), seed=1).build(10)
    with pytest.raises(ModelError, match=r"n\*k = 10\*3 = 30; got 31"):
        fixed_indegree(3, np.ones(31), seed=1).build(10)
    with pytest.raises(ModelError, match=r"len\(pre\) = 2; got 3"):
        from_edges([0, 1], [1, 0], [1.0, 2.0, 3.0])


def test_edge_index_out_of_range():
    recipe = from_edges([0, 1, 2], [1, 5, 0], 1.0)
    with pytest.raises(ModelError, match=r"post\[1\] = 5 is not a neuron index; indices must "
                                         r"lie in \[0, n\) = \[0, 3\)"):
        recipe.build(3)
    recipe.build(6)
    with pytest.raises(ModelError, match=r"pre\[0\] = -1 is not a neuron index"):
        from_edges([-1], [0], 1.0).build(3)


def test_edge_arrays_bad():
    with pytest.raises(ModelError, match="pre and post must have the same length.*got 3 and 2"):
        from_edges([0, 1, 2], [1, 0], 1.0)
    with pytest.raises(ModelError, match="pre must hold integer neuron indices; got dtype float64"):
        from_edges([0.0, 1.0], [1, 0], 1.0)
    with pytest.raises(ModelError, match="post must be a 1-D array"):
        from_edges([0], [[1]], 1.0)


def test_networkx_nodes_not_0_to_n_minus_1():
    g = nx.DiGraph([("a", "b")])
    with pytest.raises(ModelError, match=r"nodes must be the integers 0..n-1 = 0..1.*'a'.*"
                                         r"convert_node_labels_to_integers"):
        from_networkx(g, default=1.0)
    g = nx.DiGraph([(1, 2)])  # 1..2 instead of 0..1
    with pytest.raises(ModelError, match="found node 2"):
        from_networkx(g, default=1.0)
    with pytest.raises(ModelError, match="no nodes"):
        from_networkx(nx.DiGraph())
    with pytest.raises(ModelError, match="expected a networkx graph"):
        from_networkx([(0, 1)])


def test_networkx_missing_weight_and_wrong_n():
    g = nx.DiGraph([(0, 1)])
    with pytest.raises(ModelError, match=r"edge \(0, 1\) has no 'weight' attribute.*default="):
        from_networkx(g)
    g[0][1]["weight"] = float("nan")
    with pytest.raises(ModelError, match="finite"):
        from_networkx(g)
    g[0][1]["weight"] = 1.0
    with pytest.raises(ModelError, match="defined on 2 neurons, so build it with n=2, not n=5"):
        from_networkx(g).build(5)


@pytest.mark.parametrize("n", [0, -3, 1e3, 2.0, "10", None, True])
def test_n_not_positive_integer(n):
    for recipe in (fixed_outdegree(0, 1.0), fixed_indegree(0, 1.0), erdos_renyi(0.1, 1.0),
                   from_edges([0], [0], 1.0)):
        with pytest.raises(ModelError, match="n, the number of neurons, must be an integer > 0"):
            recipe.build(n)
    if isinstance(n, float):
        with pytest.raises(ModelError, match="not 1e6"):
            fixed_outdegree(0, 1.0).build(n)


@pytest.mark.parametrize("seed", [-1, 1.5, "seed", True])
def test_bad_seed(seed):
    for builder, arg in ((fixed_outdegree, 2), (fixed_indegree, 2), (erdos_renyi, 0.1)):
        with pytest.raises(ModelError, match="seed must be None .* or an integer >= 0"):
            builder(arg, 1.0, seed=seed)


def test_large_seed_and_numpy_integers():
    a = fixed_outdegree(np.int64(3), np.float32(0.5), seed=2**80).build(np.int32(50))
    b = fixed_outdegree(3, 0.5, seed=2**80).build(50)
    assert np.array_equal(a.indices, b.indices) and a.weight == 0.5
