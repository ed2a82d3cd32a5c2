"""Batches of samples (sparseprop.batch) against the network run one sample at a time
(set_spikes, run, Result.backward), against finite differences of a batched loss, and the
trainer's checkpoints against an uninterrupted run."""
import numpy as np
import pytest

import sparseprop as spp
from differences import check_weight_gradients
from sparseprop import datasets
from sparseprop.batch import Batch, Samples
from sparseprop.connectivity import CSR, from_edges
from sparseprop.losses import first_spike_cross_entropy, first_spike_time_loss, predict
from sparseprop.trainer import Trainer

PARAMETERS = {"Ie": 0.0, "tau_m": 20.0, "tau_s": 5.0}


def _layered(hidden=20, seed=1):
    net = spp.layers("lif_exp", [5, hidden, 3], weight=[(6.0, 6.0), (4.0, 4.0)], seed=seed,
                     parameters=PARAMETERS)
    net.set_state(state={"v": 0.0, "I": 0.0})
    return net


def _delayed(hidden=20, seed=1):
    """_layered with a delay per synapse, uniform in [0.5, 3] ms (rows sorted by CSR)."""
    net = _layered(hidden, seed)
    c = net.csr
    delays = np.random.default_rng(seed).uniform(0.5, 3.0, c.nnz)
    net.set_table(CSR(c.n, c.indptr, c.indices, c.weight_array(), n_post=c.n_post,
                      delays=delays))
    return net


def _by_pair(net, values):
    """{(pre, post): value} of a network without multiple synapses."""
    pre, post, _ = net.synapses()
    return dict(zip(zip(pre.tolist(), post.tolist()), np.asarray(values).tolist()))


def _pairs(n, seed=42):
    x, y = datasets.yin_yang(n, seed=seed)
    return datasets.latency(x, 0.0, 30.0, bias_time=0.0), y


def _rich(model="lif_exp"):
    """Input spikes, a Poisson drive, delays, refractoriness and recurrence: every part of the
    engine a sample goes through (lif: subthreshold and firing neurons, per-neuron
    parameters)."""
    rng = np.random.default_rng(5)
    scale = 1.0 if model == "lif_exp" else 0.3
    pre, post = np.meshgrid(np.arange(5), np.arange(12), indexing="ij")
    into = from_edges(pre.ravel(), post.ravel(), scale * rng.normal(2.5, 2.0, 60),
                      delay=rng.uniform(0.0, 2.0, 60))
    pre, post = np.meshgrid(np.arange(12), np.arange(12), indexing="ij")
    off = pre != post
    within = from_edges(pre[off], post[off], scale * rng.normal(0.0, 0.5, off.sum()),
                        delay=1.5)
    if model == "lif_exp":
        parameters, initial = dict(PARAMETERS, refractory=1.0), {"v": 0.2, "I": 0.0}
    else:
        parameters = {"I": np.linspace(0.8, 1.2, 12), "tau": 10.0, "refractory": 1.0}
        initial = None
    net = spp.build_network(model, [
        spp.SpikeSource("input", 5, [], []),
        spp.Population("hidden", 12, parameters=parameters)],
        [spp.Projection("input", "hidden", into), spp.Projection("hidden", "hidden", within)],
        seed=3, inputs=[spp.PoissonInput("hidden", 10, rate=50.0, weight=0.03)],
        initial_state=initial)
    return net


@pytest.fixture(scope="module", params=["lif_exp", "lif"])
def rich(request):
    return _rich(request.param)


