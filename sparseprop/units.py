"""Physical units, Brian2 style, on SymPy's unit system (sympy.physics.units: SymPy is already a
dependency, and its SI definitions of volt, ampere, ohm, farad, siemens and hertz are the ones
used here; pint would add a dependency for the same conversions).

A model may declare units (`dv/dt = (E_L - v + R*I)/tau_m : volt`), take parameters as
quantities or strings (`"-65 mV"`, `20*ms` with `from sparseprop.units import ms`), and use
units in its threshold, reset and on_pre (`"v >= -50*mV"`). Every expression's dimensions are
checked (a ModelError names the term that disagrees), then everything is converted once to
numbers in NEST's coherent units, ms, mV, pA, pF, nS and GOhm (coherent: pA/pF = mV/ms, nS mV =
pA, so the equations hold between the numbers unchanged), before the derivation. Times are in
ms throughout; a state variable declared in volt is reported in mV, one in amp in pA.
Dimensionless models (`: 1`, plain numbers) never come here.
"""
import ast
import functools
import math
import re
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .errors import ModelError

# SI base units (by name; sympy.physics.units is imported on first use, not with sparseprop)
# and the size of each in the coherent system (ms, mV, pA, pF, nS, GOhm): a quantity's number
# there is its SI value / prod(scale ** exponent)
_BASE_NAMES = ("meter", "kilogram", "second", "ampere", "kelvin", "mole", "candela")
_SCALE = (sp.Integer(1), sp.Rational(1, 10**24), sp.Rational(1, 10**3), sp.Rational(1, 10**12),
          sp.Integer(1), sp.Integer(1), sp.Integer(1))
_NAMES = ("length", "mass", "time", "current", "temperature", "amount", "luminosity")
NONE = (0,) * 7                       # the dimensions of a pure number
TIME = (0, 0, 1, 0, 0, 0, 0)
_PREFIXES = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "m": sp.Rational(1, 10**3),
             "u": sp.Rational(1, 10**6), "n": sp.Rational(1, 10**9),
             "p": sp.Rational(1, 10**12), "f": sp.Rational(1, 10**15)}
_FAMILIES = {  # unit name -> (SymPy SI unit's name, prefixes offered), Brian2's names
    "second": ("second", "mun"), "s": ("second", ""), "volt": ("volt", "mukMG"),
    "V": ("volt", ""), "amp": ("ampere", "mnpfuk"), "ampere": ("ampere", ""),
    "A": ("ampere", ""), "ohm": ("ohm", "kMG"), "farad": ("farad", "munpf"),
    "F": ("farad", ""), "siemens": ("siemens", "munp"), "S": ("siemens", ""),
    "hertz": ("hertz", "k"), "Hz": ("hertz", "k"), "meter": ("meter", "mun"),
    "metre": ("meter", "mun"),
}
_SHORT = {"second": "s", "volt": "V", "amp": "A", "ohm": "ohm", "farad": "F", "siemens": "S",
          "hertz": "Hz", "meter": "m", "metre": "m"}


def _spellings():
    """(name, family, prefix) of every unit name offered."""
    out = []
    for name, (_, prefixes) in _FAMILIES.items():
        out.append((name, name, ""))
        for p in prefixes:
            for spelled in sorted({f"{p}{name}", f"{p}{_SHORT.get(name, name)}"}):
                out.append((spelled, name, p))
    seen, unique = set(), []
    for item in out:
        if item[0] not in seen:
            seen.add(item[0])
            unique.append(item)
    return unique


NAMES = frozenset(name for name, _, _ in _spellings())   # every unit name, e.g. mV, ms, nA


@functools.lru_cache(maxsize=None)
def _sympy_units():
    import sympy.physics.units as si
    return si


@functools.lru_cache(maxsize=None)
def table():
    """name -> SymPy Quantity (defined in SymPy's SI unit system) of every unit name."""
    si = _sympy_units()
    from sympy.physics.units import Quantity
    from sympy.physics.units.systems import SI
    out = {}
    for spelled, family, p in _spellings():
        unit = getattr(si, _FAMILIES[family][0])
        if not p:
            out[spelled] = unit
            continue
        q = Quantity(f"{p}{family}", abbrev=spelled)
        SI.set_quantity_dimension(q, SI.get_quantity_dimension(unit))
        SI.set_quantity_scale_factor(q, _PREFIXES[p] * unit)
        out[spelled] = q
    return out


