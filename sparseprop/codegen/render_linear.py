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
"""
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
           "engine_backward_linear.py.j2")


def _names(d):
    rename = {p: sp.Symbol(f"par_{p.name}") for p in (symbol(n) for n in d.parameters)}
    rename.update({x0: sp.Symbol(f"x0_{k}") for k, x0 in enumerate(d.initial)})
    rename.update({TIME: sp.Symbol("dt"), symbol(WEIGHT): sp.Symbol("w")})
    return rename


def _body(d, rename, outputs, targets):
    """Load the parameters and state variables the outputs use, share subexpressions, write
    each output to its target ('return' for a returned value)."""
    temps, results = print_block(outputs, rename)
    used = set().union(*(sp.sympify(e).xreplace(rename).free_symbols for e in outputs)) \
        if outputs else set()
    lines = [f"par_{name} = params[{k}]" for k, name in enumerate(d.parameters)
             if sp.Symbol(f"par_{name}") in used]
    lines += [f"x0_{k} = x[{k}]" for k in range(len(d.variables))
              if sp.Symbol(f"x0_{k}") in used]
    lines += [f"lam_{k} = lam[{k}]" for k in range(len(d.variables))
              if _lam(k) in used]
    lines += [f"{lhs} = {rhs}" for lhs, rhs in temps]
    lines += [f"return {r}" if t == "return" else f"{t} = {r}" for t, r in zip(targets, results)]
    return lines


def _lam(k):
    """The symbol of the k-th adjoint component in the reverse-sweep kernels."""
    return sp.Symbol(f"lam_{k}")


def _kernel(name, args, doc, lines, inline=False):
    return environment().get_template("linear_kernel.py.j2").render(
        name=name, args=args, doc=doc, lines=lines or ["pass"], inline=inline)


def _selector(name, doc, branches, d):   # (inlined: a comparison or two)
    """The branch selector: the most special branches (most equalities) first."""
    order = sorted(range(1, len(branches)), key=lambda k: -len(
        sp.sympify(branches[k].condition).atoms(sp.Eq)))
    rename = _names(d)
    cases = [(print_expression(sp.sympify(branches[k].condition).xreplace(rename)), k)
             for k in order]
    used = set().union(*(sp.sympify(b.condition).free_symbols for b in branches))
    unpack = [(f"par_{n}", k) for k, n in enumerate(d.parameters) if symbol(n) in used]
    return environment().get_template("linear_select.py.j2").render(
        name=name, doc=doc, unpack=unpack, cases=cases, fallback=0, inline=True)


def _dispatch(name, args, doc, select, cases, inline):
    return environment().get_template("linear_dispatch.py.j2").render(
        name=name, args=args, doc=doc, select=select, cases=cases, inline=inline)


def _flows(d, which, branches, rename):
    """The flow's kernels; the free flow (every input) inlined, the refractory one called."""
    inline = which == "free"
    sources, cases = [], []
    n = len(d.variables)
    for k, branch in enumerate(branches):
        case = f"_flow_{which}_{k}"
        cases.append(case)
        sources.append(_kernel(case, ("x", "dt", "params", "out"),
                               f"The {which} flow where {branch.condition}.",
                               _body(d, rename, list(branch.expressions),
                                     [f"out[{i}]" for i in range(n)]), inline))
    sources.append(_selector(f"branch_{which}", f"Which branch of the {which} flow holds.",
                             branches, d))
    sources.append(_dispatch(f"flow_{which}", ("x", "dt", "params", "out"),
                             f"The state dt after x under the {which} flow, into out (out may "
                             f"be x).", f"branch_{which}", cases, inline))
    return sources