def _one_by_one(net, pairs, duration, dfirst=None, neurons=None):
    """Each sample by set_spikes and run from the stored start: spikes, and summed gradients
    of the first spike times of `neurons` weighted by dfirst."""
    net.store("start")
    spikes, weight, delay, params, sources = [], 0.0, 0.0, None, []
    for b, (i, t) in enumerate(pairs):
        net.restore("start")
        net.set_spikes("input", i, t)
        result = net.run(duration=duration, record_tape=dfirst is not None)
        spikes.append((result.i, result.t))
        if dfirst is not None:
            d = np.zeros(result.t.size)
            for k, neuron in enumerate(neurons):
                where = np.flatnonzero(result.i == neuron)
                if where.size:
                    d[where[0]] = dfirst[b, k]
            g = result.backward(d)
            weight, delay = weight + g.weight, delay + g.delay
            params = g.parameters if params is None else {
                p: params[p] + v for p, v in g.parameters.items()}
            sources.append(g.source_t)
    net.restore("start")
    net.forget("start")
    return spikes, weight, delay, params, sources


def test_a_batch_runs_each_sample_as_the_network_does(rich):
    rng = np.random.default_rng(0)
    pairs = [(rng.integers(0, 5, 6), np.sort(rng.uniform(0.0, 10.0, 6))) for _ in range(21)]
    batch = Batch(rich, threads=2)
    result = batch.run(pairs, 25.0, record_tape=True)
    neurons = np.arange(12)
    first = result.first_spike_times(neurons)
    dfirst = np.where(np.isfinite(first), rng.normal(size=first.shape), 0.0)
    g = batch.backward(result, neurons, dfirst)
    bare = batch.backward(result, neurons, dfirst, parameters=False)   # (weights, delays only)
    assert bare.parameters == {}
    assert np.allclose(bare.weight, g.weight, rtol=1e-12, atol=1e-12)
    assert np.allclose(bare.delay, g.delay, rtol=1e-12, atol=1e-12)
    for b in range(len(pairs)):
        assert np.allclose(bare.source_t[b], g.source_t[b], rtol=1e-12, atol=1e-12)
    spikes, weight, delay, params, sources = _one_by_one(rich, pairs, 25.0, dfirst, neurons)
    for b, (i, t) in enumerate(spikes):
        got_i, got_t = result.spikes(b)
        assert np.array_equal(got_i, i) and np.array_equal(got_t, t)
        assert np.allclose(g.source_t[b], sources[b], rtol=1e-12, atol=1e-12)
    assert sum(i.size for i, _ in spikes) > 100        # (the hidden neurons fire)
    assert np.allclose(g.weight, weight, rtol=1e-12, atol=1e-12)
    assert np.allclose(g.delay, delay, rtol=1e-12, atol=1e-12)
    for p, v in params.items():
        assert np.allclose(g.parameters[p], v, rtol=1e-12, atol=1e-12)
    assert np.abs(g.delay).max() > 0
    assert all(np.abs(v).max() > 0 for v in g.parameters.values())


def test_sums_do_not_depend_on_threads_or_buffer_growth():
    net = _layered()
    pairs, _ = _pairs(40)
    outputs = np.arange(20, 23)
    grads = []
    for threads, small in ((1, False), (2, False), (2, True)):
        batch = Batch(net, threads=threads)
        if small:
            batch._caps = (4, 8, 4)                # too small: grown until every sample fits
        result = batch.run(pairs, 40.0, record_tape=True)
        d = np.isfinite(result.first_spike_times(outputs)).astype(float)
        grads.append(batch.backward(result, outputs, d).weight)
    assert batch._caps[0] > 4 and batch._caps[1] > 8
    assert np.array_equal(grads[0], grads[1]) and np.array_equal(grads[0], grads[2])


