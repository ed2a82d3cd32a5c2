"""Bad inputs at the remaining public entry points (connectivity recipes, populations, results,
gradients, model files): every one ends in a ModelError that names the offending value and what
would work, or in the correct result; nothing is half-written and nothing of another exception
type escapes. (The simulation entry points: test_faults.py.)"""
import math
import os

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sparseprop as spp
from expect import expect
from sparseprop import ModelError, Network, Result, fixed_indegree, fixed_outdegree
from sparseprop.connectivity import CSR, Connectivity
from sparseprop.population import Population, Projection, build_network, label

LIF = spp.load_model("lif")


def masked(values):
    return np.ma.masked_array(values, mask=np.ones(len(values), bool))


# -- 1. connectivity recipes -----------------------------------------------------------------

def _csr_of(n_pre, n_post, same):
    return CSR(n_pre, np.zeros(n_pre + 1, np.int64), [], weight=1.0, n_post=n_post)


@pytest.mark.parametrize("make, fragments", [
    (lambda: fixed_outdegree(3, np.full(30, 1 + 1j)), ["not complex numbers"]),
    (lambda: fixed_outdegree(3, np.full(30, True)), ["not booleans"]),
    (lambda: fixed_outdegree(3, np.array(["0.1"] * 30)), ["not strings"]),
    (lambda: fixed_outdegree(3, masked([0.1] * 30)), ["masked entries"]),
    (lambda: fixed_outdegree(3, 10**400), ["finite number", "1000"]),
    (lambda: erdos_renyi_weight(np.bool_(True)), ["finite number", "True"]),
    (lambda: spp.from_edges([0, 1], [1, 0], [0.1, "x"]), ["not strings"]),
    (lambda: spp.from_edges(masked([0, 1]), [1, 0], 0.1), ["pre", "masked entries"]),
    (lambda: spp.from_networkx(_graph(weight=10**400)), ["edge (0, 1)", "finite number"]),
    (lambda: spp.from_networkx(_graph(weight=0.1), weight=["weight"]),
     ["name of an edge attribute", "['weight']"]),
    (lambda: Connectivity("mine", None, _csr_of), ["params must be a dict", "NoneType"]),
    (lambda: Connectivity("mine", {}, "build"), ["builder must be a function"]),
    (lambda: Connectivity("", {}, _csr_of), ["kind must be a non-empty name"]),
    (lambda: Connectivity("mine", {}, _csr_of, n="3"), ["n, the number of neurons", "'3'"]),
    (lambda: Connectivity("mine", {}, _csr_of, n=0), ["integer > 0", "got 0"]),
], ids=["complex", "bool-array", "string-array", "masked", "int-beyond-float", "np-bool",
        "edges-string-weight", "edges-masked-index", "nx-huge-weight", "nx-weight-name-list",
        "params-none", "builder-str", "kind-empty", "n-str", "n-zero"])
def test_recipes_refuse_bad_arguments(make, fragments):
    expect(lambda: make().build(3), *fragments)


def erdos_renyi_weight(weight):
    return spp.erdos_renyi(0.5, weight, seed=1)


def _graph(**attributes):
    graph = nx.DiGraph()
    graph.add_edge(0, 1, **attributes)
    graph.add_node(2)
    return graph


@pytest.mark.parametrize("builder, fragments", [
    (lambda a, b, same: None, ["must return a CSR table", "NoneType"]),
    (lambda a, b, same: _csr_of(a - 1, b, same), ["connecting 2 to 3 neurons", "3 to 3"]),
    (lambda a, b, same: CSR(a, [0, 1, 1, 1], [0], weight=1.0, n_post=b), None),
    (lambda a, b, same: _out_of_memory(), ["not enough memory"]),
], ids=["none", "wrong-shape", "valid", "memory"])
def test_a_recipe_built_by_hand_is_checked_when_built(builder, fragments):
    recipe = Connectivity("mine", {}, builder)
    if fragments is None:
        assert Network(LIF, 3, recipe).csr.nnz == 1
        return
    expect(lambda: recipe.build(3), "mine", *fragments)
    expect(lambda: Network(LIF, 3, recipe), "mine", *fragments)


