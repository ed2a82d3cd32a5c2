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
ENGINES = ("engine_loop.py.j2", "neuron_linear.py.j2", "engine_reference_linear.py.j2")


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
    lines += [f"{lhs} = {rhs}" for lhs, rhs in temps]
    lines += [f"return {r}" if t == "return" else f"{t} = {r}" for t, r in zip(targets, results)]
    return lines


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
