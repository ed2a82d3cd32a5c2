"""Populations: named groups of neurons with their own parameter values, projections between
them, and `build_network`, which lays them out as one `Network` (Brunel 2000 style E/I networks).

    E = Population("E", 800, parameters={"I": 1.1})
    I = Population("I", 200, parameters={"I": 1.3})
    net = build_network("lif", [E, I], [
        Projection("E", "E", fixed_indegree(80, 0.01, seed=1)),
        Projection("E", "I", fixed_indegree(80, 0.01, seed=2)),
        Projection("I", "E", fixed_indegree(20, -0.05, seed=3)),
        Projection("I", "I", fixed_indegree(20, -0.05, seed=4))], seed=5)
    net.populations            # {'E': slice(0, 800), 'I': slice(800, 1000)}

Population p occupies one contiguous index range, in the order the populations are given.
"""
import math
import re

import numpy as np

from .connectivity import (_MAX_N, CSR, Connectivity, Procedural, _check_n, _check_seed,
                           _real_array)
from . import units
from .errors import ModelError
from .result import label
from .driven import driven
from .shard import launched, shard_of, shard_table
from .sources import PoissonSource, SpikeSource, Stimulus, _list

__all__ = ["Population", "Projection", "build_network", "label"]


class Population:
    """A named group of `n` neurons of one model.

    name: an identifier (e.g. "E"). parameters: model parameter values of this population, each
    a number or an array of n values (e.g. {"I": 1.1, "refractory": 2.0}); a parameter left
    out keeps the model's value. initial_phase: None or "uniform" (uniform on [0, T_i), drawn
    from build_network's seed) or an array of n phases (time since reset, in [0, T_i)).
    model: this population's model (a model or a shipped model's name); default the network's
    (build_network's first argument). Populations of different models make a network of
    several models (sparseprop.model_set: each must have linear dynamics, e.g. lif beside
    lif_exp).
    """

    def __init__(self, name, n, parameters=None, initial_phase=None, model=None):
        self.name = _check_name(name, "Population")
        where = f"population '{self.name}'"
        self.n = _check_n(n, where)
        self.parameters = _check_parameters(parameters, where, self.n)
        self.initial_phase = _check_phase(initial_phase, where, self.n)
        self.model = _check_model(model, where) if model is not None else None

    def __repr__(self):
        extra = "".join(f", {k}={'<array>' if isinstance(v, np.ndarray) else repr(v)}"
                        for k, v in self.parameters.items())
        extra += f", model={self.model.name!r}" if self.model is not None else ""
        return f"Population({self.name!r}, n={self.n}{extra})"


class Projection:
    """Synapses from population `pre` to population `post` (names), built by `connectivity`.

    connectivity: a recipe (fixed_outdegree, fixed_indegree, erdos_renyi, from_edges with
    local indices); its weight is the projection's weight, e.g. fixed_indegree(80, 0.1,
    seed=1): every neuron of `post` receives from 80 neurons of `pre`. When pre == post there
    are no autapses (except those from_edges lists).
    port: the input port of the target model its inputs go to (a LinearModel's on_pre per
    port, e.g. "inh"); default the model's first port.
    """

    def __init__(self, pre, post, connectivity, port=None):
        self.pre = _check_name(pre, "Projection: pre")
        self.post = _check_name(post, "Projection: post")
        if not isinstance(connectivity, Connectivity):
            raise ModelError(f"projection {self.pre} -> {self.post}: connectivity must be a "
                             f"recipe such as fixed_indegree(80, 0.1, seed=1); got "
                             f"{type(connectivity).__name__}")
        if port is not None and not isinstance(port, str):
            raise ModelError(f"projection {self.pre} -> {self.post}: port = {port!r:.60}; give "
                             f"the name of one of the model's input ports, e.g. port='inh'")
        self.connectivity = connectivity
        self.port = port

    def __repr__(self):
        port = f", port={self.port!r}" if self.port is not None else ""
        return f"Projection({self.pre!r} -> {self.post!r}, {self.connectivity!r}{port})"