def _terms(d, rename):
    sources, cases = [], []
    for k, (branch, terms) in enumerate(zip(d.free, d.terms)):
        case = f"_terms_{k}"
        cases.append(case)
        outputs, targets = [], []
        for j, (rate, poly) in enumerate(terms):
            outputs.append(rate)
            targets.append(f"rates[{j}]")
            for p in range(d.max_degree + 1):
                outputs.append(poly[p] if p < len(poly) else sp.Integer(0))
                targets.append(f"coef[{j}, {p}]")
        outputs.append(sp.Integer(len(terms)))
        targets.append("return")
        sources.append(_kernel(case, ("x", "params", "rates", "coef"),
                               f"g(x(dt)) as exponential terms where {branch.condition}.",
                               _body(d, rename, outputs, targets), True))
    sources.append(_dispatch("threshold_terms", ("x", "params", "rates", "coef"),
                             "g(x(dt)) = sum_j (sum_d coef[j, d] dt^d) exp(rates[j] dt) under "
                             "the free flow from x: fills rates and coef, returns the number "
                             "of terms.", "branch_free", cases, True))
    return sources


def _jumps(d, rename):
    sources = []
    for held in (False, True):
        name = "jump_held" if held else "jump"
        cases = []
        for p, (port, change) in enumerate(d.jumps.items()):
            case = f"_{name}_{port}"
            cases.append(case)
            items = [(k, e) for k, e in change.items() if not (held and k in d.clamped)]
            sources.append(_kernel(case, ("x", "w", "params"),
                                   f"An input of weight w on port '{port}'" + (
                                       " while refractory" if held else "") + ", in place.",
                                   _body(d, rename, [e for _, e in items],
                                         [f"x[{k}]" for k, _ in items]), True))
        lines = []
        for p, case in enumerate(cases):
            lines += [f"if port == {p}:", f"    {case}(x, w, params)", "    return"]
        sources.append(_kernel(name, ("x", "w", "port", "params"),
                               "An input of weight w on port (index into PORTS), in place" + (
                                   ", clamped variables kept." if held else "."), lines, True))
    return sources


def _vjp_outputs(d, changed, extra, held=()):
    """dL/dx_j = sum_i lam_i d new_i / d x_j (new_i = changed[i], or x_i itself), then
    sum_i lam_i d new_i / d `extra` (a symbol, or 0), then the parameters' likewise."""
    n = len(d.variables)
    new = [changed.get(i, d.initial[i]) if i not in held else d.initial[i] for i in range(n)]
    total = sum((_lam(i) * e for i, e in enumerate(new)), sp.Integer(0))
    outputs = [sp.diff(total, x0) for x0 in d.initial]
    outputs.append(sp.diff(total, extra) if extra is not None else sp.Integer(0))
    outputs += [sp.diff(total, symbol(p)) for p in d.parameters]
    return outputs


def _flow_vjps(d, which, branches, rename):
    """Through each branch of a flow: dL/dx0 and dL/ddt from the branch's expressions, dL/dp
    from its sensitivities (sparseprop.derive_linear)."""
    sources, cases = [], []
    n = len(d.variables)
    for k, branch in enumerate(branches):
        case = f"_flow_{which}_vjp_{k}"
        cases.append(case)
        outputs = _vjp_outputs(d, dict(enumerate(branch.expressions)), TIME)[:n + 1]
        sensitivity = d.sensitivity[which][k]
        outputs += [sum((_lam(i) * e for i, e in enumerate(sensitivity[p])), sp.Integer(0))
                    if p in sensitivity else sp.Integer(0) for p in d.parameters]
        sources.append(_kernel(case, ("x", "dt", "params", "lam", "out"),
                               f"Back through the {which} flow where {branch.condition}.",
                               _body(d, rename, outputs,
                                     [f"out[{i}]" for i in range(len(outputs))])))
    sources.append(_dispatch(f"flow_{which}_vjp", ("x", "dt", "params", "lam", "out"),
                             f"Back through the {which} flow over dt from x: lam = dL/dx(dt) "
                             f"in; out: dL/dx, dL/ddt, dL/dparams.", f"branch_{which}", cases,
                             False))
    return sources