def test_later_runs_reuse_memory_only_when_no_result_holds_it():
    """A batch's outputs and tapes come from reused blocks (sparseprop.memory.Blocks): a
    result (or any view of its arrays) that is still held keeps its values whatever runs
    next, and once dropped its memory serves the next run; gradients are the same either way."""
    net = _layered()
    (first, _), (second, _), outputs = _pairs(20, 42), _pairs(20, 43), np.arange(20, 23)
    batch = Batch(net, threads=1)
    kept = batch.run(first, 40.0, record_tape=True)

    def held(r):   # (bytes: the buffers' unwritten ends too)
        return [a.tobytes() for a in (r.senders, r.times, r.tape[0], r.tape[2])]
    copies = held(kept)
    d = np.isfinite(kept.first_spike_times(outputs)).astype(float)
    before = batch.backward(kept, outputs, d).weight
    times = kept.times[:, :5]                    # a view: holds the block on its own
    for _ in range(3):
        other = batch.run(second, 40.0, record_tape=True)
        batch.backward(other, outputs, np.ones((len(other), 3)))
        del other
    assert held(kept) == copies
    assert np.array_equal(batch.backward(kept, outputs, d).weight, before)
    block = id(kept.times.base)
    del kept, times
    again = batch.run(first, 40.0, record_tape=True)
    assert id(again.times.base) == block          # the dropped result's memory, reused
    written = again.written()
    assert np.array_equal(again.senders[written], np.frombuffer(copies[0], np.int32).reshape(
        again.senders.shape)[written])
    assert np.array_equal(batch.backward(again, outputs, d).weight, before)


def test_runs_that_end_at_the_outputs_first_spikes_give_the_same_times_and_gradients():
    net = _layered()
    pairs, _ = _pairs(40)
    outputs = np.arange(20, 23)
    batch = Batch(net)
    full = batch.run(pairs, 40.0, record_tape=True)
    short = batch.run(pairs, 40.0, record_tape=True, until="output")
    times = full.first_spike_times(outputs)
    assert np.array_equal(short.first_spike_times(outputs), times)
    fired = np.isfinite(times).all(axis=1)
    assert fired.sum() > 20 and np.all(short.count[fired] < full.count[fired])
    assert np.array_equal(short.count[~fired], full.count[~fired])
    d = np.where(np.isfinite(times), 1.0 + np.arange(3), 0.0)
    g_full, g_short = (batch.backward(r, outputs, d) for r in (full, short))
    assert np.allclose(g_short.weight, g_full.weight, rtol=1e-12, atol=1e-12)
    assert g_short.parameters["tau_m"] == pytest.approx(g_full.parameters["tau_m"], rel=1e-12)


def test_the_gradient_of_a_batched_loss_equals_finite_differences():
    net = _layered()
    pairs, labels = _pairs(8)
    trainer = Trainer(net, duration=40.0)
    samples = trainer.batch.samples(pairs)

    def loss():
        result, times = trainer._times(samples, True)
        value, dtimes = trainer._loss(times, labels)
        return value.sum(), result, dtimes
    _, result, dtimes = loss()
    g = trainer.batch.backward(result, trainer.outputs, dtimes)
    check_weight_gradients(net, lambda: loss()[0], g.weight, 1e-3, 7)
    h = 1e-6
    for p in ("tau_m", "tau_s"):
        values = []
        for sign in (1, -1):
            net.set_parameters(**{p: PARAMETERS[p] + sign * h})
            values.append(loss()[0])
        net.set_parameters(**{p: PARAMETERS[p]})
        assert (values[0] - values[1]) / (2 * h) == pytest.approx(g.parameters[p], rel=1e-5)


def test_cross_entropy_gradient_and_silent_outputs():
    rng = np.random.default_rng(1)
    times = rng.uniform(1.0, 20.0, (6, 3))
    times[0, 1] = times[1] = np.inf                   # silent outputs; sample 1 all silent
    labels = np.array([0, 1, 2, 0, 1, 2])
    loss, grad = first_spike_cross_entropy(times, labels, 30.0)
    assert np.all(np.isfinite(loss)) and grad[0, 1] == 0.0 and np.all(grad[1] == 0.0)
    h = 1e-6
    for b, k in [(0, 0), (2, 1), (3, 2), (5, 2)]:
        up, down = times.copy(), times.copy()
        up[b, k] += h
        down[b, k] -= h
        numeric = (first_spike_cross_entropy(up, labels, 30.0)[0][b]
                   - first_spike_cross_entropy(down, labels, 30.0)[0][b]) / (2 * h)
        assert numeric == pytest.approx(grad[b, k], rel=1e-6, abs=1e-8)
    assert list(predict(times)) == [int(np.argmin(times[0])), -1,
                                    *np.argmin(times[2:], axis=1)]
    loss, grad = first_spike_time_loss(times[2:], np.full((4, 3), 5.0), 30.0)
    assert np.allclose(grad, times[2:] - 5.0)