def build_network(model, populations, projections=(), seed=None, inputs=None,
                  initial_state=None, distributed=None):
    """One `Network` of the neurons of `populations` (a list of `Population`, and of
    `SpikeSource` / `PoissonSource`: senders without state) and `projections` (a list of
    `Projection`, each with its recipe's weight and delay), with `inputs` (PoissonInput: Poisson
    drive into a population; Stimulus: a parameter that changes at given times) and optionally
    `initial_state` ({state name: number or one value per neuron}, as Network's). `model`: the
    model of every population that does not name its own (None when each does); populations of
    different models make one network of a sparseprop.model_set.ModelSet (each model linear;
    1-D lif taken as one variable).

    Neuron population p occupies a contiguous index range, in the order given
    (`net.populations` maps each name to its slice); sources are numbered after the neurons, in
    the order given (`net.source_slices()`). Per-neuron parameter values are concatenated (a
    population without a value takes the model's; a value shared by every neuron is passed as a
    number, so a homogeneous network keeps one shared parameter row). The projections are
    merged into one CSR of n + (number of sources) rows into the n neurons, each row by delay,
    then target, with a shared weight (delay) when all weights (delays) are equal. A projection
    into a source is refused: sources receive nothing. Initial phases: each population's array,
    or uniform on [0, T_i) from `seed` (which also seeds the Poisson trains).

    distributed: True gives a sparseprop.distributed.DistributedNetwork, this process's part of
    the network when the script runs under mpiexec (each process builds the synapses into its
    own neurons only), the whole network run in windows otherwise, with the same spikes to the
    last bit whatever the number of processes (every delay must be > 0); None (default): True
    when the script runs under mpiexec.
    """
    from .network import Network

    if model is not None:
        model = _check_model(model, "build_network")
    _check_seed(seed, "build_network")
    groups = _as_list(populations, "populations", "Population, SpikeSource or PoissonSource")
    sources = [p for p in groups if isinstance(p, (SpikeSource, PoissonSource))]
    pops = _check_populations([p for p in groups if not isinstance(p, (SpikeSource,
                                                                       PoissonSource))])
    names = [p.name for p in pops]
    twice = next((s.name for s in sources if s.name in names), None)
    if twice is not None:
        raise ModelError(f"build_network: a population and a source are both named '{twice}'; "
                         f"names must be unique")
    projections = _check_projections(projections, pops, [s.name for s in sources])
    slices, n = {}, 0
    for p in pops:
        slices[p.name] = slice(n, n + p.n)
        n += p.n
    senders = n
    for s in sources:
        slices[s.name] = slice(senders, senders + s.n)
        senders += s.n
    if senders > _MAX_N:
        raise ModelError(f"build_network: the populations hold {senders} neurons and sources; "
                         f"indices are int32, so at most {_MAX_N}")
    model, parameters, member = _models(model, pops)
    driving = [s.parameter for s in _list(inputs, "inputs", "PoissonInput or Stimulus")
               if isinstance(s, Stimulus)]
    if driving:   # before the ports are numbered (a set's driven members add ports)
        model = driven(model, driving)
    post = {p.name: k for k, p in enumerate(pops)}
    for q in projections:   # a weight given with units must fit its target's on_pre
        target = model.models[member[post[q.post]]] if hasattr(model, "models") else model
        units.check_weight(getattr(target, "units", None), q.port, getattr(
            q.connectivity, "weight_dims", None), f"Projection {q.pre} -> {q.post}")
    ports = [_port(model, q, member[post[q.post]]) for q in projections]
    if not isinstance(distributed, (bool, np.bool_, type(None))):
        raise ModelError(f"build_network: distributed = {distributed!r:.60}; give True, False "
                         f"or None (True under mpiexec)")
    if initial_state is not None and any(p.initial_phase is not None for p in pops):
        raise ModelError("build_network: give initial_state or populations' initial_phase, "
                         "not both")
    shard = comm = None
    if distributed or distributed is None and launched():
        unseeded = (["build_network"] if seed is None else []) + [
            f"projection {q.pre} -> {q.post}'s recipe" for q in projections
            if "seed" in q.connectivity.params and q.connectivity.params["seed"] is None]
        if unseeded:
            raise ModelError(f"a distributed network needs fixed seeds, so that every process "
                             f"builds and draws the same network: give {unseeded[0]} a "
                             f"seed=...")
        from .distributed import communicator
        comm = communicator()
        shard = shard_of(comm.rank, comm.size, n, {p.name: slices[p.name] for p in pops})
    lo, hi = (shard.lo, shard.hi) if shard is not None else (0, n)
    csr = _merge(senders, slices, projections, ports,
                 columns=(lo, hi) if shard is not None else None)
    if shard is not None:   # rows: this process's neurons, the sources, the other neurons
        csr = shard_table(csr, shard, senders - n)
    elif sources and isinstance(csr, Procedural):
        csr = csr.placed(senders, n)
    elif sources:   # rows for every sender, targets among the neurons only
        csr = CSR(senders, csr.indptr, csr.indices, csr.weights, weight=csr.weight, n_post=n,
                  delays=csr.delays, delay=csr.delay, ports=csr.ports)
    try:
        net = Network(model, hi - lo, csr, initial_phase=None if initial_state is not None else
                      "uniform", seed=seed, parameters=_part(parameters, n, lo, hi),
                      populations={p.name: p.n for p in pops} if shard is None else None,
                      sources=sources, inputs=inputs,
                      initial_state=_part(initial_state, n, lo, hi), shard=shard)
    except ModelError as exc:
        raise ModelError(_in_context(str(exc), pops, slices)) from None
    if any(p.initial_phase is not None for p in pops):
        phase = net.phase.copy()          # the others keep their uniform draws from `seed`
        for p in pops:
            a, b = max(lo, slices[p.name].start), min(hi, slices[p.name].stop)
            if p.initial_phase is not None and a < b:
                start = slices[p.name].start
                phase[a - lo:b - lo] = p.initial_phase[a - start:b - start]
        try:
            net.set_state(phase, t=0.0)   # the Network checks the range of every phase
        except ModelError as exc:
            raise ModelError(_in_context(str(exc), pops, slices)) from None
    if shard is None:
        return net
    from .distributed import DistributedNetwork
    return DistributedNetwork(net, comm)


