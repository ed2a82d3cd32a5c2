"""NeuronModel: a one-dimensional integrate-and-fire model declared in equations.

The model declares (equations, threshold, reset, on_pre, parameters) and checks its values
(sparseprop.analysis); deriving, rendering, caching and loading its kernels is the pipeline's
job (sparseprop.compile), explaining the derivation sparseprop.explain's. Those modules take a
model as an argument and never import this one.
"""
import math

import sympy as sp

from . import compile as pipeline
from . import equations as eq
from . import units
from .analysis import classify, rhs_function, values_text
from .checks import check_parameters, check_refractory
from .derive import METHODS
from .errors import ModelError
from .explain import explain as explain_model


class NeuronModel(pipeline.Pipeline):
    """A 1-D integrate-and-fire neuron model declared in Brian2-style equations (equations with
    several state variables give a sparseprop.LinearModel, see there).

    equations: one differential equation for one state variable, e.g. 'dv/dt = (I - v)/tau : 1',
        optionally with subexpressions ('I_eff = I + b : 1') and parameter declarations ('tau : 1').
    threshold: 'v >= value' (value may be a parameter or inf).
    reset: 'v = value' (value may be a parameter or -inf).
    on_pre: effect of a presynaptic spike of weight w; default '<state> += w'.
    parameters: name -> number; they become arguments of the generated kernels.
    refractory: time (ms) after a spike during which the neuron stays at reset and ignores its
        inputs (as Brian2's refractory=...; default 0). Per neuron: Network(parameters=
        {"refractory": array}).
    method: how the phase map is built: 'auto' (default: SymPy's closed form, or a numeric map
        when SymPy finds none), 'analytic' (closed form or ModelError) or 'numeric' (piecewise
        Chebyshev tables with a measured error, see sparseprop.numeric; also for testing).
        A numeric map is built for the parameter values given here: its kernels refuse other
        values (use with_parameters, which builds a new map), and it needs a finite reset and
        a finite threshold (a spike cut-off such as 'v >= 20' for models that blow up).
    """

    def __new__(cls, equations=None, *args, **kwargs):
        """Equations with several differential equations make a LinearModel (same arguments,
        without method)."""
        if cls is NeuronModel and eq.count_differential_equations(equations) > 1:
            from .linear_model import LinearModel
            method = kwargs.pop("method", "auto")
            if method != "auto":
                raise ModelError(f"method {method!r}: a model with several state variables is "
                                 f"solved exactly in closed form (linear dynamics); leave method "
                                 f"out")
            return LinearModel(equations, *args, **kwargs)
        return super().__new__(cls)

    def __init__(self, equations, threshold, reset, on_pre=None, parameters=None, name=None,
                 method="auto", refractory=0.0):
        if method not in METHODS:
            raise ModelError(f"method {method!r} is not known; use one of {', '.join(METHODS)}")
        self.method = method
        self.refractory = check_refractory(units.time(refractory, "refractory"))
        self.units = None        # declared with units: sparseprop.units.ModelUnits
        if units.uses_units(equations, threshold, reset, on_pre, parameters):
            equations, threshold, reset, on_pre, parameters, self.units = \
                units.to_dimensionless(equations, threshold, reset, on_pre, parameters)
        self.parameters = check_parameters(parameters)
        parsed = eq.parse_equations(equations, tuple(self.parameters))
        self.state = parsed.state
        names = {p: eq.symbol(p) for p in self.parameters}
        names[self.state] = eq.symbol(self.state)
        self.equations = equations
        self.subexpressions = parsed.subexpressions
        self.rhs = parsed.rhs
        self.threshold = threshold
        self.reset = reset
        self.on_pre = on_pre if on_pre is not None else f"{self.state} += {eq.WEIGHT}"
        self.threshold_value = eq.parse_threshold(threshold, self.state, names)
        self.reset_value = eq.parse_reset(reset, self.state, names)
        self.jump = eq.parse_on_pre(self.on_pre, self.state, names)
        self.name = name if name is not None else "model"
        if not isinstance(self.name, str) or not self.name:
            raise ModelError(f"name must be a non-empty string, not {self.name!r}")
        used = set().union(*(e.free_symbols for e in (self.rhs, self.threshold_value,
                                                         self.reset_value, self.jump)))
        unused = [p for p in self.parameters if eq.symbol(p) not in used]
        if unused:
            raise ModelError(f"parameter '{unused[0]}' is not used by the equations, threshold, "
                             f"reset or on_pre; remove it or check its spelling")
        self._check_divisors()
        self._check_range()
        if method == "numeric" and self.regime != "firing":
            raise ModelError(f"a numeric phase map needs a neuron that fires on its own; "
                             f"{self.name} does not at {self._values_text()} (use method 'auto')")

    # -- numeric checks at the parameter values -------------------------------------------------
    def value_of(self, expr):
        """Evaluate a SymPy expression of the parameters at the model's values (float)."""
        expr = sp.sympify(expr)
        subs = {s: self.parameters[s.name] for s in expr.free_symbols if s.name in self.parameters}
        try:
            value = complex(expr.subs(subs).evalf())
        except (TypeError, ValueError, ArithmeticError, RecursionError) as exc:
            raise ModelError(f"cannot evaluate '{expr}' at {self._values_text()}: "
                             f"{type(exc).__name__}") from None
        if value.imag != 0 or math.isnan(value.real):
            raise ModelError(f"'{expr}' is not a real number at {self._values_text()}")
        return value.real

    @property
    def v_reset(self):
        """The reset value at the parameter values (float, may be -inf)."""
        return self.value_of(self.reset_value)

    @property
    def v_threshold(self):
        """The threshold value at the parameter values (float, may be inf)."""
        return self.value_of(self.threshold_value)

    def _values_text(self):
        return values_text(self.parameters)

    def _check_divisors(self):
        """Refuse parameter values that make a divisor of d state/dt, the threshold or the reset
        0 (e.g. tau = 0): the expression is then infinite or undefined for every state."""
        x = eq.symbol(self.state)
        at = {eq.symbol(k): v for k, v in self.parameters.items()}
        for name, expr in ((f"d{self.state}/dt = {self.rhs}", self.rhs),
                           (f"the threshold '{self.threshold}'", self.threshold_value),
                           (f"the reset '{self.reset}'", self.reset_value)):
            for power in sorted(expr.atoms(sp.Pow), key=sp.default_sort_key):
                divisor = power.base
                if power.exp.is_negative and x not in divisor.free_symbols and \
                        divisor.free_symbols and divisor.subs(at).is_zero:
                    zero = ", ".join(f"{p} = {at[p]:g}" for p in sorted(divisor.free_symbols,
                                                                        key=str))
                    raise ModelError(
                        f"{zero} makes {name} infinite or undefined: it divides by {divisor}, "
                        f"which is 0; give {divisor} a nonzero value (if it is a time constant: a "
                        f"positive number of ms)")

    def _check_range(self):
        """Classify the free dynamics on [reset, threshold] (sets `regime` and `v_rest`); see
        sparseprop.analysis.classify."""
        low, high = self.v_reset, self.v_threshold
        if low >= high:
            raise ModelError(f"reset '{self.reset}' ({low:g}) is at or above threshold "
                             f"'{self.threshold}' ({high:g}); the reset must lie below the threshold")
        self.regime, self.v_rest = classify(self.rhs_function(), low, high, self.state,
                                            str(self.rhs), self._values_text())

    def rhs_function(self):
        """d state/dt as a Python function of the state at the parameter values (NaN where it
        cannot be evaluated); see sparseprop.analysis.rhs_function."""
        return rhs_function(self.rhs, self.state, self.parameters)

    # -- the pipeline ---------------------------------------------------------------------------
    def explain(self):
        """The derivation as readable text and LaTeX (`.text`, `.latex`)."""
        return explain_model(self)

    def plot_phase_map(self, ax=None):
        """Plot the derived phase map (state against time since reset); see sparseprop.plot."""
        from .plot import phase_map
        return phase_map(self, ax)

    def plot_ptc(self, weights=None, ax=None):
        """Plot the derived phase transition curve for a few weights; see sparseprop.plot."""
        from .plot import ptc
        return ptc(self, weights, ax)

    def with_parameters(self, **values):
        """A copy of the model with some parameter values changed."""
        return NeuronModel(*self._source(), self._changed_parameters(values), self.name,
                           self.method, self.refractory)

    def spec(self):
        """A canonical text of everything the generated code depends on (for cache keys): not
        the name, so that models that differ only by name share their compiled kernels.
        A forced numeric map depends on the parameter values themselves; under 'auto', cached
        numeric modules are told apart by their NUMERIC_VALUES (see Kernels.check)."""
        signs = {k: (v > 0) - (v < 0) for k, v in self.parameters.items()}
        parts = [self.state, sp.srepr(self.rhs), sp.srepr(self.threshold_value),
                 sp.srepr(self.reset_value), sp.srepr(self.jump),
                 ",".join(f"{k}:{s}" for k, s in signs.items())]
        if self.method != "auto":
            parts.append(self.method)
        if self.method == "numeric":
            parts.append(",".join(f"{k}={v!r}" for k, v in self.parameters.items()))
        return "|".join(parts)

    def __repr__(self):
        method = f", method={self.method!r}" if self.method != "auto" else ""
        method += f", refractory={self.refractory!r}" if self.refractory else ""
        return (f"NeuronModel(name={self.name!r}, equations={self.equations.strip()!r}, "
                f"threshold={self.threshold!r}, reset={self.reset!r}, on_pre={self.on_pre!r}, "
                f"parameters={self.parameters!r}{method})")
