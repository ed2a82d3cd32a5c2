"""Render a Derivation into one kernel module's source through the Jinja2 templates."""
import functools

import sympy as sp

from .._version import __version__
from ..derive import DT, PHASE, WEIGHT
from ..engine.status import COUNTERS, STOPS
from .printer import print_block

TEMPLATES = ("module.py.j2", "kernel.py.j2", "kernel_into.py.j2")
NUMERIC = "numeric_map.py.j2"
ENGINES = ("engine_loop.py.j2", "neuron_phase.py.j2", "engine_reference.py.j2",
           "engine_backward.py.j2", "monitor_phase.py.j2", "engine_batch.py.j2")


@functools.lru_cache(maxsize=None)
def environment():
    """The Jinja2 environment: package templates, StrictUndefined so a typo fails loudly."""
    import jinja2
    return jinja2.Environment(loader=jinja2.PackageLoader("sparseprop", "templates"),
                              undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True)


def _kernel_source(name, args, outputs, doc, vector, derivation, rename):
    temps, results = print_block(outputs, rename)
    used = set().union(*(sp.sympify(e).free_symbols for e in outputs))
    unpack = [(str(rename[p]), i) for i, p in enumerate(derivation.params) if p in used]
    template = "kernel_into.py.j2" if vector else "kernel.py.j2"
    return environment().get_template(template).render(
        name=name, doc=doc, args=[str(rename[a]) for a in args], unpack=unpack,
        temps=temps, results=results)


def _numeric_source(d, rename):
    """The numeric map section (tables as constants, _f, _phase_map, _state_map, _dphase_map)."""
    from ..numeric import array_source
    m = d.numeric
    tables = [("_PHASE_BREAKS", m.phase_breaks), ("_PHASE_COEFFS", m.phase_coeffs),
              ("_STATE_BREAKS", m.state_breaks), ("_STATE_COEFFS", m.state_coeffs),
              ("_DPHASE_COEFFS", m.dphase_coeffs)]
    rhs = _kernel_source("_f", (d.state,), [d.rhs], "d state/dt = f(state), for the numeric map",
                         False, d, rename)
    return environment().get_template(NUMERIC).render(
        values=repr({p.name: d.values[p.name] for p in d.params}), lower=repr(m.lower),
        cutoff=repr(m.cutoff), period=repr(m.period), rhs_kernel=rhs.strip("\n"),
        tables=[(name, array_source(a)) for name, a in tables], newton_steps=2)


def render_module(derivation):
    """The Python source of the kernel module for `derivation` (a derive.Derivation)."""
    d = derivation
    rename = {d.state: sp.Symbol("x"), PHASE: sp.Symbol("phase"), WEIGHT: sp.Symbol("w"),
              DT: sp.Symbol("dt")}
    rename.update({p: sp.Symbol(f"par_{p.name}") for p in d.params})
    kernels, table = [], []
    for name, args, outputs, doc, out_names in d.kernels():
        kernels.append(_kernel_source(name, args, outputs, doc, out_names is not None, d, rename))
        table.append((name, len(args), out_names))
    model = {"state": d.state, "rhs": d.rhs, "threshold": d.threshold,
             "reset": d.reset, "jump": d.jump,
             "rhs_literal": repr(str(d.rhs))}
    signs = [1 if p.is_positive else -1 if p.is_negative else 0 for p in d.params]
    numeric = _numeric_source(d, rename) if d.numeric is not None else ""
    templates = TEMPLATES + ((NUMERIC,) if numeric else ()) + ENGINES
    return environment().get_template("module.py.j2").render(
        version=__version__, model=model, parameters=[p.name for p in d.params], signs=signs,
        kernels=kernels, kernel_table=table, templates=templates, numeric=numeric,
        method=d.method,
        engines=[environment().get_template(name).render(stops=STOPS, counters=COUNTERS)
                 .strip("\n") for name in ENGINES])
