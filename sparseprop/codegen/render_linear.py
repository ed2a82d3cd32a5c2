"""Render a LinearDerivation (sparseprop.derive_linear) into one kernel module's source.

Kernels (x: a state row, its variables in VARIABLES order; params: a row of parameter values):
    flow_free(x, dt, params, out)         the state dt after x under the free flow, into out
    flow_refractory(x, dt, params, out)   the same with the clamped variables held
    threshold_terms(x, params, rates, coef)  g(x(dt)) = sum_j (sum_d coef[j, d] dt^d) e^(rates[j] dt):
                                          fills the arrays, returns the number of terms
    above(x, params)                      g(x) >= 0, from x itself (the terms' sum at dt = 0
                                          may round the other way)
    jump(x, w, port, params)              an input of weight w on port (index) changes x in place
    jump_held(x, w, port, params)         the same while refractory (clamped variables kept)
    reset(x, params)                      the reset after a spike, in place
and, for the reverse sweep (lam: the adjoint, dL/d of the map's result; out: d + 1 + m values,
dL/d its state argument, then its time step or weight, then its parameters):
    flow_free_vjp(x, dt, params, lam, out), flow_refractory_vjp(...)   through a flow
    jump_vjp(x, w, port, held, params, lam, out)                       through an input
    reset_vjp(x, params, lam, out)                                     through the reset
    threshold_grad(x, params, out)        dg/dx, 0, dg/dparams at state x
    field_free(x, params, out)            the free vector field A x + b at x
One case kernel per branch (_flow_free_0, ...), chosen by branch_free / branch_refractory.

A network of several linear models (sparseprop.model_set.ModelSet) gets one module: each
member's kernels under a prefix (m0_flow_free, ...) and a Layout that places its variables
and parameters in the set's rows (union of the variables; parameters after the model index),
and kernels of the names above that call the member's by the model index params[0]. The
engine templates are the same.
"""
from typing import NamedTuple

import sympy as sp

from .._version import __version__
from ..derive_linear import LinearDerivation
from ..engine.status import COUNTERS, STOPS
from ..equations import WEIGHT, symbol
from ..linear import TIME
from .printer import print_block, print_expression
from .render import environment

TEMPLATES = ("module_linear.py.j2", "linear_kernel.py.j2", "linear_select.py.j2",
             "linear_dispatch.py.j2")
ENGINES = ("engine_loop.py.j2", "neuron_linear.py.j2", "engine_reference_linear.py.j2",
           "engine_backward_linear.py.j2", "monitor_linear.py.j2", "engine_batch.py.j2")


class Layout(NamedTuple):
    """Where one model's kernels read and write: `prefix` of their names; `columns[k]`, the
    position of variable k in a state row of `width` values; `params[k]`, the column of
    parameter k in a parameter row of `count` values; `degree`, the coefficient columns of the
    threshold terms to fill; `ports[p]`, the port indices (of the module's PORTS) that mean
    the model's port p."""
    prefix: str
    columns: tuple
    params: tuple
    width: int
    count: int
    degree: int
    ports: tuple


def own_layout(d):
    """A model alone: its own variables, parameters and ports, in order."""
    return Layout("", tuple(range(len(d.variables))), tuple(range(len(d.parameters))),
                  len(d.variables), len(d.parameters), d.max_degree,
                  tuple((p,) for p in range(len(d.jumps))))