def test_a_resumed_checkpoint_gives_the_weights_of_an_uninterrupted_run(tmp_path):
    pairs, labels = _pairs(96)
    val_pairs, val_labels = _pairs(32, seed=41)

    def trainer():
        return Trainer(_delayed(), duration=40.0, lr=2e-2, batch_size=16, seed=3, bump=0.1,
                       train=("weight", "delay", "tau_s"))
    whole = trainer()
    history = whole.fit(pairs, labels, 2, validation=(val_pairs, val_labels))
    assert len(history.loss) == 2 and 0.0 <= history.val_accuracy[-1] <= 1.0
    first = trainer()
    first.fit(pairs, labels, 1, checkpoint=tmp_path / "ckpt.npz",
              validation=(val_pairs, val_labels))
    resumed = Trainer.load(tmp_path / "ckpt.npz", _delayed())
    assert resumed.bump == 0.1
    resumed.fit(pairs, labels, 1, validation=(val_pairs, val_labels))
    for a, b in ((resumed.network, whole.network),):
        assert np.array_equal(a.csr.indices, b.csr.indices)
        assert np.array_equal(a.csr.weight_array(), b.csr.weight_array())
        assert np.array_equal(a.delays(), b.delays())
    assert resumed.network.parameters["tau_s"] == whole.network.parameters["tau_s"]
    assert resumed.history.val_accuracy == whole.history.val_accuracy
    start = _delayed()
    assert _by_pair(whole.network, whole.network.delays()) != _by_pair(start, start.delays())
    assert not np.array_equal(np.sort(whole.network.csr.weight_array()),
                              np.sort(start.csr.weight_array()))        # (it trained)


def test_trained_delays_move_by_their_gradients_and_rows_stay_sorted():
    """Adam's first step moves each value by about lr against its gradient's sign: the delays
    (by synapse, found by (pre, post)) move so, against the batch's own gradient, also where
    the step reorders a row."""
    pairs, labels = _pairs(24)
    net = _delayed(hidden=12)
    before = _by_pair(net, net.delays())
    batch = Batch(net)
    result = batch.run(pairs, 40.0, record_tape=True, until="output")
    outputs = np.arange(net.n - 3, net.n)
    times = result.first_spike_times(outputs)
    _, dtimes = first_spike_cross_entropy(times, labels, 40.0)
    grad = _by_pair(net, batch.backward(result, outputs, dtimes / len(labels)).delay)
    trainer = Trainer(net, duration=40.0, lr=0.3, batch_size=len(labels), train="delay")
    trainer.fit(pairs, labels, 1)
    after = _by_pair(net, net.delays())
    assert sum(abs(g) > 1e-6 for g in grad.values()) > 50
    for k in before:   # (Adam's first step: lr g / (|g| + 1e-8))
        step = -0.3 * grad[k] / (abs(grad[k]) + 1e-8)
        assert after[k] == pytest.approx(max(before[k] + step, 0.0), abs=1e-9)
    assert not np.array_equal(trainer._ids, np.arange(net.csr.nnz))   # rows were re-sorted
    d = net.delays()
    rows = np.repeat(np.arange(net.csr.n), np.diff(net.csr.indptr))
    assert np.all((np.diff(d) >= 0) | (np.diff(rows) != 0))


def test_a_diverging_step_stops_with_a_clear_error_and_finite_weights(tmp_path):
    pairs, labels = _pairs(32)
    trainer = Trainer(_layered(), duration=40.0, lr=1e300, batch_size=32)
    with pytest.raises(spp.ModelError, match="diverged|fault"):
        trainer.fit(pairs, labels, 2, checkpoint=tmp_path / "ckpt.npz")
    assert np.all(np.isfinite(trainer.network.csr.weight_array()))
    assert not (tmp_path / "ckpt.npz").exists() or np.all(np.isfinite(
        np.load(tmp_path / "ckpt.npz")["value_weight"]))