def _backward_kernels(d, rename):
    """The reverse sweep's kernels: through the flows, the jumps, the reset; the threshold's
    gradient and the free vector field."""
    n = len(d.variables)
    sources = _flow_vjps(d, "free", d.free, rename) + _flow_vjps(d, "refractory",
                                                                 d.refractory, rename)
    lines = []
    for held in (False, True):
        for p, (port, change) in enumerate(d.jumps.items()):
            case = f"_jump{'_held' if held else ''}_vjp_{port}"
            outputs = _vjp_outputs(d, change, symbol(WEIGHT), d.clamped if held else ())
            sources.append(_kernel(case, ("x", "w", "params", "lam", "out"),
                                   f"Back through an input on port '{port}'" + (
                                       " while refractory." if held else "."),
                                   _body(d, rename, outputs,
                                         [f"out[{i}]" for i in range(len(outputs))])))
            lines += [f"if port == {p} and held == {held}:",
                      f"    {case}(x, w, params, lam, out)", "    return"]
    sources.append(_kernel("jump_vjp", ("x", "w", "port", "held", "params", "lam", "out"),
                           "Back through an input of weight w on port (index into PORTS) at "
                           "state x (held: while refractory): out = dL/dx, dL/dw, "
                           "dL/dparams.", lines))
    outputs = _vjp_outputs(d, d.reset, None)
    sources.append(_kernel("reset_vjp", ("x", "params", "lam", "out"),
                           "Back through the reset at state x: out = dL/dx, 0, dL/dparams.",
                           _body(d, rename, outputs, [f"out[{i}]" for i in range(len(outputs))])))
    outputs = [sp.diff(d.threshold, x0) for x0 in d.initial] + [sp.Integer(0)] + [
        sp.diff(d.threshold, symbol(p)) for p in d.parameters]
    sources.append(_kernel("threshold_grad", ("x", "params", "out"),
                           "The threshold function's gradient at x: out = dg/dx, 0, dg/dparams.",
                           _body(d, rename, outputs, [f"out[{i}]" for i in range(len(outputs))])))
    x = sp.Matrix(d.initial)
    field = list(d.system.A * x + d.system.b)
    sources.append(_kernel("field_free", ("x", "params", "out"),
                           "The free vector field A x + b at x, into out.",
                           _body(d, rename, field, [f"out[{i}]" for i in range(n)])))
    return sources


def render_linear_module(derivation):
    """The Python source of the kernel module of a LinearDerivation."""
    d = derivation
    assert isinstance(d, LinearDerivation)
    rename = _names(d)
    kernels = _flows(d, "free", d.free, rename) + _flows(d, "refractory", d.refractory, rename)
    kernels += _terms(d, rename)
    kernels.append(_kernel("above", ("x", "params"), "g(x) = c . x - theta >= 0: at or over "
                           "threshold (from the state itself, not the threshold terms).",
                           _body(d, rename, [sp.Ge(d.threshold, 0)], ["return"]), True))
    kernels += _jumps(d, rename)
    kernels.append(_kernel("reset", ("x", "params"), "The reset after a spike, in place.",
                           _body(d, rename, list(d.reset.values()),
                                 [f"x[{k}]" for k in d.reset])))
    kernels += _backward_kernels(d, rename)
    equations = [f"d{v}/dt = {rhs}" for v, rhs in zip(
        d.variables, (d.system.A * sp.Matrix([symbol(v) for v in d.variables]) + d.system.b))]
    return environment().get_template("module_linear.py.j2").render(
        version=__version__, name=d.name, name_literal=repr(d.name), equations=equations,
        threshold=f"{d.threshold.xreplace(dict(zip(d.initial, map(symbol, d.variables))))} >= 0",
        variables=d.variables, parameters=d.parameters, ports=tuple(d.jumps),
        clamped=d.clamped, terms=d.max_terms, degree=d.max_degree, kernels=kernels,
        templates=TEMPLATES + ENGINES,
        engines=[environment().get_template(name).render(stops=STOPS, counters=COUNTERS)
                 .strip("\n") for name in ENGINES])