def _part(values, n, lo, hi):
    """{name: number or n values} with each array cut to neurons lo..hi-1 (None stays)."""
    if not isinstance(values, dict) or (lo, hi) == (0, n):
        return values
    return {k: v[lo:hi] if not isinstance(v, str) and np.ndim(v) == 1 and len(v) == n else v
            for k, v in values.items()}


# ----------------------------------------------------------------------------- helpers

def _check_name(name, where):
    if not isinstance(name, str) or not name.isidentifier():
        raise ModelError(f"{where}: a population name must be a non-empty identifier such as "
                         f"'E' or 'inh'; got {name!r}")
    return name


def _check_parameters(parameters, where, n):
    if parameters is None:
        return {}
    if not isinstance(parameters, dict):
        raise ModelError(f"{where}: parameters must be a dict of name -> number or array of "
                         f"{n} values; got {type(parameters).__name__}")
    values = {}
    for name, value in parameters.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ModelError(f"{where}: parameter name {name!r} is not an identifier; use "
                             f"names like 'I' or 'tau'")
        if units.is_quantity(value) or isinstance(value, (list, tuple)) and any(
                units.is_quantity(v) for v in value):
            values[name] = value      # with units: converted against the model at build time
            continue
        if isinstance(value, (bool, np.bool_)) or isinstance(value, str):
            raise ModelError(f"{where}: parameter '{name}' = {value!r} is not a number; give a "
                             f"number or {n} numbers, one per neuron")
        array = _real_array(value, f"{where}: parameter '{name}' (a number or {n} numbers, one "
                                   f"per neuron)")
        if array.ndim == 0:
            number = float(array)
            if not math.isfinite(number):
                raise ModelError(f"{where}: parameter '{name}' = {number} is not finite")
            values[name] = number
            continue
        if array.shape != (n,):
            raise ModelError(f"{where}: parameter '{name}' has shape {array.shape}; give a "
                             f"number or {n} values, one per neuron of the population")
        bad = np.flatnonzero(~np.isfinite(array))
        if bad.size:
            raise ModelError(f"{where}: parameter '{name}'[{bad[0]}] = {array[bad[0]]} is not "
                             f"finite")
        array.flags.writeable = False
        values[name] = array
    return values