@pytest.mark.parametrize("samples, labels, words", [
    ([([0, 7], [1.0, 2.0])], [0], r"input index 7 is not in \[0, 5\)"),   # wrong width
    ([([0, 1], [1.0, np.nan])], [0], "not a finite number"),
    ([], [], "empty"),
    ([([0, 1], [1.0, 2.0])], [3], r"labels must lie in \[0, 3\)"),
    ([([0, 1], [1.0, 2.0])], [0, 1], "one per sample"),
    ([([0, 1], [1.0])], [0], "equal length"),
])
def test_bad_input(samples, labels, words):
    trainer = Trainer(_layered(hidden=4), duration=10.0)
    with pytest.raises(spp.ModelError, match=words):
        trainer.fit(samples, labels, 1)


def test_bad_batches():
    delayed = spp.layers("lif", [2, 3], delay=2.0, weight=(2.0, 0.1))
    delayed.set_spikes("input", [0, 1], [0.0, 0.5])
    delayed.run(duration=1.0)                        # spikes in flight at its end
    with pytest.raises(spp.ModelError, match="in flight"):
        Batch(delayed).run([([0], [1.0])], 10.0)
    net = _layered(hidden=4)
    with pytest.raises(spp.ModelError, match="not a SpikeSource"):
        Batch(net, source="retina")
    with pytest.raises(spp.ModelError, match="cannot train"):
        Trainer(net, 10.0, train=("delay_of_nothing",))
    with pytest.raises(spp.ModelError, match="batch_size"):
        Trainer(net, 10.0, batch_size=0)
    batch = Batch(net)
    with pytest.raises(spp.ModelError, match="no tape"):
        batch.backward(batch.run([([0], [1.0])], 10.0), [4], [[0.0]])
    result = batch.run([([0], [1.0])], 10.0, record_tape=True)
    with pytest.raises(spp.ModelError, match="dloss_dfirst must be numbers"):
        batch.backward(result, [4], [["a"]])
    with pytest.raises(spp.ModelError, match="dloss_dspikes must be numbers"):
        batch.backward(result, [4], [[0.0]], np.full(result.times.shape, "x"))
    with pytest.raises(spp.ModelError, match="parameters must be True or False"):
        batch.backward(result, [4], [[0.0]], parameters="no")
    net.set_weights(net.csr.weight_array() * 2)
    with pytest.raises(spp.ModelError, match="changed since"):
        batch.backward(result, [4], [[0.0]])
    with pytest.raises(spp.ModelError, match="n = 0"):
        Samples([([0], [1.0])], 0)


def test_the_command_line_trains_and_resumes(tmp_path, capsys):
    from sparseprop.cli import main
    ckpt = tmp_path / "yy.npz"
    assert main(["train", "yinyang", "--epochs", "1", "--model", "qif", "--out",
                 str(ckpt)]) == 0
    assert "test accuracy" in capsys.readouterr().out and ckpt.exists()
    assert main(["train", "yinyang", "--epochs", "2", "--model", "qif", "--resume",
                 str(ckpt)]) == 0
    assert "after 2 epochs" in capsys.readouterr().out
    assert main(["train", "yinyang", "--epochs", "0"]) == 2


def test_a_damaged_checkpoint_is_a_model_error(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(spp.ModelError, match="cannot read the checkpoint"):
        Trainer.load(bad, _layered(hidden=4))
    np.savez(tmp_path / "other.npz", header=np.array('{"kind": "sparseprop-checkpoint"}'))
    with pytest.raises(spp.ModelError, match="cannot read the checkpoint"):
        Trainer.load(tmp_path / "other.npz", _layered(hidden=4))