def _out_of_memory():
    raise MemoryError()


def test_a_table_too_large_for_memory_is_a_model_error():
    expect(lambda: fixed_outdegree(2**30, 0.1, seed=1).build_between(2**31 - 1, 2**31 - 1, False),
           "fixed_outdegree: a table of", "needs about", "GB available", "k = 1073741824 fit")


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(weight=10**400), "weight=1000"), (dict(weight=True), "weight=True"),
    (dict(weight="0.1"), "weight='0.1'"), (dict(weights=np.ones(3, bool)), "not booleans"),
    (dict(weights=np.full(3, 1 + 0j)), "not complex"),
], ids=["int-beyond-float", "bool", "string", "bool-in-weights", "complex-weights"])
def test_csr_weights_must_be_real_numbers(kwargs, fragment):
    expect(lambda: CSR(3, [0, 1, 2, 3], [1, 2, 0], **kwargs), fragment)


@pytest.mark.parametrize("change, fragment", [
    (lambda c: setattr(c, "n", "3"), "n, the number of neurons, must be an integer > 0"),
    (lambda c: setattr(c, "n_post", None), "n_post"),
    (lambda c: setattr(c, "weight", "x"), "shared weight is 'x'"),
], ids=["n", "n_post", "weight"])
def test_a_csr_changed_by_hand_is_refused(change, fragment):
    csr = CSR(3, [0, 1, 2, 3], [1, 2, 0], weight=0.1)
    change(csr)
    expect(lambda: Network(LIF, 3, csr), fragment)


def test_numbers_given_as_objects_are_read_by_their_values():
    pre = np.array([0, 1, 2], dtype=object)
    csr = spp.from_edges(pre, [1, 2, 0], np.array([0.1, 0.2, 0.3], dtype=object)).build(3)
    assert csr.indices.tolist() == [1, 2, 0] and csr.weights.tolist() == [0.1, 0.2, 0.3]
    assert fixed_outdegree(np.int64(2), np.float32(0.5), seed=np.uint8(3)).build(
        np.int64(4)).nnz == 8


# -- 2. populations --------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, fragments", [
    (dict(parameters={"I": np.full(3, 1 + 1j)}), ["parameter 'I'", "not complex numbers"]),
    (dict(parameters={"I": np.array([True] * 3)}), ["parameter 'I'", "not booleans"]),
    (dict(parameters={"I": np.array(["1.1"] * 3)}), ["parameter 'I'", "not strings"]),
    (dict(parameters={"I": masked([1.1] * 3)}), ["parameter 'I'", "masked entries"]),
    (dict(initial_phase=np.array(["1"] * 3)), ["initial_phase", "not strings"]),
    (dict(initial_phase=np.full(3, 1j)), ["initial_phase", "not complex"]),
    (dict(n=2**40), ["n = 1099511627776 is too large"]),
], ids=["complex", "bool", "strings", "masked", "phase-strings", "phase-complex", "n-huge"])
def test_population_arguments_must_be_real_numbers(kwargs, fragments):
    args = dict(name="E", n=3)
    args.update(kwargs)
    expect(lambda: Population(**args), "population 'E'", *fragments)


@pytest.mark.parametrize("seed", ["x", -1, 1.5, {}, np.array([1, 2])])
def test_build_network_checks_its_seed(seed):
    expect(lambda: build_network(LIF, [Population("E", 3)], seed=seed), "build_network",
           "seed must be None", repr(seed)[:8])


def _changed(obj, **attributes):
    for name, value in attributes.items():
        setattr(obj, name, value)
    return obj


