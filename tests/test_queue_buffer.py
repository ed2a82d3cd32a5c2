"""The queue's buffer of sorted deliveries (per-synapse delays; sparseprop.engine.queue: the
buffer, queue_extract, _sort, and the sparse loop's branch 2'): the sort alone against
Python's sorted(); then whole runs, whose spikes must not depend on the buffer's size (one or
two records, a buffer that grows between calls, the default) and must equal the reference
loop's (which never buffers), with continuous delays and with delays on a grid that makes many
deliveries share one instant; and runs cut while the buffer holds deliveries, continued from
the state, whose spikes in flight (net.current.queue) are checked one by one.

The order checked (see sparseprop.engine.queue): deliveries by time, then by the emission
number (seq) of their spike, then by synapse. For a LIF neuron that order matters: an input
that pushes a neuron over threshold makes it fire at that instant, and the inputs after it at
that instant are lost, so +w then -w fires where -w then +w does not.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparseprop import Network, Population, Projection, SpikeSource, build_network
from sparseprop.connectivity import CSR, fixed_outdegree, from_edges
from sparseprop.engine import driver
from sparseprop.engine import queue as queue_module
from sparseprop.engine.queue import (BCUR, BCUT, BFILL, BUFFERED, _sort, buffer_size, new_queue,
                                     no_entries, refill)
from sparseprop.engine.status import COUNTERS
from sparseprop.engine.synapses import synapses
from test_delays_engine import assert_same_run, concatenated, small_mixed

ONE_SYNAPSE = synapses(CSR(1, [0, 1], [0], weight=0.0))   # (what refill reads targets from)
FIELDS = BUFFERED.names


# ----------------------------------------------------------------------------- 1. _sort


def sort_records(times, spike, last, seed, spikes):
    """_sort of len(times) records: record k arrives at times[k] from spike spike[k] (an entry
    slot; last[k]: the spike's last group, slot stored as -1 - slot), the slots' emission
    numbers a random permutation, synapses distinct (so that (time, seq, syn) orders every
    record); returns (the records as given, queue.out after _sort, the expected order)."""
    rng = np.random.default_rng(seed)
    n = len(times)
    queue = new_queue(spikes, max(n, 1))
    counters = np.zeros(len(COUNTERS), np.int64)
    refill(queue, counters, no_entries(), ONE_SYNAPSE)
    seq = rng.permutation(spikes) * 3 + (1 << 40) * int(rng.integers(2))
    queue.entry["seq"][:spikes] = seq
    times = np.array(times, np.float64)
    spike = np.array(spike, np.int64)
    syn = rng.permutation(4 * n + 1)[:n]
    buf = queue.buf[:n]
    buf["time"], buf["syn"] = times, syn
    buf["weight"] = rng.normal(size=n)
    buf["target"] = rng.integers(0, 10**6, n)
    buf["count"] = rng.integers(1, 9, n)
    buf["slot"] = np.where(np.array(last, bool), -1 - spike, spike)
    given_records = buf.copy()
    lo, hi = (times.min(), times.max()) if n else (np.inf, -np.inf)
    _sort(queue, n, lo, hi)
    order = sorted(range(n), key=lambda k: (times[k], seq[spike[k]], syn[k]))
    return given_records, queue.out[:n].copy(), order


def check_sorted(times, spike, last, seed, spikes):
    given_records, out, order = sort_records(times, spike, last, seed, spikes)
    want = given_records[np.array(order, np.int64)]
    for field in FIELDS:   # every field follows its record (nothing lost, nothing mixed up)
        np.testing.assert_array_equal(out[field], want[field], err_msg=field)


TIED = st.sampled_from([0.0, 0.25, 0.5, 0.5, 1.0, 1.0, 1.0, 3.75, 1e3])
CLOSE = st.sampled_from([1.0, np.nextafter(1.0, 2.0), np.nextafter(1.0, 0.0), 1.0 + 2.0 ** -40,
                         1.0 + 2.0 ** -20, 1.0 + 2.0 ** -10])   # distinct, within one quantum
FLOATS = st.floats(-1e3, 1e4, allow_nan=False, allow_infinity=False)
TIMES = st.sampled_from([TIED, CLOSE, FLOATS, st.one_of(TIED, CLOSE, FLOATS)])


@st.composite
def buffers(draw, largest):
    """(times, spike, last, seed, spikes): up to `largest` records of up to 40 spikes, their
    times all from one of the strategies above."""
    n = draw(st.integers(0, largest))
    time = draw(TIMES)
    spikes = draw(st.integers(1, 40))
    times = draw(st.lists(time, min_size=n, max_size=n))
    spike = draw(st.lists(st.integers(0, spikes - 1), min_size=n, max_size=n))
    last = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return times, spike, last, draw(st.integers(0, 2**32 - 1)), spikes


@settings(max_examples=150, deadline=None)
@given(buffers(16))
def test_sort_of_few_records_is_by_time_spike_synapse(case):
    """n <= 16: insertion sort alone."""
    check_sorted(*case)


@settings(max_examples=100, deadline=None)
@given(buffers(400))
def test_sort_of_many_records_is_by_time_spike_synapse(case):
    """The radix sort on quantised times, then the exact order within each quantum."""
    check_sorted(*case)


@pytest.mark.parametrize("kind", ["one-time", "two-times"])
def test_sort_of_thousands_of_tied_records(kind):
    """Thousands of records at exactly one time (or two, 2^-30 ms apart: one quantum), their
    spikes in scrambled emission order: insertion sort would move about n^2 / 4 records, far
    more than 8 n + 64, so _order falls back to heap sort, which does most of the work here."""
    n = 5000
    rng = np.random.default_rng(len(kind))
    times = np.full(n, 7.5) if kind == "one-time" else rng.choice([7.5, 7.5 + 2.0 ** -30], n)
    check_sorted(times, rng.permutation(n), rng.random(n) < 0.5, 5, n)
    # a few spikes with many groups at one time each: (seq, syn) decides
    check_sorted(np.full(n, 2.0), rng.integers(0, 7, n), np.zeros(n, bool), 9, 7)


@pytest.mark.parametrize("values", [[0.0, 5e-324], [0.0, 1e-310, 2e-310], [1e-300, 2e-300, 0.0],
                                    [-1.7e308, 1.7e308, 0.0, 1.0]],
                         ids=["one-ulp", "subnormal", "tiny", "overflowing"])
def test_sort_when_the_span_of_times_is_extreme(values):
    """hi - lo so small that the quantum's scale overflows, or so large that it does: the
    records still come out in order (one quantum, exact order within it)."""
    rng = np.random.default_rng(2)
    for n in (17, 300):
        check_sorted(rng.choice(values, n), rng.integers(0, 30, n), rng.random(n) < 0.5, n, 30)


def test_sort_of_reversed_emission_order_at_one_time():
    """Every record at one time, spikes in exactly descending emission order (the worst case
    of insertion sort), and their synapses descending too."""
    n = 3000
    queue = new_queue(n, n)
    counters = np.zeros(len(COUNTERS), np.int64)
    refill(queue, counters, no_entries(), ONE_SYNAPSE)
    queue.entry["seq"][:n] = np.arange(n)[::-1]
    buf = queue.buf[:n]
    buf["time"], buf["weight"], buf["syn"] = 1.0, np.arange(n), np.arange(n)[::-1]
    buf["target"], buf["count"], buf["slot"] = np.arange(n), 1, np.arange(n)
    given_records = buf.copy()
    _sort(queue, n, 1.0, 1.0)
    np.testing.assert_array_equal(queue.out["slot"][:n], np.arange(n)[::-1])
    for field in FIELDS:
        np.testing.assert_array_equal(queue.out[field][:n], given_records[field][::-1])


# ----------------------------------------------------------------------------- networks

# buffer sizes: the default (BUFFER records, up to MAX_BUFFER); "tiny": BUFFER = MAX_BUFFER = 2,
# so that almost every extraction is cut (the rest stays in the heap); "one": a single record;
# "growing": from 1 record up to 4096, with a few events per call into the loop, so that the
# driver enlarges the buffer between calls while it holds records. (Not a small fixed buffer
# with a few events per call: see test_deliveries_that_move_spikes_on_count_as_progress.)
BUFFERS = {"default": None, "tiny": (2, 2, None), "one": (1, 1, None),
           "growing": (1, 4096, 5)}


@pytest.fixture
def buffered(monkeypatch):
    """set(config): the buffer sizes of BUFFERS[config] for the runs that follow; returns a
    log, one dict per run's end (the buffer's size, records left in it, BCUT, and of those
    records the ones whose spike still has an entry in the heap at a later synapse), and the
    buffer sizes the driver resized to."""
    log = {"ends": [], "resized": []}
    finish, resize = driver.Run.finish, driver.Run._resize

    def spy_finish(self, t_end):
        c = self.counters
        rest = self.queue.out[int(c[BCUR]):int(c[BFILL])]
        log["ends"].append({"engine": self.engine, "size": buffer_size(self.queue),
                            "left": int(rest.size), "cut": int(c[BCUT]),
                            "in_heap": int(np.count_nonzero(rest["slot"] >= 0))})
        return finish(self, t_end)

    def spy_resize(self, buffer=None):
        resize(self, buffer)
        if buffer is not None:
            log["resized"].append(buffer_size(self.queue))

    monkeypatch.setattr(driver.Run, "finish", spy_finish)
    monkeypatch.setattr(driver.Run, "_resize", spy_resize)

    def set_config(config):
        log["ends"].clear()
        log["resized"].clear()
        sizes = BUFFERS[config]
        if sizes is None:
            return log
        smallest, largest, work = sizes
        for module in (queue_module, driver):
            monkeypatch.setattr(module, "BUFFER", smallest)
            monkeypatch.setattr(module, "MAX_BUFFER", largest)
        # (new_queue's default buffer size was bound when it was defined: the driver's
        # first queue takes it)
        monkeypatch.setattr(queue_module.new_queue, "__defaults__", (smallest, math.inf))
        if work is not None:
            monkeypatch.setattr(driver, "chunk_work", lambda n, engine: work)
        return log
    return set_config


def check_buffer_was_used(config, log):
    """The configuration did what it is for: tiny buffers were cut, a growing one grew."""
    sparse = [e for e in log["ends"] if e["engine"] == "sparse"]
    assert sparse
    if config in ("tiny", "one"):
        size = BUFFERS[config][0]
        assert all(e["size"] == size for e in sparse)
        assert any(e["cut"] > 0 for e in sparse)   # deliveries left in the heap by a cut
        assert not log["resized"] or set(log["resized"]) == {size}
    elif config == "growing":
        assert log["resized"] and max(log["resized"]) > 1


def grid_network(seed=3, n=200, m=8, period=2.0, count=60):
    """n LIF neurons, all subthreshold (I = 0.5 and 0.6; E refractory 0.5 ms), initial v = 0
    for all, driven by a SpikeSource whose m sources all fire together every `period` ms;
    mixed-sign weights; delays from {0.5, 0.75, 1, 1.25, 1.5} ms. A neuron fires only when an
    input pushes it over threshold, so every spike and every arrival lies on the 0.25 ms grid,
    exactly in both engines' arithmetic (all sums are exact in binary): tens of spikes at one
    instant, and hundreds of deliveries from many spikes at one instant, whose order decides
    which inputs are lost."""
    rng = np.random.default_rng(seed)
    times = np.repeat(period * np.arange(1, count + 1), m)
    stim = SpikeSource("stim", m, np.tile(np.arange(m), count), times)
    nE = n // 2
    pops = [Population("E", nE, {"I": 0.5, "refractory": 0.5}),
            Population("F", n - nE, {"I": 0.6}), stim]

    def conn(n_pre, k, low, high, values, seed):
        return fixed_outdegree(k, rng.uniform(low, high, n_pre * k), seed=seed,
                               delay=rng.choice(values, n_pre * k))

    projections = [Projection("stim", "E", conn(m, 30, 0.2, 0.6, [0.5, 1.0, 1.5], 1)),
                   Projection("stim", "F", conn(m, 30, -0.3, 0.5, [0.5, 1.0], 2)),
                   Projection("E", "E", conn(nE, 8, -0.4, 0.45, [0.5, 0.75, 1.0, 1.5], 3)),
                   Projection("E", "F", conn(nE, 8, -0.3, 0.5, [0.5, 1.0, 1.25], 4)),
                   Projection("F", "E", conn(n - nE, 8, -0.5, 0.4, [0.5, 0.75, 1.5], 5)),
                   Projection("F", "F", conn(n - nE, 6, -0.4, 0.45, [0.75, 1.0], 6))]
    return build_network("lif", pops, projections, seed=seed, initial_state={"v": 0.0})


GRID_DURATION = 130.0
MIXED_DURATION = 120.0
NETWORKS = {"mixed": (small_mixed, MIXED_DURATION), "grid": (grid_network, GRID_DURATION)}


@pytest.fixture(scope="module")
def reference_runs():
    """Each network's reference run (the heap alone, no buffer), recorded with its tape (the
    emission order, neurons' and sources' spikes merged)."""
    return {name: make().run(duration=duration, engine="reference", record_tape=True)
            for name, (make, duration) in NETWORKS.items()}


def emissions(net, result):
    """(senders, times) of a recorded run in emission order (sources numbered from net.n)."""
    senders = result.tape.senders.astype(np.int64)
    times = np.empty(senders.size)
    neurons = senders < net.n
    times[neurons], times[~neurons] = result.t, result.source_t
    return senders, times


def coincidences(net, result):
    """Of a recorded run's queued deliveries (positive delays): how many spikes deliver at
    each instant at which some do; and how many (instant, neuron) pairs receive inputs of both
    signs (where the order of delivery decides what is lost)."""
    _, post, weight = net.synapses()
    indptr, delay = net.csr.indptr, net.delays()
    arrival, spike, target, sign = [], [], [], []
    for k, (j, t) in enumerate(zip(*emissions(net, result))):
        row = np.arange(indptr[j], indptr[j + 1])
        row = row[delay[row] > 0]
        arrival.append(t + delay[row])
        spike.append(np.full(row.size, k))
        target.append(post[row])
        sign.append(weight[row] > 0)
    arrival, spike, target, sign = map(np.concatenate, (arrival, spike, target, sign))
    per_instant = np.unique(np.unique(np.stack([arrival, spike]), axis=1)[0],
                            return_counts=True)[1]
    pairs = np.stack([arrival, target])
    both = np.unique(pairs[:, sign], axis=1), np.unique(pairs[:, ~sign], axis=1)
    mixed = np.unique(np.concatenate(both, axis=1), axis=1).shape[1]
    mixed = both[0].shape[1] + both[1].shape[1] - mixed   # (in both sets)
    return per_instant, mixed


# ----------------------------------------------------------------------------- 2, 3. whole runs


@pytest.mark.parametrize("config", list(BUFFERS))
@pytest.mark.parametrize("network", list(NETWORKS))
def test_spikes_do_not_depend_on_the_buffer_and_equal_the_reference(network, config,
                                                                    buffered, reference_runs):
    """The sparse engine with each buffer size gives exactly the default buffer's spikes (the
    same bits), and the reference loop's (senders exactly, times to 1e-12). mixed: continuous
    delays (about 20 % zero), sources, Poisson inputs, refractory and subthreshold neurons;
    grid: exact ties (see grid_network)."""
    make, duration = NETWORKS[network]
    reference = reference_runs[network]
    default = make().run(duration=duration, engine="sparse")
    log = buffered(config)
    net = make()
    run = net.run(duration=duration, engine="sparse")
    check_buffer_was_used(config, log)
    for got, want in zip(concatenated([run]), concatenated([default])):
        np.testing.assert_array_equal(got, want)
    assert_same_run(run, reference)
    assert reference.n_spikes > 500 and reference.source_i.size > 100
    if network == "grid":   # the ties this network is for
        assert np.all(np.diff(reference.t) % 0.25 == 0) and np.all(reference.t % 0.25 == 0)
        spikes_at = np.unique(reference.t, return_counts=True)[1]
        assert np.count_nonzero(spikes_at >= 10) > 100
        per_instant, mixed = coincidences(net, reference)
        assert np.count_nonzero(per_instant >= 20) > 200   # many spikes deliver at once
        assert mixed > 1000   # a neuron gets + and - inputs at one instant: order matters
        assert net.csr.shortest_delay == 0.5   # (a buffer spans two instants of the grid)


# ----------------------------------------------------------------------------- 4. cut runs


AT_CUT = 1e-9   # ms: an arrival this close to a cut counts as at the cut


def expected_in_flight(net, senders, times, emitted, t_end):
    """The spikes in flight after the first `emitted` emissions (senders, times: a whole run's,
    in emission order), every delivery at or before t_end done (a run stops after the events
    at t_stop; one cut by max_spikes stops at a spike, and at an instant the deliveries come
    before the spikes): an Entries-like dict of arrays, one per spike with a delivery after
    t_end, at its first synapse not delivered (rows are sorted by delay), in emission order.
    Also how many arrivals lie within AT_CUT of t_end but not at it (rounding could decide)."""
    indptr, delay = net.csr.indptr, net.delays()
    want = {"seq": [], "syn": [], "sender": [], "sent": [], "time": []}
    near = 0
    for k in range(emitted):
        j, t = int(senders[k]), float(times[k])
        d = delay[indptr[j]:indptr[j + 1]]
        at = np.abs(t + d - t_end) <= AT_CUT
        near += np.count_nonzero(at & (t + d != t_end))
        later = np.flatnonzero((d > 0) & (t + d > t_end) & ~at)
        if later.size:
            s = int(later[0])
            assert np.all(np.diff(later) == 1) and later[-1] == d.size - 1   # (a suffix)
            for field, value in (("seq", k), ("syn", indptr[j] + s), ("sender", j),
                                 ("sent", t), ("time", t + d[s])):
                want[field].append(value)
    return {f: np.array(v) for f, v in want.items()}, near


def check_in_flight(net, senders, times, emitted, t_end, at_spike):
    """net.current.queue against expected_in_flight. at_spike: the run was cut by max_spikes
    (an arrival within rounding of t_end may be the one that made the last spike: delivered);
    else no arrival may lie that close to t_end."""
    got = net.current.queue
    want, near = expected_in_flight(net, senders, times, emitted, t_end)
    assert at_spike or near == 0
    # in delivery order: by time, then emission number
    assert np.array_equal(np.lexsort((got.seq, got.time)), np.arange(got.time.size))
    assert np.unique(got.seq).size == got.seq.size   # each spike once
    by_seq = np.argsort(got.seq)
    np.testing.assert_array_equal(got.seq[by_seq], want["seq"])
    np.testing.assert_array_equal(got.sender[by_seq], want["sender"])
    np.testing.assert_array_equal(got.syn[by_seq], want["syn"])
    np.testing.assert_allclose(got.sent[by_seq], want["sent"], rtol=1e-12, atol=0)
    np.testing.assert_allclose(got.time[by_seq], want["time"], rtol=1e-12, atol=0)
    assert net.current.in_flight == want["seq"].size


@pytest.mark.parametrize("config", ["default", "tiny", "growing"])
@pytest.mark.parametrize("network", list(NETWORKS))
def test_runs_cut_while_the_buffer_holds_deliveries_continue_exactly(network, config,
                                                                     buffered, reference_runs):
    """Runs cut at odd times and after odd numbers of spikes, each continued from the state:
    the spikes concatenated are the uninterrupted run's and the reference run's (senders
    exactly, times to 1e-12); at every cut the spikes in flight (net.current.queue) are those
    of the whole run that have a delivery after the cut, each once, at its first synapse not
    delivered, whether that sits in the buffer or in the heap. The cuts must have left
    records in the buffer, some of spikes whose heap entry had moved on to a later synapse."""
    make, duration = NETWORKS[network]
    reference = reference_runs[network]
    net = make()
    senders, times = emissions(net, reference)
    log = buffered(config)
    rng = np.random.default_rng(17)
    if network == "grid":   # cut at instants of the grid and between them
        ends = np.sort(rng.choice(np.arange(1, 2 * int(duration)) * 0.25, 8, replace=False))
        ends[::2] += 0.125
    else:
        ends = np.sort(rng.uniform(0, duration / 2, 8))
    pieces = []

    def cut(**how):
        pieces.append(net.run(engine="sparse", **how))
        emitted = sum(p.n_spikes + p.source_i.size for p in pieces)
        check_in_flight(net, senders, times, emitted, net.t, "max_spikes" in how)

    for end in ends:   # cut at times ...
        cut(duration=float(end) - net.t)
    for count in (1, 3, 41, 97):   # ... and after spike counts (mid-instant on the grid)
        cut(max_spikes=count)
        assert pieces[-1].n_spikes + pieces[-1].source_i.size == count
    assert net.t < duration
    pieces.append(net.run(duration=duration - net.t, engine="sparse"))
    got = concatenated(pieces)
    whole = make().run(duration=duration, engine="sparse")   # (this buffer, uncut)
    for want in (concatenated([whole]), concatenated([reference])):
        for field in (0, 2):   # senders exactly, times to 1e-12
            np.testing.assert_array_equal(got[field], want[field])
        for field in (1, 3):
            np.testing.assert_allclose(got[field], want[field], rtol=1e-12, atol=0)
    check_buffer_was_used(config, log)
    ends = [e for e in log["ends"] if e["engine"] == "sparse"]
    # cuts with deliveries left in the buffer, some of spikes whose heap entry had moved on
    assert sum(e["left"] > 0 for e in ends) >= 3
    assert any(e["in_heap"] > 0 for e in ends)


# ----------------------------------------------------------------------------- the driver


@pytest.mark.parametrize("engine", ["reference"])
def test_deliveries_that_move_spikes_on_count_as_progress(engine, monkeypatch):
    """One event per call into the loop (the reference loop's chunk_work is 1 from N = 2^21
    neurons on), three spikes at t = 0 whose first groups arrive together at t = 1 ms, each
    followed by a later group: the calls that deliver them change neither the spikes emitted,
    the time, the queue's size nor the buffer's position, and the driver once took two such
    calls in a row for a loop that cannot go on (it now counts every event)."""
    monkeypatch.setattr(driver, "chunk_work", lambda n, engine: 1)
    net = Network("lif", 4, from_edges([0, 0, 1, 1, 2, 2], [3] * 6, 0.01,
                                       delay=[1.0, 2.0, 1.0, 2.0, 1.0, 2.0]),
                  parameters={"I": 0.5}, initial_state={"v": [1.0, 1.0, 1.0, 0.0]})
    result = net.run(duration=5.0, engine=engine)
    assert result.i.tolist() == [0, 1, 2] and result.t.tolist() == [0.0, 0.0, 0.0]
