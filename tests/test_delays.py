"""Synaptic delays in the connectivity layer: CSR delays and delay, rows stored sorted by delay
(stably, weights and targets permuted along), every recipe's delay=, from_networkx's delay
attribute, validation of bad values and of tables changed by hand, and _merge via build_network.

Timing (measured by hand, not asserted; numpy 2.4, 2 cores shared with other jobs): CSR(...)
sorting 10^7 synapses with uniform random delays, 10^5 rows of 100, took 0.6-1.5 s of CPU
(np.lexsort((delays, row)) alone about 5 s); validate() of 10^7 sorted per-synapse delays about
0.04 s; CSR(...) of rows already sorted skips the sort (about 15 ms to check).
"""
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from expect import expect
import sparseprop
from sparseprop import Population, Projection
from sparseprop import connectivity as conn
from sparseprop.connectivity import (CSR, erdos_renyi, fixed_indegree, fixed_outdegree,
                                     from_edges, from_networkx)


def quadruples(csr):
    """(pre, post, weight, delay) arrays of the table, in its stored order."""
    pre, post, w = csr.synapses()
    return pre, np.asarray(post), w, csr.delay_array()


def expected_order(pre, delays):
    """The documented order: by presynaptic neuron, then delay, equal delays in given order."""
    return np.lexsort((delays, pre))            # lexsort is stable


def check_sorted_stably(csr, pre, post, weights, delays):
    """`csr` holds the synapses pre/post/weights/delays (given order, grouped by pre) in the
    documented order: each row sorted by delay, ties in the given order."""
    order = expected_order(pre, delays)
    got = quadruples(csr)
    for array, want in zip(got, (pre, post, weights, delays)):
        assert np.array_equal(array, np.asarray(want)[order])
    # hence the same multiset of quadruples
    assert sorted(zip(*(a.tolist() for a in got))) == sorted(
        zip(*(np.asarray(a).tolist() for a in (pre, post, weights, delays))))
    assert csr.delays is not None and math.isnan(csr.delay)


def tied_delays(size, seed):
    """Delays with many ties (multiples of 0.5 ms in [0, 2]), to see stability."""
    return np.random.default_rng(seed).integers(0, 5, size) * 0.5


# ----------------------------------------------------------------------------- CSR

def test_csr_sorts_rows_by_delay_stably():
    indptr = [0, 4, 4, 7]
    indices = np.array([3, 0, 1, 2, 2, 0, 1], np.int32)
    weights = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    delays = np.array([2.0, 0.5, 2.0, 0.5, 1.0, 1.0, 0.0])
    given = [a.copy() for a in (indices, weights, delays)]
    csr = CSR(3, indptr, indices, weights=weights, delays=delays, n_post=4)
    assert csr.indices.tolist() == [0, 2, 3, 1, 1, 2, 0]         # ties: given order
    assert csr.weights.tolist() == [2.0, 4.0, 1.0, 3.0, 7.0, 5.0, 6.0]
    assert csr.delays.tolist() == [0.5, 0.5, 2.0, 2.0, 0.0, 1.0, 1.0]
    assert csr.indptr.tolist() == indptr
    for before, after in zip(given, (indices, weights, delays)):  # the caller's arrays as given
        assert np.array_equal(before, after)
    assert csr.max_delay == 2.0 and math.isnan(csr.delay)
    assert repr(csr) == "CSR(n=3, n_post=4, nnz=7, weights=<7 float64>, delays=<7 float64>)"


def test_csr_shared_weight_with_delays_and_already_sorted_rows_are_kept():
    indices = np.array([1, 0, 2, 0], np.int32)
    delays = np.array([0.0, 3.0, 1.0, 1.0])
    csr = CSR(3, [0, 2, 3, 4], indices, weight=-0.5, delays=delays)
    assert csr.delays is delays and csr.indices is indices      # sorted: no sort, no copy
    assert csr.weights is None and csr.weight == -0.5
    csr = CSR(3, [0, 2, 3, 4], [0, 1, 2, 0], weight=-0.5, delays=[3, 0, 1, 1])  # ints are fine
    assert csr.indices.tolist() == [1, 0, 2, 0] and csr.delays.dtype == np.float64
    assert csr.delays.tolist() == [0.0, 3.0, 1.0, 1.0]