@pytest.mark.parametrize("populations, projections, fragments", [
    (lambda: [_changed(Population("E", 3), n="3")], [], ["population 'E'", "'3'"]),
    (lambda: [_changed(Population("E", 3, initial_phase=[0.0, 1.0, 2.0]), initial_phase=[0.0])],
     [], ["initial_phase has shape (1,); give 3 phases"]),
    (lambda: [_changed(Population("E", 3, parameters={"I": [1.1, 1.2, 1.3]}), n=4)], [],
     ["parameter 'I' has shape (3,)", "4 values"]),
    (lambda: [_changed(Population("E", 3), parameters={"I": "x"})], [], ["'I' = 'x'"]),
    (lambda: [_changed(Population("E", 3), name=5)], [], ["population name", "got 5"]),
    (lambda: [Population("E", 3)],
     lambda: [_changed(Projection("E", "E", fixed_indegree(1, 0.1)), connectivity=None)],
     ["connectivity must be a recipe", "NoneType"]),
    (lambda: [Population("E", 3)],
     lambda: [_changed(Projection("E", "E", fixed_indegree(1, 0.1)), pre=["E"])],
     ["population name", "['E']"]),
    (lambda: [Population("E", 3), Population("I", 2)],
     lambda: [Projection("E", "I", Connectivity("mine", {}, lambda a, b, same: _csr_of(a, a, 0)))],
     ["projection E -> I: mine", "connecting 3 to 3 neurons; 3 to 2"]),
], ids=["n", "short-phase", "n-vs-parameters", "parameter", "name", "connectivity", "pre",
        "builder"])
def test_build_network_checks_populations_and_projections_changed_by_hand(
        populations, projections, fragments):
    expect(lambda: build_network(LIF, populations(), projections() if projections else []),
           *fragments)


def test_a_recipe_subclass_with_its_own_build_between_is_checked():
    class Mine(Connectivity):
        def build_between(self, n_pre, n_post, same):
            return None

    recipe = Mine("mine", {}, _csr_of)
    expect(lambda: build_network(LIF, [Population("E", 3)], [Projection("E", "E", recipe)]),
           "projection E -> E", "gave None, not a CSR from 3 to 3 neurons")


def test_label_refuses_more_neurons_than_int32_and_shows_a_valid_example():
    expect(lambda: label(2**40, {"E": 2**40}), "too large", "int32")
    message = expect(lambda: label(3, {}), "non-empty dict")
    assert "'I': 0" not in message


# -- 3. results built or changed by hand -----------------------------------------------------

FIELDS = dict(i=[0, 1], t=[1.0, 2.0], n=3, t_start=0.0, t_end=10.0, final_phase=[0.0] * 3,
              engine="sparse", wall_time=0.1)


@pytest.mark.parametrize("field, value, fragment", [
    ("i", None, "i must be a 1-d array of integer"), ("i", "x", "integer neuron indices"),
    ("i", [0.5, 1.5], "integer neuron indices"), ("i", [0, 5], "outside [0, n) = [0, 3)"),
    ("i", [-1, 0], "i holds -1"), ("i", [2**40, 0], "outside"), ("i", {}, "integer"),
    ("i", [0], "i has shape (1,), t has shape (2,)"),
    ("t", "x", "not strings"), ("t", [2.0, 1.0], "not finite and sorted"),
    ("t", [np.nan, 1.0], "not finite"), ("t", [1.0, 20.0], "[t_start, t_end] = [0, 10]"),
    ("n", None, "n, the number of neurons"), ("n", 0, "got 0"), ("n", np.array([3, 4]), "n,"),
    ("n", float("nan"), "got nan"), ("n", 2**40, "too large"),
    ("t_start", None, "t_start (ms) must be a number"), ("t_start", float("nan"), "= nan"),
    ("t_start", 11.0, "ends before it starts"), ("t_end", float("inf"), "t_end (ms) = inf"),
    ("final_phase", "x", "final_phase must be numbers"), ("final_phase", [0.0], "shape (3,)"),
    ("engine", None, "engine must be the name"), ("wall_time", -1.0, ">= 0"),
    ("wall_time", [1.0], "wall_time (s) must be a number"),
])
def test_a_result_built_by_hand_is_checked(field, value, fragment):
    fields = dict(FIELDS, **{field: value})
    expect(lambda: Result(**fields), "Result", fragment)