def _check_phase(initial_phase, where, n):
    if initial_phase is None:
        return None
    if isinstance(initial_phase, str):
        if initial_phase == "uniform":
            return None
        raise ModelError(f"{where}: initial_phase '{initial_phase}' is not known; use None, "
                         f"'uniform' or an array of {n} phases in [0, T)")
    phase = _real_array(initial_phase, f"{where}: initial_phase (None, 'uniform' or {n} "
                                       f"phases)")
    if phase.shape != (n,):
        raise ModelError(f"{where}: initial_phase has shape {phase.shape}; give {n} phases, "
                         f"one per neuron of the population")
    bad = np.flatnonzero(~np.isfinite(phase))
    if bad.size:
        raise ModelError(f"{where}: initial_phase[{bad[0]}] = {phase[bad[0]]} is not finite")
    phase.flags.writeable = False
    return phase


def _as_list(items, what, kind):
    if isinstance(items, (Population, SpikeSource, PoissonSource, Projection)):
        return [items]
    try:
        return list(items)
    except TypeError:
        raise ModelError(f"build_network: {what} must be a list of {kind}; got "
                         f"{type(items).__name__}") from None


def _check_populations(populations):
    pops = list(populations)
    if not pops:
        raise ModelError("build_network: the population list is empty; give at least one "
                         "Population, e.g. [Population('E', 800), Population('I', 200)]")
    seen = set()
    for k, p in enumerate(pops):
        if not isinstance(p, Population):
            raise ModelError(f"build_network: populations must be Population objects; got "
                             f"{type(p).__name__} ({p!r:.60})")
        # checked again: its attributes may have been changed since it was made
        pops[k] = p = Population(p.name, p.n, p.parameters, p.initial_phase,
                                 getattr(p, "model", None))
        if p.name in seen:
            raise ModelError(f"build_network: two populations are named '{p.name}'; names "
                             f"must be unique")
        seen.add(p.name)
    return pops


def _check_projections(projections, pops, sources=()):
    if projections is None:
        return []
    projections = _as_list(projections, "projections", "Projection")
    names = [p.name for p in pops]
    for k, q in enumerate(projections):
        if not isinstance(q, Projection):
            raise ModelError(f"build_network: projections must be Projection objects; got "
                             f"{type(q).__name__} ({q!r:.60})")
        projections[k] = q = Projection(q.pre, q.post, q.connectivity,   # changed since made?
                                        getattr(q, "port", None))
        if q.post in sources:
            raise ModelError(f"projection {q.pre} -> {q.post}: '{q.post}' is a source; sources "
                             f"send spikes and receive nothing, so a projection must end in a "
                             f"Population ({', '.join(names)})")
        for role, name in (("pre", q.pre), ("post", q.post)):
            if name not in names and name not in sources:
                known = ", ".join(names + list(sources))
                raise ModelError(f"projection {q.pre} -> {q.post}: {role} population '{name}' "
                                 f"is not one of the populations ({known})")
    return projections