def __getattr__(name):
    """`from sparseprop.units import ms, mV, nA`: the SymPy quantities (built on first use)."""
    if name in NAMES:
        return table()[name]
    if name == "UNITS":
        return table()
    raise AttributeError(f"module 'sparseprop.units' has no attribute {name!r}")


@functools.lru_cache(maxsize=None)
def _factor_dims(expr):
    """(SI factor, dimensions) of a SymPy expression of numbers and units."""
    from sympy.physics.units import convert_to
    si = _sympy_units()
    basis = tuple(getattr(si, n) for n in _BASE_NAMES)
    base = convert_to(expr, basis)
    coeff, rest = base.as_coeff_Mul()
    dims = [0] * 7
    for factor, power in rest.as_powers_dict().items():
        if factor == 1:
            continue
        if factor not in basis or not power.is_Rational:
            raise ModelError(f"{expr} is not a number times a unit (it holds {factor})")
        dims[basis.index(factor)] = power
    if not coeff.is_Number:
        raise ModelError(f"{expr} is not a number times a unit")
    return coeff, tuple(dims)


def coherent(factor, dims):
    """The number in the coherent system (ms, mV, pA, ...) of an SI factor with dimensions."""
    scale = sp.Integer(1)
    for s, d in zip(_SCALE, dims):
        scale *= s ** d
    return float(factor / scale)      # (exact rationals: rounded once)


def describe(dims):
    """Readable dimensions, e.g. 'voltage' or 'time^-1' (and 'a pure number')."""
    known = {NONE: "a pure number", TIME: "time", (2, 1, -3, -1, 0, 0, 0): "voltage",
             (0, 0, 0, 1, 0, 0, 0): "current", (-2, -1, 4, 2, 0, 0, 0): "capacitance",
             (-2, -1, 3, 2, 0, 0, 0): "conductance", (2, 1, -3, -2, 0, 0, 0): "resistance",
             (0, 0, -1, 0, 0, 0, 0): "frequency (1/time)",
             (2, 1, -4, -1, 0, 0, 0): "voltage/time", (0, 0, -1, 1, 0, 0, 0): "current/time"}
    if dims in known:
        return known[dims]
    return " ".join(f"{n}^{d}" if d != 1 else n for n, d in zip(_NAMES, dims) if d)


def _parse_unit_text(text, where):
    """A string such as '-65 mV', '20*ms', '0.5 * nA', 'mV/ms' or '1' as (number, SymPy
    expression of units): kept apart, so that '0 mV' keeps its dimensions."""
    cleaned = re.sub(r"(?<=[\d.])\s+(?=[A-Za-z])", "*", text.strip())   # "65 mV" -> "65*mV"
    try:
        tree = ast.parse(cleaned, mode="eval")
    except SyntaxError:
        raise ModelError(f"{where}: cannot read {text!r:.60} as a quantity; write e.g. "
                         f"'-65 mV' or '20*ms'") from None

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                and not isinstance(node.value, bool):
            number = sp.Integer(node.value) if isinstance(node.value, int) else \
                sp.Rational(repr(node.value)) if math.isfinite(node.value) else None
            if number is None:
                raise ModelError(f"{where}: {text!r:.60} is not finite")
            return number, sp.Integer(1)
        if isinstance(node, ast.Name):
            if node.id not in NAMES:
                raise ModelError(f"{where}: unknown unit '{node.id}' in {text!r:.60}; known "
                                 f"units: {', '.join(sorted(NAMES))}")
            return sp.Integer(1), table()[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            number, unit = walk(node.operand)
            return (-number if isinstance(node.op, ast.USub) else number), unit
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div, ast.Pow)):
            (a, u), (b, v) = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Mult):
                return a * b, u * v
            if isinstance(node.op, ast.Div):
                if b == 0:
                    raise ModelError(f"{where}: division by zero in {text!r:.60}")
                return a / b, u / v
            if v != 1:
                raise ModelError(f"{where}: the power in {text!r:.60} must be a number")
            return a ** b, u ** b
        raise ModelError(f"{where}: cannot read {text!r:.60} as a quantity; write a number "
                         f"times units, e.g. '-65 mV', '20*ms' or '0.5*nA'")
    return walk(tree)


def is_quantity(value):
    """Whether `value` carries units: a SymPy expression, or a string that names a unit
    ('-65 mV'); a plain number, or a string without a unit name, does not."""
    if isinstance(value, str):
        return bool(set(re.findall(r"[A-Za-z_]\w*", value)) & NAMES)
    return isinstance(value, sp.Basic)