def test_csr_shared_delay():
    csr = CSR(2, [0, 1, 2], [1, 0], weight=1.0, delay=1.5)
    assert csr.delays is None and csr.delay == 1.5 and csr.max_delay == 1.5
    assert csr.delay_array().tolist() == [1.5, 1.5]
    assert repr(csr) == "CSR(n=2, nnz=2, weight=1, delay=1.5)"
    default = CSR(2, [0, 1, 2], [1, 0], weight=1.0)
    assert default.delays is None and default.delay == 0.0
    assert CSR(2, [0, 1, 2], [1, 0], weight=1.0, delay=np.float32(2)).delay == 2.0
    assert CSR(2, [0, 1, 2], [1, 0], weight=1.0, delay=np.array(0.25)).delay == 0.25
    assert CSR(2, [0, 1, 2], [1, 0], weight=1.0, delay=3).delay == 3.0


def test_huge_finite_delays_are_valid():
    csr = CSR(2, [0, 2, 2], [1, 0], weight=1.0, delays=[1e308, 1e308])  # their sum overflows
    assert csr.validate() is csr and csr.max_delay == 1e308
    assert fixed_outdegree(1, 0.1, seed=1, delay=[1e308, 1e308]).build(2).max_delay == 1e308
    assert CSR(2, [0, 1, 2], [1, 0], weight=1.0, delays=[-0.0, 0.0]).validate().max_delay == 0
    assert math.copysign(1, fixed_outdegree(1, 0.1, delay=-0.0).params["delay"]) == 1


def test_max_delay_and_delay_array():
    assert CSR(3, [0, 0, 0, 0], [], weight=1.0, delay=4.0).max_delay == 0.0   # no synapses
    assert CSR(3, [0, 0, 0, 0], [], weight=1.0, delays=[]).max_delay == 0.0
    csr = CSR(2, [0, 2, 3], [1, 1, 0], weight=1.0, delays=[0.5, 7.0, 2.0])
    assert csr.max_delay == 7.0 and isinstance(csr.max_delay, float)
    copy = csr.delay_array()
    copy[:] = -1.0                                       # a copy: the table is untouched
    assert csr.delays.tolist() == [0.5, 7.0, 2.0] and csr.validate() is csr
    empty = CSR(1, [0, 0], [], weight=1.0, delays=np.zeros(0))
    assert empty.delay_array().dtype == np.float64 and empty.delay_array().size == 0


@pytest.mark.parametrize("chunk", [3, 1 << 16])          # tiny chunks: the blocking loop too
def test_csr_sort_matches_lexsort_on_rows_of_many_degrees(monkeypatch, chunk):
    monkeypatch.setattr(conn, "_SORT_CHUNK", chunk)
    rng = np.random.default_rng(5)
    n = 300
    degree = rng.integers(0, 12, n)
    degree[::50] = 0
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(degree, out=indptr[1:])
    nnz = int(indptr[-1])
    pre = np.repeat(np.arange(n), degree)
    post = rng.integers(0, n, nnz)
    weights = rng.normal(size=nnz)
    delays = tied_delays(nnz, 6)
    delays[indptr[100]:indptr[200]] = 1.0                # sorted rows among unsorted ones
    csr = CSR(n, indptr, post, weights=weights, delays=delays)
    check_sorted_stably(csr, pre, post, weights, delays)
    again = CSR(n, csr.indptr, csr.indices, weights=csr.weights, delays=csr.delays)
    assert again.delays is csr.delays                    # already sorted: kept as is


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 5), st.sampled_from([0.0, 0.5, 1.0, 2.5]),
                                   st.floats(-3, 3)), max_size=8), min_size=1, max_size=8))
def test_csr_rows_sorted_by_delay_property(rows):
    n = len(rows)
    indptr = np.cumsum([0] + [len(r) for r in rows])
    pre = np.array([i for i, r in enumerate(rows) for _ in r], np.int64)
    post = np.array([t for r in rows for t, _, _ in r], np.int32)
    delays = np.array([d for r in rows for _, d, _ in r], np.float64)
    weights = np.array([w for r in rows for _, _, w in r], np.float64)
    csr = CSR(n, indptr, post, weights=weights, delays=delays, n_post=6)
    check_sorted_stably(csr, pre, post, weights, delays)
    assert conn._unsorted(csr.indptr, csr.delays) is None


