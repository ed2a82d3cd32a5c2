"""ModelSet: the neuron models of one network whose populations use different models (an
lif_exp excitatory population beside an lif inhibitory one; Brian2 users write two
NeuronGroups). Every member must have linear free dynamics (x' = A x + b): a 1-D model such as
lif is taken as a LinearModel of one variable. The set has one kernel module: each member's
kernels, and kernels that call the member of the neuron's model (the parameter `model`, column
0 of every parameter row), so the linear engine runs the network unchanged
(sparseprop.codegen.render_linear.render_set_module). A network of one model never comes here.

Layout of the set's rows: the state variables are the union of the members' (by name, in order
of first appearance: `v` of lif and `v` of lif_exp share a column, net.state['v']); the
parameters are `model`, then the union of the members' parameters (by name). Input ports: port 0
is each member's first port (what a Projection without port= and a PoissonInput use), then one
index per port name of any member.
"""
import numpy as np

from . import compile as pipeline
from .codegen.render_linear import Layout
from .errors import ModelError

MODEL = "model"   # the parameter holding a neuron's model index


def as_linear(model):
    """`model` as a LinearModel (a 1-D model with linear dynamics converted), or ModelError."""
    from .linear_model import LinearModel
    if isinstance(model, LinearModel):
        return model
    try:
        linear = LinearModel(model.equations, model.threshold, model.reset, model.on_pre,
                             model.parameters, model.name, model.refractory)
        linear.units = model.units   # (what was given with units, for networks' checks)
        return linear
    except ModelError as exc:
        raise ModelError(f"{model.name} cannot share a network with other models: a network of "
                         f"several models needs each to have linear dynamics (x' = A x + b), "
                         f"and {model.name} does not ({exc})") from None


def merged_units(members):
    """The dimensions of the variables, parameters and weights of the members (None when none
    is declared with units); ModelError when two members give one name different ones."""
    from .units import NONE, ModelUnits, describe
    if all(getattr(m, "units", None) is None for m in members):
        return None
    merged = ModelUnits("", "", "", None, {})
    for m in members:
        u = m.units
        kinds = ((merged.variables, u.variables if u else {}, m.variables, "variable"),
                 (merged.parameter_dims, u.parameter_dims if u else {}, m.parameters,
                  "parameter"),
                 (merged.weight, u.weight if u else {}, m.ports, "weight of port"))
        for table, dims, names, kind in kinds:
            for name in names:
                d = dims.get(name, NONE)
                if table.setdefault(name, d) != d:
                    raise ModelError(f"the {kind} '{name}' is {describe(table[name])} in one "
                                     f"model and {describe(d)} in {m.name}; models in one "
                                     f"network must agree on their units")
    return merged


class ModelSet(pipeline.Pipeline):
    """The distinct models of a network (LinearModels, or 1-D models with linear dynamics).

    models: the members, in order (their index is the parameter `model` of their neurons).
    """

    def __init__(self, models):
        members = [as_linear(m) for m in models]
        if len(members) < 2:
            raise ModelError("a ModelSet holds two models or more; a network of one model "
                             "takes that model itself")
        specs = [m.spec() for m in members]
        if len(set(specs)) < len(specs):
            raise ModelError(f"the models {', '.join(m.name for m in members)} are not distinct "
                             f"(two have the same equations): give each once")
        for m in members:
            if MODEL in m.parameters:
                raise ModelError(f"{m.name} has a parameter named '{MODEL}', which a network of "
                                 f"several models uses for each neuron's model; rename it")
        self.models = tuple(members)
        self.name = "+".join(m.name for m in members)
        self.variables = union(m.variables for m in members)
        names = union(m.parameters for m in members)
        self.parameters = {MODEL: 0.0}
        for name in names:
            self.parameters[name] = next(float(m.parameters[name]) for m in members
                                         if name in m.parameters)
        self.port_names = union(m.ports for m in members)
        self.ports = ("first",) + self.port_names
        self.refractory = members[0].refractory
        self.units = merged_units(members)

    # -- where each member's neurons keep their values ----------------------------------------
    def columns(self, k):
        """The positions of member k's variables in the set's state rows."""
        return tuple(self.variables.index(v) for v in self.models[k].variables)

    def layouts(self, derivations):
        """One render_linear.Layout per member (its kernels named m<k>_...)."""
        names = tuple(self.parameters)
        degree = max(d.max_degree for d in derivations)
        out = []
        for k, (m, d) in enumerate(zip(self.models, derivations)):
            ports = tuple(((0,) if p == 0 else ()) + (1 + self.port_names.index(name),)
                          for p, name in enumerate(d.jumps))
            out.append(Layout(f"m{k}_", self.columns(k),
                              tuple(names.index(p) for p in d.parameters),
                              len(self.variables), len(names), degree, ports))
        return out

    def port_index(self, port, k):
        """The set's index of input port `port` (a name, or None: the first) of member k;
        ModelError if member k has no such port."""
        m = self.models[k]
        if port is None:
            return 0
        if port not in m.ports:
            raise ModelError(f"port '{port}' is not an input port of {m.name}; its ports are "
                             f"{', '.join(m.ports)}")
        return 1 + self.port_names.index(port)

    def accepts(self):
        """(members, ports) booleans: whether member k has the set's port p."""
        table = np.zeros((len(self.models), len(self.ports)), dtype=bool)
        table[:, 0] = True
        for k, m in enumerate(self.models):
            for name in m.ports:
                table[k, 1 + self.port_names.index(name)] = True
        return table

    def has_variable(self, which):
        """(n, variables) booleans: whether the model of each neuron (model indices `which`)
        has each variable of the set."""
        table = np.zeros((len(self.models), len(self.variables)), dtype=bool)
        for k in range(len(self.models)):
            table[k, list(self.columns(k))] = True
        return table[np.asarray(which, dtype=np.int64)]

    def uniform_state(self, values, u):
        """Default initial states (n, variables) of the set's rows: each neuron's as its
        model's uniform_state (values: parameter name -> n values, `model` among them)."""
        which = np.asarray(values[MODEL], dtype=np.int64)
        x = np.zeros((which.size, len(self.variables)))
        for k, m in enumerate(self.models):
            rows = np.flatnonzero(which == k)
            if rows.size:
                own = {p: np.asarray(values[p])[rows] for p in m.parameters}
                x[np.ix_(rows, self.columns(k))] = m.uniform_state(own, u[rows])
        return x

    # -- the pipeline ---------------------------------------------------------------------------
    def derive(self, timeout=None):
        """The members' LinearDerivations (each cached on its model)."""
        return tuple(m.derive() for m in self.models)

    def explain(self):
        """Each member's derivation as text."""
        return "\n\n".join(m.explain() for m in self.models)

    def spec(self):
        """A canonical text of everything the generated code depends on (for cache keys)."""
        return "set|" + "||".join(m.spec() for m in self.models)

    def __repr__(self):
        return f"ModelSet({', '.join(m.name for m in self.models)})"


def union(groups):
    """The names of several sequences, each once, in order of first appearance."""
    out = []
    for group in groups:
        out += [name for name in group if name not in out]
    return tuple(out)


__all__ = ["ModelSet", "as_linear", "MODEL"]
