"""build_between(..., columns=(c0, c1)): the synapses into post neurons c0..c1-1 only, exactly
`build_between(...).columns(c0, c1)`, built without the whole table (a distributed process's
part of a projection)."""
import math
import tracemalloc

import numpy as np
import pytest

from expect import expect
from sparseprop.connectivity import (CSR, Connectivity, _erdos_renyi_table, _indegree_table,
                                     _key_of, _kernels, erdos_renyi, fixed_indegree,
                                     fixed_outdegree, from_edges, from_networkx)
from sparseprop.population import Projection, _merge

SHAPES = [(30, 30, True), (25, 40, False), (40, 25, False)]   # (n_pre, n_post, same)


def columns_of(n_post):
    """Ranges covering the first and last neuron, single columns and the whole population."""
    half = n_post // 2
    return [(0, 1), (n_post - 1, n_post), (half, half + 1), (0, half), (half, n_post),
            (3, n_post - 5), (0, n_post)]


def assert_same(got, want):
    """The two tables hold the same arrays, bit for bit."""
    assert isinstance(got, CSR)
    assert (got.n, got.n_post) == (want.n, want.n_post)
    for name in ("indptr", "indices", "weights", "delays", "ports"):
        a, b = getattr(got, name), getattr(want, name)
        if b is None:
            assert a is None, name
        else:
            assert a.dtype == b.dtype and np.array_equal(a, b), name
    for name in ("weight", "delay"):
        a, b = getattr(got, name), getattr(want, name)
        assert a == b or (math.isnan(a) and math.isnan(b)), name


def values(count, kind, seed):
    """Per-synapse weights and delays (delays with ties: equal delays keep their order)."""
    rng = np.random.default_rng(seed)
    weight = rng.normal(size=count) if kind != "shared" else -0.25
    delay = rng.integers(0, 4, size=count) * 0.5 if kind == "delays" else 1.5
    return weight, delay