# ----------------------------------------------------------------------------- recipes

RECIPES = {
    "fixed_outdegree": lambda delay: fixed_outdegree(3, 0.1, seed=1, delay=delay),
    "fixed_indegree": lambda delay: fixed_indegree(3, 0.1, seed=1, delay=delay),
    "erdos_renyi": lambda delay: erdos_renyi(0.3, 0.1, seed=1, delay=delay),
    "from_edges": lambda delay: from_edges([0, 2, 1, 0], [1, 0, 2, 2], 0.1, delay=delay),
}


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_scalar_delay_every_recipe(name):
    make = RECIPES[name]
    recipe = make(1.5)
    assert recipe.params["delay"] == 1.5 and "delay=1.5" in repr(recipe)
    csr = recipe.build(10)
    assert csr.delays is None and csr.delay == 1.5 and csr.max_delay == (1.5 if csr.nnz else 0)
    assert np.all(csr.delay_array() == 1.5) and "delay=1.5" in repr(csr)
    plain = make(0.0).build(10)                          # a shared delay leaves the graph alone
    assert np.array_equal(plain.indptr, csr.indptr) and np.array_equal(plain.indices, csr.indices)
    assert plain.delay == 0.0 and make(0.0).params["delay"] == 0.0
    between = recipe.build_between(10, 10, True)
    assert between.delay == 1.5 and np.array_equal(between.indices, csr.indices)
    default = {"fixed_outdegree": fixed_outdegree(3, 0.1, seed=1),
               "fixed_indegree": fixed_indegree(3, 0.1, seed=1),
               "erdos_renyi": erdos_renyi(0.3, 0.1, seed=1),
               "from_edges": from_edges([0, 2, 1, 0], [1, 0, 2, 2], 0.1)}[name]
    assert default.build(10).delay == 0.0 and default.params["delay"] == 0.0


@pytest.mark.parametrize("builder", [fixed_outdegree, fixed_indegree])
@pytest.mark.parametrize("n_pre,n_post,same", [(40, 40, True), (30, 12, False)])
def test_delay_array_fixed_degree(builder, n_pre, n_post, same):
    k = 4
    count = (n_pre if builder is fixed_outdegree else n_post) * k
    weights = np.arange(count, dtype=np.float64)         # tells the synapses apart
    delays = tied_delays(count, 3)
    reference = builder(k, weights, seed=9).build_between(n_pre, n_post, same)  # builder order
    recipe = builder(k, weights, seed=9, delay=delays)
    delays[:] = -1.0                                     # later edits do not reach the recipe
    assert "delay=<%d delays>" % count in repr(recipe) and "<%d weights>" % count in repr(recipe)
    csr = recipe.build_between(n_pre, n_post, same)
    assert np.array_equal(csr.indptr, reference.indptr)
    pre, post, w, _ = quadruples(reference)
    check_sorted_stably(csr, pre, post, w, tied_delays(count, 3))
    # a shared weight: targets (and delays) permuted the same way
    shared = builder(k, -0.2, seed=9, delay=tied_delays(count, 3)).build_between(
        n_pre, n_post, same)
    assert shared.weights is None and shared.weight == -0.2
    assert np.array_equal(shared.indices, csr.indices)
    assert np.array_equal(shared.delays, csr.delays)


def test_delay_array_from_edges_in_edge_order():
    pre = [2, 0, 2, 1, 0, 2, 2]
    post = [0, 1, 1, 2, 3, 2, 3]
    weights = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    delays = [1.0, 2.0, 0.5, 0.0, 2.0, 1.0, 0.5]
    csr = from_edges(pre, post, weights, delay=delays).build(4)
    assert csr.indptr.tolist() == [0, 2, 3, 7, 7]
    assert csr.indices.tolist() == [1, 3, 2, 1, 3, 0, 2]          # row 2: 0.5, 0.5, 1, 1
    assert csr.weights.tolist() == [2.0, 5.0, 4.0, 3.0, 7.0, 1.0, 6.0]
    assert csr.delays.tolist() == [2.0, 2.0, 0.0, 0.5, 0.5, 1.0, 1.0]
    check_sorted_stably(csr, *(np.array(a)[np.argsort(pre, kind="stable")]
                              for a in (pre, post, weights, delays)))
    shared_weight = from_edges(pre, post, 0.3, delay=delays).build(4)
    assert np.array_equal(shared_weight.indices, csr.indices) and shared_weight.weight == 0.3
    # round trip: a table's synapses and delays give the same table back
    back = from_edges(*csr.synapses(), delay=csr.delay_array()).build(4)
    for a, b in zip(quadruples(back), quadruples(csr)):
        assert np.array_equal(a, b)