@pytest.mark.parametrize("populations, fragment", [
    ({"E": 3}, "'E' -> 3"), (["E"], "got list"), ("E", "got str"),
    ({"E": slice(0, 5)}, "stop <= n = 3"), ({3: slice(0, 3)}, "population 3"),
    ({"E": slice(0, 3, 2)}, "slice(0, 3, 2)"), ({"E": slice(0, None)}, "slice(0, None"),
    ({"E": slice(0, 2), "I": slice(1, 3)}, "'E' and 'I' overlap"),
])
def test_result_populations_are_checked(populations, fragment):
    expect(lambda: Result(**FIELDS, populations=populations), fragment)


def test_population_lookups_take_numpy_integers_and_refuse_other_names():
    r = Result(**FIELDS, populations={"E": slice(0, 2), "I": slice(2, 3)})
    assert r.population_of(np.int64(1)) == "E" and r.population_of(np.array(2)) == "I"
    assert r.spikes_of(np.str_("E"))[0].tolist() == [0, 1]
    for name in (["E"], {"E"}, slice(0, 1), None, 3):
        expect(lambda: r.spikes_of(name), "is not a population", "its populations are E, I")
        expect(lambda: r.rate_of(name), "is not a population")
    for i in (1.0, True, np.array([1]), -1, 3):
        expect(lambda: r.population_of(i), "is not a neuron index", "[0, 3)")


def _where(tmp_path, kind):
    if kind == "directory":
        (tmp_path / "d").mkdir()
        return tmp_path / "d"
    if kind == "fifo":
        os.mkfifo(tmp_path / "pipe")
        return tmp_path / "pipe"
    if kind == "under-a-file":
        (tmp_path / "f").write_text("x")
        return tmp_path / "f" / "r.npz"
    if kind == "missing-folder":
        return tmp_path / "missing" / "r.npz"
    if kind == "too-long":
        return tmp_path / ("a" * 300 + ".npz")
    return kind


@pytest.mark.parametrize("kind, fragment", [
    (None, "give a file path"), (3, "give a file path"), (b"r.npz", "give a file path"),
    (["r.npz"], "give a file path"), ("directory", "not a regular file"),
    ("fifo", "not a regular file"), ("under-a-file", "cannot save"),
    ("missing-folder", "does not exist"), ("too-long", "too long"),
])
def test_save_refuses_a_bad_path_and_leaves_nothing(tmp_path, kind, fragment):
    where = _where(tmp_path, kind)
    before = sorted(os.listdir(tmp_path))
    expect(lambda: Result(**FIELDS).save(where), "cannot save the result to", fragment)
    assert sorted(os.listdir(tmp_path)) == before           # no temporary file left behind
    if kind == "fifo":
        assert not os.path.isfile(where)                    # still a pipe, not replaced


@pytest.mark.parametrize("change, fragment", [
    (lambda r: setattr(r, "i", "x"), "integer neuron indices"),
    (lambda r: setattr(r, "populations", {"E": 3}), "'E' -> 3"),
    (lambda r: setattr(r, "engine", object()), "engine must be"),
    (lambda r: r.t.__setitem__(0, np.nan), "not finite"),
], ids=["i", "populations", "engine", "nan-time"])
def test_save_refuses_a_result_changed_by_hand(tmp_path, change, fragment):
    result = Result(**FIELDS)
    change(result)
    expect(lambda: result.save(tmp_path / "r.npz"), fragment)
    assert os.listdir(tmp_path) == []


def test_save_through_a_link_writes_the_file_it_points_to(tmp_path):
    (tmp_path / "real.npz").write_text("old")
    os.symlink(tmp_path / "real.npz", tmp_path / "link.npz")
    Result(**FIELDS).save(tmp_path / "link.npz")
    assert os.path.islink(tmp_path / "link.npz")
    assert spp.load_result(tmp_path / "real.npz").i.tolist() == [0, 1]


@pytest.mark.parametrize("path", [None, 3, {"r.npz"}, [3]])   # (a list: a run's parts)
def test_load_result_refuses_non_paths(path):
    expect(lambda: spp.load_result(path), "cannot read a result from", "give a file path")