class _Renderer:
    """Renders the kernels of one LinearDerivation `d` into `layout`."""

    def __init__(self, d, layout):
        self.d, self.layout = d, layout
        self.rename = {p: sp.Symbol(f"par_{p.name}") for p in (symbol(n) for n in d.parameters)}
        self.rename.update({x0: sp.Symbol(f"x0_{k}") for k, x0 in enumerate(d.initial)})
        self.rename.update({TIME: sp.Symbol("dt"), symbol(WEIGHT): sp.Symbol("w")})

    def name(self, name):
        return self.layout.prefix + name

    def x(self, k):
        """The position of variable k in a state row."""
        return self.layout.columns[k]

    def body(self, outputs, targets):
        """Load the parameters, state variables and adjoints the outputs use, share
        subexpressions, write each output to its target ('return' for a returned value)."""
        d, L = self.d, self.layout
        temps, results = print_block(outputs, self.rename)
        used = set().union(*(sp.sympify(e).xreplace(self.rename).free_symbols
                             for e in outputs)) if outputs else set()
        lines = [f"par_{name} = params[{L.params[k]}]" for k, name in enumerate(d.parameters)
                 if sp.Symbol(f"par_{name}") in used]
        lines += [f"x0_{k} = x[{self.x(k)}]" for k in range(len(d.variables))
                  if sp.Symbol(f"x0_{k}") in used]
        lines += [f"lam_{k} = lam[{self.x(k)}]" for k in range(len(d.variables))
                  if _lam(k) in used]
        lines += [f"{lhs} = {rhs}" for lhs, rhs in temps]
        lines += [f"return {r}" if t == "return" else f"{t} = {r}"
                  for t, r in zip(targets, results)]
        return lines

    def selector(self, name, doc, branches):
        """The branch selector: the most special branches (most equalities) first."""
        d = self.d
        order = sorted(range(1, len(branches)), key=lambda k: -len(
            sp.sympify(branches[k].condition).atoms(sp.Eq)))
        cases = [(print_expression(sp.sympify(branches[k].condition).xreplace(self.rename)), k)
                 for k in order]
        used = set().union(*(sp.sympify(b.condition).free_symbols for b in branches))
        unpack = [(f"par_{n}", self.layout.params[k]) for k, n in enumerate(d.parameters)
                  if symbol(n) in used]
        return environment().get_template("linear_select.py.j2").render(
            name=self.name(name), doc=doc, unpack=unpack, cases=cases, fallback=0)

    def dispatch(self, name, args, doc, select, cases):
        return _dispatch(self.name(name), args, doc, self.name(select),
                         [self.name(c) for c in cases])

    def kernel(self, name, args, doc, lines):
        return _kernel(self.name(name), args, doc, lines)

    def flows(self, which, branches):
        """The flow's kernels: one per branch, its selector and the dispatch."""
        sources, cases = [], []
        for k, branch in enumerate(branches):
            case = f"_flow_{which}_{k}"
            cases.append(case)
            absent = [c for c in range(self.layout.width) if c not in self.layout.columns]
            sources.append(self.kernel(case, ("x", "dt", "params", "out"),
                                       f"The {which} flow where {branch.condition}" + (
                                           " (the other models' variables kept)."
                                           if absent else "."),
                                       self.body(list(branch.expressions),
                                                 [f"out[{self.x(i)}]"
                                                  for i in range(len(branch.expressions))])
                                       + [f"out[{c}] = x[{c}]" for c in absent]))
        sources.append(self.selector(f"branch_{which}",
                                     f"Which branch of the {which} flow holds.", branches))
        sources.append(self.dispatch(f"flow_{which}", ("x", "dt", "params", "out"),
                                     f"The state dt after x under the {which} flow, into out "
                                     f"(out may be x).", f"branch_{which}", cases))
        return sources

    def terms(self):
        d = self.d
        sources, cases = [], []
        for k, (branch, terms) in enumerate(zip(d.free, d.terms)):
            case = f"_terms_{k}"
            cases.append(case)
            outputs, targets = [], []
            for j, (rate, poly) in enumerate(terms):
                outputs.append(rate)
                targets.append(f"rates[{j}]")
                for p in range(self.layout.degree + 1):
                    outputs.append(poly[p] if p < len(poly) else sp.Integer(0))
                    targets.append(f"coef[{j}, {p}]")
            outputs.append(sp.Integer(len(terms)))
            targets.append("return")
            sources.append(self.kernel(case, ("x", "params", "rates", "coef"),
                                       f"g(x(dt)) as exponential terms where "
                                       f"{branch.condition}.", self.body(outputs, targets)))
        sources.append(self.dispatch("threshold_terms", ("x", "params", "rates", "coef"),
                                     "g(x(dt)) = sum_j (sum_d coef[j, d] dt^d) exp(rates[j] "
                                     "dt) under the free flow from x: fills rates and coef, "
                                     "returns the number of terms.", "branch_free", cases))
        return sources

    def port_test(self, p):
        return " or ".join(f"port == {q}" for q in self.layout.ports[p])

    def jumps(self):
        d = self.d
        sources = []
        for held in (False, True):
            name = "jump_held" if held else "jump"
            cases = []
            for p, (port, change) in enumerate(d.jumps.items()):
                case = f"_{name}_{port}"
                cases.append(case)
                items = [(k, e) for k, e in change.items() if not (held and k in d.clamped)]
                sources.append(self.kernel(case, ("x", "w", "params"),
                                           f"An input of weight w on port '{port}'" + (
                                               " while refractory" if held else "") +
                                           ", in place.",
                                           self.body([e for _, e in items],
                                                     [f"x[{self.x(k)}]" for k, _ in items])))
            lines = []
            for p, case in enumerate(cases):
                lines += [f"if {self.port_test(p)}:", f"    {self.name(case)}(x, w, params)",
                          "    return"]
            sources.append(self.kernel(name, ("x", "w", "port", "params"),
                                       "An input of weight w on port (index into PORTS), in "
                                       "place" + (", clamped variables kept." if held else "."),
                                       lines))
        return sources

    def reset(self):
        d = self.d
        return [self.kernel("above", ("x", "params"), "g(x) = c . x - theta >= 0: at or over "
                            "threshold (from the state itself, not the threshold terms).",
                            self.body([sp.Ge(d.threshold, 0)], ["return"])),
                self.kernel("reset", ("x", "params"), "The reset after a spike, in place.",
                            self.body(list(d.reset.values()),
                                      [f"x[{self.x(k)}]" for k in d.reset]))]

    # -- the reverse sweep --------------------------------------------------------------------
    def placed(self, dx, extra, dparams):
        """(outputs, targets) of a reverse-sweep kernel: dL/dx at the variables' positions,
        `extra` (dL/ddt or dL/dw) at position width, dL/dparams after it; 0 everywhere else
        in the row's layout (other models' variables and parameters)."""
        L = self.layout
        values = [sp.Integer(0)] * (L.width + 1 + L.count)
        for k, e in enumerate(dx):
            values[self.x(k)] = e
        values[L.width] = extra
        for k, e in enumerate(dparams):
            values[L.width + 1 + L.params[k]] = e
        return values, [f"out[{i}]" for i in range(len(values))]

    def vjp(self, changed, extra, held=()):
        """dL/dx_j = sum_i lam_i d new_i / d x_j (new_i = changed[i], or x_i itself), then
        sum_i lam_i d new_i / d `extra` (a symbol, or 0), then the parameters' likewise."""
        d = self.d
        n = len(d.variables)
        new = [changed.get(i, d.initial[i]) if i not in held else d.initial[i] for i in range(n)]
        total = sum((_lam(i) * e for i, e in enumerate(new)), sp.Integer(0))
        return ([sp.diff(total, x0) for x0 in d.initial],
                sp.diff(total, extra) if extra is not None else sp.Integer(0),
                [sp.diff(total, symbol(p)) for p in d.parameters])

    def flow_vjps(self, which, branches):
        """Through each branch of a flow: dL/dx0 and dL/ddt from the branch's expressions,
        dL/dp from its sensitivities (sparseprop.derive_linear)."""
        d = self.d
        sources, cases = [], []
        for k, branch in enumerate(branches):
            case = f"_flow_{which}_vjp_{k}"
            cases.append(case)
            dx, ddt, _ = self.vjp(dict(enumerate(branch.expressions)), TIME)
            sensitivity = d.sensitivity[which][k]
            dparams = [sum((_lam(i) * e for i, e in enumerate(sensitivity[p])), sp.Integer(0))
                       if p in sensitivity else sp.Integer(0) for p in d.parameters]
            sources.append(self.kernel(case, ("x", "dt", "params", "lam", "out"),
                                       f"Back through the {which} flow where "
                                       f"{branch.condition}.",
                                       self.body(*self.placed(dx, ddt, dparams))))
        sources.append(self.dispatch(f"flow_{which}_vjp", ("x", "dt", "params", "lam", "out"),
                                     f"Back through the {which} flow over dt from x: lam = "
                                     f"dL/dx(dt) in; out: dL/dx, dL/ddt, dL/dparams.",
                                     f"branch_{which}", cases))
        return sources

    def backward(self):
        """The reverse sweep's kernels: through the flows, the jumps, the reset; the
        threshold's gradient and the free vector field."""
        d = self.d
        sources = self.flow_vjps("free", d.free) + self.flow_vjps("refractory", d.refractory)
        lines = []
        for held in (False, True):
            for p, (port, change) in enumerate(d.jumps.items()):
                case = f"_jump{'_held' if held else ''}_vjp_{port}"
                sources.append(self.kernel(case, ("x", "w", "params", "lam", "out"),
                                           f"Back through an input on port '{port}'" + (
                                               " while refractory." if held else "."),
                                           self.body(*self.placed(*self.vjp(
                                               change, symbol(WEIGHT),
                                               d.clamped if held else ())))))
                lines += [f"if ({self.port_test(p)}) and held == {held}:",
                          f"    {self.name(case)}(x, w, params, lam, out)", "    return"]
        sources.append(self.kernel("jump_vjp", ("x", "w", "port", "held", "params", "lam",
                                                "out"),
                                   "Back through an input of weight w on port (index into "
                                   "PORTS) at state x (held: while refractory): out = dL/dx, "
                                   "dL/dw, dL/dparams.", lines))
        sources.append(self.kernel("reset_vjp", ("x", "params", "lam", "out"),
                                   "Back through the reset at state x: out = dL/dx, 0, "
                                   "dL/dparams.",
                                   self.body(*self.placed(*self.vjp(d.reset, None)))))
        grad = self.placed([sp.diff(d.threshold, x0) for x0 in d.initial], sp.Integer(0),
                           [sp.diff(d.threshold, symbol(p)) for p in d.parameters])
        sources.append(self.kernel("threshold_grad", ("x", "params", "out"),
                                   "The threshold function's gradient at x: out = dg/dx, 0, "
                                   "dg/dparams.", self.body(*grad)))
        field = list(d.system.A * sp.Matrix(d.initial) + d.system.b)
        values = [sp.Integer(0)] * self.layout.width
        for k, e in enumerate(field):
            values[self.x(k)] = e
        sources.append(self.kernel("field_free", ("x", "params", "out"),
                                   "The free vector field A x + b at x, into out.",
                                   self.body(values, [f"out[{i}]" for i in range(len(values))])))
        return sources

    def kernels(self):
        """Every kernel of the model, in its layout."""
        return (self.flows("free", self.d.free) + self.flows("refractory", self.d.refractory)
                + self.terms() + self.reset() + self.jumps() + self.backward())