def quantity(value, where):
    """(number in the coherent system, dimensions) of a quantity: a string ('-65 mV') or a
    SymPy expression (-65*mV); ModelError naming `where` otherwise."""
    factor, dims = _si(value, where)
    number = coherent(factor, dims)
    if not math.isfinite(number):
        raise ModelError(f"{where}: {value!r:.60} is not finite")
    return number, dims


def _si(value, where):
    """(exact SI value, dimensions) of a quantity."""
    number, expr = _parse_unit_text(value, where) if isinstance(value, str) else (1, value)
    if not isinstance(expr, sp.Basic):
        raise ModelError(f"{where}: {value!r:.60} is not a quantity; give e.g. '-65 mV'")
    coeff, rest = expr.as_coeff_Mul()
    if isinstance(coeff, sp.Float):   # 0.2*nA: the decimal 0.2, exactly
        number, expr = number * sp.Rational(repr(float(coeff))), rest
    try:
        factor, dims = _factor_dims(sp.sympify(expr))
        factor = factor * number
    except ModelError as exc:
        raise ModelError(f"{where}: {exc}") from None
    except (TypeError, ValueError, AttributeError):
        raise ModelError(f"{where}: {value!r:.60} is not a number times units") from None
    return factor, dims


def value(value, dims, where, strings=True):
    """A parameter, weight, delay or state value as a plain number (the coherent system): a
    quantity must have dimensions `dims` (ModelError naming both); a plain number (or an array
    of numbers) is taken as it is, already in ms, mV, pA, ...; an array of quantities
    (strings or SymPy) is converted element by element. strings=False: a string without a unit
    name is left to the caller's checks (which say what is expected)."""
    if is_quantity(value) or strings and isinstance(value, str):
        number, got = quantity(value, where)
        if got != dims and not (isinstance(value, sp.Basic) and value.is_zero):  # (0*mV is 0)
            raise ModelError(f"{where} = {value!s:.60} has the dimensions of {describe(got)}, "
                             f"but {describe(dims)} is needed here")
        return number
    if _holds_quantities(value):
        flat = [globals()["value"](v, dims, where) for v in np.ravel(np.asarray(value,
                                                                                dtype=object))]
        return np.array(flat, dtype=np.float64).reshape(np.shape(value))
    return value


def _holds_quantities(values):
    """A list or object array with a quantity in it (a numeric numpy array never: no scan; a
    ragged list is left to the caller's checks)."""
    if isinstance(values, np.ndarray) and values.dtype.kind != "O":
        return False
    if not isinstance(values, (list, tuple, np.ndarray)):
        return False
    try:
        flat = np.ravel(np.asarray(values, dtype=object))
    except (TypeError, ValueError):
        return False
    return flat.size > 0 and any(is_quantity(v) for v in flat)


def time(duration, where):
    """A duration or time in ms: a plain number, or a quantity of time."""
    return value(duration, TIME, where, strings=False)


def rate(value_, where):
    """A rate in Hz: a plain number, or a quantity of 1/time."""
    if is_quantity(value_):
        factor, dims = _si(value_, where)
        if dims != (0, 0, -1, 0, 0, 0, 0):
            raise ModelError(f"{where} = {value_!s:.60} has the dimensions of "
                             f"{describe(dims)}, but a rate (1/time, e.g. '10 Hz') is needed")
        return float(factor)          # Hz: the SI value, rounded once
    return value_


def dims_of(value_, where):
    """The dimensions of a weight given as a quantity, or None for a plain number."""
    if is_quantity(value_):
        return quantity(value_, where)[1]
    return None


# ----------------------------------------------------------------------- models with units

@dataclass
class ModelUnits:
    """What a model declared with units keeps: the texts and parameter values as given, the
    dimensions of each state variable, parameter and weight (per input port)."""
    equations: str
    threshold: str
    reset: str
    on_pre: object
    parameters: dict
    variables: dict = field(default_factory=dict)    # name -> dims
    parameter_dims: dict = field(default_factory=dict)
    weight: dict = field(default_factory=dict)       # port -> dims of w