@pytest.mark.parametrize("kind", ["directory", "fifo", "too-long"])
def test_load_result_refuses_what_is_not_a_regular_file(tmp_path, kind):
    """A pipe used to make np.load wait for a writer forever."""
    expect(lambda: spp.load_result(_where(tmp_path, kind)), "cannot read the result file")


def test_load_result_refuses_fractional_indices(tmp_path):
    path = tmp_path / "r.npz"
    Result(**FIELDS).save(path)
    fields = dict(np.load(path))
    fields["i"] = np.array([0.5, 1.0])
    np.savez(path, **fields)
    expect(lambda: spp.load_result(path), "is inconsistent", "integer neuron indices")


# -- 4. gradients ----------------------------------------------------------------------------

def _recorded(duration=30.0):
    net = Network(LIF, 30, fixed_outdegree(3, -0.1, seed=1), seed=2)
    return net, net.run(duration=duration, record_tape=True)


@pytest.mark.parametrize("dloss, fragment", [
    (lambda n: None, "not object values"), (lambda n: "x", "not strings"),
    (lambda n: np.full(n, 1 + 1j), "not complex"), (lambda n: np.ones(n, bool), "not booleans"),
    (lambda n: masked([1.0] * n), "masked entries"), (lambda n: np.array(["1"] * n), "strings"),
    (lambda n: np.ones((n, 1)), "shape"), (lambda n: np.full(n, np.inf), "nan or infinite"),
], ids=["none", "str", "complex", "bool", "masked", "strings", "shape", "inf"])
def test_backward_refuses_a_loss_gradient_that_is_not_real_numbers(dloss, fragment):
    net, result = _recorded()
    expect(lambda: result.backward(dloss(result.n_spikes)), "dloss_dt", fragment)
    if dloss(1) is not None:                    # dloss_dphase=None: no loss of final phases
        expect(lambda: result.backward(np.ones(result.n_spikes), dloss(net.n)),
               "dloss_dphase", fragment)


@pytest.mark.parametrize("change, fragment", [
    (lambda net, r: setattr(r, "i", r.i[::-1].copy()), "not the ones its tape was recorded"),
    (lambda net, r: r.i.__setitem__(0, (r.i[0] + 1) % 30), "not the ones its tape"),
    (lambda net, r: r.t.__setitem__(0, r.t[0] + 1e-9), "not the ones its tape"),
    (lambda net, r: setattr(r, "i", np.full(r.n_spikes, 100)), "outside [0, n) = [0, 30)"),
    (lambda net, r: setattr(r, "t", r.t[:-1]), "equal length"),
    (lambda net, r: setattr(net, "csr", fixed_outdegree(3, -0.2, seed=5).build(30)),
     "changed since this run"),
    (lambda net, r: None, None),
], ids=["reversed", "edited-index", "edited-time", "out-of-range", "shorter", "table-swapped",
        "tape-lent"])
def test_backward_refuses_a_result_or_network_changed_since_the_run(change, fragment):
    net, result = _recorded()
    change(net, result)
    if fragment is not None:
        expect(lambda: result.backward(np.ones(np.size(result.t))), fragment)
        return
    other = Result(**dict(FIELDS, n=30, final_phase=np.zeros(30)))   # a tape lent to another
    other.tape = result.tape
    expect(lambda: other.backward(np.ones(2)), "not the ones its tape was recorded")
    assert result.backward(np.ones(result.n_spikes)).weight.shape == (90,)


def test_a_tape_must_be_a_tape():
    _, result = _recorded()
    expect(lambda: setattr(result, "tape", "x"), "gradients.Tape", "got str")
    result._tape = "x"                         # past the check: backward still refuses it
    expect(lambda: result.backward(np.ones(result.n_spikes)), "result.tape is a str")