def recipes(n_pre, n_post, same):
    """(name, recipe) of every kind, with shared and per-synapse weights and delays."""
    out = []
    for k in (0, 3, 20):                         # none, sparse rows (hash set), dense rows
        for kind in ("shared", "weights", "delays"):
            if k <= n_post - same:
                weight, delay = values(n_pre * k, kind, k)
                out.append((f"out-{k}-{kind}", fixed_outdegree(k, weight, seed=k + 1,
                                                                delay=delay)))
            if k <= n_pre - same:
                weight, delay = values(n_post * k, kind, k + 1)
                out.append((f"in-{k}-{kind}", fixed_indegree(k, weight, seed=k + 2,
                                                              delay=delay)))
    for p in (0.0, 0.1, 1.0):
        out.append((f"er-{p}", erdos_renyi(p, 0.5, seed=3, delay=0.5)))
    rng = np.random.default_rng(n_pre + n_post)
    pre = rng.integers(0, n_pre, size=300)
    post = 2 * rng.integers(0, (n_post + 1) // 2, size=300)   # even targets: odd ones empty
    for kind in ("shared", "weights", "delays"):
        weight, delay = values(300, kind, 5)
        out.append((f"edges-{kind}", from_edges(pre, post, weight, delay=delay)))

    def mine(a, b, together):                    # a user's recipe: a three-argument builder
        return from_edges(pre[pre < a], post[pre < a], 0.75).build_between(a, b, together)

    out.append(("custom", Connectivity("mine", {}, mine)))
    return out


@pytest.mark.parametrize("n_pre, n_post, same", SHAPES)
def test_columns_give_the_columns_of_the_whole_table(n_pre, n_post, same):
    empty = 0
    for name, recipe in recipes(n_pre, n_post, same):
        whole = recipe.build_between(n_pre, n_post, same)
        for c0, c1 in columns_of(n_post):
            got = recipe.build_between(n_pre, n_post, same, columns=(c0, c1))
            assert_same(got, whole.columns(c0, c1))
            empty += got.nnz == 0
        # a partition into 3 blocks holds every synapse once, with its weight and delay
        cuts = [0, n_post // 3, n_post // 3 + 1, n_post]
        parts = [recipe.build_between(n_pre, n_post, same, columns=(a, b))
                 for a, b in zip(cuts, cuts[1:])]
        assert sum(part.nnz for part in parts) == whole.nnz, name
        union = sorted((int(i), int(j) + a, w, d) for part, a in zip(parts, cuts)
                       for i, j, w, d in zip(*part.synapses()[:2], part.weight_array(),
                                             part.delay_array()))
        full = sorted((int(i), int(j), w, d) for i, j, w, d in zip(
            *whole.synapses()[:2], whole.weight_array(), whole.delay_array()))
        assert union == full, name
    assert empty                                 # some ranges hold no synapse


def test_columns_of_build_and_networkx():
    import networkx as nx

    graph = nx.gnp_random_graph(20, 0.3, seed=2, directed=True)
    for u, v in graph.edges:
        graph.edges[u, v]["weight"] = u - 0.5 * v
    recipe = from_networkx(graph)
    whole = recipe.build(20)
    for c0, c1 in columns_of(20):
        assert_same(recipe.build_between(20, 20, True, columns=(c0, c1)), whole.columns(c0, c1))
    recipe = fixed_indegree(4, 0.1, seed=5)
    assert_same(recipe.build_between(50, 50, True, columns=(np.int64(7), np.int32(9))),
                recipe.build(50).columns(7, 9))


def test_columns_of_larger_tables():
    for recipe in (fixed_outdegree(50, 1.0, seed=9), fixed_indegree(50, 1.0, seed=9),
                   erdos_renyi(0.02, 1.0, seed=9)):
        whole = recipe.build(3000)
        for c0, c1 in ((0, 750), (1234, 2001), (2999, 3000)):
            assert_same(recipe.build_between(3000, 3000, True, columns=(c0, c1)),
                        whole.columns(c0, c1))


@pytest.mark.parametrize("columns, fragment", [
    ((-1, 3), "(-1, 3)"), ((3, 3), "(3, 3)"), ((4, 2), "(4, 2)"), ((0, 11), "(0, 11)"),
    ((0.0, 3), "(0.0, 3)"), ((True, 3), "(True, 3)"), ("ab", "'ab'"), ((1, 2, 3), "(1, 2, 3)"),
    (5, "columns=5")])
def test_bad_columns_are_refused(columns, fragment):
    for recipe in (fixed_outdegree(2, 0.1, seed=1), fixed_indegree(2, 0.1, seed=1),
                   erdos_renyi(0.5, 0.1, seed=1), from_edges([0], [1], 0.1),
                   Connectivity("mine", {}, lambda a, b, same: from_edges(
                       [0], [1], 0.1).build_between(a, b, same))):
        expect(lambda: recipe.build_between(12, 10, False, columns=columns), "columns",
               "0 <= c0 < c1 <= n_post = 10", fragment)


def test_the_kernels_store_only_the_local_synapses():
    # the kernels' outputs hold the local synapses (plus an O(n_pre) indptr) only
    n, k, c0, c1 = 2000, 20, 500, 1000
    seed = _key_of(3)
    indptr, indices, first = _indegree_table(n, n, k, True, seed, c0, c1, False, 50, 2)
    assert indptr.size == n + 1 and indices.size == (c1 - c0) * k and first.size == 0
    whole = fixed_indegree(k, 1.0, seed=3).build(n)
    assert np.array_equal(indices, whole.columns(c0, c1).indices)
    mean = n * k * (c1 - c0) / (n - 1)
    capacity = int(mean + 12 * math.sqrt(mean)) + 16
    indptr, indices, first = _kernels().fixed_outdegree(n, k, True, seed, 0, n, c0, c1,
                                                        np.empty(capacity, np.int32), False)
    assert indices.size == capacity < n * k and first.size == 0
    # an output too small at first grows, to the same table
    again = _kernels().fixed_outdegree(n, k, True, seed, 0, n, c0, c1, np.empty(1, np.int32),
                                       True)
    assert np.array_equal(again[0], indptr)
    assert np.array_equal(again[1][:indptr[-1]], indices[:indptr[-1]])
    whole = fixed_outdegree(k, 1.0, seed=3).build(n)
    below = np.add.reduceat(whole.indices < c0, np.arange(0, n * k, k))
    assert np.array_equal(again[2], np.arange(0, n * k, k) + below)
    indptr, indices = _erdos_renyi_table(n, n, 0.01, True, seed, c0, c1, 3)
    assert indices.size == indptr[-1] < 0.5 * 0.01 * n * n


def test_a_restricted_build_makes_no_whole_table():
    # tracemalloc sees the kernel's arrays too (numba allocates through Python's allocator):
    # the local quarter of the table, its sort blocks (1/16 of it, at least 2^14 pairs) and
    # indptr-sized arrays, well below the whole index array
    n, k = 20000, 50
    recipe = fixed_indegree(k, 0.1, seed=1)
    recipe.build_between(100, 100, True, columns=(0, 25))       # compiled beforehand
    tracemalloc.start()
    try:
        part = recipe.build_between(n, n, True, columns=(0, n // 4))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert part.nnz == n // 4 * k
    assert peak < 4 * n * k / 2                   # the whole index array: 4 MB


def test_merge_builds_the_columns_of_each_projection():
    # _merge with columns: the columns of the whole merged table, also for a recipe subclass
    # whose own build_between takes no columns
    class Mine(Connectivity):
        def build_between(self, n_pre, n_post, same):
            return Connectivity.build_between(self, n_pre, n_post, same)

    edges = Mine("mine", {}, lambda a, b, same: from_edges(
        np.arange(a) % a, np.arange(a) % b, 2.0).build_between(a, b, same))
    slices = {"E": slice(0, 40), "I": slice(40, 50)}
    projections = [Projection("E", "E", fixed_outdegree(5, 0.1, seed=1, delay=1.0)),
                   Projection("E", "I", fixed_indegree(4, np.arange(40.0), seed=2)),
                   Projection("I", "E", erdos_renyi(0.3, -0.5, seed=3)),
                   Projection("I", "I", edges)]
    ports = [0] * len(projections)
    whole = _merge(50, slices, projections, ports)
    for lo, hi in ((0, 17), (17, 45), (45, 50), (39, 41)):
        got, want = _merge(50, slices, projections, ports, columns=(lo, hi)), whole.columns(lo, hi)
        assert (got.n, got.n_post) == (want.n, want.n_post)   # (a shared delay when all agree)
        for name in ("indptr", "indices", "weight_array", "delay_array"):
            a, b = getattr(got, name), getattr(want, name)
            assert np.array_equal(a() if callable(a) else a, b() if callable(b) else b), name