def uses_units(equations, threshold, reset, on_pre, parameters):
    """Whether a model is declared with units (an equation's unit other than 1, a parameter
    given as a quantity, or a unit name in its threshold, reset or on_pre)."""
    from .equations import _statements
    try:
        statements = list(_statements(equations))
    except ModelError:
        return False                  # the equations' own parser says what is wrong
    if any(unit.strip() != "1" for _, unit, _, _ in statements):
        return True
    if isinstance(parameters, dict) and any(is_quantity(v) for v in parameters.values()):
        return True
    # a unit name in the texts that the model does not define itself (a variable V, a
    # parameter S are the model's)
    defined = set(parameters) if isinstance(parameters, dict) else set()
    for definition, _, _, _ in statements:
        lhs = definition.split("=")[0].strip()
        match = re.match(r"^d\s*([A-Za-z_]\w*)\s*/\s*dt$", lhs)
        defined.add(match.group(1) if match else lhs)
    texts = [threshold, reset] + (list(on_pre.values()) if isinstance(on_pre, dict) else [on_pre])
    return any(isinstance(t, str) and (set(re.findall(r"[A-Za-z_]\w*", t)) - defined) & NAMES
               for t in texts)


class _Dims:
    """Dimensions of Python-syntax expressions (ast), names from a table; 0 and inf fit any."""

    ANY = "any"

    def __init__(self, names, text):
        self.names, self.text = names, text

    def snippet(self, node):
        return ast.get_source_segment(self.text, node) or ast.unparse(node)

    def same(self, a, b, left, right):
        if a == self.ANY:
            return b
        if b == self.ANY or a == b:
            return a
        raise ModelError(f"the dimensions in '{self.text}' disagree: '{self.snippet(left)}' is "
                         f"{describe(a)}, '{self.snippet(right)}' is {describe(b)}")

    def of(self, node):
        if isinstance(node, ast.Expression):
            return self.of(node.body)
        if isinstance(node, ast.Constant):
            return self.ANY if node.value in (0, math.inf) else NONE
        if isinstance(node, ast.Name):
            if node.id in ("inf", "infinity"):
                return self.ANY
            if node.id in self.names:
                return self.names[node.id]
            if node.id in NAMES:
                return _factor_dims(table()[node.id])[1]
            return NONE               # constants (pi, e): unknown names fail in the parser
        if isinstance(node, ast.UnaryOp):
            return self.of(node.operand)
        if isinstance(node, ast.BinOp):
            a, b = self.of(node.left), self.of(node.right)
            if isinstance(node.op, (ast.Add, ast.Sub)):
                return self.same(a, b, node.left, node.right)
            if a == self.ANY or b == self.ANY:
                return self.ANY
            if isinstance(node.op, ast.Mult):
                return tuple(x + y for x, y in zip(a, b))
            if isinstance(node.op, ast.Div):
                return tuple(x - y for x, y in zip(a, b))
            if isinstance(node.op, ast.Pow):
                if b != NONE:
                    raise ModelError(f"the exponent in '{self.snippet(node)}' (in '{self.text}')"
                                     f" is {describe(b)}; it must be a pure number")
                if a == NONE:
                    return NONE
                try:
                    power = sp.nsimplify(ast.literal_eval(node.right))
                except (ValueError, TypeError, SyntaxError):
                    raise ModelError(f"'{self.snippet(node)}' in '{self.text}': a quantity "
                                     f"with units can only be raised to a fixed number") from None
                return tuple(x * power for x in a)
        if isinstance(node, ast.Call) and len(node.args) == 1:
            a = self.of(node.args[0])
            name = getattr(node.func, "id", "")
            if name == "abs":
                return a
            if name == "sqrt":
                return a if a == self.ANY else tuple(sp.Rational(x, 2) for x in a)
            if a not in (NONE, self.ANY):
                raise ModelError(f"the argument of {name} in '{self.snippet(node)}' (in "
                                 f"'{self.text}') is {describe(a)}; it must be a pure number")
            return NONE
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return self.same(self.of(node.left), self.of(node.comparators[0]), node.left,
                             node.comparators[0])
        return NONE                   # the parser refuses what it does not support


def _expression_dims(text, names):
    """The dimensions of an expression (or comparison) text; its parser judges bad syntax."""
    text = " ".join(text.split())
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return NONE                   # the parser says what is wrong
    return _Dims(names, text).of(tree)


