"""Saving whole networks: `net.save(path)` and `load_network(path)`.

One .npz file (numpy arrays, no pickles) keeps the definition, the model as its equations text
(a NeuronModel, a LinearModel or the members of a ModelSet), parameters (per neuron or shared,
refractory periods included), synapses (weights, delays, ports), populations, sources,
Poisson inputs and stimuli (with a driven parameter's value before its first change), and the
state: the current one (time, phases or state rows, refractory ends, spikes in flight, every
input stream's position and random generator) and the states kept by `net.store(name)`. A
loaded network (sparseprop.network.load_network) continues exactly as the saved one would
have: the same spikes, to the last bit. The file says which format it is; a file of a newer
format is refused.
"""
import json
import zipfile

import numpy as np

from .errors import ModelError
from .files import file_path, write_atomically

FORMAT = 3                     # the newest format this version reads
# 1: no stimuli. 2: stimuli (inputs of kind "stimulus") and driven parameters' start values;
# a file without them is written as format 1, which sparseprop before stimuli also reads.
# 3: a procedural synapse table (its draw in the header, no indptr and indices).
KIND = "sparseprop network"
_STATE = ("phase", "sub_state", "t_free", "next_input", "input_who", "input_ptr", "input_rng")
_QUEUE = ("time", "seq", "syn", "sender", "sent")


def _model_spec(model):
    """The model as plain data (JSON): its definition text and parameter values."""
    from .linear_model import LinearModel
    from .model_set import ModelSet
    if isinstance(model, ModelSet):
        return {"kind": "set", "models": [_model_spec(m) for m in model.models]}
    spec = {"kind": "linear" if isinstance(model, LinearModel) else "neuron",
            "equations": model.equations, "threshold": model.threshold, "reset": model.reset,
            "on_pre": model.on_pre, "parameters": dict(model.parameters), "name": model.name,
            "refractory": model.refractory}
    if not isinstance(model, LinearModel):
        spec["method"] = model.method
    return spec


def _model(spec):
    """The model of a _model_spec."""
    from .linear_model import LinearModel
    from .model import NeuronModel
    from .model_set import ModelSet
    kind = spec.get("kind")
    if kind == "set":
        return ModelSet([_model(m) for m in spec["models"]])
    args = (spec["equations"], spec["threshold"], spec["reset"], spec["on_pre"],
            spec["parameters"], spec["name"])
    if kind == "linear":
        return LinearModel(*args, refractory=spec["refractory"])
    if kind == "neuron":
        return NeuronModel(*args, method=spec["method"], refractory=spec["refractory"])
    raise ModelError(f"unknown model kind {kind!r}")


def _sources(net):
    """Sources, Poisson inputs and stimuli as plain data, and the arrays of SpikeSources
    (spikes) and stimuli (times, values)."""
    from .sources import SpikeSource
    specs, arrays = [], {}
    for k, s in enumerate(net.sources):
        if isinstance(s, SpikeSource):
            specs.append({"kind": "spikes", "name": s.name, "n": s.n})
            arrays[f"source_{k}_indices"], arrays[f"source_{k}_times"] = s.indices, s.times
        else:
            specs.append({"kind": "poisson", "name": s.name, "n": s.n, "rate": s.rate})
    inputs = [{"target": p.target, "n": p.n, "rate": p.rate, "weight": p.weight}
              for p in net.poisson_inputs]
    for k, (s, (_, _, times, values)) in enumerate(zip(net.stimuli, net._steps)):
        inputs.append({"kind": "stimulus", "target": s.target, "parameter": s.parameter})
        arrays[f"stimulus_{k}_times"] = times
        arrays[f"stimulus_{k}_values"] = values[:, 0] if s.shared else values
    return specs, inputs, arrays


def _state_arrays(prefix, state):
    arrays = {f"{prefix}t": np.float64(state.t), f"{prefix}emitted": np.int64(state.emitted)}
    for name in _STATE:
        value = getattr(state, name)
        if value is not None:
            arrays[prefix + name] = value
    for name in _QUEUE:
        arrays[f"{prefix}queue_{name}"] = getattr(state.queue, name)
    return arrays