def test_from_networkx_delays():
    g = nx.DiGraph()
    g.add_nodes_from(range(4))
    g.add_edge(0, 3, weight=1.0, delay=2.0)
    g.add_edge(0, 1, weight=2.0, delay=0.5)
    g.add_edge(0, 2, weight=3.0)                         # no delay: default_delay
    g.add_edge(2, 1, weight=4.0, delay=1.0)
    csr = from_networkx(g, default_delay=0.25).build(4)
    assert csr.indptr.tolist() == [0, 3, 3, 4, 4]
    assert csr.indices.tolist() == [2, 1, 3, 1] and csr.weights.tolist() == [3.0, 2.0, 1.0, 4.0]
    assert csr.delays.tolist() == [0.25, 0.5, 2.0, 1.0]
    assert "delay='delay'" in repr(from_networkx(g))
    plain = from_networkx(g, delay=None, default_delay=1.5).build(4)  # attribute ignored
    assert plain.delays is None and plain.delay == 1.5
    none = nx.cycle_graph(3, create_using=nx.DiGraph)
    assert from_networkx(none, default=1.0).build(3).delay == 0.0
    assert from_networkx(none, default=1.0, default_delay=3).build(3).delay == 3.0


def test_from_networkx_delay_attribute_name_and_undirected():
    g = nx.Graph()
    g.add_edge(0, 1, w=1.5, lag=2.0)
    g.add_edge(1, 2, w=-2.0, lag=0.5)
    g.add_edge(2, 2, w=3.0)                              # self-loop: one synapse, default
    csr = from_networkx(g, weight="w", delay="lag", default_delay=1.0).build(3)
    got = sorted(zip(*(a.tolist() for a in quadruples(csr))))
    assert got == [(0, 1, 1.5, 2.0), (1, 0, 1.5, 2.0), (1, 2, -2.0, 0.5), (2, 1, -2.0, 0.5),
                   (2, 2, 3.0, 1.0)]
    assert conn._unsorted(csr.indptr, csr.delays) is None


# ----------------------------------------------------------------------------- bad values

BAD_SCALARS = [(-0.5, "-0.5"), (float("nan"), "nan"), (float("inf"), "inf"),
               (-float("inf"), "-inf"), (True, "True"), ("1.0", "'1.0'"), (1j, "1j"),
               (None, "None"), (10**400, "1000000")]


@pytest.mark.parametrize("value,shown", BAD_SCALARS)
def test_bad_shared_delay(value, shown):
    expect(lambda: CSR(2, [0, 1, 2], [1, 0], weight=1.0, delay=value),
           "CSR", "delay", shown, ">= 0")
    expect(lambda: from_networkx(nx.DiGraph([(0, 1)]), default=1.0, default_delay=value),
           "from_networkx: default_delay", shown, "finite number of ms >= 0")
    for name, make in sorted(RECIPES.items()):          # raised when the recipe is made
        expect(lambda: make(value), name, "delay", shown, "finite number of ms >= 0")


def test_bad_shared_delay_raises_at_once():
    expect(lambda: fixed_outdegree(10, 0.1, delay=-1), "fixed_outdegree", "delay", "got -1",
           ">= 0")


@pytest.mark.parametrize("bad,shown", [(-0.5, "-0.5"), (np.nan, "nan"), (np.inf, "inf")])
def test_bad_per_synapse_delay(bad, shown):
    delays = np.ones(12)
    delays[3] = bad
    indptr = [0, 4, 8, 12]
    indices = [0, 1, 2, 0] * 3
    expect(lambda: CSR(3, indptr, indices, weight=1.0, delays=delays),
           "CSR: the delay of synapse 3 is " + shown, "finite numbers of ms >= 0")
    expect(lambda: fixed_outdegree(4, 0.1, delay=delays), "fixed_outdegree", "delay[3] = " + shown,
           ">= 0")
    expect(lambda: fixed_indegree(4, 0.1, delay=delays).build(3), "fixed_indegree",
           "delay[3] = " + shown)
    expect(lambda: from_edges(np.zeros(12, int), np.ones(12, int), 1.0, delay=delays),
           "from_edges", "delay[3] = " + shown)