def _check_model(model, where):
    """A model object (a shipped model's name loaded), or ModelError."""
    from .library import load_model
    from .linear_model import LinearModel
    from .model import NeuronModel
    if isinstance(model, str):
        model = load_model(model)
    if not isinstance(model, (NeuronModel, LinearModel)):
        raise ModelError(f"{where}: model must be a NeuronModel, a LinearModel or a shipped "
                         f"model's name such as 'lif'; got {type(model).__name__}")
    return model


def _models(model, pops):
    """(the network's model, its parameters, each population's member index): the one model
    of every population, or a ModelSet of their distinct models. Parameters: per population,
    its values, else its own model's (a ModelSet: `model`, every parameter of the set, a
    population's model lacking one takes the set's value, unused)."""
    from .model_set import MODEL, ModelSet, union
    own = [p.model if p.model is not None else model for p in pops]
    missing = next((p.name for p, m in zip(pops, own) if m is None), None)
    if missing is not None:
        raise ModelError(f"build_network: population '{missing}' has no model; give "
                         f"build_network a model or the population one (Population(..., "
                         f"model='lif'))")
    distinct, member = [], []
    for m in own:
        spec = m.spec()
        k = next((k for k, d in enumerate(distinct) if d.spec() == spec), None)
        if k is None:
            k = len(distinct)
            distinct.append(m)
        member.append(k)
    for p, m in zip(pops, own):
        unknown = [k for k in p.parameters if k not in m.parameters and k != "refractory"]
        if unknown:
            raise ModelError(f"population '{p.name}' gives parameter '{unknown[0]}', which "
                             f"{m.name} does not have (its parameters are "
                             f"{', '.join(m.parameters) or 'none'}, and refractory)")
    # values given with units, as plain numbers (each checked against its model's dimensions)
    pops = [_Values(p.n, units.parameter_values(m, p.parameters, f"population '{p.name}'"))
            for p, m in zip(pops, own)]
    if len(distinct) == 1:
        net = model if model is not None and model.spec() == distinct[0].spec() else distinct[0]
        names = union([list(p.parameters) for p in pops]
                       + [[k for k, v in _model_values(m).items()
                           if _model_values(net).get(k) != v] for m in own])
        return net, _merge_parameters(names, pops, own), member
    net = ModelSet(distinct)
    names = list(net.parameters) + ["refractory"]
    given = [dict(p.parameters, **{MODEL: float(k)}) for p, k in zip(pops, member)]
    filler = dict(net.parameters, refractory=0.0)
    merged = _merge_parameters(names, [_Values(p.n, g) for p, g in zip(pops, given)],
                               own, filler)
    return net, merged, member


class _Values:
    """A population's size and values (as _merge_parameters reads them)."""

    def __init__(self, n, parameters):
        self.n, self.parameters = n, parameters


def _port(model, projection, member=0):
    """The index of a projection's port among the model's ports (ModelError if it has none
    of that name); a ModelSet: the port of member `member`, the target population's model."""
    if hasattr(model, "models"):
        try:
            return model.port_index(projection.port, member)
        except ModelError as exc:
            raise ModelError(f"projection {projection.pre} -> {projection.post}: {exc}") from None
    ports = getattr(model, "ports", ("pre",))
    if projection.port is None:
        return 0
    if projection.port not in ports:
        raise ModelError(f"projection {projection.pre} -> {projection.post}: port "
                         f"'{projection.port}' is not an input port of {model.name}; its ports "
                         f"are {', '.join(ports)}" + (
                             "" if hasattr(model, "ports") else
                             " (a 1-D model has one input: leave port out)"))
    return ports.index(projection.port)