def test_backward_is_unchanged_by_later_runs_store_and_restore():
    net, result = _recorded()
    first = result.backward(np.ones(result.n_spikes), np.ones(net.n))
    net.store("a")
    net.run(duration=5.0)
    net.restore("a")
    again = result.backward(np.ones(result.n_spikes), np.ones(net.n))
    assert np.array_equal(first.weight, again.weight)
    assert np.array_equal(first.initial_phase, again.initial_phase)


# -- 5. model files --------------------------------------------------------------------------

BASE = 'equations = "dv/dt = (I - v)/tau : 1"\nthreshold = "v >= 1"\nreset = "v = 0"\n'
PARAMETERS = "[parameters]\nI = 1.1\ntau = 10.0\n"


@pytest.mark.parametrize("text, fragments", [
    (BASE + "name = 3\n" + PARAMETERS, ["'name'", "must be a string", "got 3"]),
    (BASE + "description = 3\n" + PARAMETERS, ["'description'", "must be a string"]),
    (BASE + "reference = [1]\n" + PARAMETERS, ["'reference'", "must be a string"]),
    (BASE + 'time_unit = "s"\n' + PARAMETERS, ["time_unit = 's'", "ms"]),
    (BASE + "method = 3\n" + PARAMETERS, ["'method'", "must be a string"]),
    (BASE + 'refractory = "2"\n' + PARAMETERS, ["refractory"]),
    (BASE + 'parameters = "I = 1"\n', ["'parameters'", "must be a table"]),
    (BASE + '[parameters]\nI = "1.1"\ntau = 10.0\n', ["parameter I", "not a number"]),
    (BASE + "[parameters]\nI = [1.1]\ntau = 10.0\n", ["parameter I", "not a number"]),
    ("\x00\x01", ["not valid TOML"]),
    (BASE + 'description = "' + "x" * (1 << 20) + '"\n', ["larger than 1048576 bytes"]),
], ids=["name", "description", "reference", "time-unit", "method", "refractory", "parameters",
        "parameter-str", "parameter-array", "binary", "huge"])
def test_model_files_with_fields_of_the_wrong_type(tmp_path, text, fragments):
    path = tmp_path / "model.toml"
    path.write_text(text)
    expect(lambda: spp.load_model(path), *fragments)


@pytest.mark.parametrize("name, fragment", [
    (None, "give a shipped model's name"), (3, "give a shipped model's name"),
    (b"lif", "give a shipped model's name"), ("a" * 5000, "neither a shipped model"),
    ("lif\x00", "neither a shipped model"), ("nope", "lif"),
])
def test_load_model_refuses_names_that_are_no_model(name, fragment):
    expect(lambda: spp.load_model(name), fragment)


def test_load_model_refuses_a_directory(tmp_path):
    (tmp_path / "m.toml").mkdir()
    expect(lambda: spp.load_model(tmp_path / "m.toml"), "neither a shipped model")


# -- the fuzzer: recipes and populations -----------------------------------------------------

_numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                     st.integers(-3, 12), st.sampled_from([0.0, -0.0, 1e308, 10**400, 2**31]))
_arrays = st.builds(lambda values, dtype: np.array(values, dtype=dtype),
                    st.lists(_numbers.filter(lambda x: abs(x) < 1e300 if isinstance(x, int)
                                             else True), min_size=0, max_size=12),
                    st.sampled_from([np.float64, object]))
_values = st.one_of(_numbers, _arrays, st.text(max_size=3), st.none(), st.booleans(),
                    st.lists(st.one_of(_numbers, st.text(max_size=2)), max_size=12),
                    st.builds(np.array, _numbers), st.just({"a": 1}), st.just(1 + 2j))


class _Args:
    """Draws arguments for one example: each one valid, except the one named `bad` (drawn once
    per example, or none), which is any value. So most examples reach the code behind the
    checks, and each check is tried alone."""

    def __init__(self, data, names):
        self.data, self.bad = data, data.draw(st.sampled_from([None, None, *names]), label="bad")

    def __call__(self, name, valid):
        return self.data.draw(_values if name == self.bad else valid, label=name)