def test_bad_delay_arrays():
    indptr, indices = [0, 4, 8, 12], [0, 1, 2, 0] * 3
    expect(lambda: CSR(3, indptr, indices, weight=1.0, delays=np.ones(11)),
           "delays must have one value per synapse (12), got shape (11,)")
    expect(lambda: CSR(3, indptr, indices, weight=1.0, delays=2.0),
           "one value per synapse (12)", "single value 2.0", "delay=")
    expect(lambda: CSR(3, indptr, indices, weight=1.0, delays=[True] * 12),
           "CSR: delays must be numbers", "booleans")
    expect(lambda: CSR(3, indptr, indices, weight=1.0, delays=["1"] * 12),
           "CSR: delays must be numbers", "strings")
    expect(lambda: CSR(3, indptr, indices, weight=1.0, delays=[1, 2, [3]] + [0] * 9),
           "CSR: delays must be numbers")
    expect(lambda: fixed_outdegree(3, 0.1, seed=1, delay=np.ones(29)).build(10),
           "fixed_outdegree", "one delay per synapse, n*k = 10*3 = 30; got 29")
    expect(lambda: fixed_indegree(3, 0.1, seed=1, delay=np.ones(7)).build_between(4, 2, False),
           "fixed_indegree", "one delay per synapse, n_post*k = 2*3 = 6; got 7")
    expect(lambda: from_edges([0, 1], [1, 0], 1.0, delay=[1.0, 2.0, 3.0]),
           "from_edges", "one delay per synapse, len(pre) = 2; got 3")
    expect(lambda: fixed_outdegree(3, 0.1, delay=np.ones((2, 3))), "fixed_outdegree",
           "delay array must be 1-D", "(2, 3)")
    expect(lambda: fixed_outdegree(3, 0.1, delay=[True, False]), "fixed_outdegree: delay",
           "booleans")
    expect(lambda: erdos_renyi(0.1, 1.0, delay=np.ones(10)), "erdos_renyi",
           "delay must be one finite number of ms >= 0", "from_edges")


def test_from_networkx_bad_delays_name_the_edge():
    g = nx.DiGraph()
    g.add_edge(0, 1, weight=1.0, delay=0.5)
    g.add_edge(1, 0, weight=1.0, delay=-2.0)
    expect(lambda: from_networkx(g), "from_networkx: edge (1, 0) 'delay'", "-2.0", ">= 0")
    g[1][0]["delay"] = float("nan")
    expect(lambda: from_networkx(g), "edge (1, 0)", "nan")
    g[1][0]["delay"] = "slow"
    expect(lambda: from_networkx(g), "edge (1, 0)", "'slow'", "finite number of ms")
    g[1][0]["delay"] = True
    expect(lambda: from_networkx(g), "edge (1, 0)", "True")
    expect(lambda: from_networkx(g, delay=["delay"]), "delay must be the name of an edge "
                                                      "attribute", "['delay']")


# ----------------------------------------------------------------------------- changed by hand

def _table():
    return CSR(3, [0, 2, 3, 5], [1, 2, 0, 0, 1], weight=1.0, delays=[0.5, 1.0, 2.0, 0.0, 3.0])


def test_validate_catches_delays_changed_by_hand():
    csr = _table()
    csr.delays = np.array([0.5, 1.0, 2.0, -1.0, 3.0])
    expect(csr.validate, "synapse 3", "-1", ">= 0")
    csr.delays = np.array([0.5, 1.0, np.inf, 0.0, 3.0])
    expect(csr.validate, "synapse 2", "inf")
    csr = _table()
    csr.delays[:] = [0.5, 1.0, 2.0, 3.0, 0.25]           # in place: row 2 now unsorted
    expect(csr.validate, "row 2 is not sorted by delay", "synapse 4", "0.25", "3",
           "build a new CSR")
    csr = _table()
    csr.delays = csr.delays[::-1].copy()                 # replaced: row 0 now unsorted
    expect(csr.validate, "row 0", "not sorted by delay", "build a new CSR")
    csr = _table()
    csr.delays = csr.delays.astype(np.float32)
    expect(csr.validate, "delays must be float64")
    csr.delays = [0.5, 1.0, 2.0, 0.0, 3.0]
    expect(csr.validate, "delays must be float64")
    csr.delays = np.zeros(4)
    expect(csr.validate, "one per synapse (5)")


