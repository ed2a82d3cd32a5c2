"""Teaching view of a derivation: the phase integral, the inverse, the period and the PTC.

The text is a pure function of the model: expressions are simplified by a rule on their size,
never within a clock limit (the one SymPy limit, SPARSEPROP_SYMPY_TIMEOUT, raises ModelError)."""
import sympy as sp
from sympy.printing.str import StrPrinter

from .derive import DT, NOT_DERIVED, PHASE, sympy_timeout
from .errors import ModelError
from .timelimit import TimeLimitExceeded, time_limit

TIDY_MAX_OPS = 40     # larger expressions are shown as derived (simplify's time grows fast)


def _tidy(expr):
    """SymPy's simplify of a small expression (at most TIDY_MAX_OPS operations) when it is
    shorter; larger expressions as they are."""
    if expr is NOT_DERIVED or sp.count_ops(expr) > TIDY_MAX_OPS:
        return expr
    simpler = sp.simplify(expr)
    return simpler if sp.count_ops(simpler) < sp.count_ops(expr) else expr


class _TextPrinter(StrPrinter):
    """SymPy's str printer, with infinities as inf and -inf (as in the model language)."""

    def _print_Infinity(self, expr):
        return "inf"

    def _print_NegativeInfinity(self, expr):
        return "-inf"


def plain(expr):
    """An expression as plain text in the words of the model language (inf, not oo)."""
    return _TextPrinter().doprint(expr)


class Explanation:
    """The derivation of a model as `.text` (plain) and `.latex`; `.method` names the method."""

    def __init__(self, text, latex, method):
        self.text, self.latex, self.method = text, latex, method

    def __str__(self):
        return self.text

    def _repr_latex_(self):
        return f"$${self.latex}$$"


def _header(model, d, threshold_word):
    """The first lines of every explanation: the model, its threshold, reset, jump, values."""
    x = d.state
    values = ", ".join(f"{k} = {v:g}" for k, v in model.parameters.items()) or "none"
    return [f"Model {model.name}: d{x}/dt = {plain(d.rhs)}",
            f"  {threshold_word} {x} >= {plain(d.threshold)}, reset {x} = {plain(d.reset)}, "
            f"input of weight w: {x} -> {plain(d.jump)}",
            f"  parameters: {values}", *_units_line(model)]


def _units_line(model):
    """For a model declared with units: what its numbers mean."""
    if getattr(model, "units", None) is None:
        return []
    return ["  declared with units (dimensions checked); the numbers are in ms, mV, pA, pF, nS "
            "and GOhm (sparseprop.units): " + ", ".join(
                f"{k} = {v}" for k, v in model.units.parameters.items())]


def _integral_latex(d):
    """LaTeX of the phase integral from the reset to the state, of dx'/f(x')."""
    x = d.state
    x_prime = sp.Symbol(f"{x.name}'", **x.assumptions0)   # sorts (so prints) where x does
    prime = sp.latex(x) + "'"
    f_prime = sp.latex(d.rhs.subs(x, x_prime), symbol_names={x_prime: prime})
    return (rf"\int_{{{sp.latex(d.reset)}}}^{{{sp.latex(x)}}}"
            rf"\frac{{d{prime}}}{{{f_prime}}}")