def save_network(net, path):
    """Write `net` (a Network) to `path` (.npz) atomically; see the module docstring."""
    from .connectivity import Procedural
    csr = net.csr.validate()
    net._check_state(net.current)
    sources, inputs, arrays = _sources(net)
    drawn = isinstance(csr, Procedural)   # (its draw, not its synapses: format 3)
    header = {"kind": KIND, "format": 3 if drawn else 2 if net.stimuli else 1,
              "model": _model_spec(net.model), "n": net.n,
              "populations": {k: [s.start, s.stop] for k, s in (net.populations or {}).items()},
              "sources": sources, "inputs": inputs, "stored": list(net._stored),
              "driven": list(net._driven_start),
              "shared": {"weight": csr.weights is None, "delay": csr.delays is None,
                         "ports": csr.ports is None},
              "weight": None if csr.weights is not None else float(csr.weight),
              "delay": None if csr.delays is not None else float(csr.delay),
              "n_post": csr.n_post,
              "procedural": [csr.k, csr.key, csr.pre_lo, csr.pre_hi, csr.post_lo,
                             csr.candidates, csr.same] if drawn else None}
    arrays.update(header=np.array(json.dumps(header)), table=net._table,
                  stream_rng=net._streams.rng)
    if not drawn:
        arrays.update(indptr=csr.indptr, indices=csr.indices)
    for name in ("weights", "delays", "ports"):
        if getattr(csr, name) is not None:
            arrays[name] = getattr(csr, name)
    for p, start in net._driven_start.items():   # a driven parameter's value before changes
        arrays[f"driven_{p}"] = np.broadcast_to(np.asarray(start, np.float64), (net.n,))
    arrays.update(_state_arrays("current_", net.current))
    for k, name in enumerate(net._stored):
        arrays.update(_state_arrays(f"stored_{k}_", net._stored[name]))
    return write_atomically(path, "save the network to",
                            lambda handle: np.savez(handle, **arrays))


def _read(path):
    """(header, arrays) of a network file; ModelError for anything that is not one."""
    try:
        special = path.exists() and not path.is_file()
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the network file {path}: {exc}") from None
    if special:
        raise ModelError(f"cannot read the network file {path}: it is not a regular file; give "
                         f"an .npz file written by net.save")
    try:
        with np.load(path, allow_pickle=False) as data:
            if not hasattr(data, "files") or "header" not in data.files:
                raise ModelError(f"{path} is not a sparseprop network (an .npz written by "
                                 f"net.save): it has no header")
            arrays = {f: data[f] for f in data.files}
    except ModelError:
        raise
    except ValueError:   # (numpy's text for bytes that are no .npz suggests allow_pickle)
        raise ModelError(f"cannot read the network file {path}: it is not an .npz file written "
                         f"by net.save") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelError(f"cannot read the network file {path}: {exc}") from None
    try:
        header = json.loads(str(arrays.pop("header")))
        kind, version = header["kind"], header["format"]
    except (ValueError, TypeError, KeyError):
        raise ModelError(f"{path} is not a sparseprop network: its header is damaged") from None
    if kind != KIND:
        raise ModelError(f"{path} is not a sparseprop network (it says {kind!r:.40})")
    if not isinstance(version, int) or version > FORMAT:
        raise ModelError(f"{path} is a network file of format {version!r}, newer than this "
                         f"sparseprop ({FORMAT}) reads; upgrade sparseprop to load it")
    return header, arrays


def _state(arrays, prefix):
    from .engine.queue import Entries
    from .engine.state import State
    fields = {"t": float(arrays[f"{prefix}t"]), "emitted": int(arrays[f"{prefix}emitted"])}
    for name in _STATE:
        fields[name] = arrays.get(prefix + name)
    queue = Entries(*(arrays[f"{prefix}queue_{name}"] for name in _QUEUE))
    return State(queue=queue, **fields)