def _first_fault_oracle(indptr, indices, n_post, delays):
    """A plain scan in table order: (what, s) as conn._first_fault defines it."""
    for r in range(len(indptr) - 1):
        for s in range(indptr[r], indptr[r + 1]):
            if not 0 <= indices[s] < n_post:
                return conn._TARGET, s
            if delays.size:
                if not (delays[s] >= 0 and delays[s] < math.inf):
                    return conn._DELAY, s
                if s > indptr[r] and delays[s] < delays[s - 1]:
                    return conn._ORDER, s
    return 0, -1


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 4), st.booleans())
def test_the_table_check_finds_the_first_fault(seed, faults, per_synapse):
    """The one-pass check (vectorised reductions, then a search) against a plain scan: random
    tables with empty and one-synapse rows, 0-4 faults of any kind anywhere (row ends, NaN
    in one-synapse rows, rows straddled by a drop)."""
    rng = np.random.default_rng(seed)
    n, n_post = int(rng.integers(1, 12)), int(rng.integers(1, 6))
    degree = rng.integers(0, 5, n) * (rng.uniform(size=n) < 0.8)
    indptr = np.concatenate(([0], np.cumsum(degree))).astype(np.int64)
    nnz = int(indptr[-1])
    indices = rng.integers(0, n_post, nnz).astype(np.int32)
    delays = np.concatenate([np.sort(rng.choice([0.0, 0.5, 1.0, 2.0], d)) for d in degree]
                            + [np.empty(0)]) if per_synapse else np.empty(0)
    for _ in range(faults if nnz else 0):
        s = int(rng.integers(0, nnz))
        kind = int(rng.integers(0, 3 if per_synapse else 1))
        if kind == 0:
            indices[s] = rng.choice([-1, n_post, n_post + 7])
        elif kind == 1:
            delays[s] = rng.choice([np.nan, np.inf, -np.inf, -0.5])
        else:
            delays[s] = rng.choice([-0.0, 0.25, 5.0])   # may or may not break the order
    assert (conn._first_fault(indptr, indices, n_post, delays)
            == _first_fault_oracle(indptr, indices, n_post, delays))


def test_validate_names_the_first_fault_in_table_order():
    csr = CSR(3, [0, 2, 3, 5], [1, 2, 0, 0, 1], weight=1.0, delays=[0.5, 1.0, 2.0, 0.0, 3.0])
    csr.delays[2] = np.nan                  # a one-synapse row: no neighbour to be unordered with
    expect(csr.validate, "synapse 2", "nan")
    csr.delays[2], csr.delays[4] = 2.0, -1.0   # the last delay of the last row
    expect(csr.validate, "synapse 4", "-1")
    csr.delays[4], csr.indices[3] = 3.0, 3    # a target, not a delay, is wrong
    expect(csr.validate, "synapse 3 targets neuron 3", "[0, 3)")


def test_validate_catches_shared_delay_changed_by_hand():
    csr = CSR(2, [0, 1, 2], [1, 0], weight=1.0, delay=1.0)
    for bad, shown in ((-1.0, "-1.0"), (math.nan, "nan"), ("2", "'2'"), (None, "None")):
        csr.delay = bad
        expect(csr.validate, "delay", shown, "finite number of ms >= 0")
    csr.delay = 2
    assert csr.validate() is csr
    csr.delay = -3.0                                    # Network validates what it is given
    expect(lambda: sparseprop.Network("lif", 2, csr), "delay", "-3.0")


# ----------------------------------------------------------------------------- _merge

def _build(projections):
    return sparseprop.build_network("lif", [Population("E", 80), Population("I", 20)],
                                    projections, seed=3)


