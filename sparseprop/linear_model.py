"""LinearModel: a neuron with several state variables whose free dynamics are linear,
x' = A x + b (synaptic currents, alpha kernels, adaptation), declared in Brian2-style equations.

The model declares and checks; sparseprop.derive_linear derives, sparseprop.compile renders,
caches and loads its kernels (the same pipeline as a 1-D NeuronModel's).
"""
import numpy as np
import sympy as sp

from . import compile as pipeline
from . import equations as eq
from . import units
from . import linear
from .analysis import values_text
from .checks import check_parameters, check_refractory
from .errors import ModelError

DEFAULT_PORT = "pre"   # the port's name when on_pre is one text


class LinearModel(pipeline.Pipeline):
    """A neuron model with several state variables and linear free dynamics.

    equations: one differential equation per state variable, e.g.
        'dv/dt = (I_e + I - v)/tau_m : 1' and 'dI/dt = -I/tau_s : 1' (subexpressions and
        parameter declarations as for NeuronModel). The right-hand sides must be linear in the
        state (x' = A x + b, A and b any expressions of parameters), else ModelError.
    threshold: a condition linear in the state, e.g. 'v >= 1' or 'v >= 1 + a'.
    reset: statements applied in order at a spike, e.g. 'v = 0; a += b'. The variables it sets
        with '=' are clamped: during the refractory period they keep their reset value (inputs
        to them are lost) while the other variables evolve and take their inputs, as in NEST.
    on_pre: the effect of an input of weight w: one text ('I += w'; its port is called 'pre')
        or one per input port ({'exc': 'Ie += w', 'inh': 'Ii += w'}; Projection(port=...)
        chooses, default the first). Default: '<first variable> += w'.
    parameters: name -> number (kernel arguments: per-neuron values need no recompilation).
    refractory: ms after a spike during which the clamped variables hold (default 0).
    """

    def __init__(self, equations, threshold, reset, on_pre=None, parameters=None, name=None,
                 refractory=0.0):
        self.refractory = check_refractory(units.time(refractory, "refractory"))
        self.units = None        # declared with units: sparseprop.units.ModelUnits
        if units.uses_units(equations, threshold, reset, on_pre, parameters):
            equations, threshold, reset, on_pre, parameters, self.units = \
                units.to_dimensionless(equations, threshold, reset, on_pre, parameters)
        self.parameters = check_parameters(parameters)
        self.name = name if name is not None else "model"
        if not isinstance(self.name, str) or not self.name:
            raise ModelError(f"name must be a non-empty string, not {self.name!r}")
        parsed = eq.parse_system(equations, tuple(self.parameters))
        self.system = linear.analyze(parsed, tuple(self.parameters))
        self.variables = self.system.variables
        self.equations, self.threshold, self.reset = equations, threshold, reset
        self.subexpressions = parsed.subexpressions
        names = {p: eq.symbol(p) for p in self.parameters}
        names.update({v: eq.symbol(v) for v in self.variables})
        first = self.variables[0]
        self.threshold_expr = eq.parse_condition(threshold, names, f"{first} >= 1")
        self.c, self.theta = self._linear_form(self.threshold_expr)
        self.reset_statements = eq.parse_assignments(reset, self.variables, names, "reset",
                                                     f"{first} = 0")
        self.clamped = tuple(k for k, v in enumerate(self.variables)
                             if any(t == v and op == "=" for t, op, _ in self.reset_statements))
        if on_pre is None:
            on_pre = f"{first} += {eq.WEIGHT}"
        self.on_pre = on_pre
        ports = {DEFAULT_PORT: on_pre} if isinstance(on_pre, str) else on_pre
        if not isinstance(ports, dict) or not ports or not all(
                isinstance(k, str) and k.isidentifier() for k in ports):
            raise ModelError(f"on_pre = {on_pre!r:.80}: give one text such as 'I += w' or a dict "
                             f"port name -> text, e.g. {{'exc': 'Ie += w', 'inh': 'Ii += w'}}")
        with_w = dict(names, **{eq.WEIGHT: eq.symbol(eq.WEIGHT)})
        self.jump_statements = {
            port: eq.parse_assignments(text, self.variables, with_w, f"on_pre of port '{port}'",
                                       f"{first} += {eq.WEIGHT}")
            for port, text in ports.items()}
        self.ports = tuple(ports)
        self._check_used()
        self._check_finite()

    def _linear_form(self, g):
        """(c, theta): g = c . x - theta, c and theta free of the state (ModelError if not)."""
        states = [eq.symbol(v) for v in self.variables]
        c = [sp.diff(g, x) for x in states]
        if any(ci.has(*states) for ci in c):
            raise ModelError(f"threshold '{self.threshold}' is not linear in the state "
                             f"({', '.join(self.variables)}); the exact crossing search needs "
                             f"a linear condition such as 'v >= 1 + a'")
        if all(ci == 0 for ci in c):
            raise ModelError(f"threshold '{self.threshold}' does not depend on the state "
                             f"({', '.join(self.variables)}); test a state variable, e.g. "
                             f"'{self.variables[0]} >= 1'")
        return tuple(c), -g.subs({x: 0 for x in states})

    def _check_used(self):
        used = set(self.system.A.free_symbols) | set(self.system.b.free_symbols) | set(
            self.threshold_expr.free_symbols)
        for statements in [self.reset_statements, *self.jump_statements.values()]:
            for _, _, expr in statements:
                used |= expr.free_symbols
        unused = [p for p in self.parameters if eq.symbol(p) not in used]
        if unused:
            raise ModelError(f"parameter '{unused[0]}' is not used by the equations, threshold, "
                             f"reset or on_pre; remove it or check its spelling")

    def _check_finite(self):
        """A, b and the threshold must be finite numbers at the parameter values (tau = 0
        divides by zero)."""
        at = {eq.symbol(k): v for k, v in self.parameters.items()}
        for what, exprs in (("the equations", list(self.system.A) + list(self.system.b)),
                            (f"the threshold '{self.threshold}'", list(self.c) + [self.theta])):
            for expr in exprs:
                value = sp.sympify(expr).subs(at)
                if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or (value.is_number and not
                                                                  value.is_finite):
                    raise ModelError(f"{self._values_text()} makes {what} infinite or undefined "
                                     f"({expr} = {value}); give the parameters values that keep "
                                     f"them finite (a time constant: a positive number of ms)")

    def uniform_state(self, values, u):
        """Default initial states (n, variables): every variable 0 but the first clamped one
        the threshold tests with a positive coefficient (v), at its reset value + u (threshold
        - reset value), the threshold taken with the other variables at 0. values: parameter
        name -> n values; u: n numbers in [0, 1)."""
        x = np.zeros((u.size, len(self.variables)))
        states = {eq.symbol(v) for v in self.variables}
        for k in self.clamped:
            if not (self.c[k].is_number and self.c[k] > 0):
                continue
            value = [e for t, op, e in self.reset_statements if t == self.variables[k]][-1]
            if value.free_symbols & states:
                continue
            names = tuple(self.parameters)
            at = sp.lambdify([eq.symbol(p) for p in names], [value, self.theta / self.c[k]],
                             "numpy")
            low, high = (np.broadcast_to(np.asarray(a, dtype=np.float64), u.shape)
                         for a in at(*(np.asarray(values[p], dtype=np.float64) for p in names)))
            x[:, k] = low + u * (high - low)
            break
        return x

    def _values_text(self):
        return values_text(self.parameters)

    # -- the pipeline (derive, source, compile: compile.Pipeline) -------------------------------
    def plot_phase_map(self, ax=None):
        """A 1-D model's plot: a ModelError here that says what to plot instead."""
        from .plot import phase_map
        return phase_map(self, ax)

    def plot_ptc(self, weights=None, ax=None):
        """A 1-D model's plot: a ModelError here that says what to plot instead."""
        from .plot import ptc
        return ptc(self, weights, ax)

    def explain(self):
        """The derivation as text: A and b, the flow's branches, the threshold's terms."""
        from .explain import explain_linear
        return explain_linear(self)

    def with_parameters(self, **values):
        """A copy of the model with some parameter values changed."""
        return LinearModel(*self._source(), self._changed_parameters(values), self.name,
                           self.refractory)

    def spec(self):
        """A canonical text of everything the generated code depends on (for cache keys): not
        the name, so that models that differ only by name share their compiled kernels."""
        parts = ["linear", ",".join(self.variables), ",".join(self.parameters),
                 sp.srepr(self.system.A), sp.srepr(self.system.b), sp.srepr(self.threshold_expr),
                 repr(self.clamped)]
        for statements in [self.reset_statements, *self.jump_statements.values()]:
            parts.append(";".join(f"{t}{op}{sp.srepr(e)}" for t, op, e in statements))
        parts.append(",".join(self.ports))
        return "|".join(parts)

    def __repr__(self):
        refractory = f", refractory={self.refractory!r}" if self.refractory else ""
        return (f"LinearModel(name={self.name!r}, equations={self.equations.strip()!r}, "
                f"threshold={self.threshold!r}, reset={self.reset!r}, on_pre={self.on_pre!r}, "
                f"parameters={self.parameters!r}{refractory})")