def _merge(n, slices, projections, port_of, columns=None):
    """One CSR of all projections: global indices, rows by presynaptic neuron, targets
    ascending within a row (several synapses between one pair keep their projection order).
    columns: (lo, hi), only the synapses into neurons lo..hi-1 (indices lo.. become 0..: a
    process's part of a distributed network); default all.
    Delays are merged like weights: one shared delay when every projection has the same shared
    delay (0.0 without projections), else per-synapse delays, and then each row is sorted by
    delay (stably: equal delays keep the order above), as every CSR with per-synapse delays.
    Each projection's rows are copied into place (no global sort): about nnz x 24 bytes of
    working memory beside the result. port_of: each projection's port index (per-synapse
    ports when any is not 0)."""
    lo, hi = columns if columns is not None else (0, n)
    blocks, drawn = [], []   # drawn: the projections with a Procedural table
    for q, port in zip(projections, port_of):
        a, b = slices[q.pre], slices[q.post]
        c0, c1 = max(lo, b.start) - b.start, min(hi, b.stop) - b.start   # its columns here
        if c0 >= c1:
            continue
        n_pre, n_post = a.stop - a.start, b.stop - b.start
        restrict = (c0, c1) != (0, n_post)
        # only these columns are built (never the whole table), except by a subclass's own
        # build_between (it may not take columns): the whole table, then its columns
        own = type(q.connectivity).build_between is not Connectivity.build_between
        part = {"columns": (c0, c1)} if restrict and not own else {}
        try:
            block = q.connectivity.build_between(n_pre, n_post, q.pre == q.post, **part)
        except ModelError as exc:
            raise ModelError(f"projection {q.pre} -> {q.post}: {exc}") from None
        width = c1 - c0 if part else n_post
        if not (isinstance(block, CSR) and block.n == n_pre
                and block.n_post == width):   # a subclass's own build_between
            raise ModelError(f"projection {q.pre} -> {q.post}: its recipe's build_between gave "
                             f"{block!r:.60}, not a CSR from {n_pre} to {width} neurons")
        if restrict and own:
            block = block.columns(c0, c1)
        if isinstance(block, Procedural):
            drawn.append(q)
        blocks.append((a, slice(b.start + c0 - lo, b.start + c1 - lo), block, port))
    if drawn and columns is not None:
        raise ModelError(f"projection {drawn[0].pre} -> {drawn[0].post} is procedural: a "
                         f"distributed network's processes each store their part of the "
                         f"table; give its recipe procedural=False")
    if drawn and len(projections) > 1:
        q = drawn[0]
        raise ModelError(f"projection {q.pre} -> {q.post} is procedural: a procedural table "
                         f"must be the network's only projection (its rows are drawn, so they "
                         f"cannot be merged with other rows); give its recipe "
                         f"procedural=False, or drive the network with PoissonInput")
    if drawn:
        a, b, block, port = blocks[0]
        if port:
            raise ModelError(f"projection {drawn[0].pre} -> {drawn[0].post} is procedural: it "
                             f"reaches the first input port only; give procedural=False")
        return block.placed(n, n, a.start, b.start)
    # within a row, targets ascend by post population (laid out in order), then by projection
    blocks.sort(key=lambda item: item[1].start)           # stable: projection order kept
    degree = np.zeros(n, np.int64)
    for a, _, block, _ in blocks:
        degree[a] += block.out_degree()
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(degree, out=indptr[1:])
    nnz = int(indptr[-1])
    indices = np.empty(nnz, np.int32)
    shared = {block.weight for _, _, block, _ in blocks if block.weights is None}
    per_synapse = any(block.weights is not None for _, _, block, _ in blocks) or len(shared) > 1
    weights = np.empty(nnz) if per_synapse else None
    shared_delay = {block.delay for _, _, block, _ in blocks if block.delays is None}
    per_synapse_delay = (any(block.delays is not None for _, _, block, _ in blocks)
                         or len(shared_delay) > 1)
    delays = np.empty(nnz) if per_synapse_delay else None
    ports = np.zeros(nnz, np.uint8) if any(port for *_, port in blocks) else None
    filled = indptr[:-1].copy()                           # next free slot of every row
    for a, b, block, port in blocks:
        out_degree = block.out_degree()
        w, d = (block.weight_array() if per_synapse else None,
                block.delay_array() if per_synapse_delay else None)
        for r0, r1 in _row_chunks(block.indptr):   # (bounded working memory)
            s0, s1 = block.indptr[r0], block.indptr[r1]
            rows = np.arange(a.start + r0, a.start + r1)
            place = np.repeat(filled[rows] - block.indptr[r0:r1], out_degree[r0:r1]) \
                + np.arange(s0, s1)
            indices[place] = block.indices[s0:s1] + b.start
            if w is not None:
                weights[place] = w[s0:s1]
            if d is not None:
                delays[place] = d[s0:s1]
            if ports is not None:
                ports[place] = port
            filled[rows] += out_degree[r0:r1]
    if len(blocks) > len({(a.start, b.start) for a, b, _, _ in blocks}):
        _sort_rows(indptr, indices, weights, delays, ports)   # two projections share a pair
    weight = {"weights": weights} if per_synapse else {
        "weight": shared.pop() if shared else 0.0}
    delay = {"delays": delays} if per_synapse_delay else {
        "delay": shared_delay.pop() if shared_delay else 0.0}
    return CSR(n, indptr, indices, **weight, **delay, ports=ports,   # sorts rows by delay
               n_post=hi - lo if columns is not None else None)