def _explain_numeric(model, d):
    """The Explanation of a numeric phase map: the integral, the tables and their errors."""
    x, m = d.state, d.numeric
    text = "\n".join([
        *_header(model, d, "threshold (cut-off)"),
        f"Method: numeric (piecewise Chebyshev tables of phase({x}) and {x}(phase), built by "
        f"quadrature for these parameter values; error {max(m.phase_error, m.state_error):.2g} "
        f"x period)",
        *[f"  - {note}" for note in d.notes],
        "Phase (time since reset), numerically:",
        f"  phase({x}) = integral from {plain(d.reset)} to {x} of d{x}'/f({x}'), "
        f"max error {m.phase_error:.2g} x period between the fit nodes",
        "State of a phase (inverse): table, then Newton steps on phase(x) = phase, "
        f"max |phase({x}(p)) - p| = {m.state_error:.2g} x period",
        "Free period (phase at the cut-off):",
        f"  T = {m.period:.10g} at these values ({1000 / m.period:.6g} Hz if time is in ms)",
        "Phase transition curve of an input of weight w:",
        f"  PTC(phase, w) = phase({plain(d.jump.subs(x, sp.Symbol(f'{x}(phase)')))}); "
        f"dPTC/dphase = f({x}) * dh/d{x} / f(h), dPTC/dw = dh/dw / f(h)",
    ])
    latex = "\n".join([
        r"\begin{aligned}",
        rf"\frac{{d{sp.latex(x)}}}{{dt}} &= {sp.latex(d.rhs)} \\",
        rf"\phi({sp.latex(x)}) &= {_integral_latex(d)} \text{{ (numeric, error }} "
        rf"{m.phase_error:.2g}\,T\text{{)}} \\",
        rf"T &= {m.period:.10g}",
        r"\end{aligned}",
    ])
    return Explanation(text, latex, d.method)


def _tidied(model, d):
    """(phase, inverse, period, PTC) of an analytic derivation, tidied, within the one SymPy
    time limit."""
    try:
        with time_limit(sympy_timeout(), f"simplifying the derivation of {model.name}"):
            return tuple(map(_tidy, (d.phase, d.state_of_phase, d.period, d.ptc)))
    except TimeLimitExceeded as exc:
        raise ModelError(f"{exc} (limit: SPARSEPROP_SYMPY_TIMEOUT); raise the limit") from None


def explain(model):
    """An Explanation of `model`'s derivation (derives the model if needed)."""
    d = model.derive()
    if d.numeric is not None:
        return _explain_numeric(model, d)
    x = d.state
    phase, inverse, period, ptc = _tidied(model, d)
    firing = model.regime == "firing"
    has_map = d.phase is not NOT_DERIVED
    if firing:
        T_value = model.value_of(period)
        period_lines = [f"  T = {plain(period)} = {T_value:.10g} at these values "
                        f"({1000 / T_value:.6g} Hz if time is in ms)"]
        if model.refractory:
            period_lines.append(f"  with the refractory period {model.refractory:g}: one spike "
                                f"every T + {model.refractory:g} = "
                                f"{T_value + model.refractory:.10g} "
                                f"({1000 / (T_value + model.refractory):.6g} Hz)")
    else:
        rest = f"at {x} = {model.v_rest:.10g}" if model.v_rest is not None else "at or below the reset"
        period_lines = [f"  none at these values: the free state settles {rest}, below "
                        f"threshold; the neuron fires only when inputs push it over",
                        f"  (T = {plain(period)} where the drive reaches threshold)"
                        if period is not NOT_DERIVED else ""]
    text = "\n".join(line for line in [
        *_header(model, d, "threshold"),
        f"Method: {d.method} (SymPy antiderivative of 1/f, closed-form inverse, checked against "
        f"numeric quadrature of 1/f to 1e-8)",
        *[f"  - {note}" for note in d.notes],
        *([
            "Phase (time since reset):",
            f"  phase({x}) = integral from {plain(d.reset)} to {x} of d{x}'/f({x}') = "
            f"{plain(phase)}",
            "State of a phase (inverse):",
            f"  {x}(phase) = {plain(inverse)}"] if has_map else []),
        "Free period (phase at threshold):",
        *period_lines,
        *([
            "Phase transition curve of an input of weight w:",
            f"  PTC(phase, w) = phase({x}(phase) -> "
            f"{plain(d.jump.subs(x, sp.Symbol(f'{x}(phase)')))}) = {plain(ptc)}"]
          if has_map else []),
        *([
            f"Free evolution for a time dt from {x} (used for neurons that do not fire on "
            f"their own):",
            f"  {x}(dt) = {plain(d.flow)}"] if d.flow is not NOT_DERIVED else []),
    ] if line)
    latex_lines = [
        rf"\frac{{d{sp.latex(x)}}}{{dt}} &= {sp.latex(d.rhs)}, \quad "
        rf"{sp.latex(x)} \geq {sp.latex(d.threshold)} \to {sp.latex(x)} = {sp.latex(d.reset)},"
        rf"\quad {sp.latex(x)} \to {sp.latex(d.jump)} \text{{ on input }} w"]
    if has_map:
        latex_lines += [
            rf"\phi({sp.latex(x)}) &= {_integral_latex(d)} = {sp.latex(phase)}",
            rf"{sp.latex(x)}(\phi) &= {sp.latex(inverse.subs(PHASE, sp.Symbol('phi')))}",
            rf"T &= {sp.latex(period)}",
            rf"\mathrm{{PTC}}(\phi, w) &= {sp.latex(ptc.subs(PHASE, sp.Symbol('phi')))}"]
    if d.flow is not NOT_DERIVED:
        delta = sp.Symbol(r"\Delta t")
        latex_lines.append(rf"{sp.latex(x)}(\Delta t) &= {sp.latex(d.flow.subs(DT, delta))}")
    latex = "\n".join([r"\begin{aligned}", " \\\\\n".join(latex_lines), r"\end{aligned}"])
    return Explanation(text, latex, d.method)