def _lam(k):
    """The symbol of the k-th adjoint component in the reverse-sweep kernels."""
    return sp.Symbol(f"lam_{k}")


def _kernel(name, args, doc, lines):
    return environment().get_template("linear_kernel.py.j2").render(
        name=name, args=args, doc=doc, lines=lines or ["pass"])


def _dispatch(name, args, doc, select, cases):
    return environment().get_template("linear_dispatch.py.j2").render(
        name=name, args=args, doc=doc, select=select, cases=cases)


def _equations(d):
    return [f"d{v}/dt = {rhs}" for v, rhs in zip(
        d.variables, (d.system.A * sp.Matrix([symbol(v) for v in d.variables]) + d.system.b))]


def _threshold(d):
    return f"{d.threshold.xreplace(dict(zip(d.initial, map(symbol, d.variables))))} >= 0"


def _engines():
    return [environment().get_template(name).render(stops=STOPS, counters=COUNTERS).strip("\n")
            for name in ENGINES]


def render_linear_module(derivation):
    """The Python source of the kernel module of a LinearDerivation."""
    d = derivation
    assert isinstance(d, LinearDerivation)
    return environment().get_template("module_linear.py.j2").render(
        version=__version__, members=[(_equations(d), _threshold(d))], variables=d.variables,
        parameters=d.parameters, ports=tuple(d.jumps), clamped=d.clamped, terms=d.max_terms,
        degree=d.max_degree, kernels=_Renderer(d, own_layout(d)).kernels(),
        templates=TEMPLATES + ENGINES, engines=_engines())


