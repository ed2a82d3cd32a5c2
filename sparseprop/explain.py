"""Teaching view of a derivation: the phase integral, the inverse, the period and the PTC."""
import sympy as sp

from .derive import DT, NOT_DERIVED, PHASE, WEIGHT
from .timelimit import TimeLimitExceeded, time_limit


def _tidy(expr, seconds=2.0):
    """SymPy's simplify for display, within a time limit (the raw form otherwise)."""
    try:
        with time_limit(seconds, "simplify"):
            return sp.simplify(expr)
    except TimeLimitExceeded:
        return expr


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
    return [f"Model {model.name}: d{x}/dt = {d.rhs}",
            f"  {threshold_word} {x} >= {d.threshold}, reset {x} = {d.reset}, "
            f"input of weight w: {x} -> {d.jump}",
            f"  parameters: {values}"]


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
        f"  phase({x}) = integral from {d.reset} to {x} of d{x}'/f({x}'), "
        f"max error {m.phase_error:.2g} x period between the fit nodes",
        "State of a phase (inverse): table, then Newton steps on phase(x) = phase, "
        f"max |phase({x}(p)) - p| = {m.state_error:.2g} x period",
        "Free period (phase at the cut-off):",
        f"  T = {m.period:.10g} at these values ({1000 / m.period:.6g} Hz if time is in ms)",
        "Phase transition curve of an input of weight w:",
        f"  PTC(phase, w) = phase({d.jump.subs(x, sp.Symbol(f'{x}(phase)'))}); "
        f"dPTC/dphase = f({x}) * dh/d{x} / f(h), dPTC/dw = dh/dw / f(h)",
    ])
    latex = "\n".join([
        r"\begin{aligned}",
        rf"\frac{{d{sp.latex(x)}}}{{dt}} &= {sp.latex(d.rhs)} \\",
        rf"\phi({sp.latex(x)}) &= \int_{{{sp.latex(d.reset)}}}^{{{sp.latex(x)}}}"
        rf"\frac{{d{sp.latex(x)}'}}{{f({sp.latex(x)}')}} \text{{ (numeric, error }} "
        rf"{m.phase_error:.2g}\,T\text{{)}} \\",
        rf"T &= {m.period:.10g}",
        r"\end{aligned}",
    ])
    return Explanation(text, latex, d.method)


def explain(model):
    """An Explanation of `model`'s derivation (derives the model if needed)."""
    d = model.derive()
    if d.numeric is not None:
        return _explain_numeric(model, d)
    x = d.state
    xp = sp.Symbol("XPRIME")  # the integration variable, printed as x'
    phase, inverse, period = _tidy(d.phase), _tidy(d.state_of_phase), _tidy(d.period)
    ptc, flow = _tidy(d.ptc), d.flow
    firing = model.regime == "firing"
    has_map = d.phase is not NOT_DERIVED
    if firing:
        T_value = model.value_of(period)
        period_lines = [f"  T = {period} = {T_value:.10g} at these values "
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
                        f"  (T = {period} where the drive reaches threshold)" if has_map else ""]
    text = "\n".join(line for line in [
        *_header(model, d, "threshold"),
        f"Method: {d.method} (SymPy antiderivative of 1/f, closed-form inverse, checked against "
        f"numeric quadrature of 1/f to 1e-8)",
        *[f"  - {note}" for note in d.notes],
        *([
            "Phase (time since reset):",
            f"  phase({x}) = integral from {d.reset} to {x} of d{x}'/f({x}') = {phase}",
            "State of a phase (inverse):",
            f"  {x}(phase) = {inverse}"] if has_map else []),
        "Free period (phase at threshold):",
        *period_lines,
        *([
            "Phase transition curve of an input of weight w:",
            f"  PTC(phase, w) = phase({x}(phase) -> {d.jump.subs(x, sp.Symbol(f'{x}(phase)'))}) "
            f"= {ptc}"] if has_map else []),
        *([
            f"Free evolution for a time dt from {x} (used for neurons that do not fire on "
            f"their own):",
            f"  {x}(dt) = {flow}"] if d.flow is not NOT_DERIVED else []),
    ] if line)
    f_of = lambda v: sp.latex(d.rhs.subs(x, v)).replace("XPRIME", sp.latex(x) + "'")  # noqa: E731
    latex_lines = [
        rf"\frac{{d{sp.latex(x)}}}{{dt}} &= {sp.latex(d.rhs)}, \quad "
        rf"{sp.latex(x)} \geq {sp.latex(d.threshold)} \to {sp.latex(x)} = {sp.latex(d.reset)},"
        rf"\quad {sp.latex(x)} \to {sp.latex(d.jump)} \text{{ on input }} w"]
    if has_map:
        latex_lines += [
            rf"\phi({sp.latex(x)}) &= \int_{{{sp.latex(d.reset)}}}^{{{sp.latex(x)}}}"
            rf"\frac{{d{sp.latex(x)}'}}{{{f_of(xp)}}} = {sp.latex(phase)}",
            rf"{sp.latex(x)}(\phi) &= {sp.latex(inverse.subs(PHASE, sp.Symbol('phi')))}",
            rf"T &= {sp.latex(period)}",
            rf"\mathrm{{PTC}}(\phi, w) &= {sp.latex(ptc.subs(PHASE, sp.Symbol('phi')))}"]
    if d.flow is not NOT_DERIVED:
        delta = sp.Symbol(r"\Delta t")
        latex_lines.append(rf"{sp.latex(x)}(\Delta t) &= {sp.latex(flow.subs(DT, delta))}")
    latex = "\n".join([r"\begin{aligned}", " \\\\\n".join(latex_lines), r"\end{aligned}"])
    return Explanation(text, latex, d.method)