def _row_chunks(indptr, synapses=1 << 22):
    """(first row, end row) pieces of a CSR's rows, each of about `synapses` synapses (one
    row at least)."""
    n = indptr.size - 1
    r0 = 0
    while r0 < n:
        r1 = int(np.searchsorted(indptr, indptr[r0] + synapses, side="right")) - 1
        r1 = min(n, max(r1, r0 + 1))
        yield r0, r1
        r0 = r1


def _sort_rows(indptr, indices, weights, delays=None, ports=None):
    """Sort every row's targets ascending (stable: equal targets keep their order), in place;
    with `delays`, sort every row by delay, then target (the order CSR keeps), permuting
    weights, delays and ports along."""
    row = np.repeat(np.arange(indptr.size - 1), np.diff(indptr))
    order = np.lexsort((indices, row) if delays is None else (indices, delays, row))
    indices[:] = indices[order]
    if weights is not None:
        weights[:] = weights[order]
    if delays is not None:
        delays[:] = delays[order]
    if ports is not None:
        ports[:] = ports[order]


def _merge_parameters(names, pops, models, filler=None):
    """name -> number (one value for every neuron) or concatenated array, for `names`: each
    population's value, else its model's (models: one per population), else filler[name]."""
    merged = {}
    for name in names:
        parts = []
        for p, m in zip(pops, models):
            own = _model_values(m)
            value = p.parameters[name] if name in p.parameters else own[name] \
                if name in own else filler[name]
            parts.append(np.broadcast_to(np.asarray(value, dtype=np.float64), (p.n,)))
        column = np.concatenate(parts)
        merged[name] = float(column[0]) if np.all(column == column[0]) else column
    return merged


def _model_values(model):
    """The model's values: its parameters and its refractory period."""
    return dict(model.parameters, refractory=model.refractory)


def _in_context(text, pops, slices):
    """A Network error rewritten to name the population it concerns."""
    for p in pops:
        named = [k for k in p.parameters if f"'{k}'" in text]
        if named:
            return f"population '{p.name}' (parameter '{named[0]}'): {text}"
    match = re.search(r"\bneuron (\d+)\b|\binitial_phase\[(\d+)\]", text)
    if match:
        index = int(match.group(1) or match.group(2))
        for name, s in slices.items():
            if s.start <= index < s.stop:
                return (f"population '{name}', its neuron {index - s.start} (network neuron "
                        f"{index}): {text}")
    return text
