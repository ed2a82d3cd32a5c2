"""Networks too large for the machine: a ModelError before allocation that names the estimate
and what would fit (sparseprop.memory), never an out-of-memory kill."""
import numpy as np
import pytest

import sparseprop as spp
from sparseprop import memory

MB = 10**6


def test_available_memory_is_read():
    free = memory.available()
    assert free is not None and 0 < free < 10**15


def test_a_table_larger_than_any_machine_is_refused_at_once():
    # 10^9 neurons x 100 synapses: 400 GB of indices; nothing is allocated
    with pytest.raises(spp.ModelError, match=r"fixed_outdegree: a table of 100,000,000,000 "
                                             r"synapses needs about 4\d\d GB.*available; at "
                                             r"most about [\d,]+ neurons with k = 100 fit"):
        spp.fixed_outdegree(100, 0.1, seed=1).build(10**9)


@pytest.fixture
def small_machine(monkeypatch):
    """A machine with 50 MB available."""
    monkeypatch.setattr(memory, "available", lambda: 50 * MB)


@pytest.mark.parametrize("recipe, fits, too_many", [
    (lambda: spp.fixed_outdegree(100, 0.1, seed=1), 50_000, 200_000),        # 20 MB, 80 MB
    (lambda: spp.fixed_outdegree(100, np.full(200_000 * 100, 0.1), seed=1), None, 200_000),
    (lambda: spp.fixed_indegree(100, 0.1, seed=1), 50_000, 200_000),
    (lambda: spp.erdos_renyi(0.01, 0.1, seed=1), 5_000, 50_000),              # 1 MB, 100 MB
])
def test_recipes_check_their_peak_first(small_machine, recipe, fits, too_many):
    if fits is not None:
        assert recipe().build(fits).nnz > 0
    with pytest.raises(spp.ModelError, match=r"needs about [\d.]+ GB, and this machine has "
                                             r"0.05 GB available; at most about"):
        recipe().build(too_many)


def test_a_network_checks_its_neurons_arrays(small_machine):
    assert spp.Network("lif", 1000, spp.fixed_outdegree(10, -0.01, seed=1), seed=1).n == 1000
    # a 1-D model with shared parameters: 24 bytes per neuron (the phases 8, the heap 16)
    with pytest.raises(spp.ModelError, match=r"a network of 3,000,000 neurons needs about "
                                             r"0.072 GB.*at most about 2,083,333 neurons fit"):
        spp.Network("lif", 3 * 10**6, spp.fixed_outdegree(10, -0.01, seed=1, procedural=True))


def test_a_stimulus_checks_its_changes(small_machine):
    with pytest.raises(spp.ModelError, match=r"Stimulus\(None, 'I'\): 2,000,000 changes "
                                             r"\(times x neurons\) needs about 0.096 GB"):
        spp.Network("lif", 1000, spp.fixed_outdegree(0, 0.0, seed=1),
                    inputs=[spp.Stimulus(None, "I", np.arange(2000.0), np.ones(2000))])


def test_a_run_ends_in_place_when_memory_is_short(monkeypatch):
    """At the end of a run the phases come from the heap's keys: gathered into a new array,
    or, when memory is short, reordered where the heap was; the same phases either way."""
    from sparseprop.engine import driver
    ends = []
    for free in (None, 1):
        monkeypatch.setattr(driver, "available", lambda free=free: free)
        net = spp.Network("lif", 5000, spp.fixed_outdegree(50, -0.1, seed=1), seed=2)
        result = net.run(30.0)
        ends.append((result.final_phase, net.run(10.0).t))
    assert np.array_equal(ends[0][0], ends[1][0]) and np.array_equal(ends[0][1], ends[1][1])