def _without_units(text, names):
    """Python-syntax text with every unit name replaced by its number (coherent system)."""
    class Replace(ast.NodeTransformer):
        def visit_Name(self, node):
            if node.id in NAMES and node.id not in names:
                number = quantity(table()[node.id], node.id)[0]
                if number.is_integer():   # (an exact 1, 1000: the same text as by hand)
                    number = int(number)
                return ast.copy_location(ast.Constant(number), node)
            return node
    text = " ".join(text.split())
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return text                   # the equation parser says what is wrong
    if not any(isinstance(n, ast.Name) and n.id in NAMES and n.id not in names
               for n in ast.walk(tree)):
        return text                   # (no unit in it: the text as written)
    return ast.unparse(Replace().visit(tree))


def _statements_of(text):
    """(target, operator, value text) of 'v = x; a += b' statements."""
    out = []
    for line in str(text).replace(";", "\n").splitlines():
        line = line.split("#", 1)[0].strip()
        match = re.match(r"^([A-Za-z_]\w*)\s*(\+=|-=|\*=|=)\s*(.+)$", line)
        if match:
            out.append(match.groups())
    return out


def _check_statement(target, op, rhs, names, kind, weight=None):
    """Dimensions of one assignment; returns the weight's dimensions when it holds w."""
    want = names.get(target)
    if want is None:
        return None
    if op == "*=":
        want = NONE
    if weight is None:
        got = _expression_dims(rhs, names)
        if got not in (want, _Dims.ANY):
            raise ModelError(f"{kind} '{target} {op} {rhs}': the value is {describe(got)}, "
                             f"but {target} is {describe(want)}")
        return None
    for guess in (want, NONE):        # w as the target's dimensions, or a pure number
        trial = dict(names, w=guess)
        try:
            got = _expression_dims(rhs, trial)
        except ModelError:
            continue
        if got in (want, _Dims.ANY):
            return guess
    raise ModelError(f"on_pre '{target} {op} {rhs}': no dimensions of the weight w make it "
                     f"{describe(want)}, the dimensions of {target}")


def to_dimensionless(equations, threshold, reset, on_pre, parameters):
    """A model declared with units as the same model in plain numbers: (equations, threshold,
    reset, on_pre, parameters, ModelUnits), the texts with ': 1' and every unit name replaced
    by its number, parameters as numbers in the coherent system; ModelError naming a term
    whose dimensions disagree, or an unknown unit."""
    from .equations import _statements
    given = dict(parameters or {})
    units = ModelUnits(equations, threshold, reset, on_pre, given)
    names = {}
    for name, v in given.items():
        if is_quantity(v) or isinstance(v, str):
            number, names[name] = quantity(v, f"parameter '{name}'")
        else:
            names[name] = NONE
    lines, definitions = [], []
    for definition, unit, flags, line in _statements(equations):
        unit_dims = NONE if unit.strip() == "1" else quantity(unit.strip(), f"unit in '{line}'")[1]
        lhs, eq, rhs = definition.partition("=")
        lhs = lhs.strip()
        match = re.match(r"^d\s*([A-Za-z_]\w*)\s*/\s*dt$", lhs)
        target = match.group(1) if match else lhs
        if not eq:                    # 'name : unit' declares a parameter
            if names.get(target, unit_dims) != unit_dims:
                raise ModelError(f"parameter '{target}' is declared as {describe(unit_dims)} "
                                 f"in '{line}' but given as {describe(names[target])}")
        names[target] = unit_dims
        definitions.append((lhs, rhs, target, bool(match), flags, line, unit.strip()))
    for lhs, rhs, target, differential, flags, line, unit in definitions:
        if rhs:
            try:
                got = _expression_dims(rhs, names)
            except ModelError as exc:
                raise ModelError(f"{exc} (in '{line}', with the unit '{unit}' declared for "
                                 f"{target}: give every parameter of it with units, e.g. "
                                 f"'20 ms')") from None
            want = tuple(d - t for d, t in zip(names[target], TIME)) if differential \
                else names[target]
            if got not in (want, _Dims.ANY):
                lhs_name = f"d{target}/dt" if differential else target
                raise ModelError(f"the dimensions of '{line}' disagree: the right-hand side is "
                                 f"{describe(got)}, but {lhs_name} is {describe(want)} (the unit "
                                 f"'{unit}' declared for {target}" + (", per time" if differential
                                                                      else "") + ")")
            text = f"{lhs} = {_without_units(rhs, names)}"
        else:
            text = lhs
        lines.append(f"{text} : 1" + (f" ({', '.join(flags)})" if flags else ""))
    units.variables = {t: names[t] for _, _, t, d, _, _, _ in definitions if d}
    units.parameter_dims = {p: names[p] for p in given}
    if isinstance(threshold, str):
        _expression_dims(threshold, names)
    for kind, text in (("reset", reset),):
        for target, op, rhs in _statements_of(text):
            _check_statement(target, op, rhs, names, kind)
    ports = on_pre if isinstance(on_pre, dict) else {"pre": on_pre}
    first = next((t for _, _, t, d, _, _, _ in definitions if d), None)
    converted_ports = {}
    for port, text in ports.items():
        default = f"{first} += w" if text is None else text   # (the models' default on_pre)
        for target, op, rhs in _statements_of(default):
            if re.search(r"\bw\b", rhs):
                units.weight[port] = _check_statement(target, op, rhs, names, "on_pre", True)
        converted_ports[port] = _convert_statements(text, names) if text else text
    numbers_ = {k: (quantity(v, f"parameter '{k}'")[0] if is_quantity(v) or isinstance(v, str)
                    else v)
                for k, v in given.items()}
    new_on_pre = converted_ports if isinstance(on_pre, dict) else converted_ports["pre"]
    return ("\n".join(lines), _convert_condition(threshold, names),
            _convert_statements(reset, names), new_on_pre, numbers_, units)