# The kernels a network's engine calls, by name and arguments: in a module of several models,
# each calls the member's kernel of the same name chosen by the model index params[0].
_SHARED = (("flow_free", ("x", "dt", "params", "out")),
           ("flow_refractory", ("x", "dt", "params", "out")),
           ("threshold_terms", ("x", "params", "rates", "coef")),
           ("above", ("x", "params")),
           ("jump", ("x", "w", "port", "params")),
           ("jump_held", ("x", "w", "port", "params")),
           ("reset", ("x", "params")),
           ("flow_free_vjp", ("x", "dt", "params", "lam", "out")),
           ("flow_refractory_vjp", ("x", "dt", "params", "lam", "out")),
           ("jump_vjp", ("x", "w", "port", "held", "params", "lam", "out")),
           ("reset_vjp", ("x", "params", "lam", "out")),
           ("threshold_grad", ("x", "params", "out")),
           ("field_free", ("x", "params", "out")))


def render_set_module(model_set, derivations):
    """The Python source of the kernel module of a ModelSet (sparseprop.model_set) from its
    members' LinearDerivations."""
    layouts = model_set.layouts(derivations)
    kernels = []
    for d, layout in zip(derivations, layouts):
        kernels += _Renderer(d, layout).kernels()
    kernels.append(_kernel("which_model", ("params",), "The model index of a parameter row.",
                           ["return int(params[0])"]))
    for name, args in _SHARED:
        kernels.append(_dispatch(name, args, f"{name} of the neuron's model (params[0]).",
                                 "which_model", [f"{L.prefix}{name}" for L in layouts]))
    return environment().get_template("module_linear.py.j2").render(
        version=__version__, members=[(_equations(d), _threshold(d)) for d in derivations],
        variables=model_set.variables, parameters=tuple(model_set.parameters),
        ports=model_set.ports, clamped=(), terms=max(d.max_terms for d in derivations),
        degree=max(d.max_degree for d in derivations), kernels=kernels,
        templates=TEMPLATES + ENGINES, engines=_engines())
