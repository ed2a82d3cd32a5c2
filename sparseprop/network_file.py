"""Network description files (TOML) for `sparseprop simulate --network FILE`: a model,
populations, sources, projections, Poisson inputs, stimuli, an initial state, what to record
and how long to run, every value a number or a quantity with units ("1.5 ms", "0.1 mV",
"20 Hz").

    model = "lif"                  # a shipped model or a model file (TOML, units allowed)
    duration = "1000 ms"
    seed = 1
    [[populations]]
    name = "E"
    n = 800
    parameters = { I = 0.9, refractory = "2 ms" }
    [[sources]]                    # kind = "poisson" (n, rate) or "spikes" (n, indices, times)
    kind = "poisson"
    name = "noise"
    n = 50
    rate = "20 Hz"
    [[projections]]                # rule: fixed_outdegree / fixed_indegree (k), erdos_renyi (p)
    pre = "E"
    post = "E"
    rule = "fixed_indegree"
    k = 40
    weight = 0.05
    delay = "1.5 ms"
    seed = 2                       # (procedural = true: fixed_outdegree's targets drawn)
    [[inputs]]                     # PoissonInput: n trains of rate into every neuron of target
    target = "E"
    n = 100
    rate = "10 Hz"
    weight = 0.02
    [[stimuli]]                    # Stimulus: parameter of target's neurons from times[k] on
    target = "E"
    parameter = "I"
    times = ["100 ms", "300 ms"]
    values = [1.2, 0.9]
    [initial_state]
    v = 0.5
    [record]                       # a state monitor (net.run's record=)
    v = [0, 1, 2]
    dt = "0.1 ms"
"""
from .errors import ModelError
from .files import check_fields, read_toml

_FIELDS = {"model", "duration", "seed", "populations", "sources", "projections", "inputs",
           "stimuli", "initial_state", "record", "engine", "max_spikes"}
_POPULATION = {"name", "n", "parameters", "model"}
_SOURCE = {"kind", "name", "n", "rate", "indices", "times"}
_PROJECTION = {"pre", "post", "rule", "k", "p", "weight", "delay", "seed", "port", "procedural"}
_INPUT = {"target", "n", "rate", "weight"}
_STIMULUS = {"target", "parameter", "times", "values"}
_RULES = {"fixed_outdegree": "k", "fixed_indegree": "k", "erdos_renyi": "p"}
_MAX_BYTES = 1 << 20


def _list(table, name, where):
    items = table.get(name, [])
    if not isinstance(items, list):
        raise ModelError(f"'{name}' in {where} must be a list of tables ([[{name}]] blocks)")
    return items


def read_network_file(path):
    """(Network, run arguments: duration, max_spikes, engine, record) from a network file;
    ModelError naming the file and the field for anything that does not fit."""
    from . import connectivity, sources
    from .library import load_model
    from .population import Population, Projection, build_network
    where = str(path)
    table = read_toml(path, f"network file {where}", _MAX_BYTES,
                      "list populations and rules, not synapses")
    check_fields(table, f"network file {where}", _FIELDS, ("model", "populations"))
    if not isinstance(table["model"], str):
        raise ModelError(f"'model' in {where} must be a shipped model's name or a model file's "
                         f"path (a string)")
    model = load_model(table["model"])
    groups = []
    for k, p in enumerate(_list(table, "populations", where)):
        p = check_fields(p, f"populations[{k}] of {where}", _POPULATION, ("name", "n"))
        groups.append(Population(p["name"], p["n"], parameters=p.get("parameters"),
                                 model=load_model(p["model"]) if "model" in p else None))
    for k, s in enumerate(_list(table, "sources", where)):
        s = check_fields(s, f"sources[{k}] of {where}", _SOURCE, ("kind", "name", "n"))
        if s["kind"] == "poisson":
            groups.append(sources.PoissonSource(s["name"], s["n"], s.get("rate")))
        elif s["kind"] == "spikes":
            groups.append(sources.SpikeSource(s["name"], s["n"], s.get("indices", []),
                                              s.get("times", [])))
        else:
            raise ModelError(f"sources[{k}] of {where}: kind {s['kind']!r:.40} is not known; "
                             f"use 'poisson' or 'spikes'")
    projections = []
    for k, q in enumerate(_list(table, "projections", where)):
        q = check_fields(q, f"projections[{k}] of {where}", _PROJECTION,
                   ("pre", "post", "rule", "weight"))
        rule = q["rule"]
        if rule not in _RULES:
            raise ModelError(f"projections[{k}] of {where}: rule {rule!r:.40} is not known; use "
                             f"one of {', '.join(_RULES)}")
        size = _RULES[rule]
        if size not in q:
            raise ModelError(f"projections[{k}] of {where}: rule {rule} needs '{size}'")
        recipe = getattr(connectivity, rule)(q[size], q["weight"], seed=q.get("seed"),
                                             delay=q.get("delay", 0.0),
                                             procedural=q.get("procedural", False))
        projections.append(Projection(q["pre"], q["post"], recipe, port=q.get("port")))
    inputs = []
    for k, i in enumerate(_list(table, "inputs", where)):
        i = check_fields(i, f"inputs[{k}] of {where}", _INPUT, ("n", "rate", "weight"))
        inputs.append(sources.PoissonInput(i.get("target"), i["n"], i["rate"], i["weight"]))
    for k, i in enumerate(_list(table, "stimuli", where)):
        i = check_fields(i, f"stimuli[{k}] of {where}", _STIMULUS, ("parameter", "times",
                                                                     "values"))
        inputs.append(sources.Stimulus(i.get("target"), i["parameter"], i["times"], i["values"]))
    state = table.get("initial_state")
    if state is not None and not isinstance(state, dict):
        raise ModelError(f"'initial_state' in {where} must be a table: [initial_state] then "
                         f"v = value")
    net = build_network(model, groups, projections, seed=table.get("seed"), inputs=inputs,
                        initial_state=state)
    record = table.get("record")
    if record is not None and not isinstance(record, dict):
        raise ModelError(f"'record' in {where} must be a table: [record] then v = [0, 1] and "
                         f"dt = \"0.1 ms\"")
    run = {"duration": table.get("duration"), "max_spikes": table.get("max_spikes"),
           "engine": table.get("engine", "auto"), "record": record}
    if run["duration"] is None and run["max_spikes"] is None:
        raise ModelError(f"network file {where} says neither duration nor max_spikes; give "
                         f"duration = \"1000 ms\"")
    return net, run


__all__ = ["read_network_file"]