def _convert_condition(text, names):
    if not isinstance(text, str):
        return text
    try:
        return _without_units(text, names)
    except SyntaxError:
        return text                   # the parser says what is wrong


def _convert_statements(text, names):
    if not isinstance(text, str):
        return text
    out = []
    for part in text.replace(";", "\n").splitlines():
        part = part.split("#", 1)[0].strip()
        match = re.match(r"^([A-Za-z_]\w*\s*(?:\+=|-=|\*=|=))\s*(.+)$", part)
        if not match:
            if part:
                out.append(part)
            continue
        try:
            out.append(f"{match.group(1)} {_without_units(match.group(2), names)}")
        except SyntaxError:
            out.append(part)
    return "; ".join(out)


def parameter_values(model, values, where="parameters"):
    """A dict of parameter values (and 'refractory') with quantities as plain numbers: each
    checked against the model's declared dimensions (refractory: time)."""
    if not isinstance(values, dict):
        return values
    declared = getattr(getattr(model, "units", None), "parameter_dims", None)
    out = {}
    for name, v in values.items():
        if name == "refractory":
            out[name] = time(v, f"{where}: refractory")
        elif declared is not None and name in declared:
            out[name] = value(v, declared[name], f"{where}: '{name}'")
        elif is_quantity(v) or _holds_quantities(v):
            raise ModelError(f"{where}: '{name}' = {v!s:.60} has units, but "
                             f"{getattr(model, 'name', 'the model')} is declared without units "
                             f"(': 1'); give a plain number, or declare the model with units")
        else:
            out[name] = v
    return out


def state_values(model, values, where="initial_state"):
    """A dict {state variable: value(s)} with quantities as plain numbers, checked against the
    variables' declared units."""
    if not isinstance(values, dict):
        return values
    declared = getattr(getattr(model, "units", None), "variables", None) or {}
    out = {}
    for name, v in values.items():
        if name in declared:
            out[name] = value(v, declared[name], f"{where}['{name}']")
        elif is_quantity(v) or _holds_quantities(v):
            raise ModelError(f"{where}['{name}'] = {v!s:.60} has units, but the model declares "
                             f"none for it; give a plain number")
        else:
            out[name] = v
    return out


def check_weight(model_units, port, dims, where):
    """ModelError unless a weight of dimensions `dims` (None: a plain number) fits `port`."""
    if dims is None or model_units is None:
        if dims is not None:
            raise ModelError(f"{where}: the weight has units ({describe(dims)}), but the model "
                             f"is dimensionless; give a plain number")
        return
    if port is None:
        port = next(iter(model_units.weight), "pre")
    want = model_units.weight.get(port, NONE)
    if dims != want:
        raise ModelError(f"{where}: the weight is {describe(dims)}, but on_pre "
                         f"{'of port ' + repr(port) + ' ' if port != 'pre' else ''}needs "
                         f"{describe(want)}")


__all__ = ["ModelUnits", "NAMES", "check_weight", "coherent", "describe", "dims_of",
           "parameter_values", "quantity", "rate", "state_values", "table", "time", "to_dimensionless", "uses_units", "value"]