def explain_linear(model):
    """The derivation of a LinearModel: x' = A x + b, the exact flow of each branch (free and
    refractory), the threshold function's exponential terms and the numeric checks."""
    d = model.derive()
    x0 = {s: sp.Symbol(f"{v}0") for s, v in zip(d.initial, d.variables)}
    names = {s: sp.Symbol(v) for s, v in zip(d.initial, d.variables)}
    state = ", ".join(d.variables)
    values = ", ".join(f"{k} = {v:g}" for k, v in model.parameters.items()) or "none"
    text = [f"Model {model.name}: a linear model with state ({state})"]
    text += [f"  {line}" for line in d.system.texts]
    text += [f"  as x' = A x + b:  A = {plain(d.system.A.tolist())},  b = "
             f"{plain(list(d.system.b))}",
             f"  fires where {plain(model.threshold_expr)} >= 0; reset: {model.reset}"
             + (f" (held while refractory: "
                f"{', '.join(d.variables[k] for k in d.clamped)})" if d.clamped else ""),
             *[f"  input on port '{port}': " + "; ".join(
                 f"{d.variables[k]} -> {plain(e.xreplace(names))}" for k, e in change.items())
               for port, change in d.jumps.items()],
             f"  parameters: {values}", *_units_line(model)]
    latex = [r"\dot x = A x + b,\quad A = " + sp.latex(d.system.A) + r",\quad b = "
             + sp.latex(d.system.b)]
    for which, branches in (("free", d.free), ("refractory", d.refractory)):
        text.append(f"{which.capitalize()} flow from ({', '.join(map(str, x0.values()))}) at "
                    f"t = 0:" if which == "free" else "Refractory flow (held variables fixed):")
        for k, branch in enumerate(branches):
            text.append(f"  where {plain(branch.condition)}:")
            for v, e in zip(d.variables, branch.expressions):
                text.append(f"    {v}(t) = {plain(_tidy(e.xreplace(x0)))}")
                latex.append(f"{v}(t) = {sp.latex(e.xreplace(x0))}")
    text.append("Threshold function g(t) = sum_j P_j(t) exp(rate_j t) under the free flow "
                "(at most terms - 1 zeros; sparseprop.engine.crossing isolates the first):")
    for branch, terms in zip(d.free, d.terms):
        text.append(f"  where {plain(branch.condition)}: {len(terms)} terms, rates "
                    f"{', '.join(plain(r) for r, _ in terms)}")
    worst = max((c[2] for c in d.checked), default=float("nan"))
    text.append(f"Checked against mpmath's integration (20 digits) for {len(d.checked)} "
                f"branch(es): largest relative discrepancy {worst:.2g}")
    return Explanation("\n".join(text), r" \\ ".join(latex), "linear (closed form)")