def load_parts(path):
    """What a network file holds, checked: (the keyword arguments of Network(...), and
    restore(net), which puts the saved input streams and states into the network built from
    them); sparseprop.network.load_network builds it. ModelError for a file that is not one,
    is damaged, or was written by a newer format."""
    from .connectivity import CSR, Procedural
    from .sources import PoissonInput, PoissonSource, SpikeSource, Stimulus
    path = file_path(path, "read a network from")
    header, arrays = _read(path)
    with _inconsistent(path):
        model = _model(header["model"])
        n = int(header["n"])
        shared = header["shared"]
        senders = n + sum(s["n"] for s in header["sources"])
        if header.get("procedural"):   # (format 3)
            csr = Procedural(senders, header["n_post"], *header["procedural"],
                             weight=header["weight"], delay=header["delay"])
        else:
            csr = CSR(senders, arrays["indptr"], arrays["indices"],
                      weights=None if shared["weight"] else arrays["weights"],
                      weight=header["weight"] if shared["weight"] else np.nan,
                      n_post=header["n_post"],
                      delays=None if shared["delay"] else arrays["delays"],
                      delay=header["delay"] if shared["delay"] else 0.0,
                      ports=None if shared["ports"] else arrays["ports"])
        sources = [SpikeSource(s["name"], s["n"], arrays[f"source_{k}_indices"],
                               arrays[f"source_{k}_times"]) if s["kind"] == "spikes" else
                   PoissonSource(s["name"], s["n"], s["rate"])
                   for k, s in enumerate(header["sources"])]
        stimuli = [p for p in header["inputs"] if p.get("kind") == "stimulus"]
        inputs = [PoissonInput(p["target"], p["n"], p["rate"], p["weight"])
                  for p in header["inputs"] if p.get("kind") != "stimulus"] + [
            Stimulus(p["target"], p["parameter"], arrays[f"stimulus_{k}_times"],
                     arrays[f"stimulus_{k}_values"]) for k, p in enumerate(stimuli)]
        bounds = header["populations"]
        populations = {name: b - a for name, (a, b) in bounds.items()} or None
        table = arrays["table"]
        names = list(model.compile().parameter_names) + ["refractory"]
        if table.ndim != 2 or table.shape[1] != len(names) + 1 or table.shape[0] not in (1, n):
            raise ModelError("its parameter table does not fit the model")
        parameters = {p: table[:, c].copy() if table.shape[0] > 1 else float(table[0, c])
                      for c, p in enumerate(names)}
        parameters.update({p: arrays[f"driven_{p}"] for p in header.get("driven", [])})
        current = _state(arrays, "current_")
        stored = {str(name): _state(arrays, f"stored_{k}_")
                  for k, name in enumerate(header["stored"])}

    def restore(net):
        with _inconsistent(path):
            rng = arrays["stream_rng"]
            if rng.shape != net._streams.rng.shape or rng.dtype != np.uint64:
                raise ModelError("its input streams do not fit its sources and inputs")
            net._streams = net._streams._replace(rng=rng)
            for state in [current, *stored.values()]:
                net._check_state(state)
            net.current = current
            net._stored.update(stored)
        return net

    kwargs = dict(model=model, n=n, connectivity=csr, initial_phase=None, seed=0,
                  parameters=parameters, populations=populations, sources=sources,
                  inputs=inputs)
    return kwargs, restore


class _inconsistent:
    """Turns what a damaged file makes fail into one ModelError naming the file."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None:
            return False
        if isinstance(exc, ModelError):
            raise ModelError(f"the network file {self.path} is inconsistent: {exc}") from None
        if isinstance(exc, (KeyError, TypeError, ValueError, AttributeError, IndexError)):
            raise ModelError(f"the network file {self.path} is inconsistent or damaged "
                             f"({exc!r:.80})") from None
        return False


__all__ = ["FORMAT", "load_parts", "save_network"]