_RECIPE_ARGS = ["k", "weight", "seed", "p", "pre", "post", "n", "n_pre", "n_post", "same"]
_POPULATION_ARGS = ["name", "size", "parameters", "phase", "proj_pre", "proj_post",
                    "network_seed"]


def _recipe(arg):
    kind = arg.data.draw(st.sampled_from(["outdegree", "indegree", "erdos_renyi", "edges"]))
    weight = arg("weight", st.floats(-0.2, 0.2))
    seed = arg("seed", st.one_of(st.none(), st.integers(0, 5)))
    if kind == "outdegree":
        return fixed_outdegree(arg("k", st.integers(0, 4)), weight, seed=seed)
    if kind == "indegree":
        return fixed_indegree(arg("k", st.integers(0, 4)), weight, seed=seed)
    if kind == "erdos_renyi":
        return spp.erdos_renyi(arg("p", st.floats(0, 1)), weight, seed)
    size = arg.data.draw(st.integers(0, 8))
    edges = st.lists(st.integers(0, 4), min_size=size, max_size=size)
    return spp.from_edges(arg("pre", edges), arg("post", edges), weight)


def _check_table(csr, n_pre, n_post):
    assert isinstance(csr, CSR) and csr.n == n_pre and csr.n_post == n_post
    assert csr.validate() is csr and csr.indptr[-1] == csr.nnz
    assert np.all(np.isfinite(csr.weight_array()))


@settings(max_examples=500, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzz_recipes_and_populations(data):
    """Any recipe, build, population or build_network: a ModelError, or a valid table or
    network (indices in range, finite weights, populations laid out in order)."""
    arg = _Args(data, _RECIPE_ARGS)
    try:
        recipe = _recipe(arg)
        if data.draw(st.booleans(), label="between"):
            n_pre, n_post = arg("n_pre", st.integers(1, 6)), arg("n_post", st.integers(1, 6))
            same = arg("same", st.just(isinstance(n_pre, int) and n_pre == n_post))
            _check_table(recipe.build_between(n_pre, n_post, same), n_pre, n_post)
        else:
            n = arg("n", st.integers(1, 6))
            _check_table(recipe.build(n), n, n)
    except ModelError:
        pass
    arg = _Args(data, _POPULATION_ARGS)
    pops = []
    try:
        for name in data.draw(st.lists(st.sampled_from(["E", "I", "inh"]), min_size=1,
                                       max_size=3, unique=True), label="names"):
            n = arg("size", st.integers(1, 6)) if name == "E" else data.draw(st.integers(1, 6))
            m = n if isinstance(n, int) and 0 <= n <= 6 else 3     # length of arrays drawn
            number = st.one_of(st.floats(1.05, 2.0), st.floats(0.0, 3.0),
                               st.lists(st.floats(0.5, 2.0), min_size=m, max_size=m))
            parameters = arg("parameters", st.one_of(st.none(), st.dictionaries(
                st.sampled_from(["I", "refractory", "tau"]), number, max_size=2)))
            phase = arg("phase", st.one_of(st.none(), st.just("uniform"), st.lists(
                st.floats(0.0, 30.0), min_size=m, max_size=m)))
            pops.append(Population(arg("name", st.just(name)) if name == "E" else name, n,
                                   parameters, phase))
        names = st.sampled_from([p.name for p in pops])
        projections = [Projection(arg("proj_pre", names), arg("proj_post", names),
                                  _recipe(_Args(data, [])))
                       for _ in range(data.draw(st.integers(0, 2), label="projections"))]
        net = build_network(LIF, pops, projections, seed=arg(
            "network_seed", st.one_of(st.none(), st.integers(0, 3))))
    except ModelError:
        return
    assert net.n == sum(p.n for p in pops) and net.csr.validate() is net.csr
    assert list(net.populations) == [p.name for p in pops]
    try:
        result = net.run(duration=50.0, max_spikes=5)
    except ModelError as exc:                   # e.g. an excitatory cascade; never the Result
        assert not str(exc).startswith("Result"), str(exc)
        return
    assert math.isfinite(result.t_end) and set(result.rates()) == set(net.populations)