def _blocks(projections):
    """The quadruples of every projection, in global indices (the reference for _merge)."""
    start = {"E": 0, "I": 80}
    size = {"E": 80, "I": 20}
    rows = []
    for q in projections:
        block = q.connectivity.build_between(size[q.pre], size[q.post], q.pre == q.post)
        pre, post, w, d = quadruples(block)
        rows += zip((pre + start[q.pre]).tolist(), (post + start[q.post]).tolist(),
                    w.tolist(), d.tolist())
    return sorted(rows)


def test_merge_projections_with_different_delays():
    projections = [Projection("E", "I", fixed_indegree(5, 0.1, seed=1, delay=1.5)),
                   Projection("E", "E", fixed_indegree(5, 0.1, seed=2, delay=0.5)),
                   Projection("I", "E", fixed_outdegree(8, -0.4, seed=4, delay=1.0)),
                   Projection("I", "I", fixed_indegree(3, -0.4, seed=5, delay=2.0))]
    csr = _build(projections).csr
    assert csr.n == 100 and csr.delays is not None and csr.weights is not None
    assert csr.max_delay == 2.0
    pre, post, w, d = quadruples(csr)
    assert sorted(zip(pre.tolist(), post.tolist(), w.tolist(), d.tolist())) == \
        _blocks(projections)
    assert conn._unsorted(csr.indptr, csr.delays) is None
    # each projection's delay on its synapses; within a row: by delay, then target ascending
    by_pair = {("E", "I"): 1.5, ("E", "E"): 0.5, ("I", "E"): 1.0, ("I", "I"): 2.0}
    pop = np.where(np.arange(100) < 80, "E", "I")
    assert all(d[s] == by_pair[pop[pre[s]], pop[post[s]]] for s in range(csr.nnz))
    assert np.array_equal(np.lexsort((post, d, pre)), np.arange(csr.nnz))


def test_merge_shared_delay_and_no_projections():
    same = _build([Projection("E", "I", fixed_indegree(5, 0.1, seed=1, delay=1.5)),
                   Projection("I", "E", fixed_indegree(5, -0.2, seed=2, delay=1.5))]).csr
    assert same.delays is None and same.delay == 1.5 and same.weights is not None
    default = _build([Projection("E", "I", fixed_indegree(5, 0.1, seed=1))]).csr
    assert default.delays is None and default.delay == 0.0
    none = _build([]).csr
    assert none.nnz == 0 and none.delays is None and none.delay == 0.0 and none.max_delay == 0.0


def test_merge_per_synapse_delays_and_a_shared_pair():
    # two projections E -> I (the _sort_rows path) and one from_edges with a delay array
    edges = from_edges([0, 0, 1, 0], [3, 1, 2, 1], 0.7, delay=[0.5, 2.0, 1.0, 0.5])
    projections = [Projection("E", "I", fixed_outdegree(2, 0.1, seed=1, delay=1.0)),
                   Projection("E", "I", edges),
                   Projection("I", "E", fixed_indegree(2, -0.2, seed=2, delay=0.25))]
    csr = _build(projections).csr
    pre, post, w, d = quadruples(csr)
    assert sorted(zip(pre.tolist(), post.tolist(), w.tolist(), d.tolist())) == \
        _blocks(projections)
    assert np.array_equal(np.lexsort((post, d, pre)), np.arange(csr.nnz))   # delay, target
    row0 = slice(csr.indptr[0], csr.indptr[1])
    assert d[row0].tolist()[:2] == [0.5, 0.5] and post[row0].tolist()[:2] == [81, 83]


def test_sort_rows_with_weights_and_delays():
    from sparseprop.population import _sort_rows
    indptr = np.array([0, 4, 6])
    indices = np.array([3, 1, 2, 1, 5, 4], np.int32)
    weights = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    delays = np.array([0.0, 1.0, 0.0, 1.0, 2.0, 2.0])
    _sort_rows(indptr, indices, weights, delays)
    assert indices.tolist() == [2, 3, 1, 1, 4, 5]
    assert weights.tolist() == [3.0, 1.0, 2.0, 4.0, 6.0, 5.0]
    assert delays.tolist() == [0.0, 0.0, 1.0, 1.0, 2.0, 2.0]
    indices = np.array([3, 1, 2, 1, 5, 4], np.int32)
    _sort_rows(indptr, indices, None)                    # without delays: targets ascending
    assert indices.tolist() == [1, 1, 2, 3, 4, 5]
